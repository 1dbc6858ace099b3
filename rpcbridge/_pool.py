"""``open_pool()`` and the ``Pool`` it yields: several hosts behind the API of one bridge.

Each member is an ordinary ``open_bridge()`` running in the pool's nursery; the pool only
decides which member gets each call. A call goes to the least-loaded member that can take it
(fewest calls waiting for an answer; ties broken round robin), so CPU-bound work in the hosts
spreads over the cores. The members share one ``Methods`` registry, so the host-to-Python
direction works the same whichever host asks.

A member's crash is a single bridge's crash: its in-flight calls fail with ``HostExited`` and
nothing else does. Without a restart policy the dead member is skipped from then on; with one,
it is restarted by the next call routed to it, exactly as a single bridge is. When no member
can take a call, the call is handed to a dead member anyway, so that it raises the very error a
single bridge would (``HostExited``, or ``BridgeClosed`` after the pool has closed).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.abc

from ._bridge import Bridge, open_bridge, unwrap_single
from ._connection import Params
from ._errors import HostExited
from ._methods import Handler, Methods

__all__ = ["Pool", "open_pool"]

H = TypeVar("H", bound=Handler)


class Pool:
    """Several hosts behind one bridge's API; ``open_pool()`` makes it.

    ``call`` and ``notify`` take the same arguments, and raise the same errors, as
    ``Bridge.call`` and ``Bridge.notify``; each call goes to the least-loaded member that is
    alive (or, with a restart policy, will restart). ``methods`` (and ``register``) are shared
    by every member. ``members`` gives the member bridges themselves, e.g. to read their
    ``pid`` or to pin a call on one of them.
    """

    def __init__(self, size: int, *, methods: Methods) -> None:
        self._size = size
        self.methods = methods
        """The Python methods every member's host may call (see ``register``)."""
        self._members: list[Bridge] = []
        self._routed: list[int] = []  # calls the pool has handed to each member, not yet done
        self._next = 0  # where the round robin among equally loaded members starts

    # -- public API ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """How many members (hosts) the pool runs."""
        return self._size

    @property
    def members(self) -> tuple[Bridge, ...]:
        """The member bridges, in a fixed order (read-only: a tuple). A member keeps its
        place when its host is restarted; ``member.pid`` is the current host's."""
        return tuple(self._members)

    @property
    def in_flight(self) -> int:
        """Calls waiting for an answer, over all members."""
        return sum(member.in_flight for member in self._members)

    async def call(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: float | None = None,
        on_progress: Callable[[Any], object] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """Call ``method`` on the least-loaded live member and return its result.

        The arguments and errors are ``Bridge.call``'s. If the member dies while the call is in
        flight the call raises ``HostExited`` (an ``idempotent`` call is retried once on that
        member's fresh host when the pool has a restart policy, as a single bridge does); it is
        not moved to another member. When no member is alive the call raises ``HostExited``.
        """
        while True:
            index, restarting = self._pick()
            member = self._members[index]
            self._routed[index] += 1
            try:
                return await member.call(
                    method,
                    params,
                    timeout=timeout,
                    on_progress=on_progress,
                    idempotent=idempotent,
                )
            except HostExited:
                # A member that gave up restarting (a crash loop) raised before sending
                # anything: the call was never made, so another member may take it.
                if not (restarting and member.given_up):
                    raise
            finally:
                self._routed[index] -= 1

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification (no answer) to ONE member: the least loaded, as for ``call``.

        It is not broadcast; to tell every host, notify each of ``members``. Waits and raises
        like ``Bridge.notify``.
        """
        index, _ = self._pick()
        member = self._members[index]
        self._routed[index] += 1
        try:
            await member.notify(method, params)
        finally:
            self._routed[index] -= 1

    def register(self, name: str) -> Callable[[H], H]:
        """Decorator: handle requests and notifications ``name`` from any member's host in
        Python (same as ``pool.methods.register``)."""
        return self.methods.register(name)

    # -- routing ------------------------------------------------------------------------------

    def _pick(self) -> tuple[int, bool]:
        """The index of the member for the next call, and whether that member's host is gone
        (it will be restarted by the call). Least loaded first; ties round robin. A member's
        load is what it reports in flight, or the calls the pool has handed it and not yet
        seen finish (which include calls waiting for a restart or a free slot) if more."""
        members = self._members
        routed = self._routed
        count = len(members)
        start = self._next
        best = -1
        best_load = 0
        best_restarting = False
        for offset in range(count):
            index = (start + offset) % count
            member = members[index]
            if member.alive:
                restarting = False
            elif member.will_restart:
                restarting = True
            else:
                continue
            load = max(member.in_flight, routed[index])
            if best < 0 or load < best_load:
                best, best_load, best_restarting = index, load, restarting
        if best < 0:  # nobody can take it: let a dead member raise what a single bridge would
            best = start % count
        self._next = (best + 1) % count
        return best, best_restarting


def _check_size(size: int | None) -> int:
    if size is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValueError(f"size must be a positive integer or None, not {size!r}")
    if size < 1:
        raise ValueError(f"size must be at least 1, not {size}")
    return size


@asynccontextmanager
async def open_pool(size: int | None = None, **open_bridge_kwargs: Any) -> AsyncIterator[Pool]:
    """Start ``size`` hosts and yield a ``Pool`` that spreads calls over them; end them on exit.

    ``size`` defaults to ``os.cpu_count()`` (at least 1); anything but a positive integer (or
    ``None``) raises ``ValueError``. Every other argument is passed to each member's
    ``open_bridge()`` (``handlers``, ``restart``, ``call_timeout``, ``channel``, ...); a
    ``methods`` registry is shared by all members (one is made if none is given).

    The members start concurrently. If one fails to start, the others are closed and its error
    is raised, as ``open_bridge()`` raises it (``HostSetupError``, ``HostExited``,
    ``ProtocolError``, ...). Leaving the block closes every member at once, each the way
    ``open_bridge()`` closes its host: shielded from cancellation and bounded in time.
    """
    count = _check_size(size)
    methods = open_bridge_kwargs.pop("methods", None)
    if methods is None:
        methods = Methods()
    kwargs = {**open_bridge_kwargs, "methods": methods}
    pool = Pool(count, methods=methods)
    closing = anyio.Event()

    async def run_member(*, task_status: anyio.abc.TaskStatus[Bridge]) -> None:
        async with open_bridge(**kwargs) as bridge:
            task_status.started(bridge)
            await closing.wait()

    started: list[Bridge | None] = [None] * count
    failures: list[Exception] = []
    try:
        async with anyio.create_task_group() as nursery:
            try:
                async with anyio.create_task_group() as starters:

                    async def start(index: int) -> None:
                        try:
                            started[index] = await nursery.start(run_member)
                        except BaseException as exc:
                            error = (
                                unwrap_single(exc) if isinstance(exc, BaseExceptionGroup) else exc
                            )
                            if not isinstance(error, Exception):
                                raise  # Cancelled, KeyboardInterrupt: not a start failure
                            failures.append(error)
                            starters.cancel_scope.cancel()

                    for index in range(count):
                        starters.start_soon(start, index)
                if failures:
                    raise failures[0]
                pool._members = [bridge for bridge in started if bridge is not None]
                pool._routed = [0] * count
                yield pool
            finally:
                closing.set()  # every member leaves its open_bridge(): a concurrent close
    except BaseExceptionGroup as group:
        raise unwrap_single(group) from None
