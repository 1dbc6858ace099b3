"""The few primitives the session needs from its event loop, for trio and for asyncio.

Everything structural — task groups, cancel scopes, timeouts, events, locks, worker threads —
comes from anyio, which runs the same code on trio and on asyncio (uvloop included). What
anyio would make slower sits here instead, implemented with each loop's own cheapest means,
because it is paid on every call or every read (docs/design.md, "One session, two loops"):

* ``Waiter``: one pending call. The caller sleeps and the reader wakes it with ``resolve`` or
  ``fail``. trio: ``wait_task_rescheduled``/``reschedule`` on the caller's task (no event, no
  parking lot); asyncio: one future.
* ``wait_readable``/``wait_writable`` on a descriptor, and ``checkpoint``. trio:
  ``trio.lowlevel``'s; asyncio: ``loop.add_reader``/``add_writer`` around one future.
* ``Lot``: tasks parked until another wakes one or all of them (``trio.lowlevel.ParkingLot``,
  or the same over futures).
* ``shielded``: run a coroutine to its end whatever cancels the caller. trio: a shielded
  cancel scope. asyncio: a task of its own, awaited until it is done — anyio's shield does
  not stop a native ``Task.cancel()``, which is how asyncio code cancels.

``current_runtime()`` picks the implementation of the loop it is called from (``sniffio``):
``_runtime_trio.py`` or ``_runtime_asyncio.py``, each imported only once a bridge opens on its
loop, so that an asyncio program does not import trio (~70 ms here) nor a trio program asyncio
(~30 ms).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

import sniffio

__all__ = ["Lot", "Runtime", "Waiter", "current_runtime"]

T = TypeVar("T")


class Waiter(Protocol):
    """One pending call: ``await waiter.sleep()`` until ``resolve``/``fail``; then ``value`` or
    ``error`` hold the outcome. A caller cancelled while asleep is not woken later."""

    value: Any
    error: BaseException | None
    on_progress: Callable[[Any], object] | None

    def sleep(self) -> Awaitable[object]:
        """What the caller awaits (once) until the outcome is in."""
        ...

    def resolve(self, value: Any) -> None:
        """The call's result: wake the caller."""
        ...

    def fail(self, error: BaseException) -> None:
        """The call's error: wake the caller, who raises it."""
        ...


class Lot(Protocol):
    """Tasks parked until ``unpark`` (one) or ``unpark_all``."""

    async def park(self) -> None:
        """Sleep until woken (cancellable)."""
        ...

    def unpark(self) -> object:
        """Wake the longest-parked task, if any."""
        ...

    def unpark_all(self) -> object:
        """Wake every parked task."""
        ...


class Runtime(Protocol):
    """What the session uses of its event loop, beyond anyio."""

    name: str

    def waiter(self, on_progress: Callable[[Any], object] | None) -> Waiter:
        """A waiter for a call made by the current task."""
        ...

    def lot(self) -> Lot:
        """A new, empty parking lot."""
        ...

    def wait_readable(self, fd: int) -> Awaitable[None]:
        """Wait until ``fd`` is readable (one task per descriptor at a time)."""
        ...

    def wait_writable(self, fd: int) -> Awaitable[None]:
        """Wait until ``fd`` is writable (one task per descriptor at a time)."""
        ...

    def checkpoint(self) -> Awaitable[None]:
        """Let other tasks run; raise if the current task is cancelled."""
        ...

    def forget_fd(self, fd: int) -> None:
        """``fd`` is about to be closed: the loop must stop watching it. Call it when no task
        waits on ``fd`` (trio would wake such a task with ``ClosedResourceError``; asyncio
        would not wake it at all)."""
        ...

    async def shielded(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``work()`` to its end even if the caller is cancelled meanwhile (the caller's
        cancellation is raised afterwards)."""
        ...


def current_runtime() -> Runtime:
    """The runtime of the event loop running in this thread: trio or asyncio (uvloop too).

    Raises ``RuntimeError`` outside an async context or under another async library.
    """
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        raise RuntimeError(
            "rpcbridge's async API needs a running trio or asyncio event loop; "
            "from plain code use rpcbridge.SyncBridge"
        ) from None
    if library == "trio":
        from ._runtime_trio import TRIO_RUNTIME

        return TRIO_RUNTIME
    if library == "asyncio":
        from ._runtime_asyncio import AsyncioRuntime

        return AsyncioRuntime()
    raise RuntimeError(f"rpcbridge runs on trio or asyncio, not {library}")
