"""The child's pipes, driven as directly as trio allows.

On POSIX, trio gives the child's stdin and stdout as ``FdStream``\\ s. Their generic
``send_all``/``receive_some`` take two scheduler checkpoints per operation; on the bridge's hot
path (one small write and one small read per call) those checkpoints are a measurable share of
a round trip. So, where there is a file descriptor:

* ``PipeWriter.try_write`` writes without waiting at all (the descriptor is non-blocking) and
  says how much went out, so a caller can send its frame with no task switch when the pipe
  has room — which is almost always;
* ``PipeWriter.write_all`` sends a list of buffers with ``writev`` (a large body is not
  copied behind its header) and waits for room only when the pipe is full;
* ``PipeReader.read`` reads at once when data is there and waits only when there is none,
  with a checkpoint every few reads so a flood cannot starve other tasks;
* both pipes are enlarged to 1 MiB where Linux allows it (``F_SETPIPE_SZ``), so a 16 MiB body
  needs 16 wake-ups instead of 256.

Elsewhere (Windows), the same methods fall back to the stream API.

A ``Channel`` groups where frames go, where they come from, and where the child's logs come
from: the child's stdin/stdout/stderr (``stdio_channel``), or — the isolated channel — one end
of a socketpair for the frames while the child's stdout and stderr both feed the log pipe, so
that nothing written to fd 1 can reach the data (``socket_channel``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys

import attrs
import trio

__all__ = ["Channel", "PipeReader", "PipeWriter", "socket_channel", "stdio_channel"]

PIPE_SIZE = 1 << 20
_READS_BETWEEN_CHECKPOINTS = 16
_IOV_MAX = 1024  # the most buffers one writev() takes (Linux, macOS: 1024)


def _fd_of(stream: object) -> int | None:
    if isinstance(stream, trio.lowlevel.FdStream):
        fd = stream.fileno()
        if sys.platform == "linux":
            import fcntl

            with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep it
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        return fd
    return None


class PipeWriter:
    """Writes to the child's stdin (or the socket of an isolated channel). Only one task may be
    inside ``write_all`` at a time."""

    def __init__(self, stream: trio.abc.SendStream | None, *, sock: socket.socket | None = None):
        self._stream = stream
        self._sock = sock
        self._fd = sock.fileno() if sock is not None else _fd_of(stream)

    def try_write(self, data: bytes | memoryview) -> int:
        """Write what fits now, without waiting; return the number of bytes written.

        Returns 0 when the pipe is full, when there is no descriptor to write to directly,
        or when the write fails (``write_all`` then meets the same error and reports it).
        """
        if self._fd is None:
            return 0
        try:
            return os.write(self._fd, data)
        except OSError:
            return 0

    async def write_all(self, parts: list[bytes | memoryview]) -> None:
        """Write every buffer in order, waiting while the pipe is full (``writev`` of up to
        ``IOV_MAX`` buffers at a time, however many are queued).

        Raises ``trio.BrokenResourceError`` if the child has closed its stdin.
        """
        fd = self._fd
        if fd is None:
            assert self._stream is not None
            await self._stream.send_all(b"".join(parts))
            return
        caller_parts = parts
        done = 0  # parts[:done] are written
        while done < len(parts):
            batch = parts[done : done + _IOV_MAX]
            try:
                written = os.writev(fd, batch)
            except BlockingIOError:
                await trio.lowlevel.wait_writable(fd)
                continue
            except OSError as exc:
                raise trio.BrokenResourceError(f"cannot write to the child: {exc}") from exc
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
        """Close the pipe (for a socket: its sending side): the child sees end of input."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)
            await trio.lowlevel.checkpoint()
        elif self._stream is not None:
            await self._stream.aclose()


class PipeReader:
    """Reads from one of the child's output pipes (or the socket of an isolated channel)."""

    def __init__(
        self, stream: trio.abc.ReceiveStream | None, *, sock: socket.socket | None = None
    ) -> None:
        self._stream = stream
        self._fd = sock.fileno() if sock is not None else _fd_of(stream)
        self._reads_in_a_row = 0

    async def read(self, max_bytes: int = 1 << 16) -> bytes:
        """Return the next bytes (at most ``max_bytes``), or ``b""`` at end of output."""
        fd = self._fd
        if fd is None:
            assert self._stream is not None
            try:
                return bytes(await self._stream.receive_some(max_bytes))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return b""
        self._reads_in_a_row += 1
        if self._reads_in_a_row > _READS_BETWEEN_CHECKPOINTS:
            self._reads_in_a_row = 0
            await trio.lowlevel.checkpoint()
        while True:
            try:
                return os.read(fd, max_bytes)
            except BlockingIOError:
                self._reads_in_a_row = 0
                await trio.lowlevel.wait_readable(fd)
            except OSError:
                return b""


@attrs.define
class Channel:
    """Where frames go (``writer``), where they come from (``reader``), and where the child's
    log lines come from (``log``)."""

    writer: PipeWriter
    reader: PipeReader
    log: PipeReader
    sock: socket.socket | None = None

    def close(self) -> None:
        """Release the socket of an isolated channel (nothing to do for stdio)."""
        if self.sock is not None:
            trio.lowlevel.notify_closing(self.sock)
            self.sock.close()


def stdio_channel(process: trio.Process) -> Channel:
    """Frames on the child's stdin/stdout, logs on its stderr."""
    stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
    assert stdin is not None and stdout is not None and stderr is not None
    return Channel(PipeWriter(stdin), PipeReader(stdout), PipeReader(stderr))


def socket_channel(process: trio.Process, sock: socket.socket) -> Channel:
    """Frames on ``sock``; the child's stdout and stderr share one pipe, read as logs."""
    stdout = process.stdout
    assert stdout is not None
    sock.setblocking(False)
    return Channel(
        PipeWriter(None, sock=sock), PipeReader(None, sock=sock), PipeReader(stdout), sock
    )
