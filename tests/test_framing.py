"""The Content-Length framer, sans-I/O: the rules of docs/protocol.md §1, one test each, plus
property tests (any split of any valid stream yields the same bodies; every malformed header is
reported, never delivered, and never swallows the good frame after it)."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpcbridge._framing import (
    MAX_HEADER_SIZE,
    FrameReader,
    Garbage,
    Oversized,
    encode_frame,
)

Item = bytes | bytearray | Garbage | Oversized


def drain(reader: FrameReader) -> list[Item]:
    items: list[Item] = []
    while (item := reader.next_event()) is not None:
        items.append(item)
    return items


def read_all(
    data: bytes, *, chunks: list[int] | None = None, eof: bool = True, **kw: int
) -> list[Item]:
    reader = FrameReader(**kw)
    items: list[Item] = []
    pieces = [data] if chunks is None else split(data, chunks)
    for piece in pieces:
        reader.receive_data(piece)
        items += drain(reader)
    if eof:
        reader.receive_data(b"")
        items += drain(reader)
    return items


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if a != b]


def bodies(items: list[Item]) -> list[bytes]:
    """The bodies, as bytes (a large one may come as the reader's own bytearray)."""
    return [bytes(item) for item in items if isinstance(item, bytes | bytearray)]


def garbage(items: list[Item]) -> list[Garbage]:
    return [item for item in items if isinstance(item, Garbage)]


BODY = b'{"jsonrpc":"2.0","id":1,"method":"rpc.echo","params":["\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x8c\x8f"]}'


def test_encode_frame_writes_exactly_content_length_and_the_body() -> None:
    assert encode_frame(b'{"a":1}') == b'Content-Length: 7\r\n\r\n{"a":1}'


def test_length_counts_utf8_bytes_not_characters() -> None:
    body = json.dumps({"t": "你好 🌏"}, ensure_ascii=False).encode()
    frame = encode_frame(body)
    assert frame.startswith(b"Content-Length: %d\r\n" % len(body))
    assert bodies(read_all(frame)) == [body]


def test_split_at_every_byte_yields_the_same_frames() -> None:
    stream = encode_frame(BODY) + encode_frame(b"[]") + encode_frame(BODY)
    for cut in range(len(stream) + 1):
        assert bodies(read_all(stream, chunks=[cut])) == [BODY, b"[]", BODY], cut


def test_byte_by_byte() -> None:
    stream = encode_frame(BODY) * 3
    assert bodies(read_all(stream, chunks=list(range(len(stream))))) == [BODY] * 3


def test_several_frames_in_one_chunk() -> None:
    frames = [encode_frame(b'{"n":%d}' % i) for i in range(100)]
    assert bodies(read_all(b"".join(frames))) == [b'{"n":%d}' % i for i in range(100)]


def test_header_names_are_case_insensitive_and_in_any_order() -> None:
    stream = (
        b"content-type: application/vscode-jsonrpc; charset=utf8\r\nCONTENT-LENGTH:   2 \r\n\r\n{}"
        + b"X-Unknown: whatever\r\ncontent-Length: 2\r\n\r\n[]"
    )
    assert read_all(stream) == [b"{}", b"[]"]


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8", '"utf-8"'])
def test_utf8_charset_spellings_are_accepted(charset: str) -> None:
    header = f"Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset={charset}"
    assert read_all(header.encode() + b"\r\n\r\n{}") == [b"{}"]


def test_foreign_charset_skips_the_frame_and_keeps_the_next() -> None:
    stream = (
        b"Content-Type: text/plain; charset=latin1\r\nContent-Length: 3\r\n\r\n\xe9\xe9\xe9"
        + encode_frame(b"{}")
    )
    items = read_all(stream)
    assert bodies(items) == [b"{}"]
    [bad] = garbage(items)
    assert "latin1" in bad.reason


def test_python_lsp_jsonrpc_writer_output_is_read() -> None:
    # pylsp_jsonrpc.streams.JsonRpcStreamWriter writes both headers, Content-Length first.
    body = b'{"jsonrpc": "2.0", "id": 1, "result": null}'
    stream = (
        b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf8\r\n\r\n%b"
        % (len(body), body)
    )
    assert read_all(stream) == [body]


def test_multibyte_character_split_across_chunks_survives() -> None:
    body = "🌏".encode() * 10
    frame = encode_frame(body)
    header_size = len(frame) - len(body)
    for cut in range(header_size, len(frame)):
        assert bodies(read_all(frame, chunks=[cut])) == [body]


def test_stray_line_before_a_frame_is_reported_and_skipped() -> None:
    items = read_all(b"hello from console.log\n" + encode_frame(BODY))
    assert bodies(items) == [BODY]
    [bad] = garbage(items)
    assert bad.data == b"hello from console.log\n"


def test_stray_bytes_glued_to_a_header_are_reported_and_skipped() -> None:
    items = read_all(encode_frame(b"{}") + b"x" + encode_frame(BODY))
    assert bodies(items) == [b"{}", BODY]
    assert [g.data for g in garbage(items)] == [b"x"]


def test_stray_crlf_lines_before_a_header() -> None:
    items = read_all(b"warning: something odd\r\n" + encode_frame(BODY))
    # A line that looks like a header is an unknown header: ignored, nothing lost.
    assert bodies(items) == [BODY]


def test_header_block_without_content_length_is_garbage() -> None:
    items = read_all(b"X-Foo: 1\r\n\r\n" + encode_frame(BODY))
    assert bodies(items) == [BODY]
    assert "without Content-Length" in garbage(items)[0].reason


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1.5", b"+5", b"1_0", b"", b"9" * 40])
def test_unusable_content_length_is_garbage(value: bytes) -> None:
    items = read_all(b"Content-Length: " + value + b"\r\n\r\n" + encode_frame(BODY))
    assert bodies(items) == [BODY]
    assert garbage(items)


def test_header_block_over_8_kib_is_garbage() -> None:
    big = b"X-Pad: " + b"a" * MAX_HEADER_SIZE + b"\r\nContent-Length: 2\r\n\r\n{}"
    items = read_all(big + encode_frame(BODY))
    assert BODY in bodies(items)
    assert b"{}" not in bodies(items) or garbage(items)


def test_long_run_of_garbage_is_dropped_with_bounded_buffering() -> None:
    reader = FrameReader()
    for _ in range(100):
        reader.receive_data(b"z" * 10_000)
        drain(reader)
        assert reader.buffered <= MAX_HEADER_SIZE + 16
    reader.receive_data(encode_frame(BODY))
    assert bodies(drain(reader)) == [BODY]


def test_oversized_body_is_reported_with_its_head_and_discarded_without_buffering() -> None:
    reader = FrameReader(max_body_size=100)
    body = b'{"jsonrpc":"2.0","id":7,"result":"' + b"a" * 2000 + b'"}'
    reader.receive_data(b"Content-Length: %d\r\n\r\n" % len(body))
    assert drain(reader) == []  # waiting for the head of the body
    reports: list[Item] = []
    for i in range(0, len(body), 100):
        reader.receive_data(body[i : i + 100])
        reports += drain(reader)
        assert reader.buffered == 0
    assert reports == [Oversized(len(body), 100, body[:256])]
    reader.receive_data(encode_frame(b"{}"))
    assert drain(reader) == [b"{}"]


def test_body_at_exactly_the_limit_is_accepted() -> None:
    assert read_all(encode_frame(b"[1]"), max_body_size=3) == [b"[1]"]


def test_eof_inside_a_frame_reports_the_truncated_rest() -> None:
    frame = encode_frame(BODY)
    for cut in range(1, len(frame)):
        items = read_all(frame[:cut])
        assert bodies(items) == []
        assert len(garbage(items)) == 1, cut


def test_eof_after_complete_frames_reports_nothing() -> None:
    assert read_all(encode_frame(b"{}")) == [b"{}"]


def test_large_body_in_small_chunks() -> None:
    body = b'"' + "数据🌏".encode() * 400_000 + b'"'
    frame = encode_frame(body)
    reader = FrameReader()
    out: list[Item] = []
    for i in range(0, len(frame), 65536):
        reader.receive_data(frame[i : i + 65536])
        out += drain(reader)
    assert out == [body]


def test_a_body_handed_over_without_a_copy_is_never_touched_again() -> None:
    """A large body that fills the buffer exactly comes out as the buffer itself (no second
    copy of a 16 MiB answer); what the reader receives next must not land in it."""
    body = b'"' + "数据🌏".encode() * 100_000 + b'"'
    frame = encode_frame(body)
    reader = FrameReader()
    reader.receive_data(frame[:1000])
    assert reader.next_event() is None
    reader.receive_data(frame[1000:])
    first = reader.next_event()
    assert first == body
    reader.receive_data(encode_frame(b"[1]") + frame[:500])
    assert reader.next_event() == b"[1]"
    assert reader.next_event() is None
    reader.receive_data(frame[500:])
    assert reader.next_event() == body
    assert first == body


# -- property tests --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
bodies_strategy = st.lists(
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode()), max_size=6
)


@settings(max_examples=200, deadline=None)
@given(bodies_strategy, st.lists(st.integers(min_value=0), max_size=12))
def test_every_split_of_every_valid_stream_yields_the_same_bodies(
    messages: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(m) for m in messages)
    assert read_all(stream, chunks=cuts) == messages


header_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ABCXYZ", min_size=1, max_size=12)


@st.composite
def valid_header_blocks(draw: st.DrawFn, length: int) -> bytes:
    """A header block with Content-Length in any case and spacing, plus extra headers."""
    spelled = draw(st.sampled_from(["Content-Length", "content-length", "CONTENT-LENGTH"]))
    spaces = draw(st.sampled_from(["", " ", "  ", "\t"]))
    extra = draw(
        st.lists(
            st.tuples(header_name, st.text(alphabet="abc =;/-", max_size=20)).filter(
                lambda kv: kv[0].lower() not in ("content-length", "content-type")
            ),
            max_size=3,
        )
    )
    lines = [f"{name}: {value}" for name, value in extra]
    lines.insert(draw(st.integers(0, len(lines))), f"{spelled}:{spaces}{length}{spaces}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@settings(max_examples=200, deadline=None)
@given(st.data(), bodies_strategy, st.lists(st.integers(min_value=0), max_size=8))
def test_any_valid_header_spelling_is_read(
    data: st.DataObject, messages: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(data.draw(valid_header_blocks(len(m))) + m for m in messages)
    assert read_all(stream, chunks=cuts) == messages


malformed_headers = st.one_of(
    st.just(b"X-Foo: 1\r\n\r\n"),
    st.builds(
        lambda v: b"Content-Length: " + v + b"\r\n\r\n",
        st.sampled_from([b"x", b"-3", b"", b"1e3", b"0x10"]),
    ),
    st.builds(
        lambda t: t.encode() + b"\r\n\r\n", st.text(alphabet="abc xyz!?", min_size=1, max_size=30)
    ),
    st.just(b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n"),
    st.just(b"Content-Length 2\r\n\r\n"),
    st.just(b"Content-Type: text/x; charset=ascii\r\nContent-Length: 2\r\n\r\n{}"),
)


@settings(max_examples=200, deadline=None)
@given(malformed_headers, json_values, st.lists(st.integers(min_value=0), max_size=6))
def test_every_malformed_header_is_reported_and_the_next_frame_survives(
    bad: bytes, value: object, cuts: list[int]
) -> None:
    good = json.dumps(value, ensure_ascii=False).encode()
    items = read_all(bad + encode_frame(good), chunks=cuts)
    assert bodies(items) == [good]
    reports = garbage(items)
    assert reports, "a malformed header must be reported"
    assert all(report.reason for report in reports)
    assert b"".join(r.data for r in reports) == bad


@settings(max_examples=100, deadline=None)
@given(
    bodies_strategy, st.integers(min_value=0, max_value=60), st.lists(st.integers(0), max_size=6)
)
def test_no_body_over_the_limit_is_ever_delivered(
    messages: list[bytes], limit: int, cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(m) for m in messages)
    items = read_all(stream, chunks=cuts, max_body_size=limit)
    assert bodies(items) == [m for m in messages if len(m) <= limit]
    assert [i.length for i in items if isinstance(i, Oversized)] == [
        len(m) for m in messages if len(m) > limit
    ]
