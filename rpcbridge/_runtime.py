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

``current_runtime()`` picks the implementation of the loop it is called from (``sniffio``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

import sniffio
import trio

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


# -- trio ----------------------------------------------------------------------------------------


class _TrioWaiter:
    """The caller sleeps in ``wait_task_rescheduled(abort)``; ``resolve``/``fail`` reschedule
    it: what a ``trio.Event`` does for a single waiter, minus the event and its parking lot."""

    __slots__ = ("error", "on_progress", "task", "value")

    def __init__(self, on_progress: Callable[[Any], object] | None) -> None:
        self.task: trio.lowlevel.Task | None = trio.lowlevel.current_task()  # None once woken
        self.value: Any = None
        self.error: BaseException | None = None
        self.on_progress = on_progress

    def sleep(self) -> Awaitable[object]:
        # Awaited by the caller: no coroutine frame of our own in between.
        return trio.lowlevel.wait_task_rescheduled(self._abort)  # noqa: ASYNC105

    def _abort(self, _: object) -> trio.lowlevel.Abort:
        self.task = None  # cancelled while asleep: must not be rescheduled again
        return trio.lowlevel.Abort.SUCCEEDED

    def resolve(self, value: Any) -> None:
        self.value = value
        self._wake()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self._wake()

    def _wake(self) -> None:
        task = self.task
        if task is not None:
            self.task = None
            trio.lowlevel.reschedule(task)


class _TrioRuntime:
    name = "trio"

    def waiter(self, on_progress: Callable[[Any], object] | None) -> Waiter:
        return _TrioWaiter(on_progress)

    def lot(self) -> Lot:
        return trio.lowlevel.ParkingLot()

    wait_readable = staticmethod(trio.lowlevel.wait_readable)
    wait_writable = staticmethod(trio.lowlevel.wait_writable)
    checkpoint = staticmethod(trio.lowlevel.checkpoint)

    def forget_fd(self, fd: int) -> None:
        trio.lowlevel.notify_closing(fd)

    async def shielded(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        with trio.CancelScope(shield=True):
            result = await work()
        return result


# -- asyncio -------------------------------------------------------------------------------------


class _AsyncioWaiter:
    """The caller awaits one future; ``resolve``/``fail`` set it (unless it was cancelled)."""

    __slots__ = ("error", "future", "on_progress", "value")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, on_progress: Callable[[Any], object] | None
    ) -> None:
        self.future: asyncio.Future[None] = loop.create_future()
        self.value: Any = None
        self.error: BaseException | None = None
        self.on_progress = on_progress

    def sleep(self) -> Awaitable[object]:
        return self.future

    def resolve(self, value: Any) -> None:
        self.value = value
        if not self.future.done():
            self.future.set_result(None)

    def fail(self, error: BaseException) -> None:
        self.error = error
        if not self.future.done():
            self.future.set_result(None)


class _AsyncioLot:
    """``trio.lowlevel.ParkingLot``'s park/unpark/unpark_all, over futures."""

    __slots__ = ("_parked",)

    def __init__(self) -> None:
        self._parked: deque[asyncio.Future[None]] = deque()

    async def park(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self._parked.append(future)
        try:
            await future
        finally:
            with contextlib.suppress(ValueError):
                self._parked.remove(future)  # cancelled while parked

    def unpark(self) -> None:
        while self._parked:
            future = self._parked.popleft()
            if not future.done():
                future.set_result(None)
                return

    def unpark_all(self) -> None:
        parked, self._parked = self._parked, deque()
        for future in parked:
            if not future.done():
                future.set_result(None)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _AsyncioRuntime:
    name = "asyncio"

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()

    def waiter(self, on_progress: Callable[[Any], object] | None) -> Waiter:
        return _AsyncioWaiter(self._loop, on_progress)

    def lot(self) -> Lot:
        return _AsyncioLot()

    async def wait_readable(self, fd: int) -> None:
        loop = self._loop
        future = loop.create_future()
        loop.add_reader(fd, _wake, future)
        try:
            await future
        finally:
            loop.remove_reader(fd)

    async def wait_writable(self, fd: int) -> None:
        loop = self._loop
        future = loop.create_future()
        loop.add_writer(fd, _wake, future)
        try:
            await future
        finally:
            loop.remove_writer(fd)

    async def checkpoint(self) -> None:
        await asyncio.sleep(0)

    def forget_fd(self, fd: int) -> None:
        self._loop.remove_reader(fd)
        self._loop.remove_writer(fd)

    async def shielded(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._loop.create_task(work())
        cancelled = False
        while True:
            try:
                result = await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.done():
                    raise  # the work itself was cancelled
                cancelled = True  # the caller was: finish the work first
                continue
            break
        if cancelled:
            raise asyncio.CancelledError
        return result


_TRIO = _TrioRuntime()


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
        return _TRIO
    if library == "asyncio":
        return _AsyncioRuntime()
    raise RuntimeError(f"rpcbridge runs on trio or asyncio, not {library}")
