"""The runtime (``_runtime.py``) of trio: imported only when a bridge opens under trio."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import trio

from ._runtime import Lot, Waiter

__all__ = ["TRIO_RUNTIME"]

T = TypeVar("T")


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


TRIO_RUNTIME = _TrioRuntime()
"""One for every bridge: it keeps no state."""
