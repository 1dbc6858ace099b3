"""Limits: bodies over the size limit both ways, the in-flight limit, and a host that stops
reading its stdin. Nothing may hang and memory must stay bounded."""

from __future__ import annotations

import os

import anyio
import pytest

import rpcbridge

from .support import FAULT_METHODS

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024


async def test_a_request_over_the_limit_is_refused_at_once_and_the_bridge_goes_on() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], max_body_size=MIB) as bridge:
        with anyio.fail_after(10):
            with pytest.raises(ValueError, match="max_body_size"):
                await bridge.call("rpc.echo", ["x" * (2 * MIB)])
            assert bridge.in_flight == 0
            assert await bridge.call("rpc.echo", ["ok"]) == ["ok"]


async def test_an_answer_over_the_limit_fails_that_call_only() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], max_body_size=MIB) as bridge:
        with anyio.fail_after(10):
            with pytest.raises(rpcbridge.BridgeError) as info:
                await bridge.call("fault.big", {"bytes": 2 * MIB})
            assert "limit" in str(info.value)
            assert await bridge.call("fault.big", {"bytes": 1000}) == "b" * 1000


async def test_the_in_flight_limit_makes_callers_wait() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], max_in_flight=4) as bridge:
        peak = 0
        results: list[int] = []
        with anyio.fail_after(20):
            async with anyio.create_task_group() as nursery:

                async def one(i: int) -> None:
                    results.append(await bridge.call("fault.sleep", {"ms": 50, "value": i}))

                for i in range(20):
                    nursery.start_soon(one, i)
                while len(results) < 20:
                    peak = max(peak, bridge.in_flight)
                    await anyio.sleep(0.005)
        assert sorted(results) == list(range(20))
        assert 1 <= peak <= 4


async def test_a_host_that_stops_reading_makes_senders_wait_instead_of_buffering() -> None:
    # A handler on the host's main thread (--handler-thread main) is what stops it reading its
    # stdin; in the default handler thread the same handler no longer can (test_preemption.py).
    main_thread = {**os.environ, "RPCBRIDGE_HANDLER_THREAD": "main"}
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], env=main_thread) as bridge:
        big = ["y" * MIB]
        with anyio.fail_after(30):
            async with anyio.create_task_group() as nursery:
                nursery.start_soon(bridge.call, "fault.block", {"ms": 1500})
                await anyio.sleep(0.2)  # the host's event loop is now stuck for 1.3 s
                sent = 0
                with anyio.move_on_after(0.8):
                    for _ in range(200):  # 200 MiB if nothing pushed back
                        await bridge.notify("nobody.listens", big)
                        sent += 1
                # The pipe holds about 1 MiB and the outbox 16 MiB: the sender had to wait.
                assert sent < 40
            assert await bridge.call("rpc.echo", [1]) == [1]  # and everything flows again
