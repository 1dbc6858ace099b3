"""A blocking facade over the trio bridge, for code that has no trio: threads, editor plugins,
Jupyter notebooks, scripts. ::

    with rpcbridge.SyncBridge(handlers=["my-methods.mjs"]) as bridge:
        print(bridge.call("rpc.echo", {"text": "你好 🌏"}))

``SyncBridge`` runs ``trio.run`` with ``open_bridge()`` on one background thread (the bridge's
thread), which reads the host's output, runs Python handlers and restarts hosts. A call is not
handed to that thread to be sent: it is encoded and its frame written by whichever thread holds
the loop lock (usually the calling thread itself), and the calling thread sleeps on a lock of
the call's own, released once the reader has the answer. So a call crosses threads once, on
the way back, and no trio task is started for it.

What makes that safe is ``_LoopLock``: a trio instrument that keeps a lock held by the bridge's
thread except while it waits for I/O. A thread that holds the lock knows the bridge's thread is
parked in ``epoll``/``kqueue`` and touches nothing, so it may use the session
(``HostSession.send_from_thread``: register the call, write the frame) as if it were that
thread. Nobody waits for the lock to send: a caller queues its call and sends the queue if the
lock is free; otherwise the holder sends it (the bridge's thread just before it waits for
I/O). Wake-ups are batched too: the bridge's thread wakes the first answered caller just before
it waits for I/O, and each caller woken wakes the next. Both matter once many threads call at
once: a thread woken while another holds the GIL only finds the GIL taken, and the holder
loses its CPU to it (py-spy ``--gil`` showed those wake-ups as most of the GIL-held time).

A call that needs what only the bridge's thread can do (a restart, room among
``max_in_flight``, ``trace=True``'s logging) takes the ordinary path instead: it is queued, the
bridge's thread is woken with ``TrioToken.run_sync_soon`` and runs it as a task calling
``Bridge.call``. Calls with ``on_progress`` and notifications take the lock themselves.

Nothing here touches the calling thread's event loop, so a blocking call from a coroutine (an
asyncio loop in Jupyter) works: it blocks that loop for the call's duration, like any blocking
function.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import logging
import math
import os
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, TypeVar

import trio

from ._bridge import DEFAULT_MAX_IN_FLIGHT, Bridge, open_bridge
from ._connection import Params
from ._cpus import check_cpus
from ._errors import BridgeClosed, CallTimeout
from ._framing import DEFAULT_MAX_BODY_SIZE
from ._methods import Handler, Methods
from ._session import HostSession

__all__ = ["SyncBridge"]

H = TypeVar("H", bound=Handler)

log = logging.getLogger("rpcbridge")

_RESULT: Final = 0
_ERROR: Final = 1
_PROGRESS: Final = 2

_STARTING: Final = "starting"
_OPEN: Final = "open"
_CLOSING: Final = "closing"
_CLOSED: Final = "closed"

_GUARD_GRACE = 1.0
"""Seconds a calling thread waits beyond a call's timeout before it gives up by itself (only
matters when the bridge's thread is blocked, e.g. by a slow plain-function handler)."""
_JOIN_MARGIN = 10.0
"""Seconds ``close()`` waits for the bridge's thread beyond ``shutdown_timeout``; the bridge's
own shutdown is bounded by about ``shutdown_timeout`` + 3.5 s."""

_MAIN_THREAD_ID = threading.main_thread().ident

_live: weakref.WeakSet[SyncBridge] = weakref.WeakSet()


@atexit.register
def _close_all_at_exit() -> None:
    """Close every SyncBridge still open when the interpreter exits, so no host is left."""
    for bridge in list(_live):
        bridge.close()


class _LoopLock(trio.abc.Instrument):
    """A lock the bridge's thread holds except while it waits for I/O (a trio instrument), and
    the answered calls whose threads are still to be woken.

    A calling thread holding ``lock`` may use the session as the bridge's thread would: that
    thread is asleep in the I/O wait, or blocked right after it until the lock is free. An
    ``RLock`` because it says who owns it (``owned``): an exception that a signal handler
    raises just as the lock was taken cannot leave it held.

    Nobody waits for the lock to send a call: a calling thread appends its call to
    ``outgoing`` and, if the lock is free, takes it and sends everything queued (``flush``);
    if it is taken, its holder sends the call: the bridge's thread just before it waits for
    I/O, a calling thread after it lets the lock go (``flush_if_free`` looks again). So 64
    threads calling at once do not queue up on the lock, each woken in turn to send one frame.

    Wake-ups are batched the same way: the reader only appends answered calls to ``ready``;
    just before the bridge's thread waits for I/O (and gives up the GIL) it wakes the first
    one, and each thread woken wakes the next (``wake_next``). Waking a thread while holding
    the GIL costs far more than the wake-up itself once many threads wait: the woken threads
    take the CPUs only to find the GIL taken, and the thread holding it waits for a CPU.
    """

    def __init__(self, flush: Callable[[], None], poke: Callable[[], None]) -> None:
        self.lock = threading.RLock()
        self.owned: Callable[[], bool] = self.lock._is_owned  # type: ignore[attr-defined]
        self.ready: deque[_DirectCall] = deque()
        self.outgoing: deque[_DirectCall] = deque()
        self.flush = flush  # sends ``outgoing``; only with the lock held
        self.poke = poke  # wakes the bridge's thread, which then sends ``outgoing``

    def before_run(self) -> None:
        """The bridge's thread starts: it holds the lock from now on."""
        self.lock.acquire()

    def before_io_wait(self, timeout: float) -> None:
        """About to wait for I/O: send the calls queued meanwhile, then let calling threads
        use the session, and wake the first answered call's thread."""
        if self.outgoing:
            self.flush()
        self.lock.release()
        if self.outgoing:
            self.flush_if_free()
        if self.ready:
            self.wake_next()

    def after_io_wait(self, timeout: float) -> None:
        """Back from the wait: take the lock back (after the calling thread that has it)."""
        self.lock.acquire()

    def after_run(self) -> None:
        """The bridge's thread is done: wake every thread still to be woken."""
        self.flush()  # the bridge is closed: each queued call gets BridgeClosed
        self.lock.release()
        while self.ready:
            self.wake_next()

    def flush_if_free(self) -> None:
        """Send the queued calls if nobody holds the lock (else its holder will); look again
        after letting it go, for calls queued meanwhile."""
        outgoing, lock, owned = self.outgoing, self.lock, self.owned
        while outgoing:
            try:
                if not lock.acquire(blocking=False):
                    return
                self.flush()
            except BaseException:  # a signal handler raised (main thread): leave the rest
                if outgoing:
                    self.poke()
                raise
            finally:
                if owned():
                    lock.release()

    def wake_next(self) -> None:
        """Wake the thread of the first answered call that still waits (if any)."""
        ready = self.ready
        while True:
            try:
                call = ready.popleft()
            except IndexError:
                return
            if call.claim():
                call.wakeup.release()
                return
            # else its thread gave up waiting (timeout, interrupt) before the answer came


class _ThreadWaiter:
    """A pending call whose caller is a thread, not a task: the session's ``Waiter``
    (``_runtime.py``) for ``HostSession.send_from_thread``. The reader, on the bridge's thread,
    sets ``value``/``error`` through ``resolve``/``fail`` and calls ``on_progress`` as for any
    call; how the calling thread sleeps until then is the subclass's. ``sleep()`` is never
    awaited: no task sleeps on such a call."""

    __slots__ = ("error", "on_progress", "value")

    def __init__(self, on_progress: Callable[[Any], object] | None) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.on_progress = on_progress

    def sleep(self) -> Awaitable[object]:
        """Not for a thread's call: its thread sleeps on a lock or a queue of its own."""
        raise RuntimeError("a SyncBridge call is waited for by its thread, not awaited")

    def resolve(self, value: Any) -> None:  # pragma: no cover - every subclass overrides it
        """The call's result."""
        raise NotImplementedError

    def fail(self, error: BaseException) -> None:  # pragma: no cover - likewise
        """The call's error."""
        raise NotImplementedError


class _DirectCall(_ThreadWaiter):
    """A call sent without its own trio task, by whichever thread holds the loop lock. The
    reader (on the bridge's thread) resolves it like a task's; the calling thread sleeps on
    ``wakeup`` (a lock it holds).

    Two one-shot tokens settle the races (``list.pop`` is atomic): ``claim()`` is won by the
    waker (the answer wins) or by the calling thread giving up (its timeout or an interrupt
    wins); ``take_unsent()`` by the sender (the call goes out) or by the calling thread giving
    up first (it never goes out). ``finish`` is the session's, once sent; ``fallback`` says
    the call must take the ordinary path instead (set before its thread is woken)."""

    __slots__ = (
        "_unclaimed",
        "_unsent",
        "abandoned",
        "fallback",
        "finish",
        "method",
        "params",
        "ready",
        "wakeup",
    )

    def __init__(self, method: str, params: Params, ready: deque[_DirectCall]) -> None:
        super().__init__(None)
        self.method = method
        self.params = params
        self.ready = ready
        self.wakeup = threading.Lock()
        self.wakeup.acquire()
        self._unclaimed = [True]
        self._unsent = [True]
        self.finish: Callable[[bool], None] | None = None
        self.abandoned = False
        self.fallback = False

    def claim(self) -> bool:
        """Whether this caller is the first to claim the call's wake-up."""
        try:
            self._unclaimed.pop()
        except IndexError:
            return False
        return True

    def take_unsent(self) -> bool:
        """Whether this caller is the first to take the call before it is sent."""
        try:
            self._unsent.pop()
        except IndexError:
            return False
        return True

    def wake_now(self) -> None:
        """Wake the calling thread at once (an error or a fallback before anything was sent)."""
        if self.claim():
            self.wakeup.release()

    def resolve(self, value: Any) -> None:
        """The call's result: its thread is woken soon."""
        self.value = value
        self.ready.append(self)

    def fail(self, error: BaseException) -> None:
        """The call's error: its thread is woken soon, and raises it."""
        self.error = error
        self.ready.append(self)


class _DirectCallWithProgress(_ThreadWaiter):
    """A call with ``on_progress`` the calling thread sent itself: its thread sleeps on
    ``answers``, which gets the progress values in order and then the outcome (each wakes it
    at once: progress is rare, and comes one value at a time)."""

    __slots__ = ("answers",)

    def __init__(self) -> None:
        super().__init__(self._progress)
        self.answers: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()

    def resolve(self, value: Any) -> None:
        """The call's result: wake the calling thread."""
        self.answers.put((_RESULT, value))

    def fail(self, error: BaseException) -> None:
        """The call's error: wake the calling thread, which raises it."""
        self.answers.put((_ERROR, error))

    def _progress(self, value: Any) -> None:
        self.answers.put((_PROGRESS, value))


class _Call:
    """One call or notification handed from a calling thread to the bridge's thread."""

    __slots__ = (
        "abandoned",
        "answers",
        "cancellable",
        "method",
        "notification",
        "params",
        "progress",
        "scope",
        "timeout",
    )

    def __init__(
        self,
        method: str,
        params: Params,
        timeout: float | None,
        *,
        notification: bool = False,
        progress: bool = False,
    ) -> None:
        self.method = method
        self.progress = progress  # the caller wants $/progress values
        self.params = params
        self.timeout = timeout
        self.notification = notification
        self.answers: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
        self.scope: trio.CancelScope | None = None  # set by the task running it
        # Only the main thread can be interrupted while it waits (signal handlers, Ctrl-C run
        # there); elsewhere a call is only abandoned by the guard timeout, which comes after
        # the call's own timeout has cancelled it already.
        self.cancellable = threading.get_ident() == _MAIN_THREAD_ID
        self.abandoned = False  # the calling thread stopped waiting: cancel it


class SyncBridge:
    """A bridge to one host process, usable from plain (non-trio) threads.

    ``SyncBridge(**kwargs)`` takes ``open_bridge()``'s arguments (those not named here, such as
    ``restart=`` or ``channel=``, are passed through unchanged), starts the host at once on a
    background thread and returns when the host has answered the ``rpc.hello``
    handshake; start-up errors (``HostSetupError``, ``HostExited``, ``ProtocolError``) are
    raised here, in the calling thread. Use it as a context manager, or call ``close()``::

        with rpcbridge.SyncBridge() as bridge:
            bridge.call("rpc.echo", [1, 2])

    ``call`` and ``notify`` may be used from any number of threads at once; each blocks its
    own thread only. Errors reach the calling thread with their type: ``RpcError`` and its
    subclasses, ``CallTimeout``, ``HostExited``, ``BridgeClosed``. A bridge still open when the
    interpreter exits is closed then.

    Python handlers (``methods=``, ``register``) run on the bridge's thread, exactly as with
    the trio bridge: an ``async`` handler is a trio task, a plain function runs inline (keep it
    quick: it holds up every call meanwhile). An exception in a handler becomes an error answer
    to the host and never stops the bridge's thread. Handlers must not use the ``SyncBridge``
    itself (that raises ``RuntimeError``: it would wait for its own thread); an ``async``
    handler can use the trio ``Bridge`` in ``.bridge`` instead.

    Cost: each call crosses threads once (the answer's way back to the calling thread; the
    request is written without a thread switch). On a shared 2-core VM a sequential
    ``rpc.echo`` ran at 0.6-0.9x the trio bridge's rate; 64 threads calling at once at
    0.3-0.7x its 64 tasks, as the VM's cost of a wake-up across CPUs varies
    (docs/performance.md); on a ``compile`` the difference is small.

    ``cpu`` (Linux) is for many threads calling at once: the bridge's thread runs on CPU
    ``cpu``, and its hosts run on every CPU of the machine that the process's cpuset allows
    (``host_cpus``, unless given). Pin the calling threads to the same CPU
    (``os.sched_setaffinity(0, {cpu})`` in each, or in the thread that starts them, before it
    does): each answer is then handed to its thread by a switch on that CPU rather than a
    wake-up across CPUs, which measured 1.9-2.6x the calls/s of 64 threads looping on a small
    call, with compiles unchanged. Python threads take turns on the GIL, so one CPU is what they
    use anyway; only threads that spend their time outside it (NumPy, zlib, hashing) lose by
    sharing it. ``ValueError`` if the CPU is not one this process may use;
    ``NotImplementedError`` where there is no ``os.sched_setaffinity`` (not Linux).
    """

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        handlers: Sequence[str | os.PathLike[str]] = (),
        methods: Methods | None = None,
        node: str | os.PathLike[str] | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        call_timeout: float | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        trace: bool | None = None,
        startup_timeout: float = 30.0,
        shutdown_timeout: float = 5.0,
        cpu: int | None = None,
        **options: Any,
    ) -> None:
        self._methods = methods if methods is not None else Methods()
        if cpu is not None:
            check_cpus((cpu,), "cpu")
            # Set, never inherited: the worker thread that starts a host may be one the
            # bridge's thread started, and so be pinned to ``cpu`` too; and the thread
            # constructing this may be pinned already. The kernel leaves out the CPUs the
            # process's cpuset does not allow.
            if options.get("host_cpus") is None:
                options["host_cpus"] = range(os.cpu_count() or 1)
        self._cpu = cpu
        self._options: dict[str, Any] = {
            **options,
            "cwd": cwd,
            "env": env,
            "handlers": handlers,
            "methods": _GuardedMethods(self._methods),
            "node": node,
            "max_body_size": max_body_size,
            "call_timeout": call_timeout,
            "max_in_flight": max_in_flight,
            "trace": trace,
            "startup_timeout": startup_timeout,
            "shutdown_timeout": shutdown_timeout,
        }
        self._command = command
        self._call_timeout = call_timeout
        self._join_timeout = shutdown_timeout + _JOIN_MARGIN
        self._lock = threading.Lock()  # guards _state and _inbox together
        self._state = _STARTING
        self._inbox: deque[_Call] = deque()  # calls waiting for the bridge's thread
        self._token: trio.lowlevel.TrioToken | None = None
        self._loop = _LoopLock(self._flush, lambda: self._wake(_nothing))
        if trace is None:  # as open_bridge() decides it
            trace = os.environ.get("RPCBRIDGE_TRACE", "") not in ("", "0")
        # trace=True logs every frame with the bridge's trio clock: from its thread only.
        self._direct = not trace
        self._bridge: Bridge | None = None
        self._calls: trio.Nursery | None = None
        self._stop: trio.Event | None = None
        self._started = threading.Event()
        self._startup_error: BaseException | None = None
        self._crash: BaseException | None = None
        self._thread = threading.Thread(target=self._thread_main, name="rpcbridge", daemon=True)
        self._thread.start()
        self._thread_id = self._thread.ident
        try:
            self._started.wait()  # bounded: open_bridge() gives up after startup_timeout
        except BaseException:
            self.close()
            raise
        if self._startup_error is not None:
            self._thread.join(self._join_timeout)
            error, self._startup_error = self._startup_error, None
            raise error
        _live.add(self)

    # -- public API ---------------------------------------------------------------------------

    def __enter__(self) -> SyncBridge:
        """Return the bridge (already started by the constructor)."""
        if self._state != _OPEN:
            raise self._closed_error()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the bridge (see ``close``)."""
        self.close()

    def call(
        self,
        method: str,
        params: Params = None,
        timeout: float | None = None,
        on_progress: Callable[[Any], object] | None = None,
    ) -> Any:
        """Call ``method`` on the host, block until it answers, and return its result.

        ``params`` is a dict, a list or ``None``. ``timeout`` (seconds) overrides the bridge's
        ``call_timeout`` (``math.inf``: none); when it expires the call is cancelled on the host
        (``$/cancelRequest``) and ``CallTimeout`` is raised. ``on_progress`` is called **in the
        calling thread** with each ``$/progress`` value the handler reports, in order, before
        the call returns (an exception it raises is logged and ignored).

        Raises the ``RpcError`` subclass of an error answer, ``CallTimeout``, ``HostExited`` if
        the host dies, ``BridgeClosed`` once the bridge is closed (also for a call still in
        flight when ``close()`` ends the host), ``TypeError``/``ValueError`` for params that are
        not JSON. If the waiting thread is interrupted (``KeyboardInterrupt``), the call is
        cancelled on the host before the exception propagates.
        """
        limit = self._call_timeout if timeout is None else timeout
        if self._direct:
            ends = None if limit is None or math.isinf(limit) else time.monotonic() + limit
            if on_progress is None:
                self._refuse_own_thread()
                if self._state != _OPEN:
                    raise self._closed_error()
                direct = _DirectCall(method, params, self._loop.ready)
                self._loop.outgoing.append(direct)
                self._loop.flush_if_free()
                if not self._wait_direct(direct, ends, limit):
                    return direct.value
            else:
                waiter = _DirectCallWithProgress()
                finish = self._send_direct(method, params, waiter, ends, limit)
                if finish is not None:
                    return self._wait_with_progress(
                        method, waiter, finish, on_progress, ends, limit
                    )
        call = _Call(method, params, timeout, progress=on_progress is not None)
        self._submit(call)
        deadline = None if limit is None or math.isinf(limit) else limit + _GUARD_GRACE
        return self._wait(call, on_progress, deadline, limit)

    def notify(self, method: str, params: Params = None) -> None:
        """Send a notification to the host (no answer). Returns once the message is queued
        for the host, so a later ``call`` from the same thread reaches the host after it.
        Raises ``BridgeClosed``/``HostExited`` like ``call``."""
        if self._direct and self._send_direct(method, params, None, None, None) is not None:
            return
        self._wait(self._submit(_Call(method, params, None, notification=True)), None, None, None)

    def close(self) -> None:
        """Close the host and stop the bridge's thread; idempotent, also called by ``__exit__``.

        New calls raise ``BridgeClosed`` at once. Calls still in flight in other threads get
        their answer if the host finishes them within ``shutdown_timeout``, else an error
        (``ServerError`` -32000 from the host, or ``HostExited`` "the bridge was closed"):
        none is left waiting. Returns when the host has exited (bounded: the host is killed if
        it must be). Called from a handler on the bridge's own thread, it only starts closing.
        """
        with self._lock:
            if self._state in (_STARTING, _OPEN):
                self._state = _CLOSING
            token, stop = self._token, self._stop
        _live.discard(self)
        if token is not None and stop is not None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(stop.set)
        if threading.get_ident() == self._thread_id:
            return
        self._thread.join(self._join_timeout)
        if self._thread.is_alive():  # pragma: no cover - every wait in the thread is bounded
            log.error("the SyncBridge thread did not stop within %s s", self._join_timeout)

    def register(self, name: str) -> Callable[[H], H]:
        """Decorator: handle requests and notifications ``name`` from the host in Python
        (same as ``bridge.methods.register``; takes effect at once, from any thread)."""
        return self._methods.register(name)

    @property
    def methods(self) -> Methods:
        """The registry of Python methods the host may call (the ``methods=`` passed in)."""
        return self._methods

    @property
    def closed(self) -> bool:
        """``True`` once ``close()`` was called (or the bridge's thread stopped)."""
        return self._state in (_CLOSING, _CLOSED)

    @property
    def hello(self) -> dict[str, Any] | None:
        """The bundled host's ``rpc.hello`` answer (``None`` with ``command=``)."""
        return self._trio_bridge().hello

    @property
    def pid(self) -> int:
        """The host's process id."""
        return self._trio_bridge().pid

    @property
    def returncode(self) -> int | None:
        """The host's exit status, ``None`` while it runs (negative: killed by that signal)."""
        return self._trio_bridge().returncode

    @property
    def stderr_tail(self) -> list[str]:
        """The last lines the host wrote to stderr, oldest first."""
        return list(self._trio_bridge().stderr_tail)

    @property
    def bridge(self) -> Bridge:
        """The underlying trio ``Bridge``: only for code running on the bridge's own thread,
        such as an ``async`` Python handler that wants to call the host."""
        return self._trio_bridge()

    # -- calling thread: the direct path -------------------------------------------------------

    def _send_direct(
        self,
        method: str,
        params: Params,
        waiter: _DirectCall | _DirectCallWithProgress | None,
        ends: float | None,
        limit: float | None,
    ) -> Callable[[bool], None] | None:
        """Send a call (or, with ``waiter=None``, a notification) from this thread, holding the
        loop lock; return the session's ``finish``, or ``None`` (nothing sent) when it must take
        the ordinary path. Waits for the lock at most until ``ends`` (``CallTimeout``: the
        bridge's thread is busy, say in a slow plain-function handler; nothing was sent)."""
        self._refuse_own_thread()
        loop = self._loop
        try:
            if ends is None:
                loop.lock.acquire()
            elif not loop.lock.acquire(timeout=max(0.0, ends - time.monotonic())):
                assert limit is not None
                raise CallTimeout(method, limit)
            if self._state != _OPEN:
                raise self._closed_error()
            bridge = self._bridge
            assert bridge is not None
            session: HostSession = bridge._session  # type: ignore[assignment] # the current host
            if session.gone:  # a restart, or HostExited: the trio bridge decides
                return None
            return session.send_from_thread(method, params, waiter, self._wake)
        finally:
            if loop.owned():
                loop.lock.release()
            if loop.outgoing:  # calls queued while this thread held the lock
                loop.flush_if_free()

    def _flush(self) -> None:
        """Send every queued call; only with the loop lock held (by any thread)."""
        outgoing = self._loop.outgoing
        while outgoing:
            try:
                call = outgoing.popleft()
            except IndexError:
                return
            if not call.take_unsent():  # its thread gave up before it was sent
                continue
            try:
                self._send_queued(call)
            except BaseException:  # a signal handler raised (main thread) while sending it
                if call.finish is None:  # never left waiting for nothing: fail it
                    call.error = BridgeClosed(f"{call.method!r} was interrupted while sent")
                    call.wake_now()
                raise

    def _send_queued(self, call: _DirectCall) -> None:
        """Send one queued call (its ``unsent`` token taken), or wake its thread with the
        reason it was not sent: an error, or ``fallback`` to the ordinary path."""
        bridge = self._bridge
        if self._state != _OPEN or bridge is None:
            call.error = self._closed_error()
            call.wake_now()
            return
        session: HostSession = bridge._session  # type: ignore[assignment] # the current host
        try:
            finish = None
            if not session.gone:  # else a restart, or HostExited: the trio bridge decides
                finish = session.send_from_thread(call.method, call.params, call, self._wake)
        except Exception as exc:  # params that are not JSON
            call.error = exc
            call.wake_now()
            return
        if finish is None:
            call.fallback = True
            call.wake_now()
            return
        call.params = None  # sent: a large request must not stay alive while it waits
        call.finish = finish
        if call.abandoned:  # its thread gave up while it was being sent
            finish(True)

    def _give_up(self, call: _DirectCall) -> None:
        """The calling thread stops waiting for ``call`` (it won ``claim``): cancel it."""
        call.abandoned = True
        if call.take_unsent():  # never sent: nothing to cancel
            return
        finish = call.finish
        if finish is not None:  # else the sender is at it, and sees ``abandoned`` next
            finish(True)

    def _wait_direct(self, call: _DirectCall, ends: float | None, limit: float | None) -> bool:
        """Wait for a queued call's outcome: return ``False`` with ``call.value`` set, ``True``
        if it must take the ordinary path, or raise its error or ``CallTimeout``."""
        wakeup = call.wakeup
        try:
            if ends is None:
                woken = wakeup.acquire()
            else:
                woken = wakeup.acquire(timeout=max(0.0, ends - time.monotonic()))
        except BaseException:  # KeyboardInterrupt while waiting: cancel on the host
            if call.claim():
                self._give_up(call)
            else:  # answered meanwhile: whoever woke this thread woke no other
                self._loop.wake_next()
                if call.finish is not None:
                    call.finish(False)
            raise
        if not woken and call.claim():
            self._give_up(call)
            assert limit is not None
            raise CallTimeout(call.method, limit)
        self._loop.wake_next()  # pass it on: the next answered call's thread
        if call.fallback:
            return True
        if call.finish is not None:
            call.finish(False)
        if call.error is not None:
            raise call.error
        return False

    def _wait_with_progress(
        self,
        method: str,
        waiter: _DirectCallWithProgress,
        finish: Callable[[bool], None],
        on_progress: Callable[[Any], object] | None,
        ends: float | None,
        limit: float | None,
    ) -> Any:
        get = waiter.answers.get
        try:
            while True:
                if ends is None:
                    kind, value = get()
                else:
                    kind, value = get(timeout=max(0.0, ends - time.monotonic()))
                if kind != _PROGRESS:
                    break
                if on_progress is not None:
                    try:
                        on_progress(value)
                    except Exception:
                        log.exception("on_progress callback of %r failed", method)
        except queue.Empty:
            finish(True)
            assert limit is not None
            raise CallTimeout(method, limit) from None
        except BaseException:  # KeyboardInterrupt while waiting: cancel on the host
            finish(True)
            raise
        finish(False)
        if kind == _ERROR:
            raise value
        return value

    def _wake(self, function: Callable[[], object]) -> None:
        """Run ``function`` soon on the bridge's thread (not at all once it has stopped)."""
        token = self._token
        if token is not None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(function)

    def _refuse_own_thread(self) -> None:
        if threading.get_ident() == self._thread_id:
            raise RuntimeError(
                "SyncBridge used from its own thread (a Python handler or callback running on "
                "the bridge): it would wait for itself. Make the handler async and await "
                "sync_bridge.bridge.call(...) instead."
            )

    # -- calling thread: the ordinary path ----------------------------------------------------

    def _submit(self, call: _Call) -> _Call:
        self._refuse_own_thread()
        with self._lock:
            if self._state != _OPEN:
                raise self._closed_error()
            self._inbox.append(call)
            assert self._token is not None
            self._token.run_sync_soon(self._start_queued, idempotent=True)
        return call

    def _wait(
        self,
        call: _Call,
        on_progress: Callable[[Any], object] | None,
        deadline: float | None,
        limit: float | None,
    ) -> Any:
        get = call.answers.get
        ends = None if deadline is None else time.monotonic() + deadline
        while True:
            try:
                if ends is None:
                    kind, value = get()
                else:
                    kind, value = get(timeout=max(0.0, ends - time.monotonic()))
            except queue.Empty:
                self._abandon(call)
                assert limit is not None
                raise CallTimeout(call.method, limit) from None
            except BaseException:  # KeyboardInterrupt while waiting: cancel on the host
                self._abandon(call)
                raise
            if kind == _RESULT:
                return value
            if kind == _ERROR:
                raise value
            if on_progress is not None:
                try:
                    on_progress(value)
                except Exception:
                    log.exception("on_progress callback of %r failed", call.method)

    def _abandon(self, call: _Call) -> None:
        call.abandoned = True
        token = self._token
        if token is not None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(_cancel, call)

    def _closed_error(self) -> BridgeClosed:
        if self._crash is not None:
            error = BridgeClosed(f"the bridge stopped after an unexpected error: {self._crash!r}")
            error.__cause__ = self._crash
            return error
        if self._state == _STARTING:
            return BridgeClosed("the bridge is still starting")
        return BridgeClosed("the bridge is closed")

    def _trio_bridge(self) -> Bridge:
        if self._bridge is None:
            raise self._closed_error()
        return self._bridge

    # -- the bridge's thread ------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            if self._cpu is not None:
                try:
                    os.sched_setaffinity(0, {self._cpu})  # this thread, and those it starts
                except OSError as exc:
                    self._startup_error = ValueError(f"cpu={self._cpu}: {exc.strerror}")
                    return
            trio.run(self._main, instruments=[self._loop])
        except BaseException as exc:  # pragma: no cover - _main catches everything itself
            log.exception("the SyncBridge thread failed")
            self._crash = exc
        finally:
            self._started.set()

    async def _main(self) -> None:
        started = False
        try:
            # Calls run in the outer nursery, so that when the bridge closes, calls still in
            # flight get their answer or HostExited before the nursery ends.
            async with (
                trio.open_nursery() as calls,
                open_bridge(self._command, **self._options) as bridge,
            ):
                stop = trio.Event()
                with self._lock:
                    self._bridge, self._calls, self._stop = bridge, calls, stop
                    self._token = trio.lowlevel.current_trio_token()
                    if self._state == _STARTING:
                        self._state = _OPEN
                    else:  # close() during start-up
                        stop.set()
                started = True
                self._started.set()
                await stop.wait()
                with self._lock:
                    self._state = _CLOSING
                self._start_queued()  # whatever was queued before _CLOSING still goes
        except BaseException as exc:
            error = _single(exc)
            if not started:
                self._startup_error = error
            else:
                self._crash = error
                log.error("the SyncBridge thread stopped", exc_info=error)
            if not isinstance(exc, Exception):
                raise
        finally:
            with self._lock:
                self._state = _CLOSED
                leftover = list(self._inbox)
                self._inbox.clear()
            for call in leftover:
                call.answers.put((_ERROR, self._closed_error()))

    def _start_queued(self) -> None:
        """Runs on the bridge's thread (``run_sync_soon``): start a task per queued call."""
        inbox = self._inbox
        if not inbox:
            return
        calls = self._calls
        assert calls is not None
        while inbox:
            calls.start_soon(self._run_call, inbox.popleft())

    async def _run_call(self, call: _Call) -> None:
        if call.abandoned:  # its thread stopped waiting before it was sent: send nothing
            call.answers.put((_ERROR, BridgeClosed(f"{call.method!r} was cancelled")))
            return
        bridge = self._bridge
        assert bridge is not None
        work: Awaitable[Any]
        if call.notification:
            work = bridge.notify(call.method, call.params)
        else:
            put = call.answers.put
            progress = (lambda value: put((_PROGRESS, value))) if call.progress else None
            work = bridge.call(call.method, call.params, timeout=call.timeout, on_progress=progress)
        try:
            if call.cancellable:  # a cancel scope costs ~3 µs: only where it can be used
                with trio.CancelScope() as call.scope:
                    value = await work
                if call.scope.cancelled_caught:
                    call.answers.put((_ERROR, BridgeClosed(f"{call.method!r} was cancelled")))
                    return
            else:
                value = await work
        except Exception as exc:
            call.answers.put((_ERROR, exc))
        except BaseException:  # trio.Cancelled: the bridge's thread is stopping
            stopped = BridgeClosed(f"{call.method!r} got no answer: the bridge stopped")
            call.answers.put((_ERROR, stopped))
            raise
        else:
            call.answers.put((_RESULT, value))


def _cancel(call: _Call) -> None:
    """Runs on the bridge's thread: cancel a call its thread stopped waiting for."""
    if call.scope is not None:
        call.scope.cancel()


def _nothing() -> None:
    """Run on the bridge's thread only to wake it (it sends the queued calls before it sleeps)."""


def _single(exc: BaseException) -> BaseException:
    """The one exception inside nested single-member groups (what a nursery wraps)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class _GuardedMethods(Methods):
    """The user's ``Methods`` as the bridge sees them: a handler that raises ``SystemExit`` or
    ``KeyboardInterrupt`` answers the host with an error instead of stopping the bridge's
    thread. Registrations go to (and lookups read) the user's registry, live."""

    def __init__(self, inner: Methods) -> None:
        super().__init__()
        self._inner = inner
        self._wrapped: dict[Handler, Handler] = {}

    def add(self, name: str, handler: Handler) -> None:
        """Register in the user's registry."""
        self._inner.add(name, handler)

    def get(self, name: str) -> Handler | None:
        """The user's handler of ``name``, guarded."""
        handler = self._inner.get(name)
        if handler is None:
            return None
        guarded = self._wrapped.get(handler)
        if guarded is None:
            guarded = self._wrapped[handler] = _guard(name, handler)
        return guarded

    def __contains__(self, name: object) -> bool:
        return name in self._inner

    def __iter__(self) -> Iterator[str]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)


def _guard(name: str, handler: Handler) -> Handler:
    def escaped(exc: BaseException) -> RuntimeError:
        return RuntimeError(f"handler {name!r} raised {exc!r}")

    if inspect.iscoroutinefunction(handler):
        run_async: Callable[[Any], Awaitable[Any]] = handler

        async def guarded_async(params: Any) -> Any:
            try:
                return await run_async(params)
            except (SystemExit, KeyboardInterrupt) as exc:
                raise escaped(exc) from exc

        return guarded_async

    def guarded(params: Any) -> Any:
        try:
            return handler(params)
        except (SystemExit, KeyboardInterrupt) as exc:
            raise escaped(exc) from exc

    return guarded
