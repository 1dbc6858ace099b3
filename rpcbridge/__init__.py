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
