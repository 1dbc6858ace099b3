"""One (contender, repetition) in a fresh Python process: every workload, one JSON line out.

    python -m benchmarks.worker --contender floor [--quick] [--rep N] [--seq-unpinned] [--cpus 0]

The suite (``python -m benchmarks``) runs this once per contender and repetition, so no state
(warm JIT caches, threads, GC generations, a leaked child) carries over from one contender to
the next. The JSON line on stdout is the only output there; diagnostics go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from functools import partial
from typing import Any

import anyio

from .contenders import CONTENDERS, Contender, event_loop
from .cpu import pinned_together
from .workloads import (
    Budget,
    CompileCheck,
    compile_op,
    make_text,
    run_concurrent,
    run_payload,
    run_sequential,
    small_params,
    warm_up,
    warm_up_compile,
)

__all__ = ["main", "run_contender"]


async def run_contender(
    contender: Contender, budget: Budget, *, seq_pin: int | None = 0
) -> dict[str, Any]:
    """Run every workload against ``contender``; return the raw numbers.

    ``seq_pin``: during the sequential workload, pin this process and its children to the
    ``seq_pin``-th allowed CPU (``None``: leave them where the scheduler puts them).
    """
    texts = {payload.size: make_text(payload.size) for payload in budget.payloads}
    clock = time.perf_counter
    startups: list[float] = []
    # One unmeasured cycle first: lazy imports, trio's process machinery, the disk cache.
    async with contender.open() as client:
        await client.call(small_params(0))
    # Extra startup samples: open, first call, close.
    for _ in range(budget.startup_samples - 1):
        before = clock()
        async with contender.open() as client:
            await client.call(small_params(0))
            startups.append((clock() - before) * 1e3)

    before = clock()
    async with contender.open() as client:
        await client.call(small_params(0))
        startups.append((clock() - before) * 1e3)

        await warm_up(client, budget)
        results: dict[str, Any] = {"startup_ms": startups}
        if seq_pin is not None and hasattr(contender, "cpu_index"):
            seq_pin = contender.cpu_index  # its own CPU: threads it pins stay with the rest
        if seq_pin is None:
            results["seq"] = await run_sequential(client, budget)
            results["seq"]["pinned_cpu"] = None
        else:
            with pinned_together(seq_pin) as cpu:
                results["seq"] = await run_sequential(client, budget)
            results["seq"]["pinned_cpu"] = cpu
        results["c64"] = await run_concurrent(client, budget)
        for payload in budget.payloads:
            # One unmeasured call of each size first: heap growth and the large-body paths
            # (nothing to warm in a process started per call).
            if not contender.per_call_process:
                await client.call({"i": -1, "text": texts[payload.size]})
            results[payload.key] = await run_payload(client, payload, texts[payload.size])

        # Compile workloads, unpinned for every contender: esbuild's Go service (a child of
        # the host, or of each per-call process) does most of the work, on its own threads.
        checker = CompileCheck()
        await warm_up_compile(client, budget, checker)
        op = compile_op(checker)
        results["compile_seq"] = await run_sequential(
            client,
            budget,
            op,
            max_calls=budget.compile_seq_max,
            min_calls=budget.compile_seq_min,
            cap=budget.compile_seq_cap,
        )
        results["compile_c64"] = await run_concurrent(
            client,
            budget,
            op,
            max_calls=budget.compile_conc_max,
            min_per_task=budget.compile_conc_min_per_task,
            cap=budget.compile_conc_cap,
        )
        results["compile_code_sha256"] = checker.sha256
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker", description=__doc__)
    parser.add_argument("--contender", required=True, choices=sorted(CONTENDERS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rep", type=int, default=0)
    parser.add_argument(
        "--cpus", help="pin this worker and its children to these CPUs, e.g. 0 or 0,1"
    )
    parser.add_argument(
        "--seq-unpinned",
        action="store_true",
        help="do not pin both processes to one CPU during the sequential workload",
    )
    args = parser.parse_args(argv)
    if args.cpus:
        os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})
    contender = CONTENDERS[args.contender]
    budget = Budget.for_mode(args.quick).for_contender(contender)
    started = time.perf_counter()
    out: dict[str, Any] = {
        "contender": contender.name,
        "rep": args.rep,
        "quick": args.quick,
        "cpus": args.cpus,
    }
    try:
        seq_pin = None if args.seq_unpinned else args.rep
        backend, options = event_loop(contender)
        work = partial(run_contender, contender, budget, seq_pin=seq_pin)
        out.update(anyio.run(work, backend=backend, backend_options=options))
        out["ok"] = True
    except Exception as exc:
        traceback.print_exc()
        out["ok"] = False
        out["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    out["wall_s"] = time.perf_counter() - started
    sys.stdout.write(json.dumps(out) + "\n")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
