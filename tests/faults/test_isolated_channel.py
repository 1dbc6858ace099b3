"""channel="socket": frames on a socketpair, the host's fd 1 joined to its logs, so that
writes that bypass every JavaScript guard (fs.writeSync(1), a child process with inherited
stdio) cannot reach the data at all."""

from __future__ import annotations

import logging
import sys
from typing import Any

import anyio
import pytest

import rpcbridge

from .support import FAULT_METHODS

pytestmark = pytest.mark.anyio


async def test_writes_to_fd_1_become_log_lines_not_garbage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rpcbridge")
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], channel="socket") as bridge:
        with anyio.fail_after(10):
            assert await bridge.call("fault.writeFd1", {"text": "native junk\n"}) is True
            assert await bridge.call("fault.spawnInherit", {"text": "from a child\n"}) is True
            assert await bridge.call("rpc.echo", ["clean"]) == ["clean"]
            await anyio.sleep(0.1)
            assert "native junk" in bridge.stderr_tail
            assert "from a child" in bridge.stderr_tail
    skipped = [r for r in caplog.records if r.name == "rpcbridge" and r.levelno >= logging.WARNING]
    assert skipped == []  # nothing had to be skipped on the data channel


async def test_the_isolated_channel_behaves_like_stdio() -> None:
    results: list[Any] = []
    async with anyio.create_task_group() as callers:
        with anyio.fail_after(30):
            async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], channel="socket") as bridge:
                assert bridge.hello is not None
                big = await bridge.call("fault.big", {"bytes": 8 * 1024 * 1024})
                assert big == "b" * (8 * 1024 * 1024)

                async def one(i: int) -> None:
                    results.append(await bridge.call("fault.sleep", {"ms": 200, "value": i}))

                for i in range(100):
                    callers.start_soon(one, i)
                await anyio.sleep(0.05)
    # Closing half-closed the socket with 100 calls in flight: all answered, clean exit.
    assert sorted(results) == list(range(100))
    assert bridge.returncode == 0


async def test_a_killed_host_on_the_isolated_channel_fails_pending_calls() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], channel="socket") as bridge:
        with anyio.fail_after(10):
            await bridge.call("fault.exitSoon", {"code": 4})
            with pytest.raises(rpcbridge.HostExited) as info:
                await bridge.call("fault.sleep", {"ms": 60_000})
    assert info.value.returncode == 4


async def test_channel_is_for_the_bundled_host_only() -> None:
    with pytest.raises(TypeError):
        async with rpcbridge.open_bridge([sys.executable, "-c", "pass"], channel="socket"):
            pass
    with pytest.raises(ValueError):
        async with rpcbridge.open_bridge(channel="carrier-pigeon"):  # type: ignore[arg-type]
            pass
