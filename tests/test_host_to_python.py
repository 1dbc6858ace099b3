"""Host → Python: a handler module calls Python with ``ctx.request`` and gets the result (or the
error) back in the host; the host cancels Python handlers; progress and the trace.

The host loads tests/fixtures/host-to-python.mjs (namespace ``h2p``), whose methods return what
their ``ctx.request`` to Python produced — ``{"result": ...}`` or ``{"error": {...}}`` — so the
tests see exactly what reached the host.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import rpcbridge

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"
H2P = FIXTURES / "host-to-python.mjs"


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition``: log records arrive through ``logging``, with no event to wait on."""
    while not condition():  # noqa: ASYNC110 (nothing to wait on but the log records)
        await anyio.sleep(0.01)


def late_answers(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The host's warnings about answers from Python to requests it no longer waits for."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "rpcbridge.host" and "Python sent a response for unknown id" in r.getMessage()
    ]


def answers_sent_to_host_request(caplog: pytest.LogCaptureFixture, host_id: int) -> list[Any]:
    """Every answer Python sent for the host's request ``host_id``, from the trace."""
    answers = []
    for record in caplog.records:
        if record.name != "rpcbridge.trace" or not record.getMessage().startswith("->"):
            continue
        body = json.loads(record.getMessage().split(" ms ", 1)[1])
        if isinstance(body, dict) and body.get("id") == host_id and "method" not in body:
            answers.append(body)
    return answers


def host_request_ids(caplog: pytest.LogCaptureFixture, method: str) -> list[int]:
    """The ids of the host's requests for ``method``, from the trace."""
    ids = []
    for record in caplog.records:
        message = record.getMessage()
        if record.name == "rpcbridge.trace" and message.startswith("<-"):
            found = re.search(rf" id=(\d+) {re.escape(method)} ", message)
            if found:
                ids.append(int(found.group(1)))
    return ids


async def test_a_handler_module_calls_python_and_gets_the_result() -> None:
    methods = rpcbridge.Methods()

    @methods.register("py.add")
    def add(params: dict[str, int]) -> int:
        return params["a"] + params["b"]

    @methods.register("py.shout")
    async def shout(params: list[str]) -> dict[str, str]:
        await anyio.sleep(0.01)
        return {"shouted": params[0].upper()}

    async with rpcbridge.open_bridge(handlers=[H2P], methods=methods) as bridge:
        with anyio.fail_after(10):
            added = await bridge.call("h2p.ask", {"method": "py.add", "params": {"a": 2, "b": 3}})
            shouted = await bridge.call("h2p.ask", {"method": "py.shout", "params": ["straße 🌏"]})
            missing = await bridge.call("h2p.ask", {"method": "py.missing", "params": [1]})

            # many at once, each answer to its own request
            results: dict[int, Any] = {}

            async def one(i: int) -> None:
                params = {"method": "py.add", "params": {"a": i, "b": 1000}}
                results[i] = await bridge.call("h2p.ask", params)

            async with anyio.create_task_group() as nursery:
                for i in range(50):
                    nursery.start_soon(one, i)
    assert added == {"result": 5}
    assert shouted == {"result": {"shouted": "STRASSE 🌏"}}
    assert missing["error"]["code"] == -32601
    assert missing["error"]["data"] == {"method": "py.missing"}
    assert results == {i: {"result": i + 1000} for i in range(50)}


async def test_a_python_handler_that_raises_reaches_the_host_as_an_error() -> None:
    methods = rpcbridge.Methods()

    @methods.register("py.broken")
    def broken(params: Any) -> None:
        raise KeyError("no such record")

    @methods.register("py.async_broken")
    async def async_broken(params: Any) -> None:
        await anyio.lowlevel.checkpoint()
        raise ZeroDivisionError("division by zero")

    @methods.register("py.refuse")
    async def refuse(params: Any) -> None:
        raise rpcbridge.InvalidParams("need an id", data={"field": "id"})

    @methods.register("py.custom")
    def custom(params: Any) -> None:
        raise rpcbridge.RpcError("quota exceeded", 4711, {"limit": 3})

    async with rpcbridge.open_bridge(handlers=[H2P], methods=methods) as bridge:
        with anyio.fail_after(10):
            got = {
                name: (await bridge.call("h2p.ask", {"method": f"py.{name}"}))["error"]
                for name in ("broken", "async_broken", "refuse", "custom")
            }
            assert await bridge.call("rpc.echo", [1]) == [1]
    assert got["broken"]["code"] == -32603
    assert got["broken"]["message"] == "KeyError: 'no such record'"
    assert got["broken"]["data"]["name"] == "KeyError"
    assert "raise KeyError" in got["broken"]["data"]["stack"]
    assert got["async_broken"]["code"] == -32603
    assert got["async_broken"]["message"] == "ZeroDivisionError: division by zero"
    assert got["refuse"] == {
        "name": "RpcError",
        "code": -32602,
        "message": "need an id",
        "data": {"field": "id"},
    }
    assert got["custom"]["code"] == 4711 and got["custom"]["data"] == {"limit": 3}


def slow_handler(*, seconds: float, seen: list[str]) -> rpcbridge.Methods:
    """Methods with one async handler, ``py.slow``, that sleeps ``seconds`` and records in
    ``seen`` whether it was cancelled or finished."""
    methods = rpcbridge.Methods()

    @methods.register("py.slow")
    async def slow(params: Any) -> str:
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            seen.append("cancelled")
            raise
        seen.append("finished")
        return "finished"

    return methods


async def test_a_host_side_timeout_cancels_the_python_handler_answered_once_32800(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="rpcbridge.trace")
    seen: list[str] = []
    methods = slow_handler(seconds=30, seen=seen)

    async with rpcbridge.open_bridge(handlers=[H2P], methods=methods, trace=True) as bridge:
        with anyio.fail_after(10):
            answer = await bridge.call(
                "h2p.askWithTimeout", {"method": "py.slow", "params": {}, "ms": 100}
            )
            await wait_until(lambda: bool(late_answers(caplog)))  # the host logged the answer
            await anyio.sleep(0.2)  # room for a second answer, which must not come
            assert await bridge.call("rpc.echo", [1]) == [1]
    assert answer["error"]["name"] == "TimeoutError"
    assert seen == ["cancelled"]
    [host_id] = host_request_ids(caplog, "py.slow")
    [sent] = answers_sent_to_host_request(caplog, host_id)
    assert sent["error"]["code"] == -32800
    [received] = late_answers(caplog)
    assert f"unknown id {host_id}" in received and "-32800" in received


async def test_cancelling_a_call_aborts_its_ctx_request_and_the_python_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Python gives up on h2p.ask; the host aborts ctx.signal, which cancels the ctx.request
    it made to Python: the Python handler is cancelled and answers it once, -32800."""
    caplog.set_level(logging.DEBUG, logger="rpcbridge.trace")
    started = anyio.Event()
    seen: list[str] = []
    methods = rpcbridge.Methods()

    @methods.register("py.wait")
    async def wait(params: Any) -> None:
        started.set()
        try:
            await anyio.sleep(30)
        except anyio.get_cancelled_exc_class():
            seen.append("cancelled")
            raise

    async with rpcbridge.open_bridge(handlers=[H2P], methods=methods, trace=True) as bridge:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as nursery:

                async def ask() -> None:
                    with pytest.raises(rpcbridge.CallTimeout):
                        await bridge.call("h2p.ask", {"method": "py.wait"}, timeout=5)

                nursery.start_soon(ask)
                await started.wait()
                nursery.cancel_scope.cancel()
            await wait_until(lambda: bool(late_answers(caplog)))
            await anyio.sleep(0.2)
    assert seen == ["cancelled"]
    [host_id] = host_request_ids(caplog, "py.wait")
    [sent] = answers_sent_to_host_request(caplog, host_id)
    assert sent["error"]["code"] == -32800
    assert len(late_answers(caplog)) == 1


async def test_a_cancel_that_arrives_with_its_request_means_the_handler_never_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """docs/protocol.md: the receiver of $/cancelRequest answers -32800 "exactly once, also
    when the cancel arrives before the handler started". The host sends the request and its
    cancel in one write (h2p.askAndCancelAtOnce); Python must not run the handler to its end
    and must answer -32800.

    (This caught a bug: the handler's cancel scope used to be registered only once its task
    had started, so a cancel read in the same chunk as its request found nothing to cancel.)"""
    caplog.set_level(logging.DEBUG, logger="rpcbridge.trace")
    seen: list[str] = []
    methods = slow_handler(seconds=0.3, seen=seen)

    async with rpcbridge.open_bridge(handlers=[H2P], methods=methods, trace=True) as bridge:
        with anyio.fail_after(10):
            answer = await bridge.call("h2p.askAndCancelAtOnce", {"method": "py.slow"})
            await wait_until(lambda: bool(late_answers(caplog)))
    assert answer["error"]["message"] == "cancelled by the host at once"
    [host_id] = host_request_ids(caplog, "py.slow")
    [sent] = answers_sent_to_host_request(caplog, host_id)
    assert "finished" not in seen
    assert sent.get("error", {}).get("code") == -32800, sent


async def test_progress_values_arrive_in_order_before_the_result() -> None:
    async with rpcbridge.open_bridge(handlers=[H2P]) as bridge:
        events: list[Any] = []
        with anyio.fail_after(10):
            result = await bridge.call(
                "h2p.steps", {"count": 30, "delayMs": 0}, on_progress=events.append
            )
        events.append(result)
    assert events == [{"step": i} for i in range(1, 31)] + [{"steps": 30}]


async def test_the_trace_shows_both_directions(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rpcbridge.trace")
    methods = rpcbridge.Methods()
    methods.add("py.double", lambda params: params["n"] * 2)
    async with rpcbridge.open_bridge(handlers=[H2P], methods=methods, trace=True) as bridge:
        with anyio.fail_after(10):
            answer = await bridge.call("h2p.ask", {"method": "py.double", "params": {"n": 21}})
            await bridge.call("h2p.steps", {"count": 1}, on_progress=lambda value: None)
    assert answer == {"result": 42}
    lines = [r.getMessage() for r in caplog.records if r.name == "rpcbridge.trace"]
    pid = bridge.pid

    def one(pattern: str) -> str:
        found = [line for line in lines if re.match(pattern, line)]
        assert found, f"no trace line matches {pattern!r} in:\n" + "\n".join(lines)
        return found[0]

    call_out = one(rf"-> pid {pid} id=(\d+) h2p\.ask \d+ B \+[\d.]+ ms ")
    call_id = re.search(r"id=(\d+)", call_out)
    assert call_id is not None
    host_request = one(rf"<- pid {pid} id=(\d+) py\.double ")
    host_id = re.search(r"id=(\d+)", host_request)
    assert host_id is not None
    one(rf"-> pid {pid} id={host_id.group(1)} result .*\"result\":42")
    one(rf"<- pid {pid} id={call_id.group(1)} result .*\{{\"result\":42\}}")
    one(rf"<- pid {pid} \$/progress ")
