"""The child process, the same on trio and asyncio: ``subprocess.Popen`` plus an async ``wait``.

The child is started by ``_host.start_child`` (``subprocess.Popen``): on a worker thread
(``anyio.to_thread``, as ``trio.lowlevel.open_process`` does) so a slow fork never blocks the
event loop, or by the CLI before the event loop exists; ``adopt`` then wraps it. Its exit is
awaited on a pidfd (Linux 5.3+: readable once the child has exited) through the runtime's
``wait_readable``; elsewhere by polling with a growing interval (at most 50 ms). Neither
touches asyncio's child watchers or trio's process machinery, so both loops run the same code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

import anyio

from ._runtime import Runtime

__all__ = ["HostProcess", "adopt"]

_POLL_MAX = 0.05


class HostProcess:
    """A started child: ``pid``, ``returncode`` (``None`` while it runs), ``wait()``, signals."""

    def __init__(self, popen: subprocess.Popen[bytes], runtime: Runtime) -> None:
        self._popen = popen
        self._runtime = runtime
        self._lock = anyio.Lock()
        self._pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            with contextlib.suppress(OSError):
                self._pidfd = os.pidfd_open(popen.pid)

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once known (negative: killed by that signal), else ``None``."""
        return self._popen.poll()

    def fileno(self, which: str) -> int:
        """The descriptor of the child's ``stdin``, ``stdout`` or ``stderr`` pipe."""
        stream = getattr(self._popen, which)
        assert stream is not None, which
        fd: int = stream.fileno()
        return fd

    async def wait(self) -> int:
        """Wait until the child has exited (and is reaped); return its exit status. Any number
        of tasks may wait at once."""
        async with self._lock:
            if self._popen.poll() is None:
                if self._pidfd is not None:
                    await self._runtime.wait_readable(self._pidfd)
                else:
                    delay = 0.001
                    while self._popen.poll() is None:
                        await anyio.sleep(delay)
                        delay = min(delay * 2, _POLL_MAX)
            code = self._popen.wait()  # exited: returns at once
        self._close_pidfd()
        return code

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            self._runtime.forget_fd(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def signal(self, signum: signal.Signals) -> None:
        """Signal the child's whole process group (it leads one), else just the child."""
        if self._popen.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self._popen.pid, signum)
            elif signum == signal.SIGTERM:
                self._popen.terminate()
            else:
                self._popen.kill()
        except (ProcessLookupError, PermissionError):
            pass

    def close_stdin(self) -> None:
        """Close Python's end of the child's stdin: the child sees end of input."""
        stdin = self._popen.stdin
        if stdin is not None and not stdin.closed:
            self._runtime.forget_fd(stdin.fileno())
            stdin.close()

    def close_pipes(self) -> None:
        """Close Python's ends of the child's pipes (after the session is done with them)."""
        for stream in (self._popen.stdin, self._popen.stdout, self._popen.stderr):
            if stream is not None and not stream.closed:
                self._runtime.forget_fd(stream.fileno())
                with contextlib.suppress(OSError):
                    stream.close()


def adopt(popen: subprocess.Popen[bytes], runtime: Runtime) -> HostProcess:
    """The started child ``popen`` as a ``HostProcess``; its pipes are made non-blocking."""
    for stream in (popen.stdin, popen.stdout, popen.stderr):
        if stream is not None:
            os.set_blocking(stream.fileno(), False)
    return HostProcess(popen, runtime)
