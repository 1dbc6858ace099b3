"""The floor's Python side: a minimal Content-Length JSON-RPC client over a child's pipes.

No library and no safety (no header validation, no limits, no cancellation, no error
answers, no exit handling): the physical reference for trio + Node on pipes that rpcbridge is
measured against. Tuned only in ways a library could copy:

* the pipe fds are driven directly with ``os.read``/``os.writev``, waiting with
  ``trio.lowlevel.wait_readable``/``wait_writable`` only on EAGAIN (no checkpoint per call);
* pipes enlarged to 1 MiB (``F_SETPIPE_SZ``), so a 16 MiB body needs 16 wake-ups, not 256;
* one reader task parses every complete frame of each chunk and never rescans a large body
  while it is incomplete; one ``trio.Event`` per call, in a dict by id;
* writes are coalesced: callers append frames to an outbox and whoever finds no write in
  progress sends all of it in one ``writev``; when other calls are in flight it first yields
  once, so the callers woken by the same read can queue their frames (64 concurrent callers
  then cost a few writes, not 64). A sequential caller writes at once;
* a large body is written behind its header with ``writev`` (no copy into one buffer).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import trio

__all__ = ["FLOOR_HOST", "FloorClient", "open_floor", "stop_child"]

FLOOR_HOST = Path(__file__).resolve().parent / "floor" / "floor-host.js"
_PIPE_SIZE = 1 << 20
_READ_SIZE = 1 << 16
_LARGE = 1 << 16
_IOV_MAX = 1024


class _Slot:
    __slots__ = ("event", "value")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.value: Any = None


class FloorClient:
    """Calls ``method`` on the child; see the module docstring."""

    def __init__(self, process: trio.Process) -> None:
        stdin, stdout = process.stdin, process.stdout
        assert isinstance(stdin, trio.lowlevel.FdStream)
        assert isinstance(stdout, trio.lowlevel.FdStream)
        self._process = process
        self._wfd = stdin.fileno()
        self._rfd = stdout.fileno()
        for fd in (self._wfd, self._rfd):
            with contextlib.suppress(OSError):  # over /proc/sys/fs/pipe-max-size: keep default
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        self._pending: dict[int, _Slot] = {}
        self._next_id = 1
        self._outbox: list[bytes | memoryview] = []
        self._writing = False

    async def call(self, method: str, params: Any) -> Any:
        request_id = self._next_id
        self._next_id = request_id + 1
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        )
        slot = _Slot()
        self._pending[request_id] = slot
        if len(body) < _LARGE:
            self._outbox.append(b"Content-Length: %d\r\n\r\n%b" % (len(body), body))
        else:
            self._outbox += (b"Content-Length: %d\r\n\r\n" % len(body), body)
        if not self._writing:
            await self._flush()
        await slot.event.wait()
        return slot.value

    async def _flush(self) -> None:
        self._writing = True
        try:
            if len(self._pending) > 1:  # others in flight: let their callers queue frames too
                await trio.lowlevel.cancel_shielded_checkpoint()
            while self._outbox:
                parts, self._outbox = self._outbox, []
                await self._write_all(parts)
        finally:
            self._writing = False

    async def _write_all(self, parts: list[bytes | memoryview]) -> None:
        fd = self._wfd
        while parts:
            try:
                written = os.writev(fd, parts[:_IOV_MAX])
            except BlockingIOError:
                await trio.lowlevel.wait_writable(fd)
                continue
            done = 0
            while done < len(parts) and written >= len(parts[done]):
                written -= len(parts[done])
                done += 1
            parts = parts[done:]
            if written:
                parts[0] = memoryview(parts[0])[written:]

    async def run_reader(self) -> None:
        fd = self._rfd
        pending = self._pending
        buf = bytearray()
        need = -1  # body length once its header has been parsed
        while True:
            want = (
                _READ_SIZE
                if need <= len(buf)
                else min(max(need - len(buf), _READ_SIZE), _PIPE_SIZE)
            )
            try:
                data = os.read(fd, want)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(fd)
                continue
            if not data:
                return
            buf += data
            while True:
                if need < 0:
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    need = int(buf[16:end])  # after "Content-Length: "
                    del buf[: end + 4]
                if len(buf) < need:
                    break
                with memoryview(buf) as view:
                    message = orjson.loads(view[:need])
                del buf[:need]
                need = -1
                slot = pending.pop(message["id"])
                slot.value = message["result"]
                slot.event.set()


@asynccontextmanager
async def open_floor(
    command: list[str] | None = None, *, quiet: bool = False
) -> AsyncIterator[FloorClient]:
    """Start the floor host (or ``command``) and yield a client; close its stdin on exit.
    The child's stderr is inherited, or discarded with ``quiet=True``."""
    argv = command if command is not None else ["node", str(FLOOR_HOST)]
    process = await trio.lowlevel.open_process(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
    )
    client = FloorClient(process)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.run_reader)
            try:
                yield client
            finally:
                nursery.cancel_scope.cancel()
    finally:
        await stop_child(process)


async def stop_child(process: trio.Process, grace: float = 2.0) -> None:
    """Close the child's stdin (it exits at EOF), kill it if it is still there after ``grace``
    seconds, and close its stdout; shielded from cancellation."""
    with trio.CancelScope(shield=True):
        assert process.stdin is not None and process.stdout is not None
        await process.stdin.aclose()
        with trio.move_on_after(grace):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.stdout.aclose()
