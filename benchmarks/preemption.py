"""What preemption costs and how fast it is: ``python -m benchmarks.preemption`` from the root.

Handler modules run in a worker thread the host can end (``node/lib/handler-thread.js``); this
measures, on one machine, in one run:

* **per-call cost of the handler thread**: ``stuck.echo`` (``benchmarks/handlers/runaway.mjs``)
  of ``{"i": i, "text": "hello"}``, one call at a time (µs per call, median of ``--repeats``
  runs) and with 64 trio tasks looping (calls/s), with the module in the handler thread (the
  default) and on the main thread (``RPCBRIDGE_HANDLER_THREAD=main``); ``rpc.echo`` (a built-in,
  always on the main thread) is the floor both are compared with;
* **time from timeout to the caller's exception**: ``stuck.spin`` with ``timeout=0.2``,
  ``--spins`` times; the time past 0.2 s until ``CallTimeout`` is raised (the caller's side:
  Python raises it at the deadline whatever the host does) and until the host answers again
  on the handler thread (the thread was ended and a fresh one loaded the module);
* **echo p99 of other callers while a handler spins**: 8 tasks looping on ``rpc.echo`` while
  ``stuck.spin`` runs for 1 s (the main thread stays free), and 8 tasks looping on
  ``stuck.echo`` while spins with ``timeout=0.2`` follow each other (those echoes queue behind
  each spin on the same thread until it is ended: their p99 is the preemption bound).

Prints a markdown table; ``--json`` prints the raw result as the last line (``python -m
benchmarks`` uses it as its ``preemption`` section). Numbers from a shared machine are
provisional: the ratios in the same run are what to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import trio

import rpcbridge

HANDLER = Path(__file__).resolve().parent / "handlers" / "runaway.mjs"
PARAMS = {"i": 0, "text": "hello"}
SPIN_TIMEOUT = 0.2


def _env(thread: str) -> dict[str, str]:
    return {**os.environ, "RPCBRIDGE_HANDLER_THREAD": thread}


async def _sequential_us(bridge: rpcbridge.Bridge, method: str, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await bridge.call(method, PARAMS)
    return (time.perf_counter() - started) / calls * 1e6


async def _concurrent_rate(bridge: rpcbridge.Bridge, method: str, seconds: float) -> float:
    count = 0
    deadline = trio.current_time() + seconds

    async def loop() -> None:
        nonlocal count
        while trio.current_time() < deadline:
            await bridge.call(method, PARAMS)
            count += 1

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(64):
            nursery.start_soon(loop)
    return count / (time.perf_counter() - started)


async def per_call_cost(calls: int, seconds: float, repeats: int) -> dict[str, Any]:
    """µs per sequential call and calls/s at 64 in flight: thread, main, and rpc.echo.

    Both hosts run side by side and every measurement alternates between them (and, on each,
    between its handler echo and rpc.echo) in short rounds, so the shared machine's drifts
    fall on all of them alike; each cell is the median over the rounds."""
    seq: dict[str, list[float]] = {"worker": [], "main": [], "rpc.echo": []}
    rate: dict[str, list[float]] = {"worker": [], "main": [], "rpc.echo": []}
    async with (
        rpcbridge.open_bridge(handlers=[HANDLER], env=_env("worker")) as worker,
        rpcbridge.open_bridge(handlers=[HANDLER], env=_env("main")) as main,
    ):
        subjects = [("worker", worker, "stuck.echo"), ("main", main, "stuck.echo")]
        subjects += [("rpc.echo", main, "rpc.echo")]
        for _, bridge, method in subjects:  # warm-up: JIT on both sides
            await _sequential_us(bridge, method, 500)
        for round_ in range(repeats * 5):
            order = subjects if round_ % 2 == 0 else subjects[::-1]
            for key, bridge, method in order:
                seq[key].append(await _sequential_us(bridge, method, calls // 5))
            for key, bridge, method in order:
                rate[key].append(await _concurrent_rate(bridge, method, seconds / 5))
    return {
        "sequential_us": {k: statistics.median(v) for k, v in seq.items()},
        "concurrent_calls_per_s": {k: statistics.median(v) for k, v in rate.items()},
    }


async def _latencies_while(
    bridge: rpcbridge.Bridge, method: str, until: trio.Event, out: list[float]
) -> None:
    while not until.is_set():
        t0 = time.perf_counter()
        await bridge.call(method, PARAMS, timeout=10)
        out.append(time.perf_counter() - t0)


def _p99_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] * 1000 if len(samples) >= 2 else float("nan")


async def preemption(spins: int) -> dict[str, Any]:
    """Timeout → exception, timeout → thread answering again, and other callers' p99."""
    past_timeout: list[float] = []
    back_after: list[float] = []
    builtin: list[float] = []
    handler: list[float] = []
    async with rpcbridge.open_bridge(handlers=[HANDLER]) as bridge:
        await bridge.call("stuck.echo", PARAMS)
        for _ in range(spins):
            t0 = time.perf_counter()
            try:
                await bridge.call("stuck.spin", timeout=SPIN_TIMEOUT)
            except rpcbridge.CallTimeout:
                past_timeout.append(time.perf_counter() - t0 - SPIN_TIMEOUT)
            await bridge.call("stuck.echo", PARAMS, timeout=10)
            back_after.append(time.perf_counter() - t0 - SPIN_TIMEOUT)

        # rpc.echo callers while a handler spins for 1 s
        done = trio.Event()
        async with trio.open_nursery() as nursery:
            for _ in range(8):
                nursery.start_soon(_latencies_while, bridge, "rpc.echo", done, builtin)
            with trio.move_on_after(1.0):
                await bridge.call("stuck.spin")
            done.set()

        # handler-module echo callers while spins (timeout=0.2) follow each other
        done = trio.Event()
        async with trio.open_nursery() as nursery:
            for _ in range(8):
                nursery.start_soon(_latencies_while, bridge, "stuck.echo", done, handler)
            for _ in range(max(1, spins // 2)):
                with contextlib.suppress(rpcbridge.CallTimeout):
                    await bridge.call("stuck.spin", timeout=SPIN_TIMEOUT)
                await trio.sleep(0.3)
            done.set()
        stats = await bridge.call("rpc.stats")
    return {
        "spins": spins,
        "timeout_to_exception_ms": statistics.median(past_timeout) * 1000,
        "timeout_to_exception_max_ms": max(past_timeout) * 1000,
        "timeout_to_thread_back_ms": statistics.median(back_after) * 1000,
        "timeout_to_thread_back_max_ms": max(back_after) * 1000,
        "builtin_echo_p99_ms_while_spinning": _p99_ms(builtin),
        "builtin_echo_calls_while_spinning": len(builtin),
        "handler_echo_p99_ms_with_spins": _p99_ms(handler),
        "handler_echo_max_ms_with_spins": max(handler, default=float("nan")) * 1000,
        "handler_echo_calls_with_spins": len(handler),
        "thread_restarts": stats["handlerThread"]["restarts"],
    }


async def run(quick: bool) -> dict[str, Any]:
    """The whole section."""
    calls, seconds, repeats, spins = (1000, 1.0, 1, 4) if quick else (3000, 2.0, 3, 10)
    return {
        "per_call": await per_call_cost(calls, seconds, repeats),
        "preemption": await preemption(spins),
    }


def render(result: dict[str, Any]) -> str:
    """The markdown table and the preemption lines."""
    seq = result["per_call"]["sequential_us"]
    rate = result["per_call"]["concurrent_calls_per_s"]
    floor_seq, floor_rate = seq["rpc.echo"], rate["rpc.echo"]
    lines = [
        "| echo through | one at a time (µs/call) | 64 in flight (calls/s) |",
        "|---|---|---|",
        f"| `rpc.echo` (built-in, main thread: the floor) | {floor_seq:.1f} (1.00) "
        f"| {floor_rate:,.0f} (1.00) |",
    ]
    labels = (
        ("main", "a handler module on the main thread"),
        ("worker", "a handler module in the handler thread (default)"),
    )
    for key, label in labels:
        lines.append(
            f"| {label} | {seq[key]:.1f} ({floor_seq / seq[key]:.2f}) "
            f"| {rate[key]:,.0f} ({rate[key] / floor_rate:.2f}) |"
        )
    extra = seq["worker"] - seq["main"]
    lines.append("")
    lines.append(
        f"The handler thread costs {extra:.1f} µs per call one at a time and "
        f"{rate['worker'] / rate['main']:.2f}x the main thread's throughput at 64 in flight."
    )
    p = result["preemption"]
    lines.append(
        f"Preemption ({p['spins']} spins, timeout {SPIN_TIMEOUT} s): CallTimeout raised "
        f"{p['timeout_to_exception_ms']:.1f} ms after the timeout (median; max "
        f"{p['timeout_to_exception_max_ms']:.1f} ms); the handler thread answers again "
        f"{p['timeout_to_thread_back_ms']:.0f} ms after it (max {p['timeout_to_thread_back_max_ms']:.0f} ms)."
    )
    lines.append(
        f"Other callers while a handler spins: rpc.echo p99 {p['builtin_echo_p99_ms_while_spinning']:.2f} ms "
        f"({p['builtin_echo_calls_while_spinning']} calls in 1 s); a handler-module echo, queued "
        f"behind each spin until it is ended: p99 {p['handler_echo_p99_ms_with_spins']:.1f} ms, "
        f"max {p['handler_echo_max_ms_with_spins']:.0f} ms ({p['handler_echo_calls_with_spins']} calls)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.preemption [--quick] [--json]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.preemption", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls and spins (~15 s)")
    parser.add_argument("--json", action="store_true", help="also print the raw result as JSON")
    args = parser.parse_args(argv)
    result = trio.run(run, args.quick)
    print(render(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
