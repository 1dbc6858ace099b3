"""Content-Length framing (the LSP base protocol), sans-I/O.

Operations:

* ``FrameReader.receive_data(data)`` appends bytes that arrived; ``receive_data(b"")`` says the
  stream ended.
* ``FrameReader.next_event()`` returns the next complete body (``bytes``), a ``Garbage`` or an
  ``Oversized`` report, or ``None`` when more data is needed.
* ``encode_frame(body)`` returns one frame, ready for a single ``write()``.

Goals: fast on the common path (one ``find`` and one ``int`` per frame); O(n) in the bytes
received whatever the chunking (a 32 MiB body in 64 KiB pieces is never rescanned or
re-copied per piece); bounded memory on bad input (a header block is at most 8 KiB, an
oversized body is discarded as it arrives instead of being buffered); and no silent loss: bytes
that are not a frame are reported, and the frame after them is still read.

Plan: one ``bytearray``. Consumed bytes are deleted from its front, which CPython does in
amortised O(1). While looking for the end of a header block we remember how far we have
searched, so a header that trickles in byte by byte costs O(n), not O(n^2). After a header the
reader either waits for ``length`` bytes (a body) or counts down ``length`` bytes to drop (an
oversized body). Recovery from garbage: skip to the next ``content-length:`` (matched without
regard to case, also mid-line, because a stray ``write("x")`` with no newline glues itself to the
next header); a well-formed header block that is unusable (say, a foreign charset) is skipped
together with its body, since its length is known.
"""

from __future__ import annotations

import attrs

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "MAX_HEADER_SIZE",
    "FrameReader",
    "Garbage",
    "Oversized",
    "encode_frame",
]

DEFAULT_MAX_BODY_SIZE = 256 * 1024 * 1024
"""Largest body accepted by default (256 MiB), on both sides of the bridge."""

MAX_HEADER_SIZE = 8 * 1024
"""Largest header block accepted (8 KiB), not counting the blank line that ends it."""

_TERMINATOR = b"\r\n\r\n"
_FAST_PREFIX = b"Content-Length: "
_NEEDLE = b"content-length:"
_TOKEN_CHARS = frozenset(
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_UTF8_CHARSETS = frozenset({"utf-8", "utf8"})
_OVERSIZED_HEAD = 256
_SMALL_BODY = 4096  # bodies up to this size take the one-step path
_MAX_LENGTH_DIGITS = 18  # int() refuses very long digit strings; 10**18 bytes is absurd anyway


@attrs.frozen
class Garbage:
    """Bytes that were not a usable frame and were skipped.

    ``data`` holds the skipped bytes (for a bad header block with a known length, the block and
    its body); ``reason`` says what was wrong with them.
    """

    data: bytes
    reason: str

    def excerpt(self, limit: int = 80) -> str:
        """A short, escaped rendering of ``data`` for log messages."""
        shown = repr(self.data[:limit])[2:-1]
        more = len(self.data) - limit
        return shown + (f"... (+{more} bytes)" if more > 0 else "")


@attrs.frozen
class Oversized:
    """A header announced a body of ``length`` bytes, more than ``limit``.

    The body is discarded as it arrives; the reader then goes on with the next frame. ``head``
    holds its first bytes (up to 256), enough to find the message's ``id`` and answer or fail
    the right call.
    """

    length: int
    limit: int
    head: bytes = b""


def encode_frame(body: bytes) -> bytes:
    """Frame ``body`` (UTF-8 JSON) as ``Content-Length: N\\r\\n\\r\\n`` + body, in one buffer."""
    return b"Content-Length: %d\r\n\r\n%b" % (len(body), body)


class _BadHeader(Exception):
    """An unusable header block. Reading resumes at ``resume`` (an offset in the buffer), or,
    when ``body_length`` is known, after the block and that many body bytes."""

    def __init__(self, reason: str, *, resume: int = -1, body_length: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resume = resume
        self.body_length = body_length


class FrameReader:
    """Turns a byte stream into frame bodies; see the module docstring for the design.

    ``max_body_size`` bounds what a single frame may announce (default 256 MiB).
    """

    def __init__(self, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        if max_body_size < 0:
            raise ValueError("max_body_size must be >= 0")
        self.max_body_size = max_body_size
        self._fast_limit = min(_SMALL_BODY, max_body_size)  # bodies the one-step path takes
        self._buf = bytearray()
        self._searched = 0  # bytes at the front already searched for the header terminator
        self._body_length = -1  # >= 0 while waiting for a body of that length
        self._discard = 0  # bytes of an oversized body still to drop
        self._eof = False
        self._unusable: tuple[bytes, str] | None = None  # header of a body to skip, and why
        self._oversized = -1  # length of an oversized body whose head is being collected
        self._head = bytearray()

    @property
    def buffered(self) -> int:
        """How many received bytes are held, waiting to complete a frame."""
        return len(self._buf)

    @property
    def bytes_wanted(self) -> int:
        """How many more bytes would complete the body being read or skipped (0 if none)."""
        if self._body_length >= 0:
            return max(0, self._body_length - len(self._buf))
        return self._discard

    def receive_data(self, data: bytes | bytearray) -> None:
        """Add bytes that arrived; ``b""`` marks the end of the stream."""
        if self._eof:
            raise RuntimeError("receive_data() after the end of the stream")
        if data:
            self._buf += data
        else:
            self._eof = True

    def next_event(self) -> bytes | bytearray | Garbage | Oversized | None:
        """Return the next body, a report of skipped bytes, or ``None`` if more data is needed.

        A body is ``bytes``, or — when it filled the receive buffer exactly, as a large body
        does — that ``bytearray`` itself, handed over instead of copied (the reader starts a new
        buffer)."""
        buf = self._buf
        if self._body_length < 0 and not self._discard and self._oversized < 0:
            # The common case in one go: `Content-Length: N` and a whole small body at the front.
            end = buf.find(_TERMINATOR, self._searched)
            if 0 <= end <= MAX_HEADER_SIZE and buf.startswith(_FAST_PREFIX):
                value = buf[16:end]
                if value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS:
                    start = end + 4
                    stop = start + int(value)
                    if stop - start <= self._fast_limit and len(buf) >= stop:
                        body = bytes(buf[start:stop])
                        del buf[:stop]
                        self._searched = 0
                        return body
        if self._oversized >= 0:
            report = self._maybe_report_oversized()
            if report is not None or self._oversized >= 0:
                return report if report is not None else self._maybe_truncated()
        if self._discard:
            dropped = min(self._discard, len(buf))
            del buf[:dropped]
            self._discard -= dropped
            if self._discard:
                return self._maybe_truncated()
        if self._body_length >= 0:
            return self._maybe_extract_body()
        return self._maybe_extract_header()

    # -- bodies -------------------------------------------------------------------------------

    def _maybe_extract_body(self) -> bytes | bytearray | Garbage | Oversized | None:
        length = self._body_length
        buf = self._buf
        if len(buf) < length:
            return self._maybe_truncated()
        if len(buf) == length:  # the body is the whole buffer: hand it over, do not copy it
            body: bytes | bytearray = buf
            self._buf = bytearray()
        else:
            with memoryview(buf) as view:
                body = bytes(view[:length])
            del buf[:length]
        self._body_length = -1
        if self._unusable is not None:
            header, reason = self._unusable
            self._unusable = None
            return Garbage(header + body, reason)
        return body

    def _maybe_truncated(self) -> Garbage | None:
        """At the end of the stream, report what is left of an unfinished frame."""
        if not self._eof or not (self._buf or self._body_length >= 0 or self._discard):
            return None
        data = (self._unusable[0] if self._unusable else b"") + bytes(self._buf)
        self._buf.clear()
        self._body_length = -1
        self._discard = 0
        self._searched = 0
        self._unusable = None
        if self._oversized >= 0:
            data = bytes(self._head) + data
            self._oversized = -1
            self._head.clear()
        return Garbage(data, "the stream ended inside a frame")

    # -- headers ------------------------------------------------------------------------------

    def _maybe_extract_header(self) -> bytes | bytearray | Garbage | Oversized | None:
        buf = self._buf
        end = buf.find(_TERMINATOR, self._searched)
        if end < 0 or end > MAX_HEADER_SIZE:
            if end < 0 and len(buf) <= MAX_HEADER_SIZE + 3:
                if self._eof and buf:
                    return self._maybe_truncated()
                self._searched = max(0, len(buf) - 3)
                return None
            return self._skip_to_next_header()
        self._searched = 0
        # The common case, written by rpcbridge and most peers: exactly one header line.
        if buf.startswith(_FAST_PREFIX):
            value = buf[16:end]
            if value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS:
                return self._start_body(int(value), end + 4)
        try:
            length = _parse_header_block(bytes(buf[:end]))
        except _BadHeader as bad:
            resume = end + 4 if bad.resume < 0 else bad.resume
            data = bytes(buf[:resume])
            del buf[:resume]
            if bad.body_length is None:
                return Garbage(data, bad.reason)
            # A proper header, unusable (a foreign charset): its body is skipped and reported too.
            self._unusable = (data, bad.reason)
            self._body_length = bad.body_length
            return self._maybe_extract_body()
        return self._start_body(length, end + 4)

    def _start_body(
        self, length: int, header_size: int
    ) -> bytes | bytearray | Garbage | Oversized | None:
        del self._buf[:header_size]
        if length > self.max_body_size:
            self._discard = length
            self._oversized = length
            return self._maybe_report_oversized()
        self._body_length = length
        return self._maybe_extract_body()

    def _maybe_report_oversized(self) -> Oversized | None:
        """Collect the head of an oversized body, then report it (the rest is discarded)."""
        want = min(_OVERSIZED_HEAD, self._oversized) - len(self._head)
        taken = self._buf[:want]
        del self._buf[: len(taken)]
        self._head += taken
        self._discard -= len(taken)
        if len(taken) < want:
            return None
        report = Oversized(self._oversized, self.max_body_size, bytes(self._head))
        self._oversized = -1
        self._head.clear()
        return report

    def _skip_to_next_header(self) -> Garbage:
        """No header block ends within 8 KiB: drop bytes up to the next ``content-length:``,
        or all but a tail that could be the start of one."""
        buf = self._buf
        found = bytes(buf).lower().find(_NEEDLE, 1)
        cut = found if found > 0 else max(1, len(buf) - (len(_NEEDLE) - 1))
        data = bytes(buf[:cut])
        del buf[:cut]
        self._searched = 0
        reason = "stray bytes before a header" if found > 0 else "no header block end within 8 KiB"
        return Garbage(data, reason)


def _parse_header_block(block: bytes) -> int:
    """Return the Content-Length of a header block, or raise ``_BadHeader`` saying where
    reading should resume.

    A line that is not a header is stray output: it is skipped up to a ``content-length:`` glued
    inside it, or to its end. A block of proper header lines without a Content-Length may still
    have stray bytes glued to the front of one (``xContent-Length: 2``), so resume there if so;
    a block with a bad or doubled Content-Length is skipped whole.
    """
    length: int | None = None
    charset_problem: str | None = None
    offset = 0
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if (
            not colon
            or not name
            or not line.isascii()
            or not _TOKEN_CHARS.issuperset(name)
            or b"\n" in line
            or b"\r" in line
        ):
            glued = line.lower().find(_NEEDLE, 1)
            resume = offset + glued if glued > 0 else offset + len(line) + 2
            if length is not None or glued <= 0:
                resume = max(resume, 1)
            raise _BadHeader(f"stray bytes, not a header line: {line[:40]!r}", resume=resume)
        key = name.lower()
        if key == b"content-length":
            text = value.strip(b" \t")
            if not text.isdigit() or len(text) > _MAX_LENGTH_DIGITS:
                raise _BadHeader(f"Content-Length is not a usable number: {text[:24]!r}")
            if length is not None:
                raise _BadHeader("more than one Content-Length")
            length = int(text)
        elif key == b"content-type":
            charset_problem = _charset_problem(value.decode("ascii"))
        offset += len(line) + 2
    if length is None:
        glued = block.lower().find(_NEEDLE, 1)
        if glued > 0:
            raise _BadHeader("stray bytes glued to a header", resume=glued)
        raise _BadHeader("header block without Content-Length")
    if charset_problem:
        raise _BadHeader(charset_problem, body_length=length)
    return length


def _charset_problem(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
            if charset not in _UTF8_CHARSETS:
                return f"unsupported charset {charset!r} (only utf-8)"
    return None
