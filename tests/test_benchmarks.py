"""The benchmark suite's contenders still work: each one opens, echoes and compiles.

``python -m benchmarks`` is run by hand, so without these a contender could rot unnoticed
(a renamed API, a moved script, a missing dependency). One echo and one tiny compile each,
not a measurement.
"""

from __future__ import annotations

import signal
from typing import Any

import anyio
import pytest
import trio

from benchmarks.contenders import CONTENDERS, DEFAULT_CONTENDERS, REFERENCE, event_loop

PARAMS = {"i": 7, "text": 'héllo 中文 🚀 "quoted" \\ back\\slash\n', "nested": [1, None, True]}
TSX = "export const Hello = ({ name }: { name: string }) => <p>Hello {name}</p>;\n"


@pytest.mark.parametrize("name", list(CONTENDERS))
def test_contender_echoes_non_ascii_params_and_compiles_tsx(name: str) -> None:
    """Each contender on the event loop the benchmark worker runs it on."""

    async def check() -> str:
        with anyio.fail_after(30):
            async with CONTENDERS[name].open() as client:
                assert await client.call(PARAMS) == PARAMS
                code: str = await client.compile({"source": TSX, "filename": "Hello.tsx"})
        return code

    backend, options = event_loop(CONTENDERS[name])
    code = anyio.run(check, backend=backend, backend_options=options)
    assert "react/jsx-runtime" in code
    assert "string" not in code  # the type annotation was stripped


def test_default_contenders_are_known_and_start_with_the_reference() -> None:
    assert DEFAULT_CONTENDERS[0] == REFERENCE
    assert set(DEFAULT_CONTENDERS) <= set(CONTENDERS)


class _Spy:
    """Records the processes ``trio.lowlevel.open_process`` starts."""

    def __init__(self) -> None:
        self.processes: list[trio.Process] = []
        self._open = trio.lowlevel.open_process

    async def __call__(self, *args: Any, **kwargs: Any) -> trio.Process:
        process = await self._open(*args, **kwargs)
        self.processes.append(process)
        return process


async def test_http_server_exits_on_close_and_is_killed_on_cancellation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = _Spy()
    monkeypatch.setattr(trio.lowlevel, "open_process", spy)
    with trio.fail_after(30):
        async with CONTENDERS["http"].open() as client:
            assert await client.call({"a": 1}) == {"a": 1}
        (server,) = spy.processes
        assert server.returncode == 0  # stdin closed: the server stopped by itself

        with trio.move_on_after(0.05):  # cancelled while it starts or serves
            async with CONTENDERS["http"].open() as client:
                await client.call({"a": 1})
                await trio.sleep_forever()
    assert spy.processes[1].returncode == -signal.SIGKILL


async def test_pool_benchmark_handler_computes_what_its_python_reference_says() -> None:
    """``bench.crunch`` (the pool benchmark's CPU-bound handler) is the hash chain
    ``crunch_reference`` describes, so the pool's answers are checked against real work."""
    import rpcbridge
    from benchmarks.pool import CPU_HANDLER, crunch_reference

    async with rpcbridge.open_bridge(handlers=[CPU_HANDLER]) as bridge:
        for seed, rounds in [(0, 1), (7, 1000), (0xFFFFFFFF, 4321)]:
            result = await bridge.call("bench.crunch", {"seed": seed, "rounds": rounds})
            assert result == {"digest": crunch_reference(seed, rounds)}
        with pytest.raises(rpcbridge.InvalidParams):
            await bridge.call("bench.crunch", {"seed": -1, "rounds": 10})


async def test_the_preemption_section_measures_a_spin_and_renders_it() -> None:
    """``benchmarks.preemption``'s spin part runs (one spin) and its report renders."""
    from benchmarks import preemption

    with trio.fail_after(60):
        result = await preemption.preemption(spins=1)
    assert 0 <= result["timeout_to_exception_ms"] < 300  # not a hang: Python raises at the deadline
    assert result["thread_restarts"] >= 2  # the timed spin, the 1 s spin, the spins under load
    assert result["builtin_echo_calls_while_spinning"] > 0
    per_call = {
        "sequential_us": {"worker": 2.0, "main": 1.0, "rpc.echo": 1.0},
        "concurrent_calls_per_s": {"worker": 1.0, "main": 2.0, "rpc.echo": 2.0},
    }
    text = preemption.render({"per_call": per_call, "preemption": result})
    assert "costs 1.0 µs per call one at a time and 0.50x" in text
    assert "CallTimeout raised" in text


@pytest.mark.parametrize("pinned", [False, True], ids=["shared", "pinned"])
def test_the_ticker_section_measures_and_renders_with_cpus_shared_or_pinned(
    pinned: bool,
) -> None:
    import os

    from benchmarks import ticker

    if pinned and not ticker._can_pin():
        pytest.skip("pinning needs CPUs 0 and 1")
    before = os.sched_getaffinity(0)
    try:
        one = anyio.run(ticker.measure, 0.3, pinned, backend="asyncio")
        if pinned:
            assert os.sched_getaffinity(0) == {0}  # Python moved off the host's CPU
    finally:
        os.sched_setaffinity(0, before)
    assert one["loaded"]["ticks"] > 0 and one["idle"]["ticks"] > 0
    assert one["compiles_per_s"] > 0
    text = ticker.render(
        {"tick_ms": 10, "in_flight": 64, "seconds": 0.3, "target_ms": 5, "loops": {"asyncio": one}}
    )
    assert "| asyncio |" in text and "Ticker target under load: asyncio" in text


def test_the_sync_throughput_line_judges_each_sync_contender_against_the_trio_bridge() -> None:
    from benchmarks.report import sync_throughput_line

    def metrics(seq: float, c64: float) -> dict[str, Any]:
        return {
            "metrics": {
                "seq_calls_per_s": {"median": seq},
                "c64_calls_per_s": {"median": c64},
            }
        }

    line = sync_throughput_line(
        {
            "rpcbridge": metrics(10_000, 60_000),
            "rpcbridge-sync": metrics(7_000, 18_000),
            "rpcbridge-sync-1cpu": metrics(5_000, 54_000),
        }
    )
    assert line is not None
    assert "`rpcbridge-sync` sequential **0.70x** (≥ 0.6x: pass), 64 threads **0.30x**" in line
    assert "64 threads **0.30x** (≥ 0.4x: FAIL)" in line
    assert "`rpcbridge-sync-1cpu` sequential **0.50x** (≥ 0.6x: FAIL)" in line
    assert "64 threads **0.90x** (≥ 0.4x: pass)" in line
    assert sync_throughput_line({"rpcbridge": metrics(1, 1)}) is None
