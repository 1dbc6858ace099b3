"""CPU-bound throughput, one host against a pool: ``python -m benchmarks.pool`` from the root.

Two CPU-bound JavaScript workloads, each driven by ``--in-flight`` (64) trio tasks calling in a
loop for ``--seconds`` per run; runs alternate between one ``open_bridge()`` host and an
``open_pool(--size)`` (2), ``--repeats`` times each, after a warm-up:

* ``cpu``: ``bench.crunch`` from ``benchmarks/handlers/cpu_bound.mjs``, a synchronous integer
  hash chain (~6 ms) in the host's handler thread (one per host, docs/handlers.md). One host
  is capped at one core however many calls wait: the case a pool exists for.
* ``typescript``: ``compile`` of node/test-support/fixtures/compile/Dashboard.tsx (326 lines)
  with ``"engine": "typescript"`` (``ts.transpileModule`` in the host's worker thread). One
  host already keeps more than one core busy here (the worker, the main thread's JSON and
  messaging, V8's background GC and compiler threads), so on 2 cores a pool can add at most
  ``2 / (one host's cores busy)``: the printed "cores busy" column shows how much that is.

Then a crash check: a pool of 2 under the ``cpu`` load has one member SIGKILLed mid-run; only
the calls in flight on that member may fail (``HostExited``), the other member keeps answering.

Prints a markdown table (calls/s medians, the pool's ratio to one host, cores busy) and the
crash line; ``--json`` prints the raw result as the last line (``python -m benchmarks`` uses
it). Not a test: it measures the machine as much as the code, so it only says whether issue
6's target (a pool of 2 on 2 cores ≥ 1.7x one host, on a CPU-bound handler) was met.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

import rpcbridge

from .cpu import cpu_snapshot

_HERE = Path(__file__).resolve().parent
CPU_HANDLER = _HERE / "handlers" / "cpu_bound.mjs"
DASHBOARD = _HERE.parent / "node" / "test-support" / "fixtures" / "compile" / "Dashboard.tsx"
TARGET_RATIO = 1.7
CRUNCH_ROUNDS = 4_000_000  # ~6 ms of one core per call on the reference machine

Caller = Callable[..., Awaitable[Any]]
Check = Callable[[Any], None]


@attrs.frozen
class Workload:
    """One CPU-bound call, repeated: ``method`` with ``params(i)``, its answer checked."""

    name: str
    description: str
    method: str
    params: Callable[[int], dict[str, Any]]
    check: Check


def crunch_reference(seed: int, rounds: int) -> str:
    """What ``bench.crunch`` must answer, computed in Python (slow: keep ``rounds`` small)."""
    mask = 0xFFFFFFFF
    x = seed or 1
    digest = 0x811C9DC5
    for _ in range(rounds):
        x ^= (x << 13) & mask
        x ^= x >> 17
        x ^= (x << 5) & mask
        digest = ((digest ^ (x & 0xFF)) * 0x01000193) & mask
    return f"{digest:08x}"


def _crunch_workload() -> Workload:
    answers: dict[int, str] = {}

    def check(pair: Any) -> None:  # every seed must always hash to the same digest
        seed, result = pair
        if answers.setdefault(seed, result["digest"]) != result["digest"]:
            raise AssertionError(f"bench.crunch seed {seed}: {result} != {answers[seed]}")

    return Workload(
        name="cpu",
        description=f"bench.crunch ({CRUNCH_ROUNDS:,} rounds in the host's handler thread)",
        method="bench.crunch",
        params=lambda i: {"seed": i % 8, "rounds": CRUNCH_ROUNDS},
        check=check,
    )


def _typescript_workload() -> Workload:
    source = DASHBOARD.read_text(encoding="utf-8")
    params = {"source": source, "filename": "Dashboard.tsx", "engine": "typescript"}

    def check(pair: Any) -> None:
        _, result = pair
        if result["engine"] != "typescript" or not result["code"].startswith("import"):
            raise AssertionError(f"unexpected compile result: {result['code'][:80]!r}")

    return Workload(
        name="typescript",
        description=f"compile Dashboard.tsx ({len(source.splitlines())} lines, engine typescript)",
        method="compile",
        params=lambda i: params,
        check=check,
    )


def workloads() -> list[Workload]:
    return [_crunch_workload(), _typescript_workload()]


@asynccontextmanager
async def one_host() -> AsyncIterator[Caller]:
    """A single bridge (with the CPU-bound handler loaded): its ``call``."""
    async with rpcbridge.open_bridge(handlers=[CPU_HANDLER]) as bridge:
        yield bridge.call


def pool_of(size: int) -> Callable[[], AbstractAsyncContextManager[Caller]]:
    """A pool of ``size`` hosts (each with the CPU-bound handler): its ``call``."""

    @asynccontextmanager
    async def pool() -> AsyncIterator[Caller]:
        async with rpcbridge.open_pool(size, handlers=[CPU_HANDLER]) as opened:
            yield opened.call

    return pool


async def drive(call: Caller, workload: Workload, in_flight: int, seconds: float) -> int:
    """``in_flight`` tasks calling ``workload`` until ``seconds`` have passed: the calls done."""
    done = 0

    async def worker(task: int) -> None:
        nonlocal done
        i = task
        while trio.current_time() < deadline:
            params = workload.params(i)
            workload.check((params.get("seed"), await call(workload.method, params)))
            done += 1
            i += in_flight

    deadline = trio.current_time() + seconds
    async with trio.open_nursery() as nursery:
        for task in range(in_flight):
            nursery.start_soon(worker, task)
    return done


@attrs.frozen
class Run:
    calls_per_s: float
    python_cores: float | None
    host_cores: float | None


async def run_once(
    make: Callable[[], AbstractAsyncContextManager[Caller]],
    workload: Workload,
    in_flight: int,
    seconds: float,
    warm_up: float,
) -> Run:
    """Start the contender, warm it up, then measure calls per second and the cores busy in
    Python and in the hosts (when /proc says)."""
    async with make() as call:
        await drive(call, workload, in_flight, warm_up)  # loads TypeScript, JITs the hash
        before = cpu_snapshot()
        started = trio.current_time()
        done = await drive(call, workload, in_flight, seconds)
        elapsed = trio.current_time() - started
        after = cpu_snapshot()
    if before is None or after is None:
        return Run(done / elapsed, None, None)
    own, hosts = after.seconds_since(before)
    return Run(done / elapsed, own / elapsed, hosts / elapsed)


async def crash_check(size: int, in_flight: int) -> dict[str, Any]:
    """A pool under the ``cpu`` load loses member 0 to SIGKILL: which calls fail?"""
    workload = _crunch_workload()
    failed = answered_after = 0
    killed = trio.Event()
    async with rpcbridge.open_pool(size, handlers=[CPU_HANDLER]) as pool:
        await pool.call("bench.crunch", {"seed": 1, "rounds": 1000})
        victim = pool.members[0]

        async def worker(task: int) -> None:
            nonlocal failed, answered_after
            for i in range(task, task + 8 * in_flight, in_flight):
                params = workload.params(i)
                try:
                    result = await pool.call(workload.method, params)
                except rpcbridge.HostExited:
                    failed += 1
                    continue
                workload.check((params["seed"], result))
                if killed.is_set():
                    answered_after += 1

        async with trio.open_nursery() as nursery:
            for task in range(in_flight):
                nursery.start_soon(worker, task)
            await trio.sleep(0.3)
            victim_in_flight = victim.in_flight
            others_in_flight = pool.in_flight - victim_in_flight
            os.kill(victim.pid, signal.SIGKILL)  # no checkpoint between reading and killing
            killed.set()
        survivors_alive = all(member.alive for member in pool.members[1:])
    return {
        "size": size,
        "victim_in_flight": victim_in_flight,
        "others_in_flight": others_in_flight,
        "failed": failed,
        "answered_after_kill": answered_after,
        "survivors_alive": survivors_alive,
        "ok": 0 < failed <= victim_in_flight and answered_after > 0 and survivors_alive,
    }


async def run_all(
    *, size: int, in_flight: int, seconds: float, warm_up: float, repeats: int
) -> dict[str, Any]:
    contenders: list[tuple[str, Callable[[], AbstractAsyncContextManager[Caller]]]] = [
        ("one host", one_host),
        (f"pool of {size}", pool_of(size)),
    ]
    result: dict[str, Any] = {
        "size": size,
        "in_flight": in_flight,
        "seconds": seconds,
        "repeats": repeats,
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg()[0],
        "target_ratio": TARGET_RATIO,
        "workloads": {},
    }
    for workload in workloads():
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in contenders}
        for repeat in range(repeats):
            for name, make in contenders if repeat % 2 == 0 else contenders[::-1]:
                run = await run_once(make, workload, in_flight, seconds, warm_up)
                runs[name].append(attrs.asdict(run))
                print(
                    f"  {workload.name} run {repeat + 1} {name:>10}: {run.calls_per_s:8.1f} calls/s",
                    file=sys.stderr,
                    flush=True,
                )
        medians = {
            name: {
                "calls_per_s": statistics.median(run["calls_per_s"] for run in name_runs),
                "python_cores": _median([run["python_cores"] for run in name_runs]),
                "host_cores": _median([run["host_cores"] for run in name_runs]),
            }
            for name, name_runs in runs.items()
        }
        single = statistics.median(run["calls_per_s"] for run in runs["one host"])
        pooled = statistics.median(run["calls_per_s"] for run in runs[f"pool of {size}"])
        result["workloads"][workload.name] = {
            "description": workload.description,
            "runs": runs,
            "medians": medians,
            "ratio": pooled / single,
        }
    result["crash"] = await crash_check(size, in_flight)
    return result


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _cores(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def render(result: dict[str, Any]) -> str:
    """The markdown table and the crash line for ``result`` (from ``run_all``)."""
    size = result["size"]
    lines = [
        f"Pool of {size} against one host, CPU-bound handlers, {result['in_flight']} calls in "
        f"flight, {result['seconds']:g} s per run, medians of {result['repeats']} runs; "
        f"{result['cpus']} CPUs. Target: pool of 2 on 2 cores ≥ {result['target_ratio']}x one "
        "host on a CPU-bound handler.",
        "",
        "| workload | one host | pool | pool / one host | cores busy: one host (hosts + Python) "
        "| cores busy: pool |",
        "|---|---|---|---|---|---|",
    ]
    for name, workload in result["workloads"].items():
        single, pooled = workload["medians"].values()
        lines.append(
            f"| {name}: {workload['description']} | {single['calls_per_s']:,.1f}/s "
            f"| {pooled['calls_per_s']:,.1f}/s | **{workload['ratio']:.2f}x** "
            f"| {_cores(single['host_cores'])} + {_cores(single['python_cores'])} "
            f"| {_cores(pooled['host_cores'])} + {_cores(pooled['python_cores'])} |"
        )
    cpu = result["workloads"].get("cpu")
    if cpu is not None:
        met = "met" if cpu["ratio"] >= result["target_ratio"] else "NOT met"
        lines += ["", f"Target on the CPU-bound handler (`cpu`): {cpu['ratio']:.2f}x, {met}."]
    typescript = result["workloads"].get("typescript")
    busy = typescript and typescript["medians"]["one host"]["host_cores"]
    if busy:
        lines.append(
            f"`typescript`: one host alone already keeps {busy:.2f} cores busy, so on "
            f"{result['cpus']} cores a pool can add at most {result['cpus'] / busy:.2f}x."
        )
    crash = result["crash"]
    lines += [
        "",
        f"Crash: SIGKILL of member 0 of {crash['size']} under load, with "
        f"{crash['victim_in_flight']} calls in flight on it and {crash['others_in_flight']} on "
        f"the others: {crash['failed']} calls failed with HostExited, "
        f"{crash['answered_after_kill']} were answered after the kill, the other members "
        + ("stayed alive" if crash["survivors_alive"] else "DIED")
        + (
            " (as it should be)."
            if crash["ok"]
            else " (NOT as it should be: only the killed member's calls may fail)."
        ),
    ]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pool", description=__doc__)
    parser.add_argument("--size", type=int, default=2, help="pool size (default 2)")
    parser.add_argument("--in-flight", type=int, default=64, help="concurrent calls (64)")
    parser.add_argument("--seconds", type=float, help="measured time per run (5; quick: 2)")
    parser.add_argument("--warm-up", type=float, default=1.0, help="warm-up per run (1 s)")
    parser.add_argument("--repeats", type=int, help="runs per contender (3; quick: 1)")
    parser.add_argument("--quick", action="store_true", help="short run (~20 s)")
    parser.add_argument("--json", action="store_true", help="print the raw result last")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    result = trio.run(
        lambda: run_all(
            size=args.size,
            in_flight=args.in_flight,
            seconds=args.seconds or (2.0 if args.quick else 5.0),
            warm_up=args.warm_up,
            repeats=args.repeats or (1 if args.quick else 3),
        )
    )
    print(render(result))
    if args.json:
        print(json.dumps(result))
    return 0 if result["crash"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
