"""The contenders: one long-lived (or not) way of getting an echo or a compile from Node.

A contender is anything with a ``name``, a one-line ``description``, a ``per_call_process``
flag and an ``open()`` async context manager that yields a ``Client``: an object with
``async call(params)`` returning the echo of ``params``, ``async compile(params)`` returning
the JavaScript of a ``compile`` call (``params`` as in docs/compile.md: ``source`` and a
``.tsx`` ``filename``; every contender runs the same esbuild ``transform`` with the same
options: loader tsx, jsx automatic, target esnext, no source map), and ``blocking``: ``None``,
or for a blocking API the ``(method, params) -> result`` function the sequential and
concurrent workloads then call from plain threads (timed inside them).

Everything a contender needs (spawning Node, handshakes, servers) happens inside ``open()``, so
the startup workload is simply "``open()`` + the first ``call``" (for ``http``: start the
express server, wait for the port it prints, first request). To add one, write a class with
those members and add it to ``CONTENDERS``; its Node side goes under ``benchmarks/`` next to
``floor/``, ``spawn/`` and ``http/``.

A contender runs under trio unless it has a ``loop`` attribute: ``"asyncio"`` or ``"uvloop"``
(``event_loop()``); the worker then runs every workload on that loop (anyio task groups).

``per_call_process`` marks designs that pay a process start on every call (``spawn-stdout``
and ``spawn-tempfile``: ~55 ms an echo, ~70 ms a compile): the worker gives them smaller
minimum counts and no warm-up (``Budget.for_contender``), so their worker costs ~10-15 s
whatever the caps.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "CONTENDERS",
    "DEFAULT_CONTENDERS",
    "REFERENCE",
    "Client",
    "Contender",
    "FloorContender",
    "HttpContender",
    "RpcbridgeContender",
    "RpcbridgeSyncContender",
    "RpcbridgeSyncOneCpuContender",
    "SpawnStdoutContender",
    "SpawnTempfileContender",
    "event_loop",
]

ECHO = "rpc.echo"
COMPILE = "compile"

SPAWN_SCRIPT = Path(__file__).resolve().parent / "spawn" / "compile.js"
HTTP_SERVER = Path(__file__).resolve().parent / "http" / "server.js"

REFERENCE = "floor"
"""The contender every ratio is relative to."""


class Client(Protocol):
    """An open contender: ``call`` echoes ``params`` through Node and returns the answer;
    ``compile`` compiles and returns the code; ``blocking`` (if not ``None``) is the blocking
    ``(method, params) -> result`` the workloads call from threads instead."""

    blocking: Callable[[str, dict[str, Any]], Any] | None

    async def call(self, params: dict[str, Any]) -> Any: ...

    async def compile(self, params: dict[str, Any]) -> str: ...


class Contender(Protocol):
    name: str
    description: str
    per_call_process: bool

    def open(self) -> AbstractAsyncContextManager[Client]: ...


class _Echo:
    """Adapts an ``async call(method, params)`` client (the floor's, ``rpcbridge.Bridge``)."""

    __slots__ = ("_call", "blocking")

    def __init__(self, client: Any) -> None:
        self._call = client.call
        self.blocking: Callable[[str, dict[str, Any]], Any] | None = None

    async def call(self, params: dict[str, Any]) -> Any:
        return await self._call(ECHO, params)

    async def compile(self, params: dict[str, Any]) -> str:
        result = await self._call(COMPILE, params)
        code: str = result["code"]
        return code


class FloorContender:
    """Hand-written Content-Length ping-pong over the child's pipes (``floor_client.py`` +
    ``floor/floor-host.js``)."""

    name = "floor"
    description = "hand-written Content-Length ping-pong on the child's pipes, no safety"
    per_call_process = False

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        from .floor_client import open_floor

        async with open_floor() as client:
            yield _Echo(client)

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


class RpcbridgeContender:
    """``rpcbridge.open_bridge()`` with the bundled host, calling ``rpc.echo``."""

    name = "rpcbridge"
    description = "rpcbridge.open_bridge() (bundled host, rpc.hello handshake) calling rpc.echo"
    per_call_process = False

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        import rpcbridge

        async with rpcbridge.open_bridge() as bridge:
            yield _Echo(bridge)

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


class RpcbridgeAsyncioContender(RpcbridgeContender):
    """The same ``rpcbridge.open_bridge()`` under asyncio: every workload runs on the asyncio
    loop (asyncio tasks through anyio task groups)."""

    name = "rpcbridge-asyncio"
    description = "rpcbridge.open_bridge() under asyncio (the same workloads on asyncio tasks)"
    loop = "asyncio"


class RpcbridgeUvloopContender(RpcbridgeContender):
    """The same ``rpcbridge.open_bridge()`` under asyncio on uvloop."""

    name = "rpcbridge-uvloop"
    description = "rpcbridge.open_bridge() under asyncio on uvloop"
    loop = "uvloop"


def event_loop(contender: Contender) -> tuple[str, dict[str, Any]]:
    """The anyio backend and options a contender's workloads run on."""
    loop = getattr(contender, "loop", "trio")
    if loop == "trio":
        return "trio", {}
    return "asyncio", {"use_uvloop": loop == "uvloop"}


class FloorClientRpcHost:
    """Diagnostic: the floor's Python client against rpcbridge's Node host (no handshake).
    Next to the two pure contenders it splits a gap into its Python and Node parts."""

    name = "floor-py+rpc-host"
    description = "diagnostic: floor_client.py against node/rpc-host.js"
    per_call_process = False

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        from rpcbridge._host import host_command

        from .floor_client import open_floor

        async with open_floor(host_command(), quiet=True) as client:
            yield _Echo(client)

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


class RpcbridgeFloorHost:
    """Diagnostic: rpcbridge's Python side against the floor's Node host
    (``open_bridge(command=...)``, so no rpc.hello handshake)."""

    name = "rpcbridge-py+floor-host"
    description = "diagnostic: rpcbridge.open_bridge(command=[node, floor-host.js])"
    per_call_process = False

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        import rpcbridge

        from .floor_client import FLOOR_HOST

        async with rpcbridge.open_bridge(command=["node", str(FLOOR_HOST)]) as bridge:
            yield _Echo(bridge)

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


class _Sync:
    """``rpcbridge.SyncBridge``: ``blocking`` is its ``call``, for the workloads' threads;
    ``call``/``compile`` (startup, warm-up, payloads) go through ``trio.to_thread``."""

    __slots__ = ("blocking",)

    def __init__(self, blocking: Callable[[str, dict[str, Any]], Any]) -> None:
        self.blocking: Callable[[str, dict[str, Any]], Any] | None = blocking

    async def call(self, params: dict[str, Any]) -> Any:
        import trio

        assert self.blocking is not None
        return await trio.to_thread.run_sync(self.blocking, ECHO, params)

    async def compile(self, params: dict[str, Any]) -> str:
        import trio

        assert self.blocking is not None
        result = await trio.to_thread.run_sync(self.blocking, COMPILE, params)
        code: str = result["code"]
        return code


class RpcbridgeSyncContender:
    """``rpcbridge.SyncBridge()`` (bundled host), called from plain threads."""

    name = "rpcbridge-sync"
    description = (
        "rpcbridge.SyncBridge() (bundled host) called from plain threads: seq = one thread "
        "looping, 64-conc = 64 threads looping, timed inside the threads"
    )
    per_call_process = False

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        import trio

        import rpcbridge

        bridge = await trio.to_thread.run_sync(rpcbridge.SyncBridge)
        try:
            yield _Sync(bridge.call)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(bridge.close)

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


class RpcbridgeSyncOneCpuContender:
    """``rpcbridge.SyncBridge(cpu=C)``, called from threads pinned to the same CPU ``C`` (each
    pins itself on its first call); the host keeps every CPU."""

    name = "rpcbridge-sync-1cpu"
    cpu_index = 0  # which allowed CPU (sorted): the sequential workload is pinned to it too
    description = (
        "rpcbridge.SyncBridge(cpu=C), its calling threads pinned to CPU C too, the host on "
        "every CPU (docs/performance.md: many threads on one SyncBridge)"
    )
    per_call_process = False

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        import threading

        import trio

        import rpcbridge

        cpu = sorted(os.sched_getaffinity(0))[self.cpu_index]
        bridge = await trio.to_thread.run_sync(functools.partial(rpcbridge.SyncBridge, cpu=cpu))
        local = threading.local()
        call = bridge.call

        def pinned_call(method: str, params: dict[str, Any]) -> Any:
            if not getattr(local, "pinned", False):
                os.sched_setaffinity(0, {cpu})
                local.pinned = True
            return call(method, params)

        try:
            yield _Sync(pinned_call)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(bridge.close)

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


class _Spawn:
    """One ``node benchmarks/spawn/compile.js`` per call: JSON on stdin, JSON on stdout.
    Subclasses change only how the request gets in and the answer out (``_exchange``)."""

    __slots__ = ("blocking",)

    def __init__(self) -> None:
        self.blocking: Callable[[str, dict[str, Any]], Any] | None = None

    async def _exchange(self, request: bytes) -> bytes:
        """Run one process for the JSON ``request``; return its JSON answer."""
        import trio

        done = await trio.run_process(
            ["node", str(SPAWN_SCRIPT)], stdin=request, capture_stdout=True
        )
        return done.stdout

    async def _run(self, method: str, params: dict[str, Any]) -> Any:
        import orjson

        answer = await self._exchange(orjson.dumps({"method": method, "params": params}))
        return orjson.loads(answer)["result"]

    async def call(self, params: dict[str, Any]) -> Any:
        return await self._run(ECHO, params)

    async def compile(self, params: dict[str, Any]) -> str:
        result = await self._run(COMPILE, params)
        code: str = result["code"]
        return code


class _SpawnTempfile(_Spawn):
    """The same script with ``--input IN --output OUT``: the request written to a temp file,
    the answer read from another, both deleted after the call (file I/O through
    ``trio.Path``, i.e. worker threads). The files live in a directory made by ``open()``,
    which also removes whatever a failed call left behind."""

    __slots__ = ("_directory", "_next")

    def __init__(self, directory: str) -> None:
        super().__init__()
        self._directory = directory
        self._next = 0

    async def _exchange(self, request: bytes) -> bytes:
        import trio

        self._next += 1
        stem = trio.Path(self._directory) / str(self._next)
        inp, out = stem.with_suffix(".in.json"), stem.with_suffix(".out.json")
        await inp.write_bytes(request)
        await trio.run_process(
            ["node", str(SPAWN_SCRIPT), "--input", str(inp), "--output", str(out)]
        )
        answer = await out.read_bytes()
        await inp.unlink()
        await out.unlink()
        return answer


class SpawnStdoutContender:
    """A Node process per call (``benchmarks/spawn/compile.js``), the approach rpcbridge
    replaces: ``trio.run_process`` with the JSON request on stdin, the result on stdout."""

    name = "spawn-stdout"
    description = (
        "trio.run_process(node benchmarks/spawn/compile.js) per call, JSON on stdin/stdout"
    )
    per_call_process = True

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        yield _Spawn()

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


class SpawnTempfileContender(SpawnStdoutContender):
    """The design note's recommended variant of spawn-per-call: the same script and process
    per call, the request and answer through temp files instead of the pipes."""

    name = "spawn-tempfile"
    description = (
        "trio.run_process(node benchmarks/spawn/compile.js --input IN --output OUT) per call, "
        "JSON through temp files (trio.Path), both deleted after each call"
    )

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        import shutil
        import tempfile

        import trio

        directory = await trio.to_thread.run_sync(
            lambda: tempfile.mkdtemp(prefix="rpcbridge-bench-")
        )
        try:
            yield _SpawnTempfile(directory)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(shutil.rmtree, directory, True)


class _Http:
    """``httpx.AsyncClient`` posting the params (orjson) to the express server; the JSON
    answer is the result."""

    __slots__ = ("_client", "blocking")

    def __init__(self, client: Any) -> None:
        self._client = client
        self.blocking: Callable[[str, dict[str, Any]], Any] | None = None

    async def _post(self, path: str, params: dict[str, Any]) -> Any:
        import orjson

        response = await self._client.post(
            path, content=orjson.dumps(params), headers=_JSON_HEADERS
        )
        response.raise_for_status()
        return orjson.loads(response.content)

    async def call(self, params: dict[str, Any]) -> Any:
        return await self._post("/echo", params)

    async def compile(self, params: dict[str, Any]) -> str:
        result = await self._post("/compile", params)
        code: str = result["code"]
        return code


_JSON_HEADERS = {"content-type": "application/json"}


async def _read_port(stream: Any) -> int:
    """The server's handshake: one line ``{"port": N}`` on its stdout."""
    import orjson

    buffer = b""
    while b"\n" not in buffer:
        chunk = await stream.receive_some(4096)
        if not chunk:
            raise RuntimeError("benchmarks/http/server.js exited before printing its port")
        buffer += chunk
    port: int = orjson.loads(buffer.split(b"\n", 1)[0])["port"]
    return port


class HttpContender:
    """A long-lived express 5 server (``benchmarks/http/server.js``) on 127.0.0.1 and an
    ``httpx.AsyncClient`` under trio with a keep-alive pool sized for 64 calls in flight."""

    name = "http"
    description = (
        "express 5 server (benchmarks/http/server.js, express.json() + res.json()) on "
        "127.0.0.1; httpx.AsyncClient under trio, keep-alive pool of 64 connections"
    )
    per_call_process = False

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        import subprocess

        import httpx
        import trio

        from .floor_client import stop_child

        process = await trio.lowlevel.open_process(
            ["node", str(HTTP_SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            with trio.fail_after(30):
                port = await _read_port(process.stdout)
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                limits=limits,
                timeout=httpx.Timeout(120.0),
            ) as client:
                yield _Http(client)
        except BaseException:
            process.kill()  # cancelled or failed: no graceful shutdown
            raise
        finally:
            await stop_child(process)  # the server exits at stdin EOF; killed if it lingers

    def open(self) -> AbstractAsyncContextManager[Client]:
        return self._open()


CONTENDERS: dict[str, Contender] = {
    contender.name: contender
    for contender in (
        FloorContender(),
        RpcbridgeContender(),
        RpcbridgeAsyncioContender(),
        RpcbridgeUvloopContender(),
        RpcbridgeSyncContender(),
        RpcbridgeSyncOneCpuContender(),
        SpawnStdoutContender(),
        SpawnTempfileContender(),
        HttpContender(),
        FloorClientRpcHost(),
        RpcbridgeFloorHost(),
    )
}
"""Every known contender by name, in table order (the reference first)."""

DEFAULT_CONTENDERS: tuple[str, ...] = (
    "floor",
    "rpcbridge",
    "rpcbridge-asyncio",
    "rpcbridge-uvloop",
    "rpcbridge-sync",
    *(("rpcbridge-sync-1cpu",) if hasattr(os, "sched_setaffinity") else ()),
    "spawn-stdout",
    "spawn-tempfile",
    "http",
)
"""What ``python -m benchmarks`` runs without ``--contenders``; the rest are diagnostics."""
