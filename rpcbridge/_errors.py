"""Every way a bridge call can fail, as typed exceptions.

``BridgeError`` is the base of all of them. JSON-RPC error responses become ``RpcError`` (or the
subclass for their standard code) with ``code``, ``message`` and ``data`` kept exactly as sent.
``RpcError`` and its subclasses also derive from python-lsp-jsonrpc's exception classes, so code
written against ``pylsp_jsonrpc.exceptions`` keeps working; unlike those, the internal-error code
here is the spec's -32603 (``pylsp_jsonrpc`` has -32602), extra members of an error object never
crash the decoding, and ``data`` is never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pylsp_jsonrpc.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
    JsonRpcServerError,
)

from ._diagnostics import Diagnostic

__all__ = [
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
]


class BridgeError(Exception):
    """Base class of every error rpcbridge raises."""


class RpcError(JsonRpcException, BridgeError):  # type: ignore[misc]
    """The peer answered a request with a JSON-RPC error object.

    ``code`` (int), ``message`` (str) and ``data`` (any JSON value, or ``None``) are the members
    of that error object. Raise one from a Python handler to answer the host with exactly that
    error. ``RpcError.from_error_object()`` picks the subclass for the standard codes.
    """

    CODE: ClassVar[int] = -32000
    MESSAGE: ClassVar[str] = "Error"

    code: int
    message: str
    data: Any

    def __init__(self, message: str | None = None, code: int | None = None, data: Any = None):
        self.message = self.MESSAGE if message is None else message
        self.code = self.CODE if code is None else code
        self.data = data
        Exception.__init__(self, self.message)

    def __str__(self) -> str:
        text = f"{self.message} [code {self.code}]"
        stack = self.data.get("stack") if isinstance(self.data, Mapping) else None
        if isinstance(stack, str):
            text += "\nremote stack:\n" + stack
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code}, data={self.data!r})"
        )

    def to_error_object(self) -> dict[str, Any]:
        """This error as a JSON-RPC error object (``data`` only when it is not ``None``)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    @staticmethod
    def from_error_object(error: Any) -> RpcError:
        """Build the right ``RpcError`` subclass from a received error object.

        Tolerates what peers really send: a missing or non-string ``message``, a non-integer
        ``code`` and extra members (kept in ``data`` under ``"extra"`` when ``data`` is an object
        or absent, so nothing is lost).
        """
        if not isinstance(error, Mapping):
            return RpcError(f"malformed error object: {error!r}", -32603, error)
        code = error.get("code")
        message = error.get("message")
        data = error.get("data")
        extra = {k: v for k, v in error.items() if k not in ("code", "message", "data")}
        if extra and (data is None or isinstance(data, Mapping)):
            data = {**(data or {}), "extra": extra}
        if not isinstance(message, str):
            message = "(no message)" if message is None else str(message)
        if not isinstance(code, int) or isinstance(code, bool):
            return RpcError(message, -32603, {"bad_code": code, "data": data})
        cls = _BY_CODE.get(code)
        if cls is None:
            cls = ServerError if -32099 <= code <= -32000 else RpcError
        return cls(message, code, data)


class ParseError(RpcError, JsonRpcParseError):  # type: ignore[misc]
    """-32700: the receiver could not parse the message as JSON."""

    CODE = -32700
    MESSAGE = "Parse error"


class InvalidRequest(RpcError, JsonRpcInvalidRequest):  # type: ignore[misc]
    """-32600: the message is not a valid JSON-RPC 2.0 request."""

    CODE = -32600
    MESSAGE = "Invalid Request"


class MethodNotFound(RpcError, JsonRpcMethodNotFound):  # type: ignore[misc]
    """-32601: the receiver has no such method."""

    CODE = -32601
    MESSAGE = "Method not found"


class InvalidParams(RpcError, JsonRpcInvalidParams):  # type: ignore[misc]
    """-32602: the params do not fit the method."""

    CODE = -32602
    MESSAGE = "Invalid params"


class InternalError(RpcError, JsonRpcInternalError):  # type: ignore[misc]
    """-32603: the handler failed; ``data`` carries ``name``, ``message`` and ``stack``."""

    CODE = -32603
    MESSAGE = "Internal error"


class RequestCancelled(RpcError, JsonRpcRequestCancelled):  # type: ignore[misc]
    """-32800: the request was cancelled (``$/cancelRequest``)."""

    CODE = -32800
    MESSAGE = "Request cancelled"


class ServerError(RpcError, JsonRpcServerError):  # type: ignore[misc]
    """-32099 to -32000: implementation-defined server errors (the host uses -32000 while it
    shuts down)."""

    CODE = -32000
    MESSAGE = "Server error"


class CompileError(RpcError):
    """1001: the source did not compile. ``diagnostics`` lists every error (then warnings) as
    ``Diagnostic`` values; ``data`` keeps the host's raw object (with ``engine``,
    ``engineVersion`` and ``filename``)."""

    CODE = 1001
    MESSAGE = "compile failed"

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The compiler's diagnostics, errors first."""
        raw = self.data.get("diagnostics") if isinstance(self.data, Mapping) else None
        return [Diagnostic.from_json(d) for d in raw or () if isinstance(d, Mapping)]

    @property
    def errors(self) -> list[Diagnostic]:
        """Only the diagnostics of severity ``error``."""
        return [d for d in self.diagnostics if d.severity == "error"]

    def __str__(self) -> str:
        rendered = "\n".join(d.render() for d in self.errors)
        return f"{self.message} [code {self.code}]" + (f"\n{rendered}" if rendered else "")


class EngineUnavailable(RpcError):
    """1002: the compile engine asked for is not installed; the message says how to install
    it (``data["install"]`` holds the command)."""

    CODE = 1002
    MESSAGE = "compile engine unavailable"


class HandlerInterrupted(ServerError):
    """-32001: the host ended the handler thread this call was running on before it answered.

    The host does that when another call (``culprit``) kept the thread busy after it was
    cancelled or timed out, or when the thread ran out of memory (``HandlerOutOfMemory``). The
    host itself keeps serving: calls that had not started yet run on a fresh thread, and a call
    marked ``idempotent=True`` that gets this error is retried once. ``data`` holds ``reason``
    (``"preempted"`` or ``"out-of-memory"``), ``culprit`` (``{"id", "method"}`` or ``None``) and
    ``heapLimitMb``.
    """

    CODE = -32001
    MESSAGE = "Handler interrupted"

    @property
    def reason(self) -> str | None:
        """Why the thread was ended: ``"preempted"`` or ``"out-of-memory"``."""
        reason = self.data.get("reason") if isinstance(self.data, Mapping) else None
        return reason if isinstance(reason, str) else None

    @property
    def culprit(self) -> str | None:
        """The method of the call that blocked the thread or ran it out of memory, if known."""
        culprit = self.data.get("culprit") if isinstance(self.data, Mapping) else None
        method = culprit.get("method") if isinstance(culprit, Mapping) else None
        return method if isinstance(method, str) else None


class HandlerOutOfMemory(HandlerInterrupted):
    """-32002: the handler thread ran out of heap (``--handler-heap-mb``, Node's limit by
    default) while this call was running on it; ``culprit`` names the call that was allocating
    when it did, when the host could tell."""

    CODE = -32002
    MESSAGE = "Handler out of memory"


_BY_CODE: dict[int, type[RpcError]] = {
    cls.CODE: cls
    for cls in (
        ParseError,
        InvalidRequest,
        MethodNotFound,
        InvalidParams,
        InternalError,
        RequestCancelled,
        CompileError,
        EngineUnavailable,
        HandlerInterrupted,
        HandlerOutOfMemory,
    )
}


class ProtocolError(BridgeError):
    """The peer broke the wire protocol: a malformed answer to a request, a failed handshake,
    or bytes on its stdout that are not frames (``data`` holds an excerpt of them)."""

    def __init__(self, message: str, data: bytes | None = None) -> None:
        super().__init__(message)
        self.data = data


class HostSetupError(BridgeError):
    """The host cannot be started: ``node`` is missing, or the host's npm packages are not
    installed. The message says what to run."""


class CallTimeout(BridgeError, TimeoutError):
    """A call got no answer within its timeout; ``$/cancelRequest`` was sent for it.

    ``method`` and ``timeout`` (seconds) say which call and how long it was given.
    """

    def __init__(self, method: str, timeout: float) -> None:
        super().__init__(f"{method!r} got no answer within {timeout:g} s (cancelled)")
        self.method = method
        self.timeout = timeout


class BridgeClosed(BridgeError):
    """The bridge is closed (its ``async with`` block has ended) and takes no more calls."""


class HostExited(BridgeClosed):
    """The host process ended while calls were pending, or before a call was made.

    ``returncode`` is the exit status (negative: killed by that signal; ``None`` if it could not
    be read), ``stderr_tail`` the last lines the host wrote to stderr.
    """

    def __init__(
        self, message: str, *, returncode: int | None, stderr_tail: Sequence[str] = ()
    ) -> None:
        self.returncode = returncode
        self.stderr_tail = list(stderr_tail)
        text = message
        if self.stderr_tail:
            text += "\nlast lines on the host's stderr:\n  " + "\n  ".join(self.stderr_tail)
        super().__init__(text)


class HostOutOfMemory(HostExited):
    """The host process ran out of memory (V8's "JavaScript heap out of memory") and died.

    A handler that exhausts the heap of the handler thread only ends that thread
    (``HandlerOutOfMemory``); this is the whole process: a handler on the main thread
    (``--handler-thread main``) or the host itself.
    """


class HostUnresponsive(HostExited):
    """The host's watchdog ended it: its main thread was blocked for longer than
    ``--watchdog-ms`` (the stderr tail says how long). A restart policy replaces it."""


_EXIT_REASONS: tuple[tuple[str, type[HostExited]], ...] = (
    ("watchdog: the host's main thread has been blocked", HostUnresponsive),
    ("JavaScript heap out of memory", HostOutOfMemory),
    ("Reached heap limit", HostOutOfMemory),
)


def host_exited(
    message: str, *, returncode: int | None, stderr_tail: Sequence[str] = ()
) -> HostExited:
    """The ``HostExited`` (or the subclass the stderr tail points to) for a host that ended."""
    cls: type[HostExited] = HostExited
    for marker, reason in _EXIT_REASONS:
        if any(marker in line for line in stderr_tail):
            cls = reason
            break
    return cls(message, returncode=returncode, stderr_tail=stderr_tail)
