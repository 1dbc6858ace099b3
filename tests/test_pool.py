"""open_pool(): several real hosts behind one bridge's API.

The hosts load tests/fixtures/pool-methods.mjs (namespace ``pool``), whose answers carry the
answering host's pid, so each test can see which member the pool chose.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import rpcbridge
from rpcbridge._session import live_group_members

pytestmark = pytest.mark.anyio

POOL_METHODS = Path(__file__).parent / "fixtures" / "pool-methods.mjs"


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Poll ``predicate()`` until it is true (the caller bounds the wait)."""
    while not predicate():  # noqa: ASYNC110 (nothing to wait on but the counters)
        await anyio.sleep(0.005)


async def test_200_concurrent_calls_are_answered_correctly_and_spread_over_both_members() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(2, handlers=[POOL_METHODS]) as pool:
            pids = {member.pid for member in pool.members}
            assert len(pids) == 2
            answers: dict[int, Any] = {}

            async def one(i: int) -> None:
                answers[i] = await pool.call("pool.sleep", {"ms": 5, "value": i})

            async with anyio.create_task_group() as nursery:
                for i in range(200):
                    nursery.start_soon(one, i)
            assert sorted(answers) == list(range(200))
            assert all(answer["value"] == i for i, answer in answers.items())
            per_host = Counter(answer["pid"] for answer in answers.values())
            assert set(per_host) == pids
            assert min(per_host.values()) >= 80, per_host  # least loaded: about 100 each
            assert pool.in_flight == 0


async def test_a_slow_call_pinned_on_one_member_sends_the_next_calls_to_the_other() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(2, handlers=[POOL_METHODS]) as pool:
            a, b = pool.members
            # Idle members tie: round robin.
            assert {await pool.call("pool.pid"), await pool.call("pool.pid")} == {a.pid, b.pid}
            async with anyio.create_task_group() as nursery:
                nursery.start_soon(a.call, "pool.sleep", {"ms": 60_000})
                await wait_for(lambda: a.in_flight == 1)
                for _ in range(5):
                    assert await pool.call("pool.pid") == b.pid
                # Two more slow calls: the first to B (0 < 1), the second ties (1, 1) and the
                # round robin gives it to A; with (2, 1) in flight the next call goes to B.
                nursery.start_soon(pool.call, "pool.sleep", {"ms": 60_000})
                await wait_for(lambda: b.in_flight == 1)
                nursery.start_soon(pool.call, "pool.sleep", {"ms": 60_000})
                await wait_for(lambda: pool.in_flight == 3)
                assert (a.in_flight, b.in_flight) == (2, 1)
                assert (await pool.call("pool.sleep", {"value": "x"}))["pid"] == b.pid
                nursery.cancel_scope.cancel()


async def test_a_member_killed_mid_call_fails_only_its_own_calls() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(2, handlers=[POOL_METHODS]) as pool:
            victim, survivor = pool.members
            victim_pid, survivor_pid = victim.pid, survivor.pid
            outcomes: list[tuple[str, Any]] = []

            async def one(i: int) -> None:
                try:
                    answer = await pool.call("pool.sleep", {"ms": 500, "value": i})
                except rpcbridge.HostExited as exc:
                    outcomes.append(("exited", exc.returncode))
                else:
                    outcomes.append(("ok", answer["pid"]))

            async with anyio.create_task_group() as nursery:
                for i in range(20):
                    nursery.start_soon(one, i)
                await wait_for(lambda: pool.in_flight == 20)
                assert (victim.in_flight, survivor.in_flight) == (10, 10)
                os.kill(victim_pid, signal.SIGKILL)
            assert sorted(outcomes, key=str) == sorted(
                [("exited", -signal.SIGKILL)] * 10 + [("ok", survivor_pid)] * 10, key=str
            )
            # Later calls all go to the live member (the dead one is skipped, not restarted).
            for _ in range(6):
                assert await pool.call("pool.pid") == survivor_pid
            async with anyio.create_task_group() as nursery:
                for _ in range(20):
                    nursery.start_soon(pool.call, "pool.pid")
            assert victim.pid == victim_pid and victim.returncode == -signal.SIGKILL
            assert survivor.returncode is None


async def test_when_no_member_is_alive_calls_raise_host_exited() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(2, handlers=[POOL_METHODS]) as pool:
            for member in pool.members:
                os.kill(member.pid, signal.SIGKILL)
                await member.wait()
            for _ in range(3):
                with pytest.raises(rpcbridge.HostExited) as info:
                    await pool.call("pool.pid")
                assert info.value.returncode == -signal.SIGKILL
            with pytest.raises(rpcbridge.HostExited):
                await pool.notify("anything")


async def test_with_a_restart_policy_a_dead_member_comes_back() -> None:
    policy = rpcbridge.RestartPolicy(backoff=0)
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(2, handlers=[POOL_METHODS], restart=policy) as pool:
            victim, survivor = pool.members
            old_pid = victim.pid

            async def doomed() -> None:
                with pytest.raises(rpcbridge.HostExited):
                    await victim.call("pool.sleep", {"ms": 60_000})

            async with anyio.create_task_group() as nursery:
                nursery.start_soon(doomed)
                await wait_for(lambda: victim.in_flight == 1)
                os.kill(old_pid, signal.SIGKILL)
            answers = Counter([await pool.call("pool.pid") for _ in range(4)])
            assert victim.pid != old_pid and victim.restarts == 1
            assert victim.hello is not None and victim.hello["pid"] == victim.pid
            assert answers == {victim.pid: 2, survivor.pid: 2}  # round robin again


async def test_a_member_that_gives_up_restarting_is_skipped(tmp_path: Path) -> None:
    marker = tmp_path / "crash"
    env = {**os.environ, "POOL_CRASH_IF_EXISTS": str(marker)}
    policy = rpcbridge.RestartPolicy(max_restarts=1, backoff=0)
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(2, handlers=[POOL_METHODS], env=env, restart=policy) as pool:
            victim, survivor = pool.members
            marker.touch()  # from now on every new host crashes while starting
            os.kill(victim.pid, signal.SIGKILL)
            await victim.wait()
            # The victim's restarts fail, it gives up; no call is lost to that.
            for _ in range(6):
                assert await pool.call("pool.pid") == survivor.pid
            with pytest.raises(rpcbridge.HostExited, match="not restarting it again"):
                await victim.call("pool.pid")


async def test_a_pool_of_one_works() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(1, handlers=[POOL_METHODS]) as pool:
            assert pool.size == 1 and len(pool.members) == 1
            (member,) = pool.members
            assert await pool.call("pool.pid") == member.pid
            assert await pool.call("rpc.echo", ["你好"]) == ["你好"]
            await pool.notify("nobody.listens", {"x": 1})
            with pytest.raises(rpcbridge.MethodNotFound):
                await pool.call("pool.nope")
            with pytest.raises(rpcbridge.CallTimeout):
                await pool.call("pool.sleep", {"ms": 60_000}, timeout=0.1)


async def test_the_default_size_is_the_cpu_count() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(handlers=[POOL_METHODS]) as pool:
            assert pool.size == len(pool.members) == max(1, os.cpu_count() or 1)


@pytest.mark.parametrize("size", [0, -1, 1.5, "2", True])
async def test_a_bad_size_raises_value_error(size: Any) -> None:
    with pytest.raises(ValueError, match="size"):
        async with rpcbridge.open_pool(size):
            pytest.fail("the pool must not start")


async def test_python_methods_are_shared_by_every_member() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(2, handlers=[POOL_METHODS]) as pool:

            @pool.register("py.double")
            def double(params: Any) -> Any:
                return params["n"] * 2

            for member in pool.members:
                answer = await member.call(
                    "pool.askPython", {"method": "py.double", "params": {"n": 21}}
                )
                assert answer == {"pid": member.pid, "answer": 42}
            assert all(member.methods is pool.methods for member in pool.members)


async def test_a_member_that_fails_to_start_closes_the_others(tmp_path: Path) -> None:
    marker = tmp_path / "first"
    env = {**os.environ, "POOL_FIRST_ONLY": str(marker)}
    with anyio.fail_after(10), pytest.raises(rpcbridge.HostExited) as info:
        async with rpcbridge.open_pool(3, handlers=[POOL_METHODS], env=env):
            pytest.fail("the pool must not start")
    assert info.value.returncode == 1
    assert "not the first host" in "\n".join(info.value.stderr_tail)
    first_pid = int(await anyio.Path(marker).read_text())
    assert not await anyio.Path(f"/proc/{first_pid}").exists()  # closed and reaped


async def test_leaving_the_block_closes_every_process() -> None:
    with anyio.fail_after(10):
        async with rpcbridge.open_pool(3, handlers=[POOL_METHODS]) as pool:
            members = pool.members
            pids = [member.pid for member in members]
            async with anyio.create_task_group() as nursery:  # calls in flight while closing
                for _ in range(30):
                    nursery.start_soon(pool.call, "pool.sleep", {"ms": 200})
                await wait_for(lambda: pool.in_flight == 30)
                # Leaving the nursery waits for them; then the pool block closes the hosts.
    assert [member.returncode for member in members] == [0, 0, 0]
    for pid in pids:
        assert not await anyio.Path(f"/proc/{pid}").exists()  # reaped: no zombie
        assert live_group_members(pid) == []
    with pytest.raises(rpcbridge.BridgeClosed):
        await pool.call("pool.pid")
