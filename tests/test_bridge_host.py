"""The bridge against the real Node host (node/rpc-host.js), through the public API, on trio,
asyncio and uvloop.

The host loads tests/fixtures/test-methods.mjs (namespace ``t``), whose methods sleep, print in
every way a careless handler can, throw, return huge results, notify Python or crash.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import rpcbridge

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"
TEST_METHODS = FIXTURES / "test-methods.mjs"


def mixed_text(size: int) -> str:
    """About ``size`` UTF-8 bytes of ASCII, CJK, emoji, quotes and backslashes."""
    unit = 'plain ascii, 你好世界, emoji 🌏🎉, "quotes" and \\backslashes\\ '
    return unit * (size // len(unit.encode()) + 1)


async def test_hello_handshake_reports_the_host() -> None:
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge:
        hello = bridge.hello
        assert hello is not None
        assert hello["protocol"] == 1
        assert hello["pid"] == bridge.pid
        assert hello["node"].startswith("v")
        assert {"rpc.hello", "rpc.echo", "rpc.shutdown", "t.sleep", "t.fail"} <= set(
            hello["methods"]
        )
        assert await bridge.call("rpc.hello") == hello


async def test_the_issue_example_1000_concurrent_calls_all_matched() -> None:
    results: dict[int, Any] = {}
    async with rpcbridge.open_bridge() as bridge:

        async def one(i: int) -> None:
            results[i] = await bridge.call("rpc.echo", {"i": i, "text": "你好 🌏"})

        async with anyio.create_task_group() as nursery:
            for i in range(1000):
                nursery.start_soon(one, i)
        await bridge.notify("some.notification", {"x": 1})
        assert await bridge.call("rpc.echo", ["after the notification"]) == [
            "after the notification"
        ]
    assert results == {i: {"i": i, "text": "你好 🌏"} for i in range(1000)}


async def test_more_calls_queued_at_once_than_one_writev_can_take() -> None:
    """5000 callers queue their frames before the writer task runs: more buffers than one
    ``writev`` accepts (IOV_MAX = 1024), so the writer must send them in several."""
    results: dict[int, Any] = {}
    async with rpcbridge.open_bridge() as bridge:

        async def one(i: int) -> None:
            results[i] = await bridge.call("rpc.echo", [i])

        async with anyio.create_task_group() as nursery:
            for i in range(5000):
                nursery.start_soon(one, i)
        assert bridge.alive
    assert results == {i: [i] for i in range(5000)}


async def test_echo_without_params_returns_null() -> None:
    async with rpcbridge.open_bridge() as bridge:
        assert await bridge.call("rpc.echo") is None


async def test_32_mib_bodies_both_ways() -> None:
    text = mixed_text(32 * 1024 * 1024)
    async with rpcbridge.open_bridge() as bridge:
        assert await bridge.call("rpc.echo", [text]) == [text]


async def test_out_of_order_answers() -> None:
    finished: list[int] = []
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge:

        async def one(ms: int) -> None:
            assert await bridge.call("t.sleep", {"ms": ms}) == ms
            finished.append(ms)

        async with anyio.create_task_group() as nursery:
            for ms in (300, 200, 100, 0):
                nursery.start_soon(one, ms)
    assert finished == [0, 100, 200, 300]


async def test_error_codes_arrive_as_typed_errors_with_data() -> None:
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge:
        with pytest.raises(rpcbridge.MethodNotFound) as missing:
            await bridge.call("no.such.method")
        assert missing.value.code == -32601

        with pytest.raises(rpcbridge.InternalError) as internal:
            await bridge.call("t.fail", {"message": "kaboom"})
        assert internal.value.code == -32603
        assert internal.value.data["name"] == "TypeError"
        assert internal.value.data["message"] == "kaboom"
        assert "test-methods.mjs" in internal.value.data["stack"]
        assert "kaboom" in str(internal.value)

        with pytest.raises(rpcbridge.InvalidParams) as invalid:
            await bridge.call("t.refuse", {"a": 1})
        assert invalid.value.data == {"got": {"a": 1}}

        with pytest.raises(rpcbridge.RpcError) as custom:
            await bridge.call("t.custom")
        assert type(custom.value) is rpcbridge.RpcError
        assert (custom.value.code, custom.value.message) == (4242, "custom failure")
        assert custom.value.data == {"detail": [1, 2, 3]}
        assert await bridge.call("rpc.echo", [1]) == [1]  # still serving


async def test_prints_in_a_handler_never_reach_stdout_and_are_logged_at_their_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="rpcbridge")
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge:
        assert await bridge.call("t.chatty", {"text": "héllo"}) == "quiet"
        assert await bridge.call("rpc.echo", [2]) == [2]
        await anyio.sleep(0.1)
    host = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "rpcbridge.host"]
    text = "\n".join(message for _, message in host)
    for expected in (
        "log héllo",
        "info héllo",
        "warn héllo",
        "error héllo",
        "raw stdout write héllo",
    ):
        assert expected in text
    assert (logging.WARNING, "warn: warn héllo") in host
    assert (logging.ERROR, "error: error héllo") in host
    # Nothing was skipped as garbage: the prints never touched the data channel.
    assert not [r for r in caplog.records if r.name == "rpcbridge" and r.levelno >= logging.WARNING]


async def test_bytes_written_straight_to_fd_1_are_skipped_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge:
        assert await bridge.call("t.writeFd1", {"text": "native junk\n"}) is True
        assert await bridge.call("rpc.echo", [3]) == [3]
    assert any("native junk" in r.getMessage() for r in caplog.records if r.name == "rpcbridge")


async def test_cancelled_call_frees_its_entry_and_the_host_stops_the_handler() -> None:
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS], shutdown_timeout=10) as bridge:
        with anyio.move_on_after(0.2):
            await bridge.call("t.sleep", {"ms": 60_000})
        assert bridge.in_flight == 0
        assert await bridge.call("rpc.echo", [4]) == [4]
        start = anyio.current_time()
    # The host had nothing left in flight, so closing did not wait for the 60 s sleep.
    assert anyio.current_time() - start < 5
    assert bridge.returncode == 0


async def test_closing_with_calls_in_flight_delivers_their_answers_and_exits_0() -> None:
    results: list[Any] = []
    big_result: list[str] = []
    # The bridge closes first (closing the host's stdin with 11 calls in flight), then the
    # outer nursery waits for the callers.
    async with (
        anyio.create_task_group() as callers,
        rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge,
    ):

        async def one(i: int) -> None:
            results.append(await bridge.call("t.sleep", {"ms": 300, "value": i}))

        async def fetch_big() -> None:
            big_result.append(await bridge.call("t.big", {"mib": 8}))

        for i in range(10):
            callers.start_soon(one, i)
        callers.start_soon(fetch_big)
        await anyio.sleep(0.05)
    assert sorted(results) == list(range(10))
    assert len(big_result[0].encode()) > 8 * 1024 * 1024 - 3
    assert bridge.returncode == 0


async def test_sigkill_mid_call_fails_every_pending_call_within_a_second() -> None:
    errors: list[rpcbridge.HostExited] = []
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge:

        async def pending() -> None:
            with pytest.raises(rpcbridge.HostExited) as info:
                await bridge.call("t.sleep", {"ms": 30_000})
            errors.append(info.value)

        async with anyio.create_task_group() as nursery:
            for _ in range(10):
                nursery.start_soon(pending)
            await anyio.sleep(0.2)
            killed_at = anyio.current_time()
            os.kill(bridge.pid, signal.SIGKILL)
        elapsed = anyio.current_time() - killed_at
    assert len(errors) == 10
    assert elapsed < 1.0
    assert errors[0].returncode == -signal.SIGKILL
    assert "SIGKILL" in str(errors[0])


async def test_uncaught_exception_in_the_host_is_reported_with_its_stderr() -> None:
    async with rpcbridge.open_bridge(handlers=[TEST_METHODS]) as bridge:
        await bridge.call("t.crash")
        with anyio.fail_after(5):
            while bridge.returncode is None:  # noqa: ASYNC110 (no event to wait on: polling the status)
                await anyio.sleep(0.02)
        with pytest.raises(rpcbridge.HostExited) as info:
            await bridge.call("rpc.echo")
    assert info.value.returncode == 1
    assert any("boom from a timer" in line for line in info.value.stderr_tail)


async def test_host_notifications_reach_python_handlers() -> None:
    seen: list[Any] = []
    methods = rpcbridge.Methods()

    @methods.register("py.event")
    async def on_event(params: Any) -> None:
        seen.append(params)

    async with rpcbridge.open_bridge(handlers=[TEST_METHODS], methods=methods) as bridge:
        await bridge.call("t.notifyPython", {"method": "py.event", "params": {"n": "é"}})
        await anyio.sleep(0.05)
    assert seen == [{"n": "é"}]


async def test_missing_node_is_a_setup_error_that_says_what_to_do() -> None:
    with pytest.raises(rpcbridge.HostSetupError, match=r"Node\.js"):
        async with rpcbridge.open_bridge(node="/nonexistent/node"):
            pass


async def test_too_old_node_is_a_setup_error_naming_the_version(tmp_path: Path) -> None:
    pretend = tmp_path / "pretend-node-18.js"
    pretend.write_text("Object.defineProperty(process, 'version', { value: 'v18.19.0' });\n")
    env = {**os.environ, "NODE_OPTIONS": f"--require {pretend}"}
    with pytest.raises(rpcbridge.HostSetupError, match=r"v18\.19\.0 is too old") as info:
        async with rpcbridge.open_bridge(env=env):
            pass
    assert "Node.js >= 20" in str(info.value)


async def test_missing_handler_module_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(rpcbridge.HostSetupError, match="not found"):
        async with rpcbridge.open_bridge(handlers=[tmp_path / "nope.mjs"]):
            pass


async def test_method_name_collision_stops_the_host_at_start_up(tmp_path: Path) -> None:
    module = tmp_path / "collides.mjs"
    module.write_text('export const methods = { "rpc.echo": async () => "mine" };\n')
    with pytest.raises(rpcbridge.HostExited) as info:
        async with rpcbridge.open_bridge(handlers=[module]):
            pass
    assert info.value.returncode == 2
    assert "rpc.echo" in "\n".join(info.value.stderr_tail)


async def test_host_runs_from_any_working_directory(tmp_path: Path) -> None:
    async with rpcbridge.open_bridge(cwd=tmp_path, env={**os.environ, "X": "1"}) as bridge:
        assert await bridge.call("rpc.echo", {"cwd": str(tmp_path)}) == {"cwd": str(tmp_path)}


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
async def test_no_process_is_left_behind() -> None:
    async with rpcbridge.open_bridge() as bridge:
        pid = bridge.pid
    assert not await anyio.Path(f"/proc/{pid}").exists()
