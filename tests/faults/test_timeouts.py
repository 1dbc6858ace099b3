"""A stuck handler: timeouts raise CallTimeout, and the host is told to stop the handler."""

from __future__ import annotations

import math
from typing import Any

import anyio
import pytest

import rpcbridge

from .support import FAULT_METHODS

pytestmark = pytest.mark.anyio


async def test_call_timeout_raises_and_cancels_the_handler_on_the_host(
    clock_resolution: float,
) -> None:
    aborted: list[Any] = []
    told = anyio.Event()
    methods = rpcbridge.Methods()

    @methods.register("fault.aborted")
    def on_aborted(params: Any) -> None:
        aborted.append(params)
        told.set()

    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], methods=methods) as bridge:
        with anyio.fail_after(10):
            started = anyio.current_time()
            with pytest.raises(rpcbridge.CallTimeout) as info:
                await bridge.call("fault.waitForAbort", timeout=0.2)
            assert 0.2 - clock_resolution <= anyio.current_time() - started < 5
            assert isinstance(info.value, TimeoutError)
            assert (info.value.method, info.value.timeout) == ("fault.waitForAbort", 0.2)
            assert bridge.in_flight == 0
            await told.wait()  # the host's handler saw ctx.signal abort and said so
    assert aborted == [{"id": 1 + 1}]  # id 1 was the rpc.hello handshake


async def test_bridge_wide_default_timeout_and_per_call_override() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], call_timeout=0.1) as bridge:
        with anyio.fail_after(10):
            with pytest.raises(rpcbridge.CallTimeout):
                await bridge.call("fault.sleep", {"ms": 5000})
            assert await bridge.call("fault.sleep", {"ms": 300}, timeout=5) == 300
            assert await bridge.call("fault.sleep", {"ms": 300}, timeout=math.inf) == 300
            assert await bridge.call("rpc.echo", [1]) == [1]  # the bridge is still healthy


async def test_call_timeout_does_not_bound_the_start_up_handshake() -> None:
    # A call_timeout shorter than any host's start-up must not fail open_bridge(): it bounds
    # the caller's calls, and start-up has its own startup_timeout.
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], call_timeout=1e-6) as bridge:
        assert bridge.hello is not None and bridge.hello["protocol"] == 1
        with pytest.raises(rpcbridge.CallTimeout):
            await bridge.call("fault.sleep", {"ms": 5000})


async def test_cancelling_the_caller_is_not_a_timeout() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], call_timeout=10) as bridge:
        with anyio.move_on_after(0.1) as scope:
            await bridge.call("fault.sleep", {"ms": 5000})
        assert scope.cancelled_caught
        assert bridge.in_flight == 0
