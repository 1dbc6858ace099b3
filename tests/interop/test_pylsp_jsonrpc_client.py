"""python-lsp-jsonrpc as a client of our Node host, used the way that library is meant to be used.

``node node/rpc-host.js`` runs under ``subprocess.Popen``; a plain thread runs
``JsonRpcStreamReader.listen`` on its stdout and feeds ``Endpoint.consume``; requests go out
through ``JsonRpcStreamWriter`` and come back as ``concurrent.futures.Future`` objects, which
are only ever waited on with a timeout, so no test can hang.

What this peer does on the wire that our own client does not: every frame carries a second
header, ``Content-Type: application/vscode-jsonrpc; charset=utf8``; bodies are ujson with
``ensure_ascii``, so ``你好 🌏`` arrives as ``\\u4f60\\u597d \\ud83c\\udf0f`` (a surrogate pair);
request ids are uuid4 strings; and its reader takes ``Content-Length`` only from the *first*
header line, spelled exactly so, which is what the host writes. Its ``future.cancel()`` is
broken on modern Python (it calls ``set_exception`` on the cancelled future, which raises
``InvalidStateError``), so cancellation is not exercised here.

The host loads node/test-support/fixtures/sleepy.mjs for ``sleep``, ``notifyMe`` (a
notification to the client) and ``askPython`` (a request to the client).
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pylsp_jsonrpc import streams
from pylsp_jsonrpc.endpoint import Endpoint
from pylsp_jsonrpc.exceptions import JsonRpcException, JsonRpcMethodNotFound
from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "node" / "rpc-host.js"
SLEEPY = ROOT / "node" / "test-support" / "fixtures" / "sleepy.mjs"
TIMEOUT = 10.0  # for any single answer; the whole module runs in well under a second
TEXT = "你好 🌏 é"


class RecordingPipe:
    """Hands writes on to the child's stdin and keeps a copy of every byte sent."""

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe
        self.sent = bytearray()

    @property
    def closed(self) -> bool:
        return bool(self._pipe.closed)

    def write(self, data: bytes) -> int:
        self.sent += data
        return int(self._pipe.write(data))

    def flush(self) -> None:
        self._pipe.flush()

    def close(self) -> None:
        self._pipe.close()


class Client:
    """One host process driven by a pylsp_jsonrpc Endpoint, a reader thread and a writer."""

    def __init__(self, stderr_path: Path) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is not on PATH")
        self.notifications: queue.Queue[Any] = queue.Queue()
        dispatcher = {
            "py.add": lambda params: params["a"] + params["b"],
            "py/notified": self.notifications.put,
        }
        with stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [node, str(HOST), "--handlers", str(SLEEPY)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,  # buffered: the reader needs read(n) to return n bytes
                stderr=stderr,
            )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = RecordingPipe(self.process.stdin)
        self.writer = JsonRpcStreamWriter(self.stdin)
        self.reader = JsonRpcStreamReader(self.process.stdout)
        self.endpoint = Endpoint(dispatcher, self.writer.write)
        self.listener = threading.Thread(
            target=self.reader.listen, args=(self.endpoint.consume,), daemon=True
        )
        self.listener.start()
        self.stderr_path = stderr_path

    def call(self, method: str, params: Any = None) -> Any:
        return self.endpoint.request(method, params).result(timeout=TIMEOUT)

    def close(self) -> None:
        """End the host whatever state it is in (for teardown); never blocks for long."""
        if self.process.poll() is None:
            self.writer.close()  # stdin EOF: the host finishes its work and exits 0
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.listener.join(timeout=5)
        self.endpoint.shutdown()
        assert self.process.stdout is not None
        self.process.stdout.close()

    def host_records(self) -> list[dict[str, Any]]:
        """The host's stderr records so far (one JSON object a line, protocol.md §4)."""
        lines = self.stderr_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    peer = Client(tmp_path / "host-stderr.log")
    try:
        yield peer
    finally:
        peer.close()
    # The host warns about every frame it could not use (a header it refused, stray bytes):
    # nothing the peer wrote may have been skipped.
    complaints = [r for r in peer.host_records() if r["level"] in ("warn", "error")]
    assert complaints == []


def test_hello_compile_and_non_ascii_echo_over_pylsp_framing(client: Client) -> None:
    hello = client.call("rpc.hello")
    assert hello["protocol"] == 1
    assert hello["pid"] == client.process.pid
    assert "sleep" in hello["methods"]

    compiled = client.call(
        "compile", {"source": f'export const greeting: string = "{TEXT}";', "filename": "g.ts"}
    )
    # esbuild writes non-ASCII as escapes (compile.md): the text made it through intact.
    assert compiled["code"] == 'export const greeting = "\\u4F60\\u597D \\u{1F30F} \\xE9";\n'
    assert compiled["diagnostics"] == []

    payload = {"text": TEXT, "list": [TEXT, {"nested": TEXT}], "key " + TEXT: None}
    assert client.call("rpc.echo", payload) == payload
    # ~250 KB of multi-byte text each way: many pipe reads on both sides, one Content-Length.
    big = TEXT * 20_000
    assert client.call("rpc.echo", [big]) == [big]

    # What the host accepted: the peer's own header and ujson's ASCII escapes, never raw UTF-8.
    sent = bytes(client.stdin.sent)
    assert b"\r\nContent-Type: application/vscode-jsonrpc; charset=utf8\r\n\r\n" in sent
    assert b"\\u4f60\\u597d \\ud83c\\udf0f \\u00e9" in sent
    assert sent.isascii()
    assert streams.json.__name__ == "ujson"


def test_concurrent_requests_with_uuid_ids_get_their_own_answers(client: Client) -> None:
    # Sent all at once; the longest sleep goes first, so the answers come back reversed.
    futures = [
        client.endpoint.request("sleep", {"ms": 5 * (20 - i), "value": {"i": i, "t": TEXT}})
        for i in range(20)
    ]
    assert [f.result(timeout=TIMEOUT) for f in futures] == [{"i": i, "t": TEXT} for i in range(20)]
    uuid_ids = re.findall(rb'"id":"[0-9a-f]{8}-[0-9a-f-]{27}"', bytes(client.stdin.sent))
    assert len(set(uuid_ids)) == 20


def test_errors_reach_the_peer_with_code_message_and_data(client: Client) -> None:
    with pytest.raises(JsonRpcException) as compile_error:
        client.call("compile", {"source": "const x = ;\n", "filename": "bad.ts"})
    assert compile_error.value.code == 1001
    assert compile_error.value.message.startswith("compile failed: 1 error in bad.ts")
    [diagnostic] = compile_error.value.data["diagnostics"]
    assert (diagnostic["line"], diagnostic["column"]) == (1, 11)

    with pytest.raises(JsonRpcMethodNotFound) as missing:
        client.call("no.such.method")
    assert missing.value.code == -32601
    assert missing.value.data == {"method": "no.such.method"}
    assert client.call("rpc.echo", ["still serving"]) == ["still serving"]


def test_the_host_notifies_and_calls_the_peer(client: Client) -> None:
    # ctx.notify -> the Endpoint's dispatcher, on the reader thread.
    assert client.call("notifyMe", {"method": "py/notified", "params": {"t": TEXT}}) == "notified"
    assert client.notifications.get(timeout=TIMEOUT) == {"t": TEXT}

    # ctx.request -> answered by the Endpoint (its answer carries the host's integer id and
    # the Content-Type header) -> the handler's result.
    assert client.call("askPython", {"method": "py.add", "params": {"a": 2, "b": 3}}) == {
        "answer": 5
    }
    # The Endpoint answers a method it lacks with -32601; the host's handler re-throws it.
    with pytest.raises(JsonRpcMethodNotFound):
        client.call("askPython", {"method": "py.missing", "params": {}})


def test_rpc_shutdown_ends_the_host_and_the_reader_thread(client: Client) -> None:
    assert client.call("rpc.echo", [1]) == [1]
    assert client.call("rpc.shutdown") is None
    assert client.process.wait(timeout=TIMEOUT) == 0
    client.listener.join(timeout=TIMEOUT)  # stdout EOF ends listen()
    assert not client.listener.is_alive()
    assert [r["msg"] for r in client.host_records()] == [
        "shutting down (rpc.shutdown)",
        "exiting (code 0)",
    ]
