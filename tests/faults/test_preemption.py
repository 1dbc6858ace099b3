"""Handlers that never yield: a spin, a catastrophic regex, a heap that fills up.

The host runs handler modules in a thread it can end (node/lib/handler-thread.js), so such a
handler costs its own caller a ``CallTimeout`` (or a typed error) and nobody else anything; on
the main thread (``RPCBRIDGE_HANDLER_THREAD=main``) the watchdog ends the whole host instead,
which is reported as ``HostUnresponsive`` and replaced by a restart policy.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import trio

import rpcbridge

from .support import FAULT_METHODS

SPIN_TIMEOUT = 0.2
SPIN_BOUND = 0.5  # the bound: CallTimeout within 0.5 s of the call


async def _one_blocking_call_and_63_echoes(
    bridge: rpcbridge.Bridge, method: str, params: dict[str, Any] | None
) -> tuple[float, dict[int, Any]]:
    """Start ``method`` with timeout 0.2, then 63 echo calls queued behind it on the same
    thread; return how long the blocking call took to raise, and the echo answers."""
    answers: dict[int, Any] = {}
    elapsed: list[float] = []

    async def blocking() -> None:
        started = trio.current_time()
        with pytest.raises(rpcbridge.CallTimeout):
            await bridge.call(method, params, timeout=SPIN_TIMEOUT)
        elapsed.append(trio.current_time() - started)

    async def echo(i: int) -> None:
        answers[i] = await bridge.call("fault.echo", {"i": i})

    with trio.fail_after(10):  # not a hang
        async with trio.open_nursery() as nursery:
            nursery.start_soon(blocking)
            await trio.sleep(0.05)  # the handler thread is stuck now
            for i in range(63):
                nursery.start_soon(echo, i)
    return elapsed[0], answers


@pytest.mark.parametrize(
    ("method", "params"),
    [("fault.spin", None), ("fault.catastrophicRegex", {"length": 40})],
    ids=["spin", "catastrophic-regex"],
)
async def test_a_blocked_handler_times_out_in_time_and_63_other_calls_are_answered(
    method: str, params: dict[str, Any] | None
) -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        elapsed, answers = await _one_blocking_call_and_63_echoes(bridge, method, params)
        assert SPIN_TIMEOUT <= elapsed < SPIN_BOUND
        assert answers == {i: {"i": i} for i in range(63)}
        with trio.fail_after(5):
            assert await bridge.call("fault.echo", [1]) == [1]  # the host keeps serving
            stats = await bridge.call("rpc.stats")
        assert stats["handlerThread"]["restarts"] == 1
        assert stats["handlerThread"]["lastRestart"]["reason"] == "preempted"
        assert stats["handlerThread"]["lastRestart"]["culprit"]["method"] == method
        assert bridge.restarts == 0  # the same host process: only its handler thread was new


async def test_a_call_started_on_the_ended_thread_fails_typed_or_is_retried_if_idempotent() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:

                async def lost() -> None:
                    with pytest.raises(rpcbridge.HandlerInterrupted) as info:
                        await bridge.call("fault.sleep", {"ms": 400, "value": "lost"})
                    assert info.value.code == -32001
                    assert info.value.reason == "preempted"
                    assert info.value.culprit == "fault.spin"
                    assert "fault.spin" in info.value.message

                async def retried() -> None:
                    params = {"ms": 400, "value": "retried"}
                    assert await bridge.call("fault.sleep", params, idempotent=True) == "retried"

                nursery.start_soon(lost)
                nursery.start_soon(retried)
                await trio.sleep(0.1)  # both have started and wait on a timer in the thread
                with pytest.raises(rpcbridge.CallTimeout):
                    await bridge.call("fault.spin", timeout=SPIN_TIMEOUT)


async def test_cancelling_the_caller_of_a_spinning_handler_ends_the_spin() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with trio.move_on_after(0.2):
            await bridge.call("fault.spin")
        with trio.fail_after(5):
            assert await bridge.call("fault.echo", ["after"]) == ["after"]
            assert (await bridge.call("rpc.stats"))["handlerThread"]["restarts"] == 1


async def test_a_4_gb_allocation_is_handler_out_of_memory_and_the_next_call_works() -> None:
    env = {**os.environ, "RPCBRIDGE_HANDLER_HEAP_MB": "256"}
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], env=env) as bridge:
        with trio.fail_after(30):
            with pytest.raises(rpcbridge.HandlerOutOfMemory) as info:
                await bridge.call("fault.allocate", {"megabytes": 4096})
            assert info.value.code == -32002
            assert isinstance(info.value, rpcbridge.HandlerInterrupted)
            assert info.value.reason == "out-of-memory"
            assert info.value.culprit == "fault.allocate"
            assert info.value.data["heapLimitMb"] == 256
            assert await bridge.call("fault.echo", {"fresh": True}) == {"fresh": True}


async def test_out_of_memory_on_the_main_thread_is_host_out_of_memory_then_restarted() -> None:
    env = {
        **os.environ,
        "RPCBRIDGE_HANDLER_THREAD": "main",
        "NODE_OPTIONS": "--max-old-space-size=256",
    }
    policy = rpcbridge.RestartPolicy(backoff=0)
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], env=env, restart=policy) as bridge:
        with trio.fail_after(30):
            with pytest.raises(rpcbridge.HostOutOfMemory) as info:
                await bridge.call("fault.allocate", {"megabytes": 4096})
            assert isinstance(info.value, rpcbridge.HostExited)
            assert any("heap out of memory" in line for line in info.value.stderr_tail)
            assert await bridge.call("fault.echo", ["next"]) == ["next"]
            assert bridge.restarts == 1


async def test_the_watchdog_ends_a_host_whose_main_thread_is_stuck() -> None:
    env = {**os.environ, "RPCBRIDGE_HANDLER_THREAD": "main", "RPCBRIDGE_WATCHDOG_MS": "500"}
    policy = rpcbridge.RestartPolicy(backoff=0)
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], env=env, restart=policy) as bridge:
        with trio.fail_after(10):
            with pytest.raises(rpcbridge.HostUnresponsive) as info:
                await bridge.call("fault.spin")
            assert info.value.returncode == -9
            assert "blocked for" in str(info.value)
            assert await bridge.call("rpc.echo", ["replaced"]) == ["replaced"]
            assert bridge.restarts == 1


async def test_rpc_stats_reports_calls_in_flight_and_event_loop_delay() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for _ in range(5):
                    nursery.start_soon(bridge.call, "fault.sleep", {"ms": 300})
                await trio.sleep(0.1)
                stats = await bridge.call("rpc.stats")
        assert stats["inFlight"] == 5
        assert stats["handlerThread"]["mode"] == "worker"
        assert stats["handlerThread"]["inFlight"] == 5
        delay = stats["eventLoopDelay"]
        assert set(delay) == {"meanMs", "p50Ms", "p99Ms", "maxMs", "windowMs"}
        assert 0 <= delay["p50Ms"] <= delay["p99Ms"] <= delay["maxMs"]
