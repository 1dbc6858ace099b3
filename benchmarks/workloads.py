"""The workloads, identical for every contender, and how many calls each may make.

Each workload is time-boxed: it stops *issuing* calls after a soft cap but always completes a
minimum count, and what completed is what is counted. So a slow contender costs about the cap,
not a fixed number of calls, and the suite's duration stays predictable.
"""

from __future__ import annotations

import math
import time
from typing import Any

import attrs
import trio

from .contenders import Client, Contender
from .cpu import CpuSnapshot, cpu_snapshot, last_cpus

__all__ = [
    "Budget",
    "EchoMismatch",
    "PayloadBudget",
    "make_text",
    "run_concurrent",
    "run_payload",
    "run_sequential",
    "small_params",
    "warm_up",
]

MiB = 1 << 20

# ASCII, CJK (3 UTF-8 bytes each), emoji (4 bytes; surrogate pairs in JS), quotes, backslashes.
_UNIT = (
    'plain ASCII text with "double quotes" and \\backslashes\\ C:\\dir\\file.txt; '
    "中文字符和标点，日本語のテキスト、한국어 텍스트 "  # noqa: RUF001
    "emoji 🌏🚀😀👍🏽 and 'single' quotes \\\"escaped\\\" \t tab\n"
)


def make_text(size: int) -> str:
    """A string of exactly ``size`` UTF-8 bytes mixing ASCII, CJK and emoji, quotes and
    backslashes (deterministic)."""
    unit_size = len(_UNIT.encode())
    count, rest = divmod(size, unit_size)
    text = _UNIT * count + "x" * rest
    assert len(text.encode()) == size
    return text


def small_params(i: int) -> dict[str, Any]:
    return {"i": i, "text": "hello"}


@attrs.frozen
class PayloadBudget:
    size: int  # UTF-8 bytes of the string
    max_calls: int
    min_calls: int
    cap: float  # seconds

    @property
    def label(self) -> str:
        return f"{self.size // MiB} MiB"

    @property
    def key(self) -> str:
        return f"payload_{self.size // MiB}mib"


@attrs.frozen
class Budget:
    """How much of each workload one (contender, repetition) worker runs."""

    startup_samples: int  # separate open + first call + close cycles, median taken
    warmup_s: float  # unmeasured echo before measuring: ~60% sequential, ~40% concurrent
    warmup_min_calls: int  # ... but at least this many sequential calls (and one burst)
    seq_max: int
    seq_min: int
    seq_cap: float
    conc_tasks: int
    conc_max: int
    conc_min_per_task: int
    conc_cap: float
    payloads: tuple[PayloadBudget, ...]

    @classmethod
    def for_mode(cls, quick: bool) -> Budget:
        if quick:
            return cls(
                startup_samples=1,
                warmup_s=0.4,
                warmup_min_calls=100,
                seq_max=20_000,
                seq_min=100,
                seq_cap=0.3,
                conc_tasks=64,
                conc_max=100_000,
                conc_min_per_task=2,
                conc_cap=0.3,
                payloads=(
                    PayloadBudget(MiB, max_calls=8, min_calls=2, cap=0.3),
                    PayloadBudget(16 * MiB, max_calls=2, min_calls=1, cap=0.6),
                ),
            )
        return cls(
            startup_samples=3,
            warmup_s=0.8,
            warmup_min_calls=300,
            seq_max=100_000,
            seq_min=300,
            seq_cap=1.0,
            conc_tasks=64,
            conc_max=400_000,
            conc_min_per_task=4,
            conc_cap=1.0,
            payloads=(
                PayloadBudget(MiB, max_calls=30, min_calls=4, cap=1.0),
                PayloadBudget(16 * MiB, max_calls=5, min_calls=2, cap=1.6),
            ),
        )

    def for_contender(self, contender: Contender) -> Budget:
        """Smaller minimum counts for designs that start a process per call."""
        if not contender.per_call_process:
            return self
        return attrs.evolve(
            self,
            startup_samples=1,
            warmup_s=0.0,
            warmup_min_calls=1,
            seq_min=3,
            conc_min_per_task=1,
            payloads=tuple(attrs.evolve(p, min_calls=1) for p in self.payloads),
        )


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[index]


class EchoMismatch(AssertionError):
    pass


def _cpu_per_call(
    before: CpuSnapshot | None, calls: int, scale: float = 1e6
) -> dict[str, float | None]:
    """CPU per call of this process and of its children since ``before`` (µs, or ms with
    ``scale=1e3``); ``None`` where it cannot be measured."""
    after = cpu_snapshot()
    unit = "us" if scale == 1e6 else "ms"
    if before is None or after is None or not calls:
        return {f"cpu_py_{unit}_per_call": None, f"cpu_children_{unit}_per_call": None}
    own, children = after.seconds_since(before)
    return {
        f"cpu_py_{unit}_per_call": own / calls * scale,
        f"cpu_children_{unit}_per_call": children / calls * scale,
    }


def _check(result: Any, params: dict[str, Any]) -> None:
    if result != params:
        raise EchoMismatch(f"echo differs from the params sent (i={params.get('i')})")


async def run_sequential(client: Client, budget: Budget) -> dict[str, Any]:
    """Echo small params one call at a time: calls/s and latency percentiles."""
    latencies: list[float] = []
    clock = time.perf_counter
    cpu = cpu_snapshot()
    start = clock()
    deadline = start + budget.seq_cap
    for i in range(budget.seq_max):
        params = small_params(i)
        before = clock()
        result = await client.call(params)
        after = clock()
        latencies.append(after - before)
        _check(result, params)
        if after >= deadline and i + 1 >= budget.seq_min:
            break
    elapsed = clock() - start
    latencies.sort()
    return {
        "calls": len(latencies),
        "elapsed_s": elapsed,
        "calls_per_s": len(latencies) / elapsed,
        "p50_ms": _percentile(latencies, 0.50) * 1e3,
        "p99_ms": _percentile(latencies, 0.99) * 1e3,
        "mean_ms": sum(latencies) / len(latencies) * 1e3,
        **_cpu_per_call(cpu, len(latencies)),
        "cpus_at_end": last_cpus(),
    }


async def run_concurrent(client: Client, budget: Budget) -> dict[str, Any]:
    """``conc_tasks`` tasks each looping on echo: calls/s."""
    clock = time.perf_counter
    issued = 0
    done = 0

    async def loop(task: int) -> None:
        nonlocal issued, done
        mine = 0
        i = task * 10_000_000
        while issued < budget.conc_max and (mine < budget.conc_min_per_task or clock() < deadline):
            issued += 1
            params = small_params(i)
            _check(await client.call(params), params)
            mine += 1
            done += 1
            i += 1

    cpu = cpu_snapshot()
    start = clock()
    deadline = start + budget.conc_cap
    async with trio.open_nursery() as nursery:
        for task in range(budget.conc_tasks):
            nursery.start_soon(loop, task)
    elapsed = clock() - start
    return {
        "tasks": budget.conc_tasks,
        "calls": done,
        "elapsed_s": elapsed,
        "calls_per_s": done / elapsed,
        **_cpu_per_call(cpu, done),
    }


async def run_payload(client: Client, budget: PayloadBudget, text: str) -> dict[str, Any]:
    """Round trips of ``{"i": i, "text": text}``: MiB/s of the string's UTF-8 bytes, one
    direction counted; the echo must be exactly equal."""
    clock = time.perf_counter
    times: list[float] = []
    cpu = cpu_snapshot()
    start = clock()
    deadline = start + budget.cap
    for i in range(budget.max_calls):
        params = {"i": i, "text": text}
        before = clock()
        result = await client.call(params)
        after = clock()
        times.append(after - before)
        _check(result, params)
        del result
        if after >= deadline and i + 1 >= budget.min_calls:
            break
    total = sum(times)
    return {
        "bytes": budget.size,
        "calls": len(times),
        "times_s": times,
        "mib_per_s": budget.size * len(times) / MiB / total,
        **_cpu_per_call(cpu, len(times), scale=1e3),
    }


async def warm_up(client: Client, budget: Budget) -> None:
    """Unmeasured echo calls: sequential, then ``conc_tasks`` tasks looping, for about
    ``warmup_s`` in all. Time-based because V8 (and the CPU) need a few thousand calls to
    settle: measured on the floor, the first 500 calls cost ~5x the steady state."""
    clock = time.perf_counter
    deadline = clock() + budget.warmup_s * 0.6
    i = 0
    while i < budget.warmup_min_calls or clock() < deadline:
        i += 1
        params = small_params(-i)
        _check(await client.call(params), params)
    deadline = clock() + budget.warmup_s * 0.4

    async def loop(task: int) -> None:
        first = True
        i = -10_000_000 * (task + 1)
        while first or clock() < deadline:
            first = False
            i -= 1
            params = small_params(i)
            _check(await client.call(params), params)

    async with trio.open_nursery() as nursery:
        for task in range(budget.conc_tasks):
            nursery.start_soon(loop, task)
