"""JSON-RPC 2.0 bookkeeping over Content-Length frames, sans-I/O.

``RpcConnection`` is the whole protocol state of one side of a bridge, in the spirit of h11's
``Connection``: the caller feeds it received bytes (``receive_data``), pulls events out
(``next_event``) and turns its own intentions into bytes to write (``send_request``,
``send_result`` ...). It owns the request ids, the table of calls waiting for an answer, the
inbound requests that still owe an answer, and the batch bookkeeping. It has no sockets,
processes, threads or event loop, so the trio bridge and any other I/O loop can share it, and
every rule is testable without a process.

Rules it enforces:

* Outgoing ids are integers from 1. A call is *pending* from ``send_request`` until its answer
  arrives or ``send_cancel`` forgets it; a late answer to a cancelled call is dropped quietly.
* Every inbound request gets exactly one answer: ``send_result``/``send_error`` refuse a second
  one, and an inbound batch is answered by one array once all of its requests are answered.
* Invalid requests are answered by the connection itself (``data_to_send``).
* Anything that cannot be delivered to a caller (garbage, an unparsable body, an answer to an id
  never issued) becomes a ``ProtocolViolation`` event, so the I/O layer can report it: nothing is
  dropped silently.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any, TypeAlias

import attrs

from . import _json
from ._errors import InvalidRequest, RpcError
from ._framing import DEFAULT_MAX_BODY_SIZE, FrameReader, Garbage, Oversized, encode_frame

__all__ = [
    "CancelRequested",
    "ErrorResponse",
    "Event",
    "Notification",
    "Progress",
    "ProtocolViolation",
    "Request",
    "RequestId",
    "Response",
    "RpcConnection",
]

RequestId: TypeAlias = int | str
Params: TypeAlias = dict[str, Any] | list[Any] | None


@attrs.frozen
class Response:
    """A result for the pending call ``request_id``."""

    request_id: int
    result: Any


@attrs.frozen
class ErrorResponse:
    """An error answer for the pending call ``request_id``."""

    request_id: int
    error: RpcError


@attrs.frozen
class Request:
    """The peer calls one of our methods; answer it with ``send_result`` or ``send_error``."""

    request_id: RequestId
    method: str
    params: Params


@attrs.frozen
class Notification:
    """The peer sends a notification (no answer expected)."""

    method: str
    params: Params


@attrs.frozen
class CancelRequested:
    """The peer cancelled its request ``request_id`` (``$/cancelRequest``), which still owes an
    answer: stop the handler and answer it with ``RequestCancelled``."""

    request_id: RequestId


@attrs.frozen
class Progress:
    """``$/progress`` for our pending call ``request_id`` (the token is the request id)."""

    request_id: int
    value: Any


@attrs.frozen
class ProtocolViolation:
    """Something arrived that cannot be delivered to anyone. ``data`` holds the bytes involved
    (possibly cut), ``request_id`` the pending call it concerns, if any."""

    reason: str
    data: bytes = b""
    request_id: int | None = None


Event: TypeAlias = (
    Response
    | ErrorResponse
    | Request
    | Notification
    | CancelRequested
    | Progress
    | ProtocolViolation
)


class _Batch:
    """Answers collected for one inbound batch, sent together when the last one is in."""

    __slots__ = ("answers", "waiting")

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.waiting = 0


_EXCERPT = 200


class RpcConnection:
    """One side of a JSON-RPC 2.0 conversation over Content-Length frames."""

    def __init__(
        self,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        trace: Callable[[str, bytes], None] | None = None,
    ) -> None:
        """``trace``, if given, is called with ``("send", body)`` or ``("recv", body)`` for
        every message body that leaves or arrives."""
        self._trace = trace
        self._max_body_size = max_body_size
        self._reader = FrameReader(max_body_size)
        self._events: deque[Event] = deque()
        self._next_id = 1
        self._pending: dict[int, str] = {}  # our requests awaiting an answer: id -> method
        self._cancelled: set[int] = set()  # our cancelled requests whose late answer may come
        self._owed: dict[RequestId, _Batch | None] = {}  # inbound requests awaiting our answer
        self._outgoing: list[bytes] = []  # answers the connection sends by itself

    # -- what we send -------------------------------------------------------------------------

    @property
    def pending(self) -> dict[int, str]:
        """Our requests still waiting for an answer, id -> method (a copy)."""
        return dict(self._pending)

    def send_request(self, method: str, params: Params = None) -> tuple[int, bytes]:
        """Start a call: returns its id and the frame to write.

        ``params=None`` omits the member. Raises ``TypeError``/``ValueError`` (and registers
        nothing) if the params cannot be encoded.
        """
        request_id = self._next_id
        if params is None:
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        else:
            _check_params(params)
            message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        frame = self._frame(message)
        self._next_id = request_id + 1
        self._pending[request_id] = method
        return request_id, frame

    def adopt_request(self, request_id: int, method: str) -> None:
        """Count as ours a request that was written to the peer before this connection existed
        (``StartedChild.send_request``): its answer is then matched like any other, and the
        ids this connection issues come after it."""
        if request_id in self._pending:
            raise ValueError(f"request {request_id} is already pending")
        self._pending[request_id] = method
        self._next_id = max(self._next_id, request_id + 1)

    def send_notification(self, method: str, params: Params = None) -> bytes:
        """Return the frame of a notification."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            _check_params(params)
            message["params"] = params
        return self._frame(message)

    def send_cancel(self, request_id: int) -> bytes:
        """Give up on a pending call: forget it and return the ``$/cancelRequest`` frame.

        Returns ``b""`` if the call is not pending (already answered or cancelled), so a
        cancel is sent at most once and only for ids that were issued.
        """
        if self._pending.pop(request_id, None) is None:
            return b""
        self._cancelled.add(request_id)
        return self.send_notification("$/cancelRequest", {"id": request_id})

    def forget_pending(self) -> list[int]:
        """Drop every pending call (the peer is gone) and return their ids."""
        ids = list(self._pending)
        self._pending.clear()
        self._cancelled.clear()
        return ids

    def send_result(self, request_id: RequestId, result: Any) -> bytes:
        """Answer an inbound request with a result. Returns ``b""`` while its batch is incomplete.

        If ``result`` cannot be encoded, the request is answered with an ``InternalError``
        instead, so the peer is never left waiting.
        """
        try:
            return self._answer(request_id, {"jsonrpc": "2.0", "id": request_id, "result": result})
        except (TypeError, ValueError) as exc:
            error = RpcError(f"the result cannot be sent: {exc}", -32603)
            return self.send_error(request_id, error)

    def send_error(self, request_id: RequestId, error: RpcError) -> bytes:
        """Answer an inbound request with an error. Returns ``b""`` while its batch is
        incomplete."""
        message = {"jsonrpc": "2.0", "id": request_id, "error": error.to_error_object()}
        try:
            return self._answer(request_id, message)
        except (TypeError, ValueError):
            message["error"] = {"code": error.code, "message": error.message}
            return self._answer(request_id, message)

    @property
    def owed(self) -> list[RequestId]:
        """Inbound requests that still owe an answer."""
        return list(self._owed)

    def _answer(self, request_id: RequestId, message: dict[str, Any]) -> bytes:
        if request_id not in self._owed:
            raise KeyError(f"no inbound request {request_id!r} is waiting for an answer")
        batch = self._owed[request_id]
        if batch is None:
            frame = self._frame(message)
            del self._owed[request_id]
            return frame
        _json.dumps(message)  # fail here, before the answer is committed to the batch
        del self._owed[request_id]
        batch.answers.append(message)
        batch.waiting -= 1
        if batch.waiting:
            return b""
        return self._frame(batch.answers)

    def _frame(self, message: Any, *, small: bool = False) -> bytes:
        """Encode and frame a message; refuse one over the size limit unless it is ``small``
        by construction (an error answer of our own)."""
        body = _json.dumps(message)
        if not small and len(body) > self._max_body_size:
            raise ValueError(
                f"a message of {len(body)} bytes is over the {self._max_body_size}-byte "
                "max_body_size the peer accepts"
            )
        if self._trace is not None:
            self._trace("send", body)
        return encode_frame(body)

    def data_to_send(self) -> bytes:
        """Bytes the connection wants written on its own account (answers to invalid requests,
        as JSON-RPC requires). Call it after handling the events of each ``receive_data``."""
        if not self._outgoing:
            return b""
        data = b"".join(self._outgoing)
        self._outgoing.clear()
        return data

    # -- what we receive ----------------------------------------------------------------------

    @property
    def bytes_wanted(self) -> int:
        """How many more bytes would complete the frame being received (0 if unknown): a
        hint for the size of the next read."""
        return self._reader.bytes_wanted

    def receive_data(self, data: bytes | bytearray) -> None:
        """Feed bytes read from the peer; ``b""`` means its output ended."""
        self._reader.receive_data(data)

    def next_event(self) -> Event | None:
        """Return the next event, or ``None`` if more data is needed."""
        events = self._events
        while not events:
            item = self._reader.next_event()
            if item is None:
                return None
            if type(item) is bytes or type(item) is bytearray:
                if self._trace is not None:
                    self._trace("recv", bytes(item))
                # The common case in one go: the result of a pending call.
                try:
                    message = _json.loads(item)
                except ValueError as exc:
                    reason = f"a frame that is not JSON: {exc}"
                    events.append(ProtocolViolation(reason, bytes(item[:_EXCERPT])))
                    continue
                if type(message) is dict and "result" in message:
                    request_id = message.get("id")
                    if (
                        type(request_id) is int
                        and request_id in self._pending
                        and "error" not in message
                        and "method" not in message
                    ):
                        del self._pending[request_id]
                        return Response(request_id, message["result"])
                self._receive_parsed(message, item)
            elif isinstance(item, Garbage):
                events.append(
                    ProtocolViolation(
                        f"skipped bytes that are not a frame: {item.reason}", item.data
                    )
                )
            elif isinstance(item, Oversized):
                self._receive_oversized(item)
        return events.popleft()

    def _receive_parsed(self, message: Any, body: bytes | bytearray) -> None:
        if type(message) is dict:
            self._receive_message(message, None, body)
        elif type(message) is list and message:
            batch = _Batch()
            for element in message:
                if type(element) is dict:
                    self._receive_message(element, batch, body)
                else:
                    self._reject(None, batch)
            if batch.waiting == 0 and batch.answers:
                # No request of the batch is left to run: send the errors collected so far.
                self._outgoing.append(self._frame(batch.answers))
        else:
            # An empty batch, or a message that is neither an object nor an array.
            self._reject(None, None)

    def _receive_message(
        self, message: dict[str, Any], batch: _Batch | None, body: bytes | bytearray
    ) -> None:
        method = message.get("method")
        if method is None:
            self._receive_answer(message, body)
            return
        request_id = message.get("id", _ABSENT)
        params = message.get("params")
        valid = (
            message.get("jsonrpc") == "2.0"
            and type(method) is str
            and (params is None or type(params) is dict or type(params) is list)
        )
        if request_id is _ABSENT:
            if valid:
                self._receive_notification(method, params)
            else:
                self._reject(None, batch)
            return
        if type(request_id) is not int and type(request_id) is not str:
            self._reject(None, batch)
        elif not valid or request_id in self._owed:
            self._reject(request_id, batch)
        else:
            self._owed[request_id] = batch
            if batch is not None:
                batch.waiting += 1
            self._events.append(Request(request_id, method, params))

    def _receive_notification(self, method: str, params: Params) -> None:
        if method == "$/cancelRequest":
            cancelled = params.get("id") if type(params) is dict else None
            if cancelled in self._owed:  # otherwise already answered, or never seen: ignore
                self._events.append(CancelRequested(cancelled))
        elif method == "$/progress" and type(params) is dict:
            token = params.get("token")
            if token in self._pending:
                self._events.append(Progress(token, params.get("value")))
            elif token not in self._cancelled:  # else: progress of a call we gave up on
                self._events.append(Notification(method, params))
        else:
            self._events.append(Notification(method, params))

    def _receive_oversized(self, item: Oversized) -> None:
        """A frame over the limit was skipped: fail the call it answers, or refuse the request
        it carries, when its head shows which (peers write ``id`` before the big members)."""
        reason = f"skipped a message of {item.length} bytes, over the {item.limit}-byte limit"
        found = _HEAD_ID.search(item.head)
        request_id: Any = None
        if found is not None:
            try:
                request_id = _json.loads(found[1])
            except ValueError:
                request_id = None
        if _HEAD_METHOD.search(item.head) is not None:
            if type(request_id) is int or type(request_id) is str:
                error = InvalidRequest(reason, data={"length": item.length, "limit": item.limit})
                answer = {"jsonrpc": "2.0", "id": request_id, "error": error.to_error_object()}
                self._outgoing.append(self._frame(answer, small=True))
            self._events.append(ProtocolViolation(reason, item.head))
        elif type(request_id) is int and self._pending.pop(request_id, None) is not None:
            self._events.append(ProtocolViolation(reason, item.head, request_id))
        else:
            self._events.append(ProtocolViolation(reason, item.head))

    def _reject(self, request_id: RequestId | None, batch: _Batch | None) -> None:
        """Answer an invalid request at once with -32600 (``id: null`` if its id is unusable)."""
        if request_id is not None and request_id in self._owed:
            request_id = None  # a duplicate of an id still in flight: do not answer for it
        error = InvalidRequest("Invalid Request: not a JSON-RPC 2.0 request")
        message = {"jsonrpc": "2.0", "id": request_id, "error": error.to_error_object()}
        if batch is not None:
            batch.answers.append(message)
        else:
            self._outgoing.append(self._frame(message, small=True))

    def _receive_answer(self, message: dict[str, Any], body: bytes | bytearray) -> None:
        request_id = message.get("id")
        if type(request_id) is not int or request_id not in self._pending:
            if type(request_id) is int and request_id in self._cancelled:
                self._cancelled.discard(request_id)  # the late answer to a cancelled call
                return
            reason = "an answer to no pending call"
            if request_id is None and isinstance(message.get("error"), dict):
                error = RpcError.from_error_object(message["error"])
                reason = f"the peer reports an error: {error}"
            self._events.append(ProtocolViolation(reason, bytes(body[:_EXCERPT])))
            return
        if "result" in message and "error" not in message:
            del self._pending[request_id]
            self._events.append(Response(request_id, message["result"]))
        elif "error" in message and "result" not in message:
            del self._pending[request_id]
            self._events.append(
                ErrorResponse(request_id, RpcError.from_error_object(message["error"]))
            )
        else:
            del self._pending[request_id]
            self._events.append(
                ProtocolViolation(
                    "an answer with neither (or both) of result and error",
                    bytes(body[:_EXCERPT]),
                    request_id,
                )
            )


_ABSENT: Any = object()
_HEAD_ID = re.compile(rb'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')
_HEAD_METHOD = re.compile(rb'"method"\s*:')


def _check_params(params: object) -> None:
    if type(params) is not dict and not isinstance(params, list | tuple | dict):
        raise TypeError(
            f"params must be a dict, a list or None (JSON-RPC 2.0), not {type(params).__name__}"
        )
