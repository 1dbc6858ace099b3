"""PipeWriter against a real, small pipe: every byte arrives once and in order, however the
buffers split across ``writev`` calls (more than IOV_MAX of them, partial writes mid-buffer)."""

from __future__ import annotations

import contextlib
import fcntl
import os

import anyio
import pytest

from rpcbridge._pipes import PipeReader, PipeWriter
from rpcbridge._runtime import current_runtime

pytestmark = pytest.mark.anyio


async def _write_and_read_back(parts: list[bytes | memoryview]) -> bytes:
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError):
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 4096)  # small: forces partial writes
    os.set_blocking(write_fd, False)
    os.set_blocking(read_fd, False)
    runtime = current_runtime()

    def close_writer() -> None:
        runtime.forget_fd(write_fd)
        os.close(write_fd)

    writer, reader = PipeWriter(write_fd, runtime, close_writer), PipeReader(read_fd, runtime)
    received = bytearray()
    original = list(parts)

    async def read_all() -> None:
        while data := await reader.read(1000):  # slower than the writer: the pipe fills up
            received.extend(data)

    async with anyio.create_task_group() as nursery:
        nursery.start_soon(read_all)
        await writer.write_all(parts)
        await writer.aclose()
    runtime.forget_fd(read_fd)
    os.close(read_fd)
    assert parts == original  # the caller's list is left alone
    return bytes(received)


async def test_more_buffers_than_iov_max_with_partial_writes_arrive_in_order() -> None:
    parts: list[bytes | memoryview] = [
        (f"<{i}:" + "x" * (i % 97) + ">").encode() for i in range(5000)
    ]
    assert await _write_and_read_back(parts) == b"".join(parts)


async def test_a_large_buffer_split_mid_way_and_memoryviews() -> None:
    big = os.urandom(300_000)
    parts: list[bytes | memoryview] = [b"head", memoryview(big)[7:], b"", b"tail" * 1000]
    assert await _write_and_read_back(parts) == b"head" + big[7:] + b"tail" * 1000
