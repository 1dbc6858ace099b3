"""Which CPUs the host and the bridge's thread run on: ``open_bridge(host_cpus=...)`` on every
backend, and ``SyncBridge(cpu=...)`` (its thread on that CPU, its hosts on every CPU). Seen
from outside: the kernel's affinity of every thread of the host, and of the bridge's thread as
a Python handler running on it reports it."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import anyio
import pytest

import rpcbridge

from .test_sync import H2P

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's"
)

MINE = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
LAST = MINE[-1]


def host_affinities(pid: int) -> dict[int, set[int]]:
    """The affinity of each thread of process ``pid``."""
    return {int(t): os.sched_getaffinity(int(t)) for t in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.anyio
async def test_host_cpus_confine_every_thread_of_the_host_and_of_each_restart() -> None:
    restart = rpcbridge.RestartPolicy(backoff=0)
    async with rpcbridge.open_bridge(host_cpus={LAST}, restart=restart) as bridge:
        assert await bridge.call("rpc.echo", [1]) == [1]
        first = bridge.pid
        threads = host_affinities(first)
        assert len(threads) > 1  # Node's own threads, started after the host was confined
        assert all(cpus == {LAST} for cpus in threads.values()), threads
        os.kill(first, signal.SIGKILL)
        with anyio.fail_after(5):
            while not bridge.will_restart:  # noqa: ASYNC110 (no event says the host died)
                await anyio.sleep(0.01)
        assert await bridge.call("rpc.echo", [2]) == [2]
        assert bridge.pid != first
        threads = host_affinities(bridge.pid)
        assert all(cpus == {LAST} for cpus in threads.values()), threads


@pytest.mark.anyio
async def test_without_host_cpus_the_host_gets_the_cpus_of_this_process() -> None:
    async with rpcbridge.open_bridge() as bridge:
        threads = host_affinities(bridge.pid)
        assert all(cpus == set(MINE) for cpus in threads.values()), threads


@pytest.mark.anyio
@pytest.mark.parametrize("bad", [set(), {True}, {-1}, {"0"}])
async def test_host_cpus_that_are_no_cpu_numbers_are_refused_before_anything_starts(
    bad: Any,
) -> None:
    with pytest.raises(ValueError, match="host_cpus"):
        async with rpcbridge.open_bridge(host_cpus=bad):
            pass  # pragma: no cover


@pytest.mark.anyio
async def test_host_cpus_this_process_may_not_use_fail_the_start_and_leave_no_host() -> None:
    missing = (os.cpu_count() or 1) + 8
    before = set(os.listdir("/proc"))
    with pytest.raises(rpcbridge.HostSetupError, match=rf"CPUs \[{missing}\]"):
        async with rpcbridge.open_bridge(host_cpus={missing}):
            pass  # pragma: no cover
    leftover = [
        pid for pid in set(os.listdir("/proc")) - before if pid.isdigit() and _is_our_host(int(pid))
    ]
    assert leftover == []


def _is_our_host(pid: int) -> bool:
    """Whether ``pid`` is a host this process started (its child running rpc-host.js)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return parent == os.getpid() and b"rpc-host.js" in cmdline.read()
    except OSError:
        return False


def test_sync_bridge_cpu_runs_its_thread_there_and_its_hosts_on_every_cpu() -> None:
    """The bridge's thread is pinned; each host, the one a restart starts too (from a worker
    thread the pinned thread may have started), keeps every CPU, even when the constructing
    thread is pinned itself (as the docstring's recipe may have it)."""
    cpu = MINE[0]
    os.sched_setaffinity(0, {cpu})
    try:
        _check_cpu(cpu)
    finally:
        os.sched_setaffinity(0, MINE)


def _check_cpu(cpu: int) -> None:
    restart = rpcbridge.RestartPolicy(backoff=0)
    with rpcbridge.SyncBridge(handlers=[H2P], cpu=cpu, call_timeout=10, restart=restart) as bridge:

        @bridge.register("py.where")
        async def where(params: Any) -> Any:  # runs on the bridge's thread
            return sorted(os.sched_getaffinity(0))

        assert bridge.call("h2p.ask", {"method": "py.where"}) == {"result": [cpu]}
        for _ in range(2):  # the first host, then the one a restart starts
            threads = host_affinities(bridge.pid)
            assert all(cpus >= set(MINE) for cpus in threads.values()), threads
            first = bridge.pid
            os.kill(first, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while not bridge.bridge.will_restart and time.monotonic() < deadline:
                time.sleep(0.01)
            assert bridge.call("rpc.echo", [1]) == [1]
            assert bridge.pid != first

        # Threads pinned to the same CPU, as the docstring says to do, each get their own.
        answers: dict[int, Any] = {}

        def worker(i: int) -> None:
            os.sched_setaffinity(0, {cpu})
            answers[i] = [bridge.call("rpc.echo", [i, k]) for k in range(200)]

        workers = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    assert answers == {i: [[i, k] for k in range(200)] for i in range(32)}


def test_sync_bridge_cpu_with_host_cpus_puts_the_host_there() -> None:
    with rpcbridge.SyncBridge(cpu=MINE[0], host_cpus={LAST}) as bridge:
        threads = host_affinities(bridge.pid)
        assert all(cpus == {LAST} for cpus in threads.values()), threads


@pytest.mark.parametrize("bad", [True, -1, "0"])
def test_sync_bridge_cpu_that_is_no_cpu_number_is_refused_at_once(bad: Any) -> None:
    with pytest.raises(ValueError, match="cpu"):
        rpcbridge.SyncBridge(cpu=bad)


def test_sync_bridge_cpu_this_process_may_not_use_fails_the_constructor_and_stops() -> None:
    missing = (os.cpu_count() or 1) + 8
    before = threading.active_count()
    started = time.monotonic()
    with pytest.raises(ValueError, match=rf"cpu={missing}"):
        rpcbridge.SyncBridge(cpu=missing)
    assert time.monotonic() - started < 5
    assert threading.active_count() == before  # the bridge's thread has ended
