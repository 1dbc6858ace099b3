"""The runtime (``_runtime.py``) of asyncio (uvloop too): imported only when a bridge opens
under asyncio."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ._runtime import Lot, Waiter

__all__ = ["AsyncioRuntime"]

T = TypeVar("T")


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


class AsyncioRuntime:
    """The runtime of the asyncio loop running in the thread that creates it."""

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
