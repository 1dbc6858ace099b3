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
the startup workload is simply "``open()`` + the first ``call``". To add one (temp files,
HTTP...), write a class with those members and add it to ``CONTENDERS``; its Node side goes
under ``benchmarks/`` next to ``floor/`` and ``spawn/``.

``per_call_process`` marks designs that pay a process start on every call (``spawn-stdout``:
~55 ms an echo, ~70 ms a compile): the worker gives them smaller minimum counts and no warm-up
(``Budget.for_contender``), so their worker costs ~10-15 s whatever the caps.
"""

from __future__ import annotations

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
    "RpcbridgeContender",
    "RpcbridgeSyncContender",
    "SpawnStdoutContender",
]

ECHO = "rpc.echo"
COMPILE = "compile"

SPAWN_SCRIPT = Path(__file__).resolve().parent / "spawn" / "compile.js"

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


class _Spawn:
    """One ``node benchmarks/spawn/compile.js`` per call: JSON on stdin, JSON on stdout."""

    __slots__ = ("blocking",)

    def __init__(self) -> None:
        self.blocking: Callable[[str, dict[str, Any]], Any] | None = None

    async def _run(self, method: str, params: dict[str, Any]) -> Any:
        import orjson
        import trio

        done = await trio.run_process(
            ["node", str(SPAWN_SCRIPT)],
            stdin=orjson.dumps({"method": method, "params": params}),
            capture_stdout=True,
        )
        return orjson.loads(done.stdout)["result"]

    async def call(self, params: dict[str, Any]) -> Any:
        return await self._run(ECHO, params)

    async def compile(self, params: dict[str, Any]) -> str:
        result = await self._run(COMPILE, params)
        code: str = result["code"]
        return code


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


CONTENDERS: dict[str, Contender] = {
    contender.name: contender
    for contender in (
        FloorContender(),
        RpcbridgeContender(),
        RpcbridgeSyncContender(),
        SpawnStdoutContender(),
        FloorClientRpcHost(),
        RpcbridgeFloorHost(),
    )
}
"""Every known contender by name, in table order (the reference first)."""

DEFAULT_CONTENDERS: tuple[str, ...] = ("floor", "rpcbridge", "rpcbridge-sync", "spawn-stdout")
"""What ``python -m benchmarks`` runs without ``--contenders``; the rest are diagnostics."""
