"""The workloads, identical for every contender, and how many calls each may make.

Each workload is time-boxed: it stops *issuing* calls after a soft cap but always completes a
minimum count, and what completed is what is counted. So a slow contender costs about the cap,
not a fixed number of calls, and the suite's duration stays predictable.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import attrs

from .contenders import Client, Contender
from .cpu import CpuSnapshot, cpu_snapshot, last_cpus

__all__ = [
    "COMPILE_FIXTURE",
    "Budget",
    "CompileCheck",
    "EchoMismatch",
    "Op",
    "PayloadBudget",
    "compile_op",
    "echo_op",
    "make_text",
    "run_concurrent",
    "run_payload",
    "run_sequential",
    "small_params",
    "warm_up",
    "warm_up_compile",
]

MiB = 1 << 20

COMPILE_FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "node"
    / "test-support"
    / "fixtures"
    / "compile"
    / "Dashboard.tsx"
)
"""The compile workloads' source: a realistic 326-line TSX component."""

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


class CompileCheck:
    """Every compile of the fixture must return the same code as the first one (its SHA-256
    goes into the results, so the report can check every contender produced the same)."""

    def __init__(self) -> None:
        self.source = COMPILE_FIXTURE.read_text(encoding="utf-8")
        self.params: dict[str, Any] = {"source": self.source, "filename": "Dashboard.tsx"}
        self.code: str | None = None

    def check(self, code: Any, params: dict[str, Any]) -> None:
        if not isinstance(code, str) or "jsx-runtime" not in code:
            raise EchoMismatch("compile returned no JSX-runtime JavaScript")
        if self.code is None:
            self.code = code
        elif code != self.code:
            raise EchoMismatch("compile returned different code for the same source")

    @property
    def sha256(self) -> str | None:
        import hashlib

        return None if self.code is None else hashlib.sha256(self.code.encode()).hexdigest()


@attrs.frozen
class Op:
    """What the sequential / concurrent workloads call: echo or compile."""

    method: str
    params: Callable[[int], dict[str, Any]]
    call: Callable[[Client, dict[str, Any]], Awaitable[Any]]
    unwrap: Callable[[Any], Any]  # blocking result -> what ``check`` takes
    check: Callable[[Any, dict[str, Any]], None]


def echo_op() -> Op:
    return Op(
        method="rpc.echo",
        params=small_params,
        call=lambda client, params: client.call(params),
        unwrap=lambda result: result,
        check=_check,
    )


def compile_op(checker: CompileCheck) -> Op:
    params = checker.params
    return Op(
        method="compile",
        params=lambda i: params,
        call=lambda client, params: client.compile(params),
        unwrap=lambda result: result["code"],
        check=checker.check,
    )


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
    compile_warmup_s: float  # unmeasured compiles: ~1/3 sequential, ~2/3 concurrent
    compile_seq_max: int
    compile_seq_min: int
    compile_seq_cap: float
    compile_conc_max: int
    compile_conc_min_per_task: int
    compile_conc_cap: float
    warmup_burst: bool = True  # the concurrent part of the warm-ups

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
                compile_warmup_s=0.3,
                compile_seq_max=5_000,
                compile_seq_min=20,
                compile_seq_cap=0.3,
                compile_conc_max=20_000,
                compile_conc_min_per_task=1,
                compile_conc_cap=0.3,
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
            compile_warmup_s=0.6,
            compile_seq_max=20_000,
            compile_seq_min=50,
            compile_seq_cap=0.8,
            compile_conc_max=100_000,
            compile_conc_min_per_task=2,
            compile_conc_cap=0.8,
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
            compile_warmup_s=0.0,
            compile_seq_min=3,
            compile_conc_min_per_task=1,
            warmup_burst=False,
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


def _seq_result(latencies: list[float], elapsed: float) -> dict[str, Any]:
    latencies.sort()
    return {
        "calls": len(latencies),
        "elapsed_s": elapsed,
        "calls_per_s": len(latencies) / elapsed,
        "p50_ms": _percentile(latencies, 0.50) * 1e3,
        "p99_ms": _percentile(latencies, 0.99) * 1e3,
        "mean_ms": sum(latencies) / len(latencies) * 1e3,
    }


def _blocking_sequential(
    blocking: Callable[[str, dict[str, Any]], Any],
    op: Op,
    max_calls: int,
    min_calls: int,
    cap: float,
) -> tuple[list[float], float]:
    """The sequential loop in the calling (not the event loop's) thread, timed there."""
    latencies: list[float] = []
    clock = time.perf_counter
    method, make, unwrap, check = op.method, op.params, op.unwrap, op.check
    start = clock()
    deadline = start + cap
    for i in range(max_calls):
        params = make(i)
        before = clock()
        result = blocking(method, params)
        after = clock()
        latencies.append(after - before)
        check(unwrap(result), params)
        if after >= deadline and i + 1 >= min_calls:
            break
    return latencies, clock() - start


async def run_sequential(
    client: Client,
    budget: Budget,
    op: Op | None = None,
    *,
    max_calls: int | None = None,
    min_calls: int | None = None,
    cap: float | None = None,
) -> dict[str, Any]:
    """``op`` (default: echo of small params) one call at a time: calls/s and latency
    percentiles. A blocking client runs the loop in one plain thread, timed inside it."""
    op = op or echo_op()
    max_calls = budget.seq_max if max_calls is None else max_calls
    min_calls = budget.seq_min if min_calls is None else min_calls
    cap = budget.seq_cap if cap is None else cap
    cpu = cpu_snapshot()
    blocking = client.blocking
    if blocking is not None:
        latencies, elapsed = await anyio.to_thread.run_sync(
            _blocking_sequential, blocking, op, max_calls, min_calls, cap
        )
    else:
        latencies = []
        clock = time.perf_counter
        start = clock()
        deadline = start + cap
        for i in range(max_calls):
            params = op.params(i)
            before = clock()
            result = await op.call(client, params)
            after = clock()
            latencies.append(after - before)
            op.check(result, params)
            if after >= deadline and i + 1 >= min_calls:
                break
        elapsed = clock() - start
    return {
        **_seq_result(latencies, elapsed),
        **_cpu_per_call(cpu, len(latencies)),
        "cpus_at_end": last_cpus(),
    }


def _blocking_concurrent(
    blocking: Callable[[str, dict[str, Any]], Any],
    op: Op,
    tasks: int,
    max_calls: int,
    min_per_task: int,
    cap: float,
) -> tuple[int, float]:
    """``tasks`` plain threads each looping on ``blocking``; (calls done, elapsed)."""
    clock = time.perf_counter
    barrier = threading.Barrier(tasks + 1)
    done = [0] * tasks
    errors: list[BaseException] = []
    deadline = 0.0
    method, make, unwrap, check = op.method, op.params, op.unwrap, op.check

    def loop(task: int) -> None:
        barrier.wait()
        mine = 0
        i = task * 10_000_000
        try:
            while (mine < min_per_task or clock() < deadline) and mine * tasks < max_calls:
                params = make(i)
                check(unwrap(blocking(method, params)), params)
                mine += 1
                i += 1
        except BaseException as exc:
            errors.append(exc)
        done[task] = mine

    threads = [threading.Thread(target=loop, args=(task,), daemon=True) for task in range(tasks)]
    for thread in threads:
        thread.start()
    start = clock()
    deadline = start + cap
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = clock() - start
    if errors:
        raise errors[0]
    return sum(done), elapsed


async def run_concurrent(
    client: Client,
    budget: Budget,
    op: Op | None = None,
    *,
    max_calls: int | None = None,
    min_per_task: int | None = None,
    cap: float | None = None,
) -> dict[str, Any]:
    """``conc_tasks`` tasks each looping on ``op`` (default: echo): calls/s. A blocking
    client runs ``conc_tasks`` plain threads, timed from their common start."""
    op = op or echo_op()
    max_calls = budget.conc_max if max_calls is None else max_calls
    min_per_task = budget.conc_min_per_task if min_per_task is None else min_per_task
    cap = budget.conc_cap if cap is None else cap
    clock = time.perf_counter
    issued = 0
    done = 0

    async def loop(task: int) -> None:
        nonlocal issued, done
        mine = 0
        i = task * 10_000_000
        while issued < max_calls and (mine < min_per_task or clock() < deadline):
            issued += 1
            params = op.params(i)
            op.check(await op.call(client, params), params)
            mine += 1
            done += 1
            i += 1

    cpu = cpu_snapshot()
    blocking = client.blocking
    if blocking is not None:
        done, elapsed = await anyio.to_thread.run_sync(
            _blocking_concurrent, blocking, op, budget.conc_tasks, max_calls, min_per_task, cap
        )
    else:
        start = clock()
        deadline = start + cap
        async with anyio.create_task_group() as nursery:
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
    if not budget.warmup_burst:
        return
    deadline = clock() + budget.warmup_s * 0.4

    async def loop(task: int) -> None:
        first = True
        i = -10_000_000 * (task + 1)
        while first or clock() < deadline:
            first = False
            i -= 1
            params = small_params(i)
            _check(await client.call(params), params)

    async with anyio.create_task_group() as nursery:
        for task in range(budget.conc_tasks):
            nursery.start_soon(loop, task)


async def warm_up_compile(client: Client, budget: Budget, checker: CompileCheck) -> None:
    """Unmeasured compiles: one, then ~1/3 of ``compile_warmup_s`` sequential and the rest with
    ``conc_tasks`` in flight (esbuild's Go service, V8 and the host's compile path settle)."""
    op = compile_op(checker)
    await run_sequential(
        client, budget, op, max_calls=10_000, min_calls=1, cap=budget.compile_warmup_s / 3
    )
    if budget.warmup_burst and budget.compile_warmup_s > 0:
        await run_concurrent(
            client,
            budget,
            op,
            max_calls=100_000,
            min_per_task=1,
            cap=budget.compile_warmup_s * 2 / 3,
        )
