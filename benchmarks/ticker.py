"""Is the event loop ever blocked? A 10 ms ticker's lateness while 64 compiles run.

    python -m benchmarks.ticker [--quick] [--json]

For each loop (trio, asyncio, asyncio on uvloop) a fresh process opens the bridge, warms the
compile path up, then runs a ticker task — sleep 10 ms, note how late it woke — first alone
(the machine's own noise) and then while 64 tasks loop on ``compile`` of the benchmark fixture
(docs/performance.md). It prints the worst and the 99th-percentile lateness of each; the
target (issue 12) is a worst lateness of at most 5 ms under load on asyncio.

On a busy machine a tick is also late when the OS does not run Python at all (both cores taken
by Node, esbuild and whatever else runs). So each tick also notes the CPU time the loop's
thread used meanwhile: lateness the loop's own work can explain is at most that
(``min(lateness, thread CPU)``, the "blocked" columns); the rest is the machine's. Where
the loop lets us see its steps, the longest single step (one task step on trio, one callback
on asyncio's own loop), counted in the thread's CPU time — how long our code held the loop,
not how long the OS left it waiting — is measured too; uvloop's callbacks are compiled, so it
has none. ``--json``
prints the raw result as the last line (``python -m benchmarks`` uses it: the ``ticker``
section).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio

__all__ = ["main", "render", "run_all"]

TICK = 0.010
IN_FLIGHT = 64
TARGET_MS = 5.0
LOOPS = ("trio", "asyncio", "uvloop")
_ROOT = Path(__file__).resolve().parent.parent


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def _tick(until: float, ticks: list[tuple[float, float]]) -> None:
    """Sleep ``TICK`` at a time until ``until``; note (lateness, the thread's CPU meanwhile)."""
    clock, cpu = time.perf_counter, time.thread_time
    while clock() < until:
        due = clock() + TICK
        cpu_before = cpu()
        await anyio.sleep(TICK)
        ticks.append((max(0.0, clock() - due), cpu() - cpu_before))


class _LongestStep:
    """The longest stretch (in the thread's CPU time) the loop ran one task step (trio) or one
    callback (asyncio's own loop) without returning to it."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started: float | None = None
        self._undo: list[Any] = []

    # trio.abc.Instrument's hooks
    def before_task_step(self, task: object) -> None:
        self._started = time.thread_time()

    def after_task_step(self, task: object) -> None:
        if self._started is not None:  # not the step that was running when we were added
            self.longest = max(self.longest, time.thread_time() - self._started)
            self._started = None

    def start(self) -> bool:
        """Start timing the running loop's steps; ``False`` where it cannot (uvloop)."""
        import sniffio

        if sniffio.current_async_library() == "trio":
            import trio

            trio.lowlevel.add_instrument(self)  # type: ignore[arg-type]
            self._undo.append(lambda: trio.lowlevel.remove_instrument(self))  # type: ignore[arg-type]
            return True
        import asyncio.events

        if type(asyncio.get_running_loop()).__module__.startswith("uvloop"):
            return False
        handle = asyncio.events.Handle
        run = handle._run
        clock = time.thread_time

        def timed(this: asyncio.events.Handle) -> None:
            started = clock()
            run(this)
            self.longest = max(self.longest, clock() - started)

        handle._run = timed  # type: ignore[method-assign,assignment]
        self._undo.append(lambda: setattr(handle, "_run", run))
        return True

    def stop(self) -> None:
        for undo in self._undo:
            undo()
        self._undo.clear()


def _summary(ticks: list[tuple[float, float]]) -> dict[str, Any]:
    lateness = [late for late, _ in ticks]
    blocked = [min(late, busy) for late, busy in ticks]
    return {
        "ticks": len(ticks),
        "worst_ms": max(lateness) * 1e3,
        "p99_ms": _percentile(lateness, 0.99) * 1e3,
        "p50_ms": _percentile(lateness, 0.50) * 1e3,
        "blocked_worst_ms": max(blocked) * 1e3,
        "blocked_p99_ms": _percentile(blocked, 0.99) * 1e3,
    }


async def measure(seconds: float, pinned: bool = False) -> dict[str, Any]:
    """The ticker alone, then under 64 concurrent compiles, on the running loop.

    ``pinned``: the host (and the esbuild it starts) runs on CPU 1 and this process on CPU 0,
    so that a late tick can only be the loop's own doing, not the OS giving both CPUs to Node
    and esbuild. The child inherits the affinity it is started with, so this process moves to
    CPU 1 to start the host and then to CPU 0.
    """
    import rpcbridge

    from .workloads import CompileCheck

    checker = CompileCheck()
    params = checker.params
    if pinned:
        os.sched_setaffinity(0, {1})
    async with rpcbridge.open_bridge() as bridge:
        if pinned:
            os.sched_setaffinity(0, {0})
        for _ in range(20):  # warm up esbuild's service and the host's compile path
            checker.check((await bridge.call("compile", params))["code"], params)
        idle: list[tuple[float, float]] = []
        await _tick(time.perf_counter() + seconds / 2, idle)

        loaded: list[tuple[float, float]] = []
        compiles = 0
        until = time.perf_counter() + seconds

        async def compile_loop() -> None:
            nonlocal compiles
            while time.perf_counter() < until:
                checker.check((await bridge.call("compile", params))["code"], params)
                compiles += 1

        steps = _LongestStep()
        started = time.perf_counter()
        timed = steps.start()
        try:
            async with anyio.create_task_group() as group:
                for _ in range(IN_FLIGHT):
                    group.start_soon(compile_loop)
                group.start_soon(_tick, until, loaded)
        finally:
            steps.stop()
        elapsed = time.perf_counter() - started
    return {
        "idle": _summary(idle),
        "loaded": _summary(loaded),
        "longest_step_ms": steps.longest * 1e3 if timed else None,
        "compiles_per_s": compiles / elapsed,
    }


def _run_one(loop: str, seconds: float, pinned: bool = False) -> dict[str, Any]:
    """One loop's measurement in a fresh process (the last stdout line is its JSON)."""
    argv = [sys.executable, "-m", "benchmarks.ticker", "--one", loop, "--seconds", str(seconds)]
    if pinned:
        argv.append("--pinned")
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    done = subprocess.run(
        argv, cwd=_ROOT, env=env, stdout=subprocess.PIPE, text=True, timeout=120, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and {0, 1} <= os.sched_getaffinity(0)


def run_all(seconds: float) -> dict[str, Any]:
    """Every loop, each in its own process: the CPUs shared as the OS likes, then (where there
    are two CPUs to pin to) the host on one CPU and Python on the other."""
    pinned = (
        {f"{loop}, pinned": _run_one(loop, seconds, pinned=True) for loop in LOOPS}
        if _can_pin()
        else {}
    )
    return {
        "tick_ms": TICK * 1e3,
        "in_flight": IN_FLIGHT,
        "seconds": seconds,
        "target_ms": TARGET_MS,
        "loops": {loop: _run_one(loop, seconds) for loop in LOOPS} | pinned,
    }


def render(result: dict[str, Any]) -> str:
    """The markdown table and the target line for ``result`` (from ``run_all``)."""
    lines = [
        f"Event-loop lateness: a {result['tick_ms']:g} ms ticker alone, then while "
        f"{result['in_flight']} compiles are in flight ({result['seconds']:g} s); worst and "
        f"p99 of how late each tick woke; blocked = the part the loop's own work can explain "
        f"(at most its thread's CPU time in that tick). Target: worst ≤ {result['target_ms']:g} "
        'ms under load on asyncio. "pinned": the host and its esbuild on CPU 1, Python on '
        "CPU 0, so that the OS cannot take the loop's CPU away: what is late there is the loop.",
        "",
        "| loop | idle worst | idle p99 | loaded worst | loaded p99 | loaded blocked worst "
        "| loaded blocked p99 | longest loop step | ticks | compiles/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for loop, one in result["loops"].items():
        idle, loaded = one["idle"], one["loaded"]
        lines.append(
            f"| {loop} | {idle['worst_ms']:.2f} ms | {idle['p99_ms']:.2f} ms "
            f"| **{loaded['worst_ms']:.2f} ms** | {loaded['p99_ms']:.2f} ms "
            f"| **{loaded['blocked_worst_ms']:.2f} ms** | {loaded['blocked_p99_ms']:.2f} ms "
            f"| {_ms(one.get('longest_step_ms'))} | {loaded['ticks']} "
            f"| {one['compiles_per_s']:,.0f} |"
        )
    verdicts = []
    for loop in ("asyncio", "uvloop", "asyncio, pinned", "uvloop, pinned"):
        one = result["loops"].get(loop)
        if one is not None:
            worst, blocked = one["loaded"]["worst_ms"], one["loaded"]["blocked_worst_ms"]
            verdict = "pass" if worst <= result["target_ms"] else "FAIL"
            step = one.get("longest_step_ms")
            longest = "" if step is None else f", longest loop step {step:.2f} ms"
            verdicts.append(
                f"{loop} {worst:.2f} ms ({verdict}; blocked at most {blocked:.2f} ms{longest})"
            )
    lines += ["", "Ticker target under load: " + "; ".join(verdicts) + "."]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ticker", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (~15 s)")
    parser.add_argument("--json", action="store_true", help="print the raw result last")
    parser.add_argument("--seconds", type=float, help="loaded seconds per loop (4; quick: 2)")
    parser.add_argument("--one", choices=LOOPS, help=argparse.SUPPRESS)
    parser.add_argument("--pinned", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seconds = args.seconds or (2.0 if args.quick else 4.0)
    if args.one:
        backend = "trio" if args.one == "trio" else "asyncio"
        options = {} if backend == "trio" else {"use_uvloop": args.one == "uvloop"}
        one = anyio.run(measure, seconds, args.pinned, backend=backend, backend_options=options)
        print(json.dumps(one))
        return 0
    result = run_all(seconds)
    print(render(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
