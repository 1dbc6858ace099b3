"""rpcbridge as the client of a real language server: vscode-json-language-server.

The server comes from the npm package ``vscode-langservers-extracted`` (a devDependency of
node/package.json, pinned exactly; installed by ``cd node && npm ci``). It is built on
vscode-languageserver, whose own vscode-jsonrpc reads and writes the frames, so this checks our
framing and JSON-RPC against Microsoft's implementation from the other side: we are the
client, it sends us notifications and requests of its own.

What the server does, and what each step proves:

* ``initialize`` → its capabilities; ``initialized``; ``workspace/didChangeConfiguration``.
  With ``rangeFormatting.dynamicRegistration`` declared and formatting enabled, it sends us two
  ``client/registerCapability`` *requests*, answered by a Python handler.
* ``textDocument/didOpen`` → 500 ms later (its validation delay) a
  ``textDocument/publishDiagnostics`` notification, received by a Python handler. The document
  has ``é你😀`` before the error: the server's ``character`` is in UTF-16 code units (LSP's
  default), so the emoji counts 2 — and every byte of the frames had to be counted right.
* A schema with a scheme the server cannot fetch itself (``rpcbridge-test://``) makes it ask
  *us* with its own ``vscode/content`` request: answered by an async Python handler, the
  schema's rule shows up in the diagnostics. Without a handler the bridge answers -32601 and
  the server puts our error message into the diagnostic — the request did not hang.
* ``shutdown`` → ``null``; ``exit`` → the server exits 0 by itself, before the block ends.

Every wait is bounded with ``anyio.fail_after``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import rpcbridge

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node" / "node_modules" / "vscode-langservers-extracted"
SCHEMA_URL = "rpcbridge-test://schemas/config"
SETTINGS = {
    "json": {
        "validate": {"enable": True},
        "format": {"enable": True},
        "schemas": [{"fileMatch": ["*.config.json"], "url": SCHEMA_URL}],
    }
}
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}
BROKEN_URI = "file:///workspace/broken.json"
BROKEN_TEXT = '{"é你😀": 1, "b": }\n'  # the value of "b" is missing: "}" at UTF-16 offset 17
CONFIG_URI = "file:///workspace/app.config.json"
CONFIG_TEXT = '{"name": 5}\n'  # the schema wants a string: "5" at offset 9


def server_command() -> list[str]:
    """``node <the package's vscode-json-language-server bin> --stdio``."""
    node = shutil.which("node")
    manifest = PACKAGE / "package.json"
    if node is None or not manifest.is_file():
        pytest.fail(f"needs node on PATH and {PACKAGE}: run `cd node && npm ci`")
    bin_path = json.loads(manifest.read_text())["bin"]["vscode-json-language-server"]
    return [node, str(PACKAGE / bin_path), "--stdio"]


class Client:
    """The Python side of the session: handlers for what the server sends, and what they saw."""

    def __init__(self, *, serve_content: bool) -> None:
        self.methods = rpcbridge.Methods()
        self.registrations: list[dict[str, Any]] = []
        self.content_requests: list[Any] = []
        self.log_messages: list[dict[str, Any]] = []
        self._diagnostics_in, self._diagnostics = anyio.create_memory_object_stream[dict[str, Any]](
            math.inf
        )
        self._by_uri: dict[str, list[list[dict[str, Any]]]] = {}
        register = self.methods.register
        register("textDocument/publishDiagnostics")(self._diagnostics_in.send_nowait)
        register("client/registerCapability")(self._register_capability)
        register("window/logMessage")(self.log_messages.append)
        if serve_content:
            register("vscode/content")(self._content)

    def _register_capability(self, params: dict[str, Any]) -> None:
        self.registrations.extend(params["registrations"])
        return None  # the LSP result of client/registerCapability

    async def _content(self, params: list[str]) -> str:
        self.content_requests.append(params)
        await anyio.lowlevel.checkpoint()  # answered from a task, not inline
        return json.dumps(SCHEMA)

    async def diagnostics_for(self, uri: str) -> list[dict[str, Any]]:
        """The first ``publishDiagnostics`` for ``uri`` (others are kept for their turn)."""
        with anyio.fail_after(5):
            while not self._by_uri.get(uri):
                params = await self._diagnostics.receive()
                self._by_uri.setdefault(params["uri"], []).append(params["diagnostics"])
        return self._by_uri[uri].pop(0)


async def start_session(bridge: rpcbridge.Bridge) -> dict[str, Any]:
    """initialize, initialized, the settings; returns the server's InitializeResult."""
    with anyio.fail_after(10):
        result: dict[str, Any] = await bridge.call(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "rpcbridge-tests"},
                "rootUri": None,
                "capabilities": {
                    "textDocument": {"rangeFormatting": {"dynamicRegistration": True}}
                },
            },
        )
    await bridge.notify("initialized", {})
    await bridge.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
    return result


async def open_document(bridge: rpcbridge.Bridge, uri: str, text: str) -> None:
    document = {"uri": uri, "languageId": "json", "version": 1, "text": text}
    await bridge.notify("textDocument/didOpen", {"textDocument": document})


async def shut_down(bridge: rpcbridge.Bridge) -> None:
    """shutdown, exit, and wait (bounded) until the server has exited by itself."""
    with anyio.fail_after(5):
        assert await bridge.call("shutdown") is None
    await bridge.notify("exit")
    # The Bridge has no public way to await the child's exit (only leaving the block, which
    # would close its stdin first and so not prove that ``exit`` did it): poll, bounded.
    with anyio.fail_after(5):
        while bridge.returncode is None:  # noqa: ASYNC110
            await anyio.sleep(0.01)
    assert bridge.returncode == 0


def bridge_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the bridge reported: stray bytes, bad frames, failing handlers."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("rpcbridge") and r.levelno >= logging.WARNING
    ]


async def test_a_session_with_diagnostics_server_requests_and_a_clean_exit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(serve_content=True)
    with anyio.fail_after(20):
        async with rpcbridge.open_bridge(server_command(), methods=client.methods) as bridge:
            result = await start_session(bridge)
            capabilities = result["capabilities"]
            assert capabilities["textDocumentSync"] == 2  # incremental
            assert capabilities["hoverProvider"] is True

            await open_document(bridge, BROKEN_URI, BROKEN_TEXT)
            await open_document(bridge, CONFIG_URI, CONFIG_TEXT)

            [syntax] = await client.diagnostics_for(BROKEN_URI)
            assert syntax["message"] == "Value expected"
            assert syntax["severity"] == 1  # Error
            assert syntax["range"] == {
                "start": {"line": 0, "character": 17},
                "end": {"line": 0, "character": 18},
            }
            assert BROKEN_TEXT.encode("utf-16-le")[17 * 2 : 18 * 2].decode("utf-16-le") == "}"

            # The schema came from our vscode/content handler, and the server applied it.
            [schema_rule] = await client.diagnostics_for(CONFIG_URI)
            assert client.content_requests == [[SCHEMA_URL]]
            assert schema_rule["message"] == 'Incorrect type. Expected "string".'
            assert schema_rule["range"] == {
                "start": {"line": 0, "character": 9},
                "end": {"line": 0, "character": 10},
            }

            # Its dynamic registrations were requests to us, answered before it went on.
            assert sorted(r["method"] for r in client.registrations) == [
                "textDocument/formatting",
                "textDocument/rangeFormatting",
            ]

            await shut_down(bridge)
    assert bridge.returncode == 0
    # An unanswered or refused registration would surface as an "Unhandled exception" here.
    assert [m for m in client.log_messages if m["type"] == 1] == []
    assert bridge_warnings(caplog) == []


async def test_a_server_request_without_handler_is_answered_method_not_found(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(serve_content=False)  # nobody handles the server's vscode/content
    with anyio.fail_after(20):
        async with rpcbridge.open_bridge(server_command(), methods=client.methods) as bridge:
            await start_session(bridge)
            await open_document(bridge, CONFIG_URI, CONFIG_TEXT)

            # The server got our -32601 (not silence) and reports the schema as unloadable,
            # quoting the message the bridge answered with.
            [unloadable] = await client.diagnostics_for(CONFIG_URI)
            assert unloadable["message"] == (
                f"Unable to load schema from '{SCHEMA_URL}': Method not found: vscode/content."
            )
            # It goes on serving the document.
            symbols = await bridge.call(
                "textDocument/documentSymbol", {"textDocument": {"uri": CONFIG_URI}}
            )
            assert [symbol["name"] for symbol in symbols] == ["name"]

            await shut_down(bridge)
    assert bridge.returncode == 0
    assert bridge_warnings(caplog) == []
