"""A 100 MB stderr flood, and bytes on stdout that are not frames: before the first frame,
between frames, after them, and a frame cut off by the host's exit."""

from __future__ import annotations

import logging
import os

import anyio
import pytest

import rpcbridge

from .support import FAULT_METHODS

pytestmark = pytest.mark.anyio


async def test_100_mb_stderr_flood_neither_stalls_the_bridge_nor_floods_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rpcbridge.host")
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with anyio.fail_after(120):
            echoes = 0
            async with anyio.create_task_group() as nursery:

                async def flood() -> None:
                    assert await bridge.call("fault.flood", {"megabytes": 100}) == 100
                    nursery.cancel_scope.cancel()

                nursery.start_soon(flood)
                while True:  # calls keep being answered during the flood
                    assert await bridge.call("rpc.echo", [echoes]) == [echoes]
                    echoes += 1
                    await anyio.sleep(0.01)
            await anyio.sleep(0.2)
            assert "flood: the last line" in bridge.stderr_tail
    forwarded = [r for r in caplog.records if r.name == "rpcbridge.host"]
    assert echoes > 0
    assert len(forwarded) < 5000  # about 100 000 lines were written
    assert any("were not logged" in r.getMessage() for r in forwarded)


@pytest.mark.parametrize("garbage", ["stray text\n", "x", "Content-Length: abc\r\n\r\n"])
async def test_garbage_before_the_first_frame(
    garbage: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = {**os.environ, "FAULT_GARBAGE_AT_START": garbage}
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], env=env) as bridge:
        with anyio.fail_after(10):
            assert bridge.hello is not None  # the handshake got through
            assert await bridge.call("rpc.echo", ["after"]) == ["after"]
    assert any(r.name == "rpcbridge" and r.levelno == logging.WARNING for r in caplog.records)


async def test_garbage_between_and_after_frames(caplog: pytest.LogCaptureFixture) -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with anyio.fail_after(10):
            assert await bridge.call("fault.writeFd1", {"text": "between\n"}) is True
            assert await bridge.call("fault.writeFd1", {"text": "after", "later": True}) is True
            await anyio.sleep(0.1)
            assert await bridge.call("rpc.echo", [1]) == [1]
    skipped = " ".join(r.getMessage() for r in caplog.records if r.name == "rpcbridge")
    assert "between" in skipped and "after" in skipped


async def test_a_frame_cut_off_by_the_host_exiting(caplog: pytest.LogCaptureFixture) -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with anyio.fail_after(10), pytest.raises(rpcbridge.HostExited) as info:
            await bridge.call("fault.truncateAndExit")
    assert info.value.returncode == 3
    assert any("ended inside a frame" in r.getMessage() for r in caplog.records)
