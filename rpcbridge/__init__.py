"""rpcbridge: call Node.js from trio or asyncio through one long-lived process.

The host (``node/rpc-host.js``) and Python exchange Content-Length framed JSON-RPC 2.0 over the
host's stdin and stdout; every log of the host goes to its stderr, so no stray ``console.log``
can corrupt the data. ::

    import trio, rpcbridge

    async def main():
        async with rpcbridge.open_bridge() as bridge:
            print(await bridge.call("rpc.echo", {"text": "你好 🌏"}))

    trio.run(main)          # or asyncio.run(main()): the same API serves either loop

See ``docs/protocol.md`` for the wire, ``docs/handlers.md`` for writing host methods.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for mypy and IDEs; at run time each name is imported on first use
    from ._bridge import Bridge, RestartPolicy, open_bridge
    from ._diagnostics import Diagnostic, Note
    from ._errors import (
        BridgeClosed,
        BridgeError,
        CallTimeout,
        CompileError,
        EngineUnavailable,
        HandlerInterrupted,
        HandlerOutOfMemory,
        HostExited,
        HostOutOfMemory,
        HostSetupError,
        HostUnresponsive,
        InternalError,
        InvalidParams,
        InvalidRequest,
        MethodNotFound,
        ParseError,
        ProtocolError,
        RequestCancelled,
        RpcError,
        ServerError,
    )
    from ._framing import DEFAULT_MAX_BODY_SIZE
    from ._methods import Methods
    from ._pool import Pool, open_pool
    from ._sync import SyncBridge

__version__ = "0.1.0"

# Where each public name lives. Importing the package imports none of them: ``python -m
# rpcbridge compile`` starts the host before it imports trio, anyio, attrs and the bridge
# (``__main__.py``), and ``from rpcbridge import X`` / ``rpcbridge.X`` import X's module on
# first use (PEP 562).
_EXPORTS = {
    "Bridge": "._bridge",
    "RestartPolicy": "._bridge",
    "open_bridge": "._bridge",
    "Diagnostic": "._diagnostics",
    "Note": "._diagnostics",
    **dict.fromkeys(
        [
            "BridgeClosed",
            "BridgeError",
            "CallTimeout",
            "CompileError",
            "EngineUnavailable",
            "HandlerInterrupted",
            "HandlerOutOfMemory",
            "HostExited",
            "HostOutOfMemory",
            "HostSetupError",
            "HostUnresponsive",
            "InternalError",
            "InvalidParams",
            "InvalidRequest",
            "MethodNotFound",
            "ParseError",
            "ProtocolError",
            "RequestCancelled",
            "RpcError",
            "ServerError",
        ],
        "._errors",
    ),
    "DEFAULT_MAX_BODY_SIZE": "._framing",
    "Methods": "._methods",
    "Pool": "._pool",
    "open_pool": "._pool",
    "SyncBridge": "._sync",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and cache the name in the package."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "Bridge",
    "BridgeClosed",
    "BridgeError",
    "CallTimeout",
    "CompileError",
    "Diagnostic",
    "EngineUnavailable",
    "HandlerInterrupted",
    "HandlerOutOfMemory",
    "HostExited",
    "HostOutOfMemory",
    "HostSetupError",
    "HostUnresponsive",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "MethodNotFound",
    "Methods",
    "Note",
    "ParseError",
    "Pool",
    "ProtocolError",
    "RequestCancelled",
    "RestartPolicy",
    "RpcError",
    "ServerError",
    "SyncBridge",
    "__version__",
    "open_bridge",
    "open_pool",
]
