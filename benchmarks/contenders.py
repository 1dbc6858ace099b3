"""The contenders: one long-lived (or not) way of getting an echo answer from Node.

A contender is anything with a ``name``, a one-line ``description``, a ``per_call_process``
flag and an ``open()`` async context manager that yields a ``Client``: an object with
``async call(params)`` returning the echo of ``params``. Everything a contender needs (spawning
Node, handshakes, servers) happens inside ``open()``, so the startup workload is simply
"``open()`` + the first ``call``". To add one (spawn-per-call, temp files, HTTP, a sync API
run through ``trio.to_thread``...), write a class with those members and add it to
``CONTENDERS``; its Node side goes under ``benchmarks/`` next to ``floor/``.

``per_call_process`` marks designs that pay a process start on every call: the worker gives them
smaller minimum counts (``Budget.for_contender``), since one call costs ~150 ms.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

__all__ = [
    "CONTENDERS",
    "DEFAULT_CONTENDERS",
    "REFERENCE",
    "Client",
    "Contender",
    "FloorContender",
    "RpcbridgeContender",
]

ECHO = "rpc.echo"

REFERENCE = "floor"
"""The contender every ratio is relative to."""


class Client(Protocol):
    """An open contender: ``call`` echoes ``params`` through Node and returns the answer."""

    async def call(self, params: dict[str, Any]) -> Any: ...


class Contender(Protocol):
    name: str
    description: str
    per_call_process: bool

    def open(self) -> AbstractAsyncContextManager[Client]: ...


class _Echo:
    __slots__ = ("_call",)

    def __init__(self, client: Any) -> None:
        self._call = client.call

    async def call(self, params: dict[str, Any]) -> Any:
        return await self._call(ECHO, params)


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


CONTENDERS: dict[str, Contender] = {
    contender.name: contender
    for contender in (
        FloorContender(),
        RpcbridgeContender(),
        FloorClientRpcHost(),
        RpcbridgeFloorHost(),
    )
}
"""Every known contender by name, in table order (the reference first)."""

DEFAULT_CONTENDERS: tuple[str, ...] = ("floor", "rpcbridge")
"""What ``python -m benchmarks`` runs without ``--contenders``; the rest are diagnostics."""
