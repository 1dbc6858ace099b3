"""``rpcbridge.SyncBridge``: the blocking facade over the trio bridge, used from plain threads,
from a coroutine of a running asyncio loop, while closing, and after close.

Every thread a test starts is joined with a timeout and checked, so a hang fails the test
instead of freezing the run.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio

import rpcbridge

FIXTURES = Path(__file__).parent / "fixtures"
H2P = FIXTURES / "host-to-python.mjs"
TEST_METHODS = FIXTURES / "test-methods.mjs"
JOIN = 20.0  # seconds any thread of these tests may take


def in_threads(target: Callable[[int], None], count: int) -> list[BaseException]:
    """Run ``target(i)`` on ``count`` threads at once; return what they raised."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting"
    return errors


def bridge_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "rpcbridge" and t.is_alive()]


def test_sixteen_threads_at_once_each_get_their_own_results() -> None:
    barrier = threading.Barrier(16)
    results: dict[tuple[int, int], Any] = {}
    slept: dict[int, Any] = {}
    with rpcbridge.SyncBridge(handlers=[H2P], call_timeout=10) as bridge:

        def echo(i: int) -> None:
            barrier.wait(JOIN)
            for j in range(40):
                results[i, j] = bridge.call("rpc.echo", {"thread": i, "j": j, "text": "你好 🌏"})

        def sleep(i: int) -> None:
            barrier.wait(JOIN)
            slept[i] = bridge.call("h2p.sleep", {"ms": 400, "value": i})

        assert in_threads(echo, 16) == []
        started = time.monotonic()
        assert in_threads(sleep, 16) == []
        elapsed = time.monotonic() - started
    assert results == {
        (i, j): {"thread": i, "j": j, "text": "你好 🌏"} for i in range(16) for j in range(40)
    }
    assert slept == {i: i for i in range(16)}
    assert elapsed < 3.0  # 16 x 400 ms ran side by side (in series: 6.4 s)
    assert bridge.returncode == 0


def test_close_with_calls_in_flight_answers_or_fails_every_one_never_hangs() -> None:
    outcomes: dict[int, Any] = {}
    echoes: dict[int, int] = {}
    bridge = rpcbridge.SyncBridge(handlers=[H2P], shutdown_timeout=1.0)
    go = threading.Event()

    def worker(i: int) -> None:
        try:
            if i < 4:  # answered by the host before its shutdown grace ends
                outcomes[i] = bridge.call("h2p.sleep", {"ms": 300, "value": i})
            elif i < 8:  # never answered by the handler itself
                outcomes[i] = bridge.call("h2p.hang")
            else:  # keep calling until the bridge refuses
                go.set()
                echoes[i] = 0
                while True:
                    bridge.call("rpc.echo", [i])
                    echoes[i] += 1
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(12)]
    for thread in threads:
        thread.start()
    assert go.wait(JOIN)
    time.sleep(0.15)
    started = time.monotonic()
    bridge.close()
    closing = time.monotonic() - started
    for thread in threads:
        thread.join(JOIN)
    assert not any(thread.is_alive() for thread in threads)

    assert [outcomes[i] for i in range(4)] == [0, 1, 2, 3]
    for i in range(4, 8):  # the host answers them -32000 when its grace period ends
        assert isinstance(outcomes[i], rpcbridge.ServerError), outcomes[i]
        assert "shut down" in outcomes[i].message
    for i in range(8, 12):
        assert isinstance(outcomes[i], rpcbridge.BridgeClosed), outcomes[i]
        assert echoes[i] > 0
    assert closing < 1.0 + 5.0
    assert bridge.returncode is not None
    assert bridge_threads() == []


def test_after_close_everything_raises_bridge_closed() -> None:
    bridge = rpcbridge.SyncBridge()
    with bridge:
        assert bridge.call("rpc.echo", [1]) == [1]
        assert not bridge.closed
    assert bridge.closed
    with pytest.raises(rpcbridge.BridgeClosed, match="closed"):
        bridge.call("rpc.echo", [2])
    with pytest.raises(rpcbridge.BridgeClosed):
        bridge.notify("anything")
    with pytest.raises(rpcbridge.BridgeClosed), bridge:
        pass
    bridge.close()  # idempotent
    assert bridge.returncode == 0
    assert bridge.hello is not None and bridge.hello["protocol"] == 1
    assert bridge_threads() == []


def test_blocking_calls_from_a_coroutine_leave_the_running_asyncio_loop_alone() -> None:
    """As in Jupyter: an asyncio loop runs in this thread and a coroutine calls the bridge."""

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        progress: list[Any] = []
        with rpcbridge.SyncBridge(handlers=[H2P], call_timeout=10) as bridge:
            before = ticks
            tasks_during = asyncio.all_tasks()
            slept = bridge.call("h2p.sleep", {"ms": 100, "value": "slept"})
            steps = bridge.call("h2p.steps", {"count": 3}, on_progress=progress.append)
            ticks_during = ticks - before  # the loop could not run: this thread was blocked
        await asyncio.sleep(0.01)
        ticks_after = ticks - before
        task.cancel()
        return {
            "same loop": asyncio.get_running_loop() is loop,
            "tasks": tasks_during == {asyncio.current_task(), task},
            "slept": slept,
            "steps": steps,
            "progress": progress,
            "ticks during": ticks_during,
            "loop ran after": ticks_after > 0,
        }

    assert asyncio.run(main()) == {
        "same loop": True,
        "tasks": True,
        "slept": "slept",
        "steps": {"steps": 3},
        "progress": [{"step": 1}, {"step": 2}, {"step": 3}],
        "ticks during": 0,
        "loop ran after": True,
    }
    assert bridge_threads() == []


def test_errors_reach_the_calling_thread_with_their_type() -> None:
    caught: dict[str, BaseException] = {}
    with rpcbridge.SyncBridge(handlers=[H2P, TEST_METHODS]) as bridge:

        def worker(_: int) -> None:
            for name, method, params in [
                ("missing", "no.such.method", None),
                ("refused", "t.refuse", {"x": 1}),
                ("failed", "t.fail", {"message": "kaputt"}),
                ("custom", "t.custom", None),
            ]:
                try:
                    bridge.call(method, params)
                except rpcbridge.RpcError as exc:
                    caught[name] = exc
            try:
                bridge.call("rpc.echo", {"x": object()})
            except TypeError as exc:
                caught["not json"] = exc

        assert in_threads(worker, 1) == []
        assert bridge.call("rpc.echo", [1]) == [1]
    assert isinstance(caught["missing"], rpcbridge.MethodNotFound)
    assert caught["missing"].data == {"method": "no.such.method"}
    assert isinstance(caught["refused"], rpcbridge.InvalidParams)
    assert caught["refused"].data == {"got": {"x": 1}}
    assert isinstance(caught["failed"], rpcbridge.InternalError)
    assert "kaputt" in caught["failed"].data["stack"]
    custom = caught["custom"]
    assert type(custom) is rpcbridge.RpcError and custom.code == 4242
    assert isinstance(caught["not json"], TypeError)


def test_a_timeout_raises_call_timeout_and_cancels_the_handler_on_the_host() -> None:
    aborted: list[Any] = []
    seen = threading.Event()
    methods = rpcbridge.Methods()

    @methods.register("py.aborted")
    def on_aborted(params: Any) -> None:
        aborted.append(params)
        seen.set()

    with rpcbridge.SyncBridge(handlers=[H2P], methods=methods) as bridge:
        started = time.monotonic()
        with pytest.raises(rpcbridge.CallTimeout) as info:
            bridge.call("h2p.hang", timeout=0.2)
        elapsed = time.monotonic() - started
        assert seen.wait(5)
        assert bridge.call("rpc.echo", [1]) == [1]
    assert info.value.method == "h2p.hang" and info.value.timeout == 0.2
    assert 0.2 <= elapsed < 2.0
    assert aborted == [{"method": "h2p.hang", "code": -32800}]


def test_an_interrupted_wait_cancels_the_call_on_the_host() -> None:
    """A signal handler that raises (as Ctrl-C does) while a thread waits for its answer."""

    class Interrupted(Exception):
        pass

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    seen = threading.Event()
    methods = rpcbridge.Methods()
    methods.add("py.aborted", lambda params: seen.set())
    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        with rpcbridge.SyncBridge(handlers=[H2P], methods=methods) as bridge:
            main = threading.main_thread().ident
            assert main == threading.get_ident()
            timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGUSR1))
            timer.start()
            try:
                with pytest.raises(Interrupted):
                    bridge.call("h2p.hang", timeout=10)
            finally:
                timer.join(JOIN)
            assert seen.wait(5)  # the host's handler saw its ctx.signal abort
            assert bridge.call("rpc.echo", [1]) == [1]
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_the_host_dying_raises_host_exited_in_waiting_threads() -> None:
    errors: list[BaseException] = []
    with rpcbridge.SyncBridge(handlers=[H2P]) as bridge:
        waiting = threading.Thread(
            target=lambda: errors.extend(in_threads(lambda i: bridge.call("h2p.hang"), 3)),
            daemon=True,
        )
        waiting.start()
        time.sleep(0.2)
        os.kill(bridge.pid, signal.SIGKILL)
        waiting.join(JOIN)
        assert not waiting.is_alive()
        with pytest.raises(rpcbridge.HostExited):
            bridge.call("rpc.echo")
    assert len(errors) == 3
    for error in errors:
        assert isinstance(error, rpcbridge.HostExited)
        assert error.returncode == -signal.SIGKILL


def test_start_up_errors_are_raised_in_the_calling_thread(tmp_path: Path) -> None:
    with pytest.raises(rpcbridge.HostSetupError, match=r"Node\.js"):
        rpcbridge.SyncBridge(node="/nonexistent/node")
    bad = tmp_path / "bad-init.mjs"
    bad.write_text(
        "export const methods = {};\n"
        "export function init() { throw new Error('init refuses to start'); }\n"
    )
    with pytest.raises(rpcbridge.HostExited) as info, rpcbridge.SyncBridge(handlers=[bad]):
        pass
    assert info.value.returncode == 2
    assert "init refuses to start" in "\n".join(info.value.stderr_tail)
    assert bridge_threads() == []


def test_python_handler_exceptions_answer_the_host_and_never_stop_the_thread() -> None:
    methods = rpcbridge.Methods()

    @methods.register("py.value_error")
    def value_error(params: Any) -> None:
        raise ValueError("bad value")

    @methods.register("py.async_value_error")
    async def async_value_error(params: Any) -> None:
        await trio.lowlevel.checkpoint()
        raise ValueError("bad async value")

    @methods.register("py.exit")
    def exits(params: Any) -> None:
        sys.exit(3)

    @methods.register("py.interrupt")
    async def interrupts(params: Any) -> None:
        raise KeyboardInterrupt

    with rpcbridge.SyncBridge(handlers=[H2P], methods=methods) as bridge:
        answers = {
            name: bridge.call("h2p.ask", {"method": f"py.{name}"})
            for name in ("value_error", "async_value_error", "exit", "interrupt")
        }
        assert bridge.call("rpc.echo", ["still serving"]) == ["still serving"]
        assert bridge.call("h2p.ask", {"method": "py.value_error"}) == answers["value_error"]
    for name, answer in answers.items():
        assert answer["error"]["code"] == -32603, name
    assert answers["value_error"]["error"]["message"] == "ValueError: bad value"
    assert answers["async_value_error"]["error"]["data"]["name"] == "ValueError"
    assert "SystemExit(3)" in answers["exit"]["error"]["message"]
    assert "KeyboardInterrupt" in answers["interrupt"]["error"]["message"]


def test_handlers_cannot_use_the_sync_bridge_but_async_ones_can_use_the_trio_bridge() -> None:
    methods = rpcbridge.Methods()
    with rpcbridge.SyncBridge(handlers=[H2P], methods=methods, call_timeout=10) as bridge:

        @bridge.register("py.sync_reentry")
        def sync_reentry(params: Any) -> Any:
            return bridge.call("rpc.echo", params)  # would wait for its own thread

        @bridge.register("py.async_reentry")
        async def async_reentry(params: Any) -> Any:
            return await bridge.bridge.call("rpc.echo", params)

        refused = bridge.call("h2p.ask", {"method": "py.sync_reentry", "params": [1]})
        echoed = bridge.call("h2p.ask", {"method": "py.async_reentry", "params": [2]})
    assert "py.sync_reentry" in methods  # bridge.register fills the registry passed in
    assert refused["error"]["data"]["name"] == "RuntimeError"
    assert "its own thread" in refused["error"]["message"]
    assert echoed == {"result": [2]}


def test_progress_reaches_the_calling_thread_in_order_before_the_result() -> None:
    with rpcbridge.SyncBridge(handlers=[H2P], call_timeout=10) as bridge:
        seen: list[tuple[Any, int]] = []

        def on_progress(value: Any) -> None:
            seen.append((value, threading.get_ident()))
            if value["step"] == 2:
                raise RuntimeError("a failing callback is logged, the call goes on")

        result = bridge.call("h2p.steps", {"count": 20}, on_progress=on_progress)
        seen_at_return = list(seen)
    assert result == {"steps": 20}
    assert [value for value, _ in seen_at_return] == [{"step": i} for i in range(1, 21)]
    assert {ident for _, ident in seen_at_return} == {threading.get_ident()}


def test_notifications_keep_their_order_before_later_calls() -> None:
    with rpcbridge.SyncBridge(handlers=[H2P]) as bridge:
        for i in range(20):
            bridge.notify("h2p.remember", {"n": i})
        assert bridge.call("h2p.recall") == [{"n": i} for i in range(20)]


def test_a_script_that_forgets_close_still_exits_and_ends_its_host() -> None:
    script = (
        "import rpcbridge\n"
        "bridge = rpcbridge.SyncBridge()\n"
        "print(bridge.pid, bridge.call('rpc.echo', ['ok'])[0], flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=JOIN
    )
    assert done.returncode == 0, done.stderr
    pid, ok = done.stdout.split()
    assert ok == "ok"
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{pid}")


def test_infinite_timeout_and_call_timeout_default() -> None:
    with rpcbridge.SyncBridge(handlers=[H2P], call_timeout=0.2) as bridge:
        with pytest.raises(rpcbridge.CallTimeout):
            bridge.call("h2p.sleep", {"ms": 2000})
        assert bridge.call("h2p.sleep", {"ms": 300, "value": 1}, timeout=math.inf) == 1


def test_a_blocked_bridge_thread_still_times_out_the_waiting_caller() -> None:
    """A plain-function handler that blocks the bridge's thread delays everything, but a
    caller with a timeout gets CallTimeout (its guard) instead of waiting for it."""
    methods = rpcbridge.Methods()
    methods.add("py.block", lambda params: time.sleep(1.5))
    with rpcbridge.SyncBridge(handlers=[H2P], methods=methods) as bridge:
        blocker = threading.Thread(
            target=bridge.call, args=("h2p.ask", {"method": "py.block"}), daemon=True
        )
        blocker.start()
        time.sleep(0.2)  # the bridge's thread is now inside time.sleep
        started = time.monotonic()
        with pytest.raises(rpcbridge.CallTimeout):
            bridge.call("rpc.echo", [1], timeout=0.1)
        assert time.monotonic() - started < 1.3  # 0.1 s + the 1 s guard, not the 1.5 s block
        blocker.join(JOIN)
        assert not blocker.is_alive()
        assert bridge.call("rpc.echo", [2]) == [2]


# -- the direct path: the calling thread sends its own request ---------------------------------


def test_sixty_four_threads_with_notifications_calls_and_progress_keep_each_threads_order() -> None:
    """Every thread's notifications reach the host in its order, before its later calls, and
    every call gets its own answer, while 64 threads call at once (answers woken one by one)."""
    barrier = threading.Barrier(64)
    results: dict[int, list[Any]] = {}
    with rpcbridge.SyncBridge(handlers=[H2P], call_timeout=15) as bridge:

        def worker(i: int) -> None:
            barrier.wait(JOIN)
            mine: list[Any] = []
            for j in range(25):
                bridge.notify("h2p.remember", {"thread": i, "j": j})
                mine.append(bridge.call("rpc.echo", {"thread": i, "j": j}))
                if j % 10 == 0:
                    progress: list[Any] = []
                    bridge.call("h2p.steps", {"count": 3}, on_progress=progress.append)
                    mine.append(progress)
            results[i] = mine

        assert in_threads(worker, 64) == []
        remembered = bridge.call("h2p.recall")
        assert bridge.bridge.in_flight == 0
    for i in range(64):
        expected: list[Any] = []
        for j in range(25):
            expected.append({"thread": i, "j": j})
            if j % 10 == 0:
                expected.append([{"step": 1}, {"step": 2}, {"step": 3}])
        assert results[i] == expected
        assert [n for n in remembered if n["thread"] == i] == [
            {"thread": i, "j": j} for j in range(25)
        ]


def test_timeouts_racing_their_answers_either_return_or_raise_and_never_stall_others() -> None:
    """Calls whose answer comes about when their timeout expires: each returns its value or
    raises CallTimeout, never both, never hangs; the threads of other calls are still woken
    (an answer to a call given up is skipped), and no call is left in flight."""
    outcomes: dict[tuple[int, int], Any] = {}
    echoes: dict[tuple[int, int], Any] = {}
    with rpcbridge.SyncBridge(handlers=[H2P]) as bridge:

        def worker(i: int) -> None:
            for j in range(30):
                try:
                    outcomes[i, j] = bridge.call(
                        "h2p.sleep", {"ms": (i + j) % 6, "value": [i, j]}, timeout=0.003
                    )
                except rpcbridge.CallTimeout as exc:
                    outcomes[i, j] = exc
                echoes[i, j] = bridge.call("rpc.echo", [i, j])

        assert in_threads(worker, 16) == []
        deadline = time.monotonic() + 5
        while bridge.bridge.in_flight and time.monotonic() < deadline:  # cancels being sent
            time.sleep(0.01)
        assert bridge.bridge.in_flight == 0
        assert bridge.call("rpc.echo", ["still fine"]) == ["still fine"]
    assert echoes == {(i, j): [i, j] for i in range(16) for j in range(30)}
    for (i, j), outcome in outcomes.items():
        assert outcome == [i, j] or isinstance(outcome, rpcbridge.CallTimeout), outcome
    kinds = {type(outcome) for outcome in outcomes.values()}
    assert rpcbridge.CallTimeout in kinds  # the race was run: both outcomes occurred
    assert list in kinds


def test_max_in_flight_makes_threads_wait_for_room_and_every_call_completes() -> None:
    """With more threads than ``max_in_flight`` slots, calls beyond it wait (on the ordinary
    path) until a call sent directly ends, which must free its slot for them."""
    with rpcbridge.SyncBridge(handlers=[H2P], max_in_flight=2, call_timeout=15) as bridge:
        slept: dict[int, Any] = {}

        def worker(i: int) -> None:
            for j in range(3):
                slept[i * 3 + j] = bridge.call("h2p.sleep", {"ms": 30, "value": i * 3 + j})

        started = time.monotonic()
        assert in_threads(worker, 8) == []
        elapsed = time.monotonic() - started
    assert slept == {k: k for k in range(24)}
    assert elapsed >= 24 * 0.030 / 2  # never more than 2 at once


def test_a_restart_policy_replaces_a_dead_host_on_the_next_call() -> None:
    restart = rpcbridge.RestartPolicy(backoff=0)
    with rpcbridge.SyncBridge(handlers=[H2P], restart=restart) as bridge:
        assert bridge.call("rpc.echo", [1]) == [1]
        first = bridge.pid
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while not bridge.bridge.will_restart and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bridge.call("rpc.echo", [2]) == [2]  # starts a new host first
        assert bridge.pid != first
        assert bridge.bridge.restarts == 1
        echoed: dict[int, Any] = {}
        assert in_threads(lambda i: echoed.__setitem__(i, bridge.call("rpc.echo", [i])), 8) == []
        assert echoed == {i: [i] for i in range(8)}
        assert bridge.pid != first and bridge.bridge.restarts == 1


def test_async_python_handlers_and_threads_call_the_host_at_once_with_distinct_ids() -> None:
    """The bridge's thread starts calls of its own (an async handler using the trio bridge)
    while threads send theirs directly: the ids come from one connection and never collide."""
    with rpcbridge.SyncBridge(handlers=[H2P], call_timeout=15) as bridge:

        @bridge.register("py.echo_many")
        async def echo_many(params: Any) -> Any:
            return [await bridge.bridge.call("rpc.echo", [params["n"], k]) for k in range(50)]

        answers: dict[int, Any] = {}

        def worker(i: int) -> None:
            if i % 2:
                answers[i] = bridge.call("h2p.ask", {"method": "py.echo_many", "params": {"n": i}})
            else:
                answers[i] = [bridge.call("rpc.echo", [i, k]) for k in range(50)]

        assert in_threads(worker, 8) == []
    for i in range(8):
        expected = [[i, k] for k in range(50)]
        assert answers[i] == ({"result": expected} if i % 2 else expected)


def test_trace_logs_every_message_on_the_ordinary_path(caplog: pytest.LogCaptureFixture) -> None:
    """``trace=True`` logs with the bridge's trio clock, so calls take the ordinary path."""
    with (
        caplog.at_level("DEBUG", logger="rpcbridge.trace"),
        rpcbridge.SyncBridge(trace=True) as bridge,
    ):
        assert in_threads(lambda i: bridge.notify("nobody.listens", [i]), 4) == []
        assert bridge.call("rpc.echo", [1]) == [1]
    sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith("->")]
    assert sum(" nobody.listens " in line for line in sent) == 4
    assert any(" rpc.echo " in line for line in sent)


def test_a_caller_without_timeout_waits_out_a_blocked_bridge_thread() -> None:
    """While a plain-function handler blocks the bridge's thread, a call without a timeout
    waits for it (the thread holds the loop lock) and is then sent and answered."""
    methods = rpcbridge.Methods()
    methods.add("py.block", lambda params: time.sleep(0.5))
    with rpcbridge.SyncBridge(handlers=[H2P], methods=methods) as bridge:
        blocker = threading.Thread(
            target=bridge.call, args=("h2p.ask", {"method": "py.block"}), daemon=True
        )
        blocker.start()
        time.sleep(0.1)
        started = time.monotonic()
        assert bridge.call("rpc.echo", ["after"]) == ["after"]
        assert time.monotonic() - started >= 0.2
        blocker.join(JOIN)
        assert not blocker.is_alive()


def test_a_call_given_up_while_queued_is_never_left_in_flight() -> None:
    """While the bridge's thread is blocked, a call waits in the queue and its thread times out
    first. The call is dropped from the queue (or, had it gone out, cancelled at once): it is
    never left waiting for an answer that will not come, and the calls queued behind it go."""
    methods = rpcbridge.Methods()
    methods.add("py.block", lambda params: time.sleep(0.5))
    with rpcbridge.SyncBridge(handlers=[H2P], methods=methods) as bridge:
        blocker = threading.Thread(
            target=bridge.call, args=("h2p.ask", {"method": "py.block"}), daemon=True
        )
        blocker.start()
        time.sleep(0.1)
        queued_behind: list[Any] = []
        behind = threading.Thread(
            target=lambda: queued_behind.append(bridge.call("rpc.echo", ["behind"])), daemon=True
        )
        started = time.monotonic()
        with pytest.raises(rpcbridge.CallTimeout):
            bridge.call("h2p.hang", timeout=0.1)  # never answers by itself
        assert time.monotonic() - started < 0.4  # its own timeout, not the 0.5 s block
        behind.start()
        blocker.join(JOIN)
        behind.join(JOIN)
        assert queued_behind == [["behind"]]
        deadline = time.monotonic() + 5
        while bridge.bridge.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bridge.bridge.in_flight == 0


@pytest.mark.parametrize("channel", ["stdio", "socket"])
def test_requests_larger_than_the_pipe_from_many_threads_arrive_whole_and_in_order(
    channel: str,
) -> None:
    """A calling thread writes what the pipe (or the socket) takes at once and leaves the rest
    of its frame to the session's writer task, which it wakes through the bridge's thread: 3 MiB
    requests from 8 threads at once, each followed by small calls, all come back whole, and the
    small calls queued behind a partial frame are not written into the middle of it."""
    big = [("é" * (3 << 19)) + str(i) for i in range(8)]  # 3 MiB of UTF-8 each

    def work(i: int) -> None:
        for round_ in range(3):
            assert bridge.call("rpc.echo", {"text": big[i], "round": round_}) == {
                "text": big[i],
                "round": round_,
            }
            for j in range(5):
                assert bridge.call("rpc.echo", [i, round_, j]) == [i, round_, j]

    with rpcbridge.SyncBridge(channel=channel, call_timeout=30) as bridge:
        assert in_threads(work, 8) == []
        assert bridge.bridge.in_flight == 0
