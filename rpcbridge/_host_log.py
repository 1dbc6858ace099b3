"""The host's stderr: split into records, forwarded to ``logging``, its tail kept for errors.

The host writes one JSON record per line (``{"time", "level", "msg", "src"}``, see
``docs/protocol.md``); anything else on its stderr (a child process, native code, Node's own
fatal message) is a plain line. ``HostLog.receive_data`` takes raw chunks as they are drained
from the pipe, forwards every complete line to the ``rpcbridge.host`` logger at the record's
level (plain lines at WARNING), and keeps the last lines for ``HostExited`` messages.
No I/O happens here: the bridge drains the pipe and feeds this.

A handler that floods stderr (say 100 MB) must not slow the bridge down or drown the
application's logs: forwarding is rate-limited (a token bucket: ``rate`` records per second,
bursts of ``burst``), records over the limit are counted, not parsed, and the count is logged
once forwarding resumes. The tail keeps the raw last lines regardless and is decoded only
when asked for.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

import orjson

__all__ = ["HostLog"]

_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}
MAX_LINE = 64 * 1024
"""Longer stderr lines are cut into pieces of this many bytes."""


class HostLog:
    """Line splitter, level mapper and tail buffer for one host's stderr."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        tail_lines: int = 40,
        pid: int | None = None,
        rate: float = 200.0,
        burst: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger or logging.getLogger("rpcbridge.host")
        self._tail: deque[bytes] = deque(maxlen=tail_lines)
        self._partial = bytearray()
        self._pid = pid
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()
        self.dropped = 0
        """Records not forwarded to ``logging`` because of the rate limit (in total)."""
        self._dropped_unreported = 0

    @property
    def tail(self) -> list[str]:
        """The last lines received, oldest first, as ``"level: message"`` or the plain line."""
        return [_parse_record(raw)[1] for raw in self._tail]

    def receive_data(self, data: bytes | bytearray) -> None:
        """Feed a chunk read from stderr; ``b""`` flushes an unterminated last line."""
        if not data:
            if self._partial:
                self._emit(bytes(self._partial))
                self._partial.clear()
            if self._dropped_unreported:
                self.logger.warning(
                    "%d lines of the host's stderr were not logged (rate limit)",
                    self._dropped_unreported,
                    extra={"host_pid": self._pid},
                )
                self._dropped_unreported = 0
            return
        partial = self._partial
        start = 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                break
            if partial:
                partial += data[start:newline]
                line = bytes(partial)
                partial.clear()
            else:
                line = bytes(data[start:newline])
            self._emit(line)
            start = newline + 1
        partial += data[start:]
        while len(partial) >= MAX_LINE:
            self._emit(bytes(partial[:MAX_LINE]))
            del partial[:MAX_LINE]

    def _emit(self, raw: bytes) -> None:
        raw = raw.rstrip(b"\r")
        if not raw:
            return
        self._tail.append(raw)
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            self.dropped += 1
            self._dropped_unreported += 1
            return
        self._tokens -= 1
        if self._dropped_unreported:
            self.logger.warning(
                "%d lines of the host's stderr were not logged (more than %g lines/s)",
                self._dropped_unreported,
                self._rate,
                extra={"host_pid": self._pid},
            )
            self._dropped_unreported = 0
        level, text = _parse_record(raw)
        if self.logger.isEnabledFor(level):
            self.logger.log(level, "%s", text, extra={"host_pid": self._pid})


def _parse_record(raw: bytes) -> tuple[int, str]:
    """Return (logging level, text) for one stderr line."""
    if raw.startswith(b'{"'):
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("level"), str):
            level = _LEVELS.get(record["level"].lower(), logging.WARNING)
            message = record.get("msg", "")
            if not isinstance(message, str):
                message = str(message)
            return level, f"{record['level']}: {message}"
    return logging.WARNING, raw.decode("utf-8", "replace")
