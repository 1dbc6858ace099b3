"""The host dies: SIGKILL, SIGTERM, an exit during start-up, crashes with and without a
restart policy, crash loops. Every case asserts the exact exception, and that nothing hung."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import anyio
import pytest

import rpcbridge

from .support import FAULT_METHODS

pytestmark = pytest.mark.anyio


async def test_sigkill_mid_call_reaches_every_pending_call_promptly() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        failed_at: list[float] = []

        async def pending() -> None:
            with pytest.raises(rpcbridge.HostExited) as info:
                await bridge.call("fault.sleep", {"ms": 60_000})
            assert info.value.returncode == -signal.SIGKILL
            failed_at.append(anyio.current_time())

        with anyio.fail_after(10):
            async with anyio.create_task_group() as nursery:
                for _ in range(50):
                    nursery.start_soon(pending)
                await anyio.sleep(0.2)
                killed_at = anyio.current_time()
                os.kill(bridge.pid, signal.SIGKILL)
    latency = max(failed_at) - killed_at
    print(f"\ncrash-to-exception latency (SIGKILL, 50 pending calls): {latency * 1000:.1f} ms")
    assert len(failed_at) == 50
    assert latency < 1.0


async def test_sigterm_mid_call_lets_the_host_answer_and_exit_0() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], shutdown_timeout=1.0) as bridge:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as nursery:

                async def quick() -> None:
                    assert await bridge.call("fault.sleep", {"ms": 300, "value": "done"}) == "done"

                async def stuck() -> None:
                    # Still running when the host's grace period (0.8 s) ends: -32000.
                    with pytest.raises(rpcbridge.ServerError) as info:
                        await bridge.call("fault.sleep", {"ms": 60_000})
                    assert info.value.code == -32000

                nursery.start_soon(quick)
                nursery.start_soon(stuck)
                await anyio.sleep(0.1)
                os.kill(bridge.pid, signal.SIGTERM)
            with pytest.raises(rpcbridge.HostExited) as gone:
                await bridge.call("rpc.echo")
    assert gone.value.returncode == 0


async def test_exit_during_start_up_raises_host_exited_with_the_reason(tmp_path: Path) -> None:
    marker = tmp_path / "crash"
    marker.touch()
    env = {**os.environ, "FAULT_CRASH_IF_EXISTS": str(marker)}
    with anyio.fail_after(10), pytest.raises(rpcbridge.HostExited) as info:
        async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], env=env):
            pass
    assert info.value.returncode == 1
    assert "crashing at start-up on purpose" in "\n".join(info.value.stderr_tail)


async def test_a_crashed_host_is_restarted_on_the_next_call() -> None:
    policy = rpcbridge.RestartPolicy(backoff=0)
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], restart=policy) as bridge:
        first_pid = bridge.pid
        with anyio.fail_after(10):
            await bridge.call("fault.exitSoon", {"code": 9})
            with pytest.raises(rpcbridge.HostExited) as info:
                await bridge.call("fault.sleep", {"ms": 60_000})
            assert info.value.returncode == 9
            assert await bridge.call("rpc.echo", ["again"]) == ["again"]
        assert bridge.pid != first_pid
        assert bridge.restarts == 1
        assert bridge.hello is not None and bridge.hello["pid"] == bridge.pid


async def test_an_idempotent_call_in_flight_is_retried_on_the_new_host() -> None:
    policy = rpcbridge.RestartPolicy(backoff=0)
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], restart=policy) as bridge:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as nursery:
                results: list[object] = []

                async def retried() -> None:
                    params = {"ms": 300, "value": "second try"}
                    results.append(await bridge.call("fault.sleep", params, idempotent=True))

                async def not_retried() -> None:
                    with pytest.raises(rpcbridge.HostExited):
                        await bridge.call("fault.sleep", {"ms": 300})

                nursery.start_soon(retried)
                nursery.start_soon(not_retried)
                await anyio.sleep(0.1)
                os.kill(bridge.pid, signal.SIGKILL)
        assert results == ["second try"]
        assert bridge.restarts == 1


async def test_a_crash_loop_is_reported_once_and_not_restarted_forever(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "crash"
    env = {**os.environ, "FAULT_CRASH_IF_EXISTS": str(marker)}
    policy = rpcbridge.RestartPolicy(max_restarts=3, window=60, backoff=0.01)
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], env=env, restart=policy) as bridge:
        marker.touch()  # from now on, every new host crashes while starting
        with anyio.fail_after(20):
            await bridge.call("fault.exitSoon", {"code": 1})
            with pytest.raises(rpcbridge.HostExited):
                await bridge.call("fault.sleep", {"ms": 60_000})
            with pytest.raises(rpcbridge.HostExited, match="not restarting it again") as info:
                await bridge.call("rpc.echo")
            assert "crashing at start-up on purpose" in "\n".join(info.value.stderr_tail)
            started = anyio.current_time()
            for _ in range(5):  # given up: later calls fail at once, nothing is spawned
                with pytest.raises(rpcbridge.HostExited, match="not restarting it again"):
                    await bridge.call("rpc.echo")
            assert anyio.current_time() - started < 1
    give_ups = [r for r in caplog.records if "not restarting" in r.getMessage()]
    assert len(give_ups) == 1 and give_ups[0].levelno == logging.ERROR
