"""The public API: ``open_bridge()`` and the ``Bridge`` it yields.

A ``Bridge`` puts one ``HostSession`` (``_session.py``: a child process and its tasks) behind
``call``/``notify``. With a ``RestartPolicy``, a host that dies is replaced by a fresh one on
the next call, transparently: calls in flight when it died fail with ``HostExited`` (unless
marked ``idempotent``, which are retried once on the new host), and a host that keeps dying —
at start-up or later — is given up on after ``max_restarts`` within ``window`` seconds, with
one clear error instead of restarting forever.

Everything runs in the task group ``open_bridge()`` opens; leaving the block closes the
current host (shielded from cancellation, bounded in time) and nothing is left running.

The same code runs under trio and asyncio (uvloop too): ``open_bridge()`` takes the runtime of
the loop it is entered from (``_runtime.py``) and everything else is anyio.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal, TypeVar

import anyio
import anyio.abc
import attrs

from ._connection import Params
from ._cpus import check_cpus
from ._errors import BridgeClosed, HandlerInterrupted, HostExited
from ._framing import DEFAULT_MAX_BODY_SIZE
from ._host import (
    DEFAULT_SHUTDOWN_TIMEOUT,
    StartedChild,
    grace_ms,
    host_command,
    host_environment,
)
from ._methods import Handler, Methods
from ._runtime import Runtime, current_runtime
from ._session import DEFAULT_MAX_IN_FLIGHT, HostSession, spawn

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "Bridge", "RestartPolicy", "open_bridge", "unwrap_single"]

log = logging.getLogger("rpcbridge")
H = TypeVar("H", bound=Handler)


@attrs.frozen(kw_only=True)
class RestartPolicy:
    """When and how a bridge replaces a host that died.

    At most ``max_restarts`` restarts within any ``window`` seconds; the n-th restart in a row
    first waits ``backoff * 2**(n-1)`` seconds (at most ``max_backoff``). A failed start counts
    as a crash.
    """

    max_restarts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    window: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    backoff: float = attrs.field(default=0.1, validator=attrs.validators.ge(0))
    max_backoff: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))


@attrs.frozen
class _HostSpec:
    """How to start a host: the argv and what the session needs to know."""

    argv: list[str]
    cwd: str | os.PathLike[str] | None
    env: Mapping[str, str] | None
    handshake: bool
    isolated: bool
    cpus: frozenset[int] | None
    startup_timeout: float
    session_options: dict[str, Any]


class Bridge:
    """A connection to a Node host (or any stdio JSON-RPC server); ``open_bridge()`` makes it.

    Use ``call`` and ``notify`` from any number of tasks at once. ``hello`` is the bundled
    host's answer to the ``rpc.hello`` handshake (``None`` for other servers); ``pid``,
    ``returncode`` and ``stderr_tail`` describe the current host process.
    """

    def __init__(
        self,
        spec: _HostSpec,
        *,
        methods: Methods,
        restart: RestartPolicy | None,
        runtime: Runtime,
    ) -> None:
        self._spec = spec
        self._runtime = runtime
        self.methods = methods
        """The Python methods the host may call (see ``register``)."""
        self._restart = restart
        self._restart_times: list[float] = []
        self._restart_lock = anyio.Lock()
        self._given_up: HostExited | None = None
        self._closing = False
        self._nursery: anyio.abc.TaskGroup | None = None
        self._session: HostSession | None = None
        self.restarts = 0
        """How many times the host was replaced."""

    # -- public API ---------------------------------------------------------------------------

    @property
    def hello(self) -> dict[str, Any] | None:
        """The current host's ``rpc.hello`` answer (``None`` without a handshake)."""
        return self._current().hello

    @property
    def pid(self) -> int:
        """The current host's process id."""
        return self._current().pid

    @property
    def returncode(self) -> int | None:
        """The current host's exit status, ``None`` while it runs (negative: killed by a
        signal)."""
        return self._current().returncode

    @property
    def alive(self) -> bool:
        """Whether the current host is running and taking calls."""
        session = self._session
        return session is not None and not session.gone and not self._closing

    @property
    def will_restart(self) -> bool:
        """Whether the current host is gone and the next call will start a new one."""
        session = self._session
        return (
            session is not None
            and session.gone
            and self._restart is not None
            and self._given_up is None
            and not self._closing
        )

    @property
    def given_up(self) -> bool:
        """Whether the restart policy has given up on this bridge (a crash loop)."""
        return self._given_up is not None

    @property
    def in_flight(self) -> int:
        """Calls waiting for an answer from the current host."""
        return self._current().in_flight

    @property
    def stderr_tail(self) -> list[str]:
        """The last lines the current host wrote to stderr, oldest first."""
        return self._current().stderr_tail

    async def call(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: float | None = None,
        on_progress: Callable[[Any], object] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """Call ``method`` on the host and return its result.

        ``params`` is a dict, a list, or ``None`` (the ``params`` member is then omitted).
        ``timeout`` (seconds) overrides the bridge's ``call_timeout`` (``math.inf``: none);
        ``on_progress`` is called with each ``$/progress`` value the handler reports, in order,
        before the call returns. ``idempotent=True`` lets a bridge with a restart policy
        retry the call once on a fresh host if the host dies while it is in flight, and any
        bridge retry it once when the host had to end the handler thread it was running on
        (``HandlerInterrupted``: another call blocked the thread or ran it out of memory).

        Raises the ``RpcError`` subclass for an error answer, ``CallTimeout`` when the timeout
        expires, ``HostExited`` if the host dies (or has died and is not restarted),
        ``BridgeClosed`` after the bridge was closed, and ``TypeError`` or ``ValueError``
        (before anything is sent) for params that are not JSON. When the call is abandoned —
        its task cancelled, or the timeout — ``$/cancelRequest`` is sent once and a late
        answer is dropped. When ``max_in_flight`` calls are already waiting, the call first
        waits for a free slot.
        """
        if idempotent:  # the host may end the handler thread under it: then once more
            try:
                return await self._call(method, params, timeout, on_progress, idempotent)
            except HandlerInterrupted as exc:
                log.info("retrying the idempotent call %s once: %s", method, exc.message)
        return await self._call(method, params, timeout, on_progress, idempotent)

    async def _call(
        self,
        method: str,
        params: Params,
        timeout: float | None,
        on_progress: Callable[[Any], object] | None,
        idempotent: bool,
    ) -> Any:
        session = self._current()
        if self._restart is None:
            if timeout is None and session.call_timeout is None:  # the hot path: no layers
                return await session.call_without_timeout(method, params, on_progress)
            return await session.call(method, params, timeout=timeout, on_progress=on_progress)
        if session.gone:
            session = await self._replace(session)
        try:
            return await session.call(method, params, timeout=timeout, on_progress=on_progress)
        except HostExited:
            if not idempotent or self._restart is None or self._closing:
                raise
        return await (await self._replace(session)).call(
            method, params, timeout=timeout, on_progress=on_progress
        )

    async def _call_sent_early(self, method: str, params: Params) -> Any:
        """``call(method, params)``, unless that very request was written before the bridge
        existed (``StartedChild.send_request``; ``python -m rpcbridge compile`` sends its
        ``compileFiles`` so) and is still unclaimed: then its answer. Private, for the CLI."""
        session = self._current()
        request_id = session.sent_early(method, params)
        if request_id is None:
            return await self.call(method, params)
        return await session.answer_to(request_id)

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification (no answer). Waits while the host is not reading its stdin;
        raises like ``call`` if the host is gone or the bridge is closed."""
        session = self._current()
        if session.gone and self._restart is not None:
            session = await self._replace(session)
        await session.notify(method, params)

    async def wait(self) -> int | None:
        """Wait until the current host process exits on its own (or is killed) and return its
        exit status; it is not asked to exit. A restart policy does not restart it here: the
        next call does."""
        return await self._current().wait()

    def register(self, name: str) -> Callable[[H], H]:
        """Decorator: handle requests and notifications ``name`` from the host in Python
        (same as ``bridge.methods.register``)."""
        return self.methods.register(name)

    # -- hosts --------------------------------------------------------------------------------

    def _current(self) -> HostSession:
        if self._session is None:
            raise BridgeClosed("the bridge has not started")
        return self._session

    async def _start_session(self, started: StartedChild | None = None) -> HostSession:
        """Spawn a host (or adopt ``started``), run its tasks in the bridge's nursery, and
        shake hands."""
        assert self._nursery is not None
        spec = self._spec
        runtime = self._runtime
        sent = started.sent if started is not None else []
        process, channel = await spawn(
            spec.argv,
            cwd=spec.cwd,
            env=spec.env,
            isolated=spec.isolated,
            cpus=spec.cpus,
            runtime=runtime,
            started=started,
        )
        session = HostSession(
            process, channel, runtime=runtime, methods=self.methods, **spec.session_options
        )
        session.take_over(sent)
        await self._nursery.start(session.serve)
        if spec.handshake:
            try:
                await session.handshake(spec.startup_timeout)
            except BaseException:
                await runtime.shielded(lambda: session.close(1.0))
                raise
        return session

    async def _replace(self, dead: HostSession) -> HostSession:
        """Start a fresh host in place of ``dead`` (once, however many callers ask), or raise
        the reason it will not be."""
        assert self._restart is not None
        async with self._restart_lock:
            if self._session is not dead:  # another caller has already replaced it
                return self._current()
            last_exit, last_tail = dead.exit_description, dead.stderr_tail
            last_code = dead.returncode
            while True:
                if self._closing:
                    raise BridgeClosed("the bridge is closed")
                if self._given_up is not None:
                    raise self._given_up
                now = anyio.current_time()
                policy = self._restart
                self._restart_times = [t for t in self._restart_times if now - t < policy.window]
                if len(self._restart_times) >= policy.max_restarts:
                    self._given_up = HostExited(
                        f"the host died {len(self._restart_times) + 1} times within "
                        f"{policy.window:g} s; not restarting it again. Last exit: {last_exit}",
                        returncode=last_code,
                        stderr_tail=last_tail,
                    )
                    log.error("%s", self._given_up)
                    raise self._given_up
                delay = min(policy.max_backoff, policy.backoff * 2 ** len(self._restart_times))
                self._restart_times.append(now)
                await anyio.sleep(delay)
                try:
                    session = await self._start_session()
                except HostExited as exc:
                    log.warning("restarting the host failed: %s", exc.args[0].split("\n")[0])
                    last_exit = f"exit status {exc.returncode} while starting"
                    last_code, last_tail = exc.returncode, exc.stderr_tail
                    continue
                log.warning(
                    "the host (pid %s) died with %s; restarted it as pid %s",
                    dead.pid,
                    dead.exit_description,
                    session.pid,
                )
                self._session = session
                self.restarts += 1
                return session

    async def _close(self, timeout: float) -> None:
        self._closing = True
        if self._session is not None:
            await self._session.close(timeout)


@asynccontextmanager
async def open_bridge(
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
    restart: RestartPolicy | None = None,
    channel: Literal["stdio", "socket"] = "stdio",
    trace: bool | None = None,
    startup_timeout: float = 30.0,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    host_cpus: Collection[int] | None = None,
    _started: StartedChild | None = None,
) -> AsyncIterator[Bridge]:
    """Start a host process and yield a ``Bridge`` to it; end the process on exit.

    Works under trio and under asyncio (uvloop too): the bridge runs on the loop this block is
    entered from (and raises ``RuntimeError`` outside one; use ``SyncBridge`` from plain code).
    Under asyncio, cancelling the task that awaits a call (``Task.cancel()``,
    ``asyncio.wait_for``, ``asyncio.timeout``) cancels the call as a trio cancel scope does.

    With ``command=None`` (the default) this runs the bundled ``node/rpc-host.js`` with
    ``node`` (``node=`` or ``$RPCBRIDGE_NODE`` choose another executable), loads the handler
    modules named in ``handlers`` into it, and checks its version with ``rpc.hello`` before
    yielding. Otherwise ``command`` is the argv of any server that speaks Content-Length framed
    JSON-RPC on stdio (a language server, say); no handshake is made. ``env`` is the child's
    environment (``None``: this process's); a bundled host without ``handlers`` is not given
    ``NODE_EXTRA_CA_CERTS``, which only TLS uses and which costs Node ~40 ms to parse at start.

    ``methods`` holds Python handlers for the host's requests and notifications (register them
    before the block, so no early message is missed). ``max_body_size`` bounds a single frame in
    both directions. ``call_timeout`` is the default timeout of every ``call`` (seconds;
    ``None``: no timeout). ``max_in_flight`` bounds the calls waiting for an answer (more
    callers wait for a slot). ``restart`` (a ``RestartPolicy``) replaces a host that dies on
    the next call. ``channel="socket"`` (bundled host only) isolates the data: frames travel
    over a socketpair and the host's stdout joins its stderr as logs, so nothing a handler, a
    child process or native code writes to fd 1 can corrupt them; ``"stdio"`` (the default)
    uses the host's stdin and stdout. ``trace=True`` (or ``RPCBRIDGE_TRACE=1`` in the environment) logs every
    message in both directions to the ``rpcbridge.trace`` logger at DEBUG. ``host_cpus``
    (Linux): the CPUs every host this bridge starts may run on, its threads and child
    processes (esbuild's) included; ``None`` (the default): those of the thread that starts it,
    as for any child process. ``SyncBridge(cpu=...)`` sets it (docs/performance.md).

    Raises ``HostSetupError`` if ``node`` is missing or older than 20, or the host or its npm
    packages are missing (the message says what to run), ``HostExited`` if the host dies
    during start-up, ``ProtocolError`` if the handshake fails. Leaving the block closes the
    child's stdin, gives it ``shutdown_timeout`` seconds to finish and exit, then terminates
    and finally kills it; this is shielded from cancellation and bounded in time.

    ``_started`` is private, for ``python -m rpcbridge compile`` (``rpcbridge/__main__.py``),
    which starts the host before it imports the bridge: a child ``_host.start_child`` started
    with exactly the argv, ``cwd``, ``env`` and channel this call would use (else
    ``ValueError``). It becomes the first host, handshake and all, so that a child that fails
    is reported as one this call started; a restart starts a new one as usual. The bridge
    owns it from the call on (it is ended whatever happens).
    """
    try:
        argv = _host_argv(command, handlers, channel, node, max_body_size, shutdown_timeout)
        if command is None:
            env = host_environment(env, handlers)
        cpus = None if host_cpus is None else check_cpus(host_cpus, "host_cpus")
        if _started is not None and (
            _started.argv != argv
            or _started.cwd != cwd
            or _started.env != env
            or _started.isolated != (channel == "socket")
            or _started.cpus != cpus
        ):
            raise ValueError(
                f"_started: the child was started as {_started.argv} (cwd={_started.cwd!r}, "
                f"isolated={_started.isolated}, cpus={_started.cpus}), not as this bridge "
                f"would start it: {argv}"
            )
        runtime = current_runtime()
    except BaseException:
        if _started is not None:
            _started.discard()
        raise
    if trace is None:
        trace = os.environ.get("RPCBRIDGE_TRACE", "") not in ("", "0")
    spec = _HostSpec(
        argv=argv,
        cwd=cwd,
        env=env,
        handshake=command is None,
        isolated=channel == "socket",
        cpus=cpus,
        startup_timeout=startup_timeout,
        session_options={
            "max_body_size": max_body_size,
            "call_timeout": call_timeout,
            "max_in_flight": max_in_flight,
            "trace": trace,
        },
    )
    bridge = Bridge(
        spec,
        methods=methods if methods is not None else Methods(),
        restart=restart,
        runtime=runtime,
    )
    try:
        async with anyio.create_task_group() as nursery:
            bridge._nursery = nursery
            try:
                bridge._session = await bridge._start_session(_started)
                yield bridge
            finally:
                if _started is not None:
                    _started.discard()  # not taken: cancelled before it was adopted
                await runtime.shielded(lambda: bridge._close(shutdown_timeout))
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise unwrap_single(group) from None


def _host_argv(
    command: Sequence[str] | None,
    handlers: Sequence[str | os.PathLike[str]],
    channel: str,
    node: str | os.PathLike[str] | None,
    max_body_size: int,
    shutdown_timeout: float,
) -> list[str]:
    if command is None:
        argv = host_command(
            node=node,
            handlers=handlers,
            # The host's own default is the same (tests/test_early_start.py): no option then,
            # so that the CLI can build this argv before it imports _framing (and attrs).
            max_body_size=None if max_body_size == DEFAULT_MAX_BODY_SIZE else max_body_size,
            grace_ms=grace_ms(shutdown_timeout),
        )
    else:
        if handlers:
            raise TypeError("handlers= loads modules into the bundled host; not with command=")
        if channel != "stdio":
            raise TypeError("channel= isolates the bundled host's data; not with command=")
        argv = [os.fspath(part) for part in command]
    if channel not in ("stdio", "socket"):
        raise ValueError(f"channel must be 'stdio' or 'socket', not {channel!r}")
    return argv


def unwrap_single(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception inside nested one-exception groups (what nurseries add around the
    error a caller expects), or the group itself when it holds several."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc
