"""The bridge (on trio, asyncio and uvloop) against a scripted stdio peer
(tests/peers/scripted_peer.py) that misbehaves on request: garbage on stdout, trickled frames,
bodies that are not JSON, reversed answers, requests to Python, crashes. Everything goes
through the public API and real pipes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import rpcbridge

pytestmark = pytest.mark.anyio

PEER = [sys.executable, str(Path(__file__).parent / "peers" / "scripted_peer.py")]


async def test_call_and_notify_round_trip() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        assert await bridge.call("echo", {"text": "你好 🌏"}) == {"text": "你好 🌏"}
        assert await bridge.call("echo", [1, 2]) == [1, 2]
        await bridge.notify("anything", {"x": 1})
        assert await bridge.call("echo") is None
        assert bridge.hello is None  # no handshake with a foreign server


async def test_garbage_on_stdout_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        assert await bridge.call("echo", [0]) == [0]
        params = {"garbage": "debug: oops\n"}
        assert await bridge.call("garbage_then_echo", params) == params
        glued = {"garbage": "x"}  # no newline: glued to the next header
        assert await bridge.call("garbage_then_echo", glued) == glued
        assert await bridge.call("echo", [1]) == [1]
    warnings = [r.getMessage() for r in caplog.records if r.name == "rpcbridge"]
    assert any("debug: oops" in w for w in warnings)
    assert any("stray bytes" in w for w in warnings)


async def test_frames_trickled_one_byte_at_a_time() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        assert await bridge.call("trickle", {"t": "é🌏"}) == {"t": "é🌏"}


async def test_a_body_that_is_not_json_is_reported_and_the_call_still_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        assert await bridge.call("not_json_then_echo", [3]) == [3]
    assert any("not JSON" in r.getMessage() for r in caplog.records)


async def test_an_answer_without_result_fails_that_call_with_protocol_error() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        with pytest.raises(rpcbridge.ProtocolError):
            await bridge.call("no_result")
        assert await bridge.call("echo", [1]) == [1]


async def test_out_of_order_answers_reach_their_callers() -> None:
    results: dict[int, Any] = {}
    async with rpcbridge.open_bridge(PEER) as bridge:

        async def one(i: int) -> None:
            results[i] = await bridge.call("reverse", {"i": i, "n": 20})

        async with anyio.create_task_group() as nursery:
            for i in range(20):
                nursery.start_soon(one, i)
    assert results == {i: i for i in range(20)}


async def test_error_answer_raises_typed_error() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        with pytest.raises(rpcbridge.MethodNotFound) as info:
            await bridge.call("no.such.method")
        assert info.value.code == -32601


async def test_inbound_request_without_handler_is_answered_32601() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        reply = await bridge.call("ask", {"method": "py.unknown"})
    assert reply["error"]["code"] == -32601
    assert reply["error"]["data"] == {"method": "py.unknown"}


async def test_inbound_requests_reach_sync_and_async_python_handlers() -> None:
    methods = rpcbridge.Methods()

    @methods.register("py.add")
    def add(params: list[int]) -> int:
        return params[0] + params[1]

    @methods.register("py.slow_upper")
    async def slow_upper(params: dict[str, str]) -> str:
        await anyio.sleep(0.01)
        return params["s"].upper()

    @methods.register("py.fail")
    def fail(params: Any) -> None:
        raise ValueError("no good")

    @methods.register("py.refuse")
    async def refuse(params: Any) -> None:
        raise rpcbridge.InvalidParams("need s", data={"field": "s"})

    async with rpcbridge.open_bridge(PEER, methods=methods) as bridge:
        assert (await bridge.call("ask", {"method": "py.add", "params": [2, 3]}))["result"] == 5
        upper = await bridge.call("ask", {"method": "py.slow_upper", "params": {"s": "é"}})
        assert upper["result"] == "É"
        failed = (await bridge.call("ask", {"method": "py.fail"}))["error"]
        assert failed["code"] == -32603
        assert failed["data"]["name"] == "ValueError"
        assert "no good" in failed["data"]["stack"]
        refused = (await bridge.call("ask", {"method": "py.refuse"}))["error"]
        assert refused == {"code": -32602, "message": "need s", "data": {"field": "s"}}


async def test_handler_registered_on_the_bridge_receives_notifications() -> None:
    seen: list[Any] = []
    async with rpcbridge.open_bridge(PEER) as bridge:

        @bridge.register("host.event")
        def on_event(params: Any) -> None:
            seen.append(params)

        assert await bridge.call("notify_client", {"method": "host.event", "params": {"a": 1}})
        await anyio.sleep(0.05)
    assert seen == [{"a": 1}]


async def test_host_crash_fails_pending_calls_with_exit_code_and_stderr_tail() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        async with anyio.create_task_group() as nursery:
            errors: list[BaseException] = []

            async def pending() -> None:
                try:
                    await bridge.call("hang")
                except rpcbridge.HostExited as exc:
                    errors.append(exc)

            for _ in range(5):
                nursery.start_soon(pending)
            await anyio.sleep(0.05)
            with pytest.raises(rpcbridge.HostExited) as info:
                await bridge.call("exit", {"code": 7, "stderr": "fatal: out of cheese\n"})
        assert len(errors) == 5
        assert info.value.returncode == 7
        assert "fatal: out of cheese" in info.value.stderr_tail
        assert "out of cheese" in str(info.value)
        with pytest.raises(rpcbridge.HostExited):  # later calls fail at once
            await bridge.call("echo")
        with pytest.raises(rpcbridge.HostExited):
            await bridge.notify("echo")


async def test_stderr_lines_reach_logging_at_warning_and_the_tail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="rpcbridge.host")
    async with rpcbridge.open_bridge(PEER) as bridge:
        await bridge.call(
            "stderr", {"lines": ["plain line", '{"level":"error","msg":"structured"}']}
        )
        await anyio.sleep(0.05)
        assert bridge.stderr_tail[-2:] == ["plain line", "error: structured"]
    levels = {r.getMessage(): r.levelno for r in caplog.records if r.name == "rpcbridge.host"}
    assert levels["plain line"] == logging.WARNING
    assert levels["error: structured"] == logging.ERROR


async def test_calls_after_close_raise_bridge_closed() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        pass
    with pytest.raises(rpcbridge.BridgeClosed):
        await bridge.call("echo")
    assert bridge.returncode == 0


async def test_a_peer_that_ignores_stdin_eof_is_terminated(tmp_path: Path) -> None:
    script = tmp_path / "stubborn.py"
    script.write_text(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "sys.stdin.read()\n"
        "time.sleep(60)\n"
    )
    start = anyio.current_time()
    async with rpcbridge.open_bridge([sys.executable, str(script)], shutdown_timeout=0.2) as bridge:
        pass
    assert anyio.current_time() - start < 10
    assert bridge.returncode is not None and bridge.returncode < 0  # killed


async def test_a_missing_executable_is_a_setup_error() -> None:
    with pytest.raises(rpcbridge.HostSetupError):
        async with rpcbridge.open_bridge(["/nonexistent/server"]):
            pass


async def test_params_that_are_not_json_raise_before_sending() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        with pytest.raises(ValueError, match="NaN"):
            await bridge.call("echo", {"x": float("nan")})
        assert await bridge.call("echo", [1]) == [1]


async def test_an_exception_in_the_body_propagates_unwrapped_and_ends_the_child() -> None:
    with pytest.raises(KeyError):
        async with rpcbridge.open_bridge(PEER) as bridge:
            raise KeyError("mine")
    assert bridge.returncode is not None


async def test_cancelled_call_sends_cancel_and_frees_the_entry() -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        with anyio.move_on_after(0.05):
            await bridge.call("hang")
        assert bridge.in_flight == 0
        assert await bridge.call("echo", [1]) == [1]
