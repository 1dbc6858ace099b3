"""A 100 000-call soak with flat memory on both sides, and leaving the bridge with 1000 calls
in flight: they end, the host exits, and no process is left behind."""

from __future__ import annotations

import os
import signal
import sys

import anyio
import pytest

import rpcbridge
from rpcbridge._session import live_group_members

from .support import FAULT_METHODS, rss_kib

pytestmark = pytest.mark.anyio

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


async def test_100000_call_soak_keeps_memory_flat() -> None:
    async with rpcbridge.open_bridge() as bridge:

        async def run(calls: int) -> None:
            async def worker(n: int) -> None:
                for i in range(n):
                    params = {"i": i, "text": "soak 你好 🌏"}
                    assert await bridge.call("rpc.echo", params) == params

            async with anyio.create_task_group() as nursery:
                for _ in range(64):
                    nursery.start_soon(worker, calls // 64)

        with anyio.fail_after(240):
            await run(10_000)  # warm up: caches, pools, JIT
            python_before, node_before = rss_kib(), rss_kib(bridge.pid)
            await run(100_000)
            python_after, node_after = rss_kib(), rss_kib(bridge.pid)
    print(
        f"\nsoak RSS (KiB): python {python_before} -> {python_after} "
        f"({python_after - python_before:+}), node {node_before} -> {node_after} "
        f"({node_after - node_before:+})"
    )
    assert python_after - python_before < 20 * 1024
    assert node_after - node_before < 40 * 1024


async def test_leaving_the_block_under_load_ends_every_call_and_every_process() -> None:
    outcomes: list[str] = []
    async with anyio.create_task_group() as callers:
        with anyio.fail_after(30):
            async with rpcbridge.open_bridge(
                handlers=[FAULT_METHODS], shutdown_timeout=2.0
            ) as bridge:
                pid = bridge.pid
                # esbuild's service is a grandchild: it must not outlive the host either.
                await bridge.call("compile", {"source": "export const a = 1;"})

                async def one(i: int) -> None:
                    try:
                        await bridge.call("fault.sleep", {"ms": 100 + i % 200, "value": i})
                        outcomes.append("answered")
                    except rpcbridge.BridgeClosed as exc:  # HostExited included
                        outcomes.append(type(exc).__name__)

                for i in range(1000):
                    callers.start_soon(one, i)
                await anyio.sleep(0.05)
    assert len(outcomes) == 1000
    assert outcomes.count("answered") == 1000  # all fitted in the 1.6 s grace period
    assert bridge.returncode == 0
    assert not await anyio.Path(f"/proc/{pid}").exists()  # reaped: no zombie
    assert not live_group_members(pid)  # no orphan in the host's process group (esbuild)


async def test_a_stuck_host_is_killed_when_the_grace_period_ends() -> None:
    with anyio.fail_after(30):
        async with rpcbridge.open_bridge(handlers=[FAULT_METHODS], shutdown_timeout=0.5) as bridge:
            pid = bridge.pid
            os.kill(pid, signal.SIGSTOP)  # it cannot even see its stdin close
    assert bridge.returncode == -signal.SIGKILL
    assert not live_group_members(pid)
