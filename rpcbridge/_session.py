"""One host process and everything that talks to it: the transport around the core, written
once for trio and asyncio.

A ``HostSession`` owns one child process and runs four tasks in its own nursery:

* the **reader** feeds the child's stdout to ``RpcConnection`` and delivers each event: an
  answer wakes the one task waiting for that id, a request runs a Python handler;
* the **writer** is the only task that writes to the child's stdin when a frame cannot go out
  at once; everyone else appends frames to an outbox, and the writer sends whatever has
  accumulated in one ``writev`` (so 64 concurrent callers cost a few writes, not 64);
* the **stderr drain** always empties the child's stderr into ``logging`` (a full stderr pipe
  would otherwise freeze the child) and keeps its tail for error messages;
* the **exit watch** notices the child's death even if something else holds its stdout open.

When the child dies, every pending and later call raises ``HostExited`` with the exit status
and the stderr tail. ``close()`` closes the child's stdin, waits a bounded time for it to
finish its work and exit, then terminates and finally kills it. ``Bridge`` (``_bridge.py``)
puts a session behind the public API and replaces it when a restart policy says so.

The structure (task groups, cancel scopes, timeouts, events) is anyio's, so this module runs
unchanged on trio and on asyncio (uvloop too); what is paid per call or per read — how a caller
sleeps until its answer, how a descriptor is waited on — is the runtime's (``_runtime.py``),
each loop's own cheapest means.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import signal
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread
import orjson

from ._connection import (
    CancelRequested,
    ErrorResponse,
    Notification,
    Params,
    Progress,
    ProtocolViolation,
    Request,
    RequestId,
    Response,
    RpcConnection,
)
from ._errors import (
    BridgeClosed,
    CallTimeout,
    HostExited,
    HostSetupError,
    InternalError,
    MethodNotFound,
    ProtocolError,
    RequestCancelled,
    RpcError,
    host_exited,
)
from ._framing import DEFAULT_MAX_BODY_SIZE
from ._host import PROTOCOL_VERSION, SentRequest, StartedChild, start_child
from ._host_log import HostLog
from ._methods import Handler, Methods
from ._pipes import PIPE_SIZE, Channel, socket_channel, stdio_channel
from ._process import HostProcess, adopt
from ._runtime import Runtime, Waiter

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "HostSession", "spawn"]

log = logging.getLogger("rpcbridge")
trace_log = logging.getLogger("rpcbridge.trace")
H = TypeVar("H", bound=Handler)

DEFAULT_MAX_IN_FLIGHT = 10_000
_OUTBOX_HIGH = 16 << 20  # callers wait while more than this is queued for the child's stdin
_OUTBOX_LOW = 4 << 20  # ... until it drains below this
_TRACE_EXCERPT = 300
_READ_SIZE = 1 << 16
_EXIT_NODE_TOO_OLD = 3  # the host's exit code for a Node.js older than it supports
_EXIT_REPORT_WAIT = 1.0  # how long to wait for the exit status once stdout has closed
_TERMINATE_WAIT = 2.0  # between SIGTERM and SIGKILL


class HostSession:
    """One live host process; ``Bridge`` holds the current one.

    ``call`` and ``notify`` may be used from any number of tasks at once. ``hello`` holds the
    bundled host's answer to the ``rpc.hello`` handshake (``None`` for other servers).
    """

    def __init__(
        self,
        process: HostProcess,
        channel: Channel,
        *,
        runtime: Runtime,
        methods: Methods,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        call_timeout: float | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        trace: bool = False,
    ) -> None:
        self._process = process
        self._runtime = runtime
        self._new_waiter = runtime.waiter
        self._started = anyio.current_time()
        self._conn = RpcConnection(
            max_body_size=max_body_size, trace=self._trace if trace else None
        )
        self.call_timeout = call_timeout
        self._max_in_flight = max_in_flight
        self._room_lot = runtime.lot()  # callers waiting for an in-flight slot
        self._waiting_for_room = 0
        self._outbox_bytes = 0
        self._drained_lot = runtime.lot()  # callers waiting for the outbox to drain
        self._waiters: dict[int, Waiter] = {}
        self._channel = channel
        self._stdin = channel.writer
        self._outbox: list[bytes | memoryview] = []
        self._writing = False  # the writer task is inside write_all
        self._outbox_lot = runtime.lot()
        self._closing = False  # no new calls; the writer closes stdin once the outbox is empty
        self._gone: HostExited | None = None  # set once the child has exited
        self._host_log = HostLog(pid=process.pid)
        self._serving: dict[RequestId, anyio.CancelScope] = {}
        self._stdout_done = anyio.Event()
        self._gone_event = anyio.Event()
        self._stderr_done = anyio.Event()
        self._nursery: anyio.abc.TaskGroup | None = None
        self.methods = methods
        self.hello: dict[str, Any] | None = None
        self._sent_early: dict[int, _SentEarly] = {}  # taken over, answer not yet claimed

    # -- public API ---------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The child's exit status, or ``None`` while it runs (negative: killed by a signal)."""
        return self._process.returncode

    async def wait(self) -> int | None:
        """Wait until the child has exited (and every pending call has failed); return its
        exit status."""
        await self._gone_event.wait()
        return self._process.returncode

    @property
    def in_flight(self) -> int:
        """Calls waiting for an answer."""
        return len(self._waiters)

    @property
    def gone(self) -> bool:
        """Whether the child has exited (or closed its stdout)."""
        return self._gone is not None

    @property
    def exit_description(self) -> str:
        """The child's exit status in words ("exit code 1", "signal SIGKILL", ...)."""
        return _describe_status(self._process.returncode)

    @property
    def stderr_tail(self) -> list[str]:
        """The last lines the child wrote to stderr, oldest first."""
        return self._host_log.tail

    async def call(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: float | None = None,
        on_progress: Callable[[Any], object] | None = None,
    ) -> Any:
        """Call ``method`` on this host; ``Bridge.call`` documents the arguments and errors."""
        limit = self.call_timeout if timeout is None else timeout
        if limit is None:
            return await self.call_without_timeout(method, params, on_progress)
        with anyio.move_on_after(limit):
            return await self.call_without_timeout(method, params, on_progress)
        raise CallTimeout(method, limit)

    async def call_without_timeout(
        self, method: str, params: Params, on_progress: Callable[[Any], object] | None
    ) -> Any:
        """``call`` without a timeout (the hot path: no cancel scope, no extra layer)."""
        if len(self._waiters) >= self._max_in_flight or self._outbox_bytes > _OUTBOX_HIGH:
            await self._wait_for_room()
        if self._closing or self._gone is not None:
            raise self._closed_error()
        request_id, frame = self._conn.send_request(method, params)
        waiter = self._new_waiter(on_progress)
        self._waiters[request_id] = waiter
        self._send(frame)  # never awaits, never answers a call: the caller sleeps next
        del frame  # a large request must not stay alive (once written) while the call waits
        try:
            await waiter.sleep()
        except BaseException:
            if self._waiters.pop(request_id, None) is not None:
                self._send(self._conn.send_cancel(request_id))
            raise
        finally:
            if self._waiting_for_room:
                self._room_lot.unpark()
        if waiter.error is not None:
            raise waiter.error
        return waiter.value

    async def _wait_for_room(self) -> None:
        """Backpressure: wait while ``max_in_flight`` calls are pending or the child is not
        reading its stdin (more than ``_OUTBOX_HIGH`` bytes queued for it)."""
        while self._gone is None and not self._closing:
            if len(self._waiters) >= self._max_in_flight:
                self._waiting_for_room += 1
                try:
                    await self._room_lot.park()
                finally:
                    self._waiting_for_room -= 1
            elif self._outbox_bytes > _OUTBOX_HIGH:
                await self._drained_lot.park()
            else:
                return

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification (no answer). Waits while the child is not reading its stdin;
        raises like ``call`` if the bridge is closed."""
        if self._outbox_bytes > _OUTBOX_HIGH:
            await self._wait_for_room()
        else:
            await self._runtime.checkpoint()
        if self._closing or self._gone is not None:
            raise self._closed_error()
        self._send(self._conn.send_notification(method, params))

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the session's tasks until the child is gone (``task_group.start`` it)."""
        try:
            async with anyio.create_task_group() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._run_reader)
                nursery.start_soon(self._run_writer)
                nursery.start_soon(self._drain_stderr)
                nursery.start_soon(self._watch_exit)
                task_status.started()
        finally:
            if self._process.returncode is None:  # cancelled from outside before close()
                self._process.signal(signal.SIGKILL)
                await self._runtime.shielded(self._process.wait)
            self._channel.close(self._runtime)
            self._process.close_pipes()

    # -- writing ------------------------------------------------------------------------------

    def _send(self, frame: bytes | memoryview) -> None:
        """Queue a frame for the child's stdin, or write it at once when that is safe.

        It is written directly (no task switch) when nothing is queued, the writer task is idle
        and no other call is in flight; otherwise the writer task sends everything queued in one
        ``writev`` — which is what batches the frames of many concurrent callers. A frame the
        pipe takes only in part is finished by the writer task. No ``await`` happens here, so a
        cancelled caller can never leave half a frame on the wire.
        """
        if not frame:
            return
        if not self._outbox and not self._writing and len(self._waiters) <= 1:
            written = self._stdin.try_write(frame)
            if written == len(frame):
                return
            frame = memoryview(frame)[written:]  # the rest, not a copy of it
        if not self._outbox:
            self._outbox_lot.unpark()  # else the writer task is already awake or writing
        self._outbox.append(frame)
        self._outbox_bytes += len(frame)

    async def _run_writer(self) -> None:
        try:
            while True:
                if not self._outbox:
                    if self._closing or self._gone is not None:
                        break
                    await self._outbox_lot.park()
                    continue
                parts, self._outbox = self._outbox, []
                self._writing = True
                try:
                    await self._stdin.write_all(parts)
                finally:
                    self._writing = False
                self._outbox_bytes -= sum(map(len, parts))
                del parts  # written: let large frames go before the writer sleeps
                if self._outbox_bytes <= _OUTBOX_LOW:
                    self._drained_lot.unpark_all()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            log.debug("writing to the host failed: %r", exc)  # the exit watch reports it
            self._outbox.clear()
        finally:
            await self._runtime.shielded(self._stdin.aclose)

    # -- reading ------------------------------------------------------------------------------

    async def _run_reader(self) -> None:
        stdout = self._channel.reader
        conn = self._conn
        waiters = self._waiters
        try:
            while True:
                data = await stdout.read(min(max(_READ_SIZE, conn.bytes_wanted), PIPE_SIZE))
                conn.receive_data(data)
                while (event := conn.next_event()) is not None:
                    if type(event) is Response:  # by far the most common: no further call
                        waiter = waiters.pop(event.request_id, None)
                        if waiter is not None:
                            waiter.resolve(event.result)
                            waiter = None  # the result belongs to its caller alone now
                    else:
                        self._deliver(event)
                self._send(conn.data_to_send())
                if not data:
                    break
        finally:
            self._stdout_done.set()
        with anyio.move_on_after(_EXIT_REPORT_WAIT):
            await self._process.wait()
        await self._host_gone()

    def _deliver(self, event: object) -> None:
        """Act on every event but a ``Response`` (``_run_reader`` resolves those itself)."""
        if isinstance(event, ErrorResponse):
            waiter = self._waiters.pop(event.request_id, None)
            if waiter is not None:
                waiter.fail(event.error)
        elif isinstance(event, Request):
            self._serve_request(event)
        elif isinstance(event, Notification):
            self._serve_notification(event)
        elif isinstance(event, CancelRequested):
            scope = self._serving.get(event.request_id)
            if scope is not None:
                scope.cancel()
        elif isinstance(event, Progress):
            waiter = self._waiters.get(event.request_id)
            if waiter is not None and waiter.on_progress is not None:
                try:
                    waiter.on_progress(event.value)
                except Exception:
                    log.exception("on_progress callback of call %s failed", event.request_id)
            else:  # nobody asked for it: maybe a server's own token that equals our id
                params = {"token": event.request_id, "value": event.value}
                self._serve_notification(Notification("$/progress", params))
        elif isinstance(event, ProtocolViolation):
            self._report_violation(event)

    def _report_violation(self, event: ProtocolViolation) -> None:
        error = ProtocolError(f"host {self.pid}: {event.reason}", event.data)
        if event.request_id is not None:
            waiter = self._waiters.pop(event.request_id, None)
            if waiter is not None:
                waiter.fail(error)
        excerpt = repr(event.data[:120])[2:-1] if event.data else ""
        log.warning("%s%s", error, f": {excerpt}" if excerpt else "")

    # -- serving the host's requests ----------------------------------------------------------

    def _serve_request(self, request: Request) -> None:
        handler = self.methods.get(request.method)
        if handler is None:
            error = MethodNotFound(
                f"Method not found: {request.method}", data={"method": request.method}
            )
            self._send(self._conn.send_error(request.request_id, error))
            return
        if inspect.iscoroutinefunction(handler):
            self._start_serving(request, handler)
            return
        try:
            result = handler(request.params)
        except Exception as exc:
            self._send(self._conn.send_error(request.request_id, _as_rpc_error(exc)))
            return
        if inspect.isawaitable(result):
            self._start_serving(request, _awaiting(result))
        else:
            self._send(self._conn.send_result(request.request_id, result))

    def _start_serving(self, request: Request, handler: Callable[[Any], Awaitable[Any]]) -> None:
        """Run an async handler as a task. Its cancel scope is registered now, before the task
        starts, so a ``$/cancelRequest`` that arrives in the same read still finds it."""
        assert self._nursery is not None
        scope = anyio.CancelScope()
        self._serving[request.request_id] = scope
        self._nursery.start_soon(self._serve_async, request, handler, scope)

    async def _serve_async(
        self,
        request: Request,
        handler: Callable[[Any], Awaitable[Any]],
        scope: anyio.CancelScope,
    ) -> None:
        request_id = request.request_id
        with scope:
            try:
                # Cancelled before it started? Then the handler never runs.
                await anyio.lowlevel.checkpoint_if_cancelled()
                result = await handler(request.params)
            except Exception as exc:
                frame = self._conn.send_error(request_id, _as_rpc_error(exc))
            else:
                frame = self._conn.send_result(request_id, result)
            finally:
                del self._serving[request_id]
        if scope.cancelled_caught:
            frame = self._conn.send_error(request_id, RequestCancelled())
        self._send(frame)

    def _serve_notification(self, notification: Notification) -> None:
        handler = self.methods.get(notification.method)
        if handler is None:
            log.debug("no handler for notification %r", notification.method)
            return
        if inspect.iscoroutinefunction(handler):
            assert self._nursery is not None
            self._nursery.start_soon(self._notify_async, notification, handler)
            return
        try:
            result = handler(notification.params)
        except Exception:
            log.exception("handler of notification %r failed", notification.method)
            return
        if inspect.isawaitable(result):
            assert self._nursery is not None
            self._nursery.start_soon(self._notify_async, notification, _awaiting(result))

    async def _notify_async(
        self, notification: Notification, handler: Callable[[Any], Awaitable[Any]]
    ) -> None:
        try:
            await handler(notification.params)
        except Exception:
            log.exception("handler of notification %r failed", notification.method)

    # -- the child's life ---------------------------------------------------------------------

    async def _drain_stderr(self) -> None:
        stderr = self._channel.log
        try:
            while True:
                data = await stderr.read()
                self._host_log.receive_data(data)
                if not data:
                    break
        finally:
            self._stderr_done.set()

    async def _watch_exit(self) -> None:
        await self._process.wait()
        with anyio.move_on_after(_EXIT_REPORT_WAIT):
            await self._stdout_done.wait()
        await self._host_gone()

    async def _host_gone(self) -> None:
        """The child has exited (or closed its stdout): fail every pending call, once."""
        if self._gone is not None:
            return
        with anyio.move_on_after(0.2):  # let the last stderr lines in: they explain the exit
            await self._stderr_done.wait()
        if self._process.returncode is not None:
            await _end_process_group(self._process.pid)
        code = self._process.returncode
        if self._closing:
            what = f"the bridge was closed (host exited with {_describe_status(code)})"
        else:
            what = f"the host (pid {self.pid}) exited with {_describe_status(code)}"
        self._gone = host_exited(what, returncode=code, stderr_tail=self.stderr_tail)
        self._conn.forget_pending()
        waiters = list(self._waiters.values())
        self._waiters.clear()
        for waiter in waiters:
            waiter.fail(self._closed_error())
        self._outbox_lot.unpark_all()
        self._room_lot.unpark_all()
        self._drained_lot.unpark_all()
        self._gone_event.set()
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()  # Python handlers still serving this host

    def _closed_error(self) -> BridgeClosed:
        gone = self._gone
        if gone is not None:
            return type(gone)(
                gone.args[0].split("\n", 1)[0],
                returncode=gone.returncode,
                stderr_tail=gone.stderr_tail,
            )
        return BridgeClosed("the bridge is closed")

    def _trace(self, direction: str, body: bytes) -> None:
        """Log one message to ``rpcbridge.trace``: direction, id, method, size, time, excerpt."""
        if not trace_log.isEnabledFor(logging.DEBUG):
            return
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            message = None
        kind = ""
        if isinstance(message, dict):
            if "id" in message:
                kind += f" id={message['id']}"
            if "method" in message:
                kind += f" {message['method']}"
            elif "error" in message:
                kind += " error"
            elif "result" in message:
                kind += " result"
        elif isinstance(message, list):
            kind = f" batch of {len(message)}"
        arrow = "->" if direction == "send" else "<-"
        excerpt = body[:_TRACE_EXCERPT].decode("utf-8", "replace")
        more = f"... (+{len(body) - _TRACE_EXCERPT} B)" if len(body) > _TRACE_EXCERPT else ""
        elapsed = (anyio.current_time() - self._started) * 1000
        trace_log.debug(
            "%s pid %s%s %d B +%.1f ms %s%s",
            arrow,
            self.pid,
            kind,
            len(body),
            elapsed,
            excerpt,
            more,
        )

    def take_over(self, sent: Sequence[SentRequest]) -> None:
        """Make the requests written to the child before this session existed
        (``StartedChild.send_request``) calls of this session: their answers (or the host's
        exit) are kept until ``answer_to`` claims them. Call it before ``serve``."""
        for request in sent:
            self._conn.adopt_request(request.id, request.method)
            waiter = _SentEarly(request.method, request.params)
            self._waiters[request.id] = waiter
            self._sent_early[request.id] = waiter

    def sent_early(self, method: str, params: Params) -> int | None:
        """The id of an unclaimed request ``take_over`` took with this method and these
        params, or ``None``."""
        for request_id, waiter in self._sent_early.items():
            if waiter.method == method and waiter.params == params:
                return request_id
        return None

    async def answer_to(self, request_id: int) -> Any:
        """Claim (once) the answer to the request ``take_over`` took as ``request_id``: its
        result, or the error a call would raise. Cancelled while it waits, it sends
        ``$/cancelRequest`` as a call does."""
        waiter = self._sent_early.pop(request_id)
        try:
            await waiter.sleep()
        except BaseException:
            if self._waiters.pop(request_id, None) is not None:
                self._send(self._conn.send_cancel(request_id))
            raise
        if waiter.error is not None:
            raise waiter.error
        return waiter.value

    async def handshake(self, timeout: float) -> None:
        """Check ``rpc.hello``, bounded by ``timeout`` (the start-up timeout) alone.

        The bridge-wide ``call_timeout`` does not apply: it bounds the caller's calls, and a
        host still loading its handler modules must not fail to start because it is short.
        """
        with anyio.move_on_after(timeout):
            try:
                early = self.sent_early("rpc.hello", None)
                if early is None:
                    hello = await self.call_without_timeout("rpc.hello", None, None)
                else:
                    hello = await self.answer_to(early)
            except HostExited as exc:
                if exc.returncode == _EXIT_NODE_TOO_OLD:
                    raise HostSetupError("\n".join(exc.stderr_tail)) from exc
                raise
            if not isinstance(hello, dict) or hello.get("protocol") != PROTOCOL_VERSION:
                got = hello.get("protocol") if isinstance(hello, dict) else hello
                raise ProtocolError(
                    f"the host speaks protocol {got!r}, this rpcbridge speaks "
                    f"{PROTOCOL_VERSION}: reinstall rpcbridge so both match"
                )
            self.hello = hello
            return
        raise ProtocolError(f"the host did not answer rpc.hello within {timeout} s")

    async def close(self, timeout: float) -> None:
        """Close stdin, wait for the exit, then terminate and kill. Call it shielded."""
        self._closing = True
        self._outbox_lot.unpark_all()
        process = self._process
        with anyio.move_on_after(timeout):
            await process.wait()
        if process.returncode is None:
            process.signal(signal.SIGTERM)
            with anyio.move_on_after(_TERMINATE_WAIT):
                await process.wait()
        if process.returncode is None:
            process.signal(signal.SIGKILL)
            await process.wait()
        with anyio.move_on_after(_EXIT_REPORT_WAIT):
            await self._stdout_done.wait()
        await self._host_gone()

    # -- for SyncBridge: a caller on another thread (its only hook into the session) ----------

    def send_from_thread(
        self,
        method: str,
        params: Params,
        waiter: Waiter | None,
        wake: Callable[[Callable[[], object]], object],
    ) -> Callable[[bool], None] | None:
        """Start a call (``waiter``) or send a notification (``waiter=None``) for a thread that
        is not the session's own, with no task switch: ``SyncBridge``'s fast path.

        Only while the session's thread cannot run: the caller holds the lock that thread
        releases only to wait for I/O (``_sync._LoopLock``), so nothing else touches the
        session meanwhile. ``waiter`` stands in for the runtime's (``_runtime.Waiter``): the
        calling thread sleeps on its own, never in ``sleep()``, and the reader calls its
        ``resolve``/``fail`` (and ``on_progress``) on the session's thread, as for any call.
        The frame is written at once when nothing is queued before it; the rest (or all of it)
        goes to the writer task. The runtime's parking lots (the writer's, and that of callers
        waiting for an in-flight slot) are touched only on the session's thread, through
        ``wake``: a function that runs a callable there soon (``TrioToken.run_sync_soon`` for
        ``SyncBridge``, whose session runs under trio).

        Returns ``None``, having sent nothing, when the call must take the ordinary path (the
        session is closing or gone, ``max_in_flight`` calls wait, the outbox is full).
        Otherwise returns ``finish(abandoned)``, which the calling thread must call once it
        stops waiting, without the lock: ``abandoned=False`` after the answer came (it frees
        the call's in-flight slot for callers waiting for one), ``True`` when it gave up
        (timeout, interrupt: the call is forgotten and ``$/cancelRequest`` sent at most once).
        A no-op for a notification. Raises ``TypeError``/``ValueError`` (nothing sent) for
        params that are not JSON.
        """
        if (
            self._closing
            or self._gone is not None
            or self._outbox_bytes > _OUTBOX_HIGH
            or len(self._waiters) >= self._max_in_flight
        ):
            return None
        frame: bytes | memoryview
        if waiter is None:
            frame = self._conn.send_notification(method, params)
        else:
            request_id, frame = self._conn.send_request(method, params)
            self._waiters[request_id] = waiter
        if not self._outbox and not self._writing:
            written = self._stdin.try_write(frame)
            if written == len(frame):
                frame = b""
            else:
                frame = memoryview(frame)[written:]
                wake(self._outbox_lot.unpark)  # the writer sleeps: nothing was queued
        if frame:
            self._outbox.append(frame)
            self._outbox_bytes += len(frame)
        if waiter is None:
            return lambda abandoned: None

        def give_up() -> None:  # on the session's thread
            if self._waiters.pop(request_id, None) is not None:
                self._send(self._conn.send_cancel(request_id))
            if self._waiting_for_room:
                self._room_lot.unpark()

        def finish(abandoned: bool) -> None:  # in the calling thread
            if abandoned:
                wake(give_up)
            elif self._waiting_for_room:  # rare: only then is the session's thread woken
                wake(self._room_lot.unpark)

        return finish


class _SentEarly:
    """The pending answer to a request taken over from a ``StartedChild``. Unlike a call's
    ``Waiter`` (which wakes a task already asleep), its answer may come before anyone awaits
    it, so it is kept, behind an ``anyio.Event`` that may be set first."""

    __slots__ = ("done", "error", "method", "on_progress", "params", "value")

    def __init__(self, method: str, params: Params) -> None:
        self.method = method
        self.params = params
        self.done = anyio.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.on_progress: Callable[[Any], object] | None = None

    def sleep(self) -> Awaitable[object]:
        return self.done.wait()

    def resolve(self, value: Any) -> None:
        self.value = value
        self.done.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.done.set()


def _awaiting(awaitable: Awaitable[Any]) -> Callable[[Any], Awaitable[Any]]:
    """Wrap an awaitable a sync handler returned, so it runs like an async handler."""

    async def wait(_params: Any) -> Any:
        return await awaitable

    return wait


def _as_rpc_error(exc: Exception) -> RpcError:
    if isinstance(exc, RpcError):
        return exc
    return InternalError(
        f"{type(exc).__name__}: {exc}",
        data={"name": type(exc).__name__, "message": str(exc), "stack": _format_stack(exc)},
    )


def _format_stack(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _describe_status(code: int | None) -> str:
    if code is None:
        return "an unknown status (it closed its stdout)"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


async def _end_process_group(pgid: int) -> None:
    """After the host has exited, end what it left in its process group (say, esbuild's
    service process): SIGTERM, a short wait, then SIGKILL. POSIX only."""
    if os.name != "posix":
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not live_group_members(pgid):
            return
        try:
            os.killpg(pgid, signum)
        except (ProcessLookupError, PermissionError):
            return
        for _ in range(25):
            await anyio.sleep(0.02)
            if not live_group_members(pgid):
                return


def live_group_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are still running (zombies left for an init that does
    not reap do not count). Reads /proc on Linux; elsewhere only says whether the group
    exists."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            members.append(int(entry))
    return members


async def spawn(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
    isolated: bool = False,
    cpus: frozenset[int] | None = None,
    runtime: Runtime,
    started: StartedChild | None = None,
) -> tuple[HostProcess, Channel]:
    """Start the child (``_host.start_child``: its own process group on POSIX, pipes, and with
    ``isolated`` a socketpair passed as ``--channel-fd N``; on ``cpus`` only, if given) on a
    worker thread and return it with its channel.

    ``started``: a child ``start_child`` already started with these same arguments (the CLI
    starts the host before it imports the bridge); it is adopted instead of starting another.
    """
    if started is None:
        start = functools.partial(start_child, argv, cwd=cwd, env=env, isolated=isolated, cpus=cpus)
        try:
            started = await anyio.to_thread.run_sync(start)
        except OSError as exc:
            raise HostSetupError(f"cannot start {argv[0]!r}: {exc}") from exc
    popen, parent_end = started.take()
    process = adopt(popen, runtime)
    if parent_end is not None:
        return process, socket_channel(process, parent_end, runtime)
    return process, stdio_channel(process, runtime)
