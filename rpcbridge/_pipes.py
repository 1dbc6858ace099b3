"""The child's pipes (or the isolated channel's socket), driven directly on their descriptors.

Generic stream APIs take scheduler checkpoints on every operation; on the bridge's hot path
(one small write and one small read per call) those are a measurable share of a round trip.
So, on the non-blocking descriptors:

* ``PipeWriter.try_write`` writes without waiting at all and says how much went out, so a
  caller can send its frame with no task switch when the pipe has room — which is almost
  always;
* ``PipeWriter.write_all`` sends a list of buffers with ``writev`` (a large body is not
  copied behind its header) and waits for room only when the pipe is full;
* ``PipeReader.read`` reads at once when data is there and waits only when there is none,
  with a checkpoint after 16 reads or 128 KiB in a row (whichever comes first) so a flood
  cannot starve other tasks, nor hold the loop up for more than about a millisecond of
  parsing (a 10 ms ticker's lateness while 64 compiles run: ``benchmarks/ticker.py``);
* both pipes are enlarged to 1 MiB where Linux allows it (``F_SETPIPE_SZ``), so a 16 MiB body
  needs 16 wake-ups instead of 256.

Waiting is the runtime's (``_runtime.py``: trio's or asyncio's own readiness wait), so the same
code serves both loops. POSIX only: descriptors of pipes cannot be polled on Windows.

A ``Channel`` groups where frames go, where they come from, and where the child's logs come
from: the child's stdin/stdout/stderr (``stdio_channel``), or — the isolated channel — one end
of a socketpair for the frames while the child's stdout and stderr both feed the log pipe, so
that nothing written to fd 1 can reach the data (``socket_channel``).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable

import anyio
import attrs

from ._host import PIPE_SIZE as PIPE_SIZE  # re-exported: the session reads in pieces of it
from ._host import enlarge_pipe as _enlarge
from ._process import HostProcess
from ._runtime import Runtime

__all__ = ["Channel", "PipeReader", "PipeWriter", "socket_channel", "stdio_channel"]

_READS_BETWEEN_CHECKPOINTS = 16
_BYTES_BETWEEN_CHECKPOINTS = 128 << 10
_IOV_MAX = 1024  # the most buffers one writev() takes (Linux, macOS: 1024)


class PipeWriter:
    """Writes to a non-blocking descriptor (the child's stdin, or the isolated channel's
    socket). Only one task may be inside ``write_all`` at a time. ``close`` ends the output
    (closes the pipe, or shuts the socket's sending side)."""

    def __init__(self, fd: int, runtime: Runtime, close: Callable[[], object]) -> None:
        self._fd = fd
        self._runtime = runtime
        self._close = close
        _enlarge(fd)

    def try_write(self, data: bytes | memoryview) -> int:
        """Write what fits now, without waiting; return the number of bytes written.

        Returns 0 when the pipe is full or when the write fails (``write_all`` then meets the
        same error and reports it).
        """
        try:
            return os.write(self._fd, data)
        except OSError:
            return 0

    async def write_all(self, parts: list[bytes | memoryview]) -> None:
        """Write every buffer in order, waiting while the pipe is full (``writev`` of up to
        ``IOV_MAX`` buffers at a time, however many are queued).

        Raises ``anyio.BrokenResourceError`` if the child has closed its end.
        """
        fd = self._fd
        caller_parts = parts
        done = 0  # parts[:done] are written
        while done < len(parts):
            batch = parts[done : done + _IOV_MAX]
            try:
                written = os.writev(fd, batch)
            except BlockingIOError:
                await self._runtime.wait_writable(fd)
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError(f"cannot write to the child: {exc}") from exc
            if written == sum(map(len, batch)):  # the common case: the whole batch at once
                done += len(batch)
                continue
            for part in batch:
                if written < len(part):
                    break
                written -= len(part)
                done += 1
            if written:
                if parts is caller_parts:
                    parts = list(parts)  # never modify the caller's list
                parts[done] = memoryview(parts[done])[written:]

    async def aclose(self) -> None:
        """End the output: the child sees end of input."""
        with contextlib.suppress(OSError):
            self._close()
        await self._runtime.checkpoint()


class PipeReader:
    """Reads from a non-blocking descriptor (one of the child's output pipes, or the isolated
    channel's socket)."""

    def __init__(self, fd: int, runtime: Runtime) -> None:
        self._fd = fd
        self._runtime = runtime
        self._reads_in_a_row = 0
        self._bytes_in_a_row = 0  # read (and so parsed by the caller) since the last yield
        _enlarge(fd)

    async def read(self, max_bytes: int = 1 << 16) -> bytes:
        """Return the next bytes (at most ``max_bytes``), or ``b""`` at end of output."""
        fd = self._fd
        self._reads_in_a_row += 1
        if (
            self._reads_in_a_row > _READS_BETWEEN_CHECKPOINTS
            or self._bytes_in_a_row >= _BYTES_BETWEEN_CHECKPOINTS
        ):
            self._reads_in_a_row = self._bytes_in_a_row = 0
            await self._runtime.checkpoint()
        while True:
            try:
                data = os.read(fd, max_bytes)
            except BlockingIOError:
                self._reads_in_a_row = self._bytes_in_a_row = 0
                await self._runtime.wait_readable(fd)
                continue
            except OSError:
                return b""
            self._bytes_in_a_row += len(data)
            return data


@attrs.define
class Channel:
    """Where frames go (``writer``), where they come from (``reader``), and where the child's
    log lines come from (``log``)."""

    writer: PipeWriter
    reader: PipeReader
    log: PipeReader
    sock: socket.socket | None = None

    def close(self, runtime: Runtime) -> None:
        """Release the socket of an isolated channel (the pipes are the process's)."""
        if self.sock is not None:
            runtime.forget_fd(self.sock.fileno())
            self.sock.close()


def stdio_channel(process: HostProcess, runtime: Runtime) -> Channel:
    """Frames on the child's stdin/stdout, logs on its stderr."""
    return Channel(
        PipeWriter(process.fileno("stdin"), runtime, process.close_stdin),
        PipeReader(process.fileno("stdout"), runtime),
        PipeReader(process.fileno("stderr"), runtime),
    )


def socket_channel(process: HostProcess, sock: socket.socket, runtime: Runtime) -> Channel:
    """Frames on ``sock``; the child's stdout and stderr share one pipe, read as logs."""
    sock.setblocking(False)

    def shut_down() -> None:
        sock.shutdown(socket.SHUT_WR)

    fd = sock.fileno()
    return Channel(
        PipeWriter(fd, runtime, shut_down),
        PipeReader(fd, runtime),
        PipeReader(process.fileno("stdout"), runtime),
        sock,
    )
