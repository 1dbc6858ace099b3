"""CPU-bound throughput: one host against a pool, ``python -m benchmarks.pool`` from the root.

Each call compiles node/test-support/fixtures/compile/Dashboard.tsx (~300 lines of TSX) with
``"engine": "typescript"``: ``ts.transpileModule`` in the host's TypeScript worker thread, one
job at a time per host, so a single host keeps about one core busy however many calls wait.
``--in-flight`` tasks (64) call in a loop for ``--seconds`` per run; runs alternate between one
``open_bridge()`` host and an ``open_pool(--size)`` (2), ``--repeats`` times each, after a
warm-up that loads TypeScript in every host. Prints calls/s per run, the medians, and the
pool's ratio to one host. Issue 6's target: a pool of 2 on 2 cores ≥ 1.7x one host.

Not a test: it measures the machine as much as the code (a shared or busy machine lowers the
ratio), so it asserts nothing and only says whether the target was met. Each run also prints
the cores busy in Python and in the hosts: one host alone keeps more than one core busy (V8's
background GC and compiler threads run beside the TypeScript worker), which caps the ratio on
a small machine at about cores / (one host's cores busy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import trio

import rpcbridge

from .cpu import cpu_snapshot

DASHBOARD = (
    Path(__file__).resolve().parent.parent
    / "node"
    / "test-support"
    / "fixtures"
    / "compile"
    / "Dashboard.tsx"
)
TARGET_RATIO = 1.7

Caller = Callable[..., Awaitable[Any]]


@asynccontextmanager
async def one_host() -> AsyncIterator[Caller]:
    """A single bridge: its ``call``."""
    async with rpcbridge.open_bridge() as bridge:
        yield bridge.call


def pool_of(size: int) -> Callable[[], AbstractAsyncContextManager[Caller]]:
    """A pool of ``size`` hosts: its ``call``."""

    @asynccontextmanager
    async def pool() -> AsyncIterator[Caller]:
        async with rpcbridge.open_pool(size) as opened:
            yield opened.call

    return pool


async def drive(call: Caller, params: dict[str, Any], in_flight: int, seconds: float) -> int:
    """``in_flight`` tasks calling ``compile`` until ``seconds`` have passed: the calls done."""
    done = 0
    expected_prefix = "import"

    async def worker() -> None:
        nonlocal done
        while trio.current_time() < deadline:
            result = await call("compile", params)
            if result["engine"] != "typescript" or not result["code"].startswith(expected_prefix):
                raise AssertionError(f"unexpected compile result: {result['code'][:80]!r}")
            done += 1

    deadline = trio.current_time() + seconds
    async with trio.open_nursery() as nursery:
        for _ in range(in_flight):
            nursery.start_soon(worker)
    return done


async def run_once(
    make: Callable[[], AbstractAsyncContextManager[Caller]],
    params: dict[str, Any],
    in_flight: int,
    seconds: float,
    warm_up: float,
) -> tuple[float, str]:
    """Start the contender, warm it up, then measure: calls per second, and where the CPU
    went (cores busy in Python and in the hosts, the hosts' CPU per call) when /proc says."""
    async with make() as call:
        await drive(call, params, in_flight, warm_up)  # loads TypeScript in every host
        before = cpu_snapshot()
        started = trio.current_time()
        done = await drive(call, params, in_flight, seconds)
        elapsed = trio.current_time() - started
        after = cpu_snapshot()
    cpu = ""
    if before is not None and after is not None:
        own, hosts = after.seconds_since(before)
        cpu = (
            f"  cores busy: Python {own / elapsed:.2f}, hosts {hosts / elapsed:.2f}; "
            f"host CPU {hosts / done * 1000:.1f} ms/call"
        )
    return done / elapsed, cpu


async def main(args: argparse.Namespace) -> int:
    source = DASHBOARD.read_text(encoding="utf-8")
    params = {"source": source, "filename": "Dashboard.tsx", "engine": "typescript"}
    contenders: list[tuple[str, Callable[[], AbstractAsyncContextManager[Caller]]]] = [
        ("one host", one_host),
        (f"pool of {args.size}", pool_of(args.size)),
    ]
    print(
        f"compile Dashboard.tsx ({len(source.splitlines())} lines, engine typescript), "
        f"{args.in_flight} in flight, {args.seconds:g} s per run, {args.repeats} runs each; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    rates: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for repeat in range(args.repeats):
        order = contenders if repeat % 2 == 0 else contenders[::-1]
        for name, make in order:
            rate, cpu = await run_once(make, params, args.in_flight, args.seconds, args.warm_up)
            rates[name].append(rate)
            print(f"  run {repeat + 1} {name:>10}: {rate:8.1f} calls/s{cpu}", flush=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print()
    for name, median in medians.items():
        print(f"{name:>10}: {median:8.1f} calls/s (median)")
    single, pooled = medians["one host"], medians[f"pool of {args.size}"]
    ratio = pooled / single
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(
        f"     ratio: {ratio:.2f}x (target >= {TARGET_RATIO}x for a pool of 2 on 2 cores: {verdict})"
    )
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pool", description=__doc__)
    parser.add_argument("--size", type=int, default=2, help="pool size (default 2)")
    parser.add_argument("--in-flight", type=int, default=64, help="concurrent calls (64)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per run (5)")
    parser.add_argument("--warm-up", type=float, default=1.0, help="warm-up per run (1 s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender (3)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(trio.run(main, parse_args(sys.argv[1:])))
