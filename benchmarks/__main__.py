"""Run the benchmark suite: ``python -m benchmarks [--quick]`` from the repository root.

Every (contender, repetition) runs in a fresh worker process (``benchmarks.worker``); the
contender order is rotated each repetition and reversed on odd ones, so the shared machine's
drifts spread over all contenders. Cells are medians over repetitions, each followed by its
ratio to the floor (1.00 = as good as the floor, < 1 = worse). Prints one markdown table (plus
the small in-process core-overhead table) and writes every raw number, with the machine it ran
on, to ``benchmarks/results/latest.json`` (and a timestamped copy).

Progress goes to stderr; stdout carries only the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import core_overhead, memory, pool, preemption, project, ticker
from .contenders import CONTENDERS, DEFAULT_CONTENDERS, REFERENCE
from .machine import describe, load_average, machine_info
from .report import (
    METRICS,
    TARGETS,
    aggregate,
    compile_outputs_line,
    render_table,
    sync_latency_line,
    sync_throughput_line,
)

_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(_ROOT) + (os.pathsep + path if path else "")
    return env


def _run_worker(
    name: str, rep: int, quick: bool, timeout: float, cpus: str | None, seq_unpinned: bool
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "benchmarks.worker", "--contender", name, "--rep", str(rep)]
    if quick:
        argv.append("--quick")
    if seq_unpinned:
        argv.append("--seq-unpinned")
    if cpus:
        argv += ["--cpus", cpus]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=_ROOT, env=_worker_env(), stdout=subprocess.PIPE, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"contender": name, "rep": rep, "ok": False, "error": f"timed out after {timeout} s"}
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        result = {
            "contender": name,
            "rep": rep,
            "ok": False,
            "error": f"worker exited with {done.returncode} and no result",
        }
    result.setdefault("wall_s", time.perf_counter() - started)
    return result


def _order(names: list[str], rep: int) -> list[str]:
    shift = rep % len(names)
    order = names[shift:] + names[:shift]
    return order[::-1] if rep % 2 else order


SECTIONS = ("core", "memory", "pool", "preemption", "ticker", "project")
"""The parts run after the contenders' table, each in its own process: ``core`` (per-call
bookkeeping without I/O, ``core_overhead.py``), ``memory`` (peak RSS for a 16 MiB round trip
and 10 000 calls in flight, ``memory.py``), ``pool`` (one host against ``open_pool``, with
CPU-bound handlers, and a member's crash, ``pool.py``), ``preemption`` (the handler thread's
per-call cost, timeout → exception, other callers' echo p99 while a handler spins,
``preemption.py``), ``ticker`` (how late a 10 ms ticker wakes on trio, asyncio and uvloop while
64 compiles run, ``ticker.py``) and ``project`` (a generated 600-file project: ``rpcbridge
compile`` against the esbuild CLI, type checks against ``tsc --noEmit``, ``project.py``)."""

_SECTION_MODULES = {
    "core": core_overhead,
    "memory": memory,
    "pool": pool,
    "preemption": preemption,
    "ticker": ticker,
    "project": project,
}


def _run_section(name: str, quick: bool, timeout: float) -> dict[str, Any] | None:
    """Run ``python -m benchmarks.<module> --json [--quick]``; its last stdout line is JSON."""
    module = _SECTION_MODULES[name].__name__
    argv = [sys.executable, "-m", module, "--json"]
    if quick:
        argv.append("--quick")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=_ROOT, env=_worker_env(), stdout=subprocess.PIPE, text=True, timeout=timeout
        )
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, IndexError, ValueError) as exc:
        print(f"{name} failed: {exc!r}", file=sys.stderr)
        return None
    print(f"{name}: done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return result


def _notes(
    summary: dict[str, Any],
    info: dict[str, Any],
    reps: int,
    quick: bool,
    cpus: str | None,
    seq_unpinned: bool,
) -> str:
    reference = summary.get(REFERENCE, {})
    mode = "quick" if quick else "full"
    pinned = f", pinned to CPU {cpus}" if cpus else ""
    lines = [
        f"Medians of {reps} repetitions ({mode} mode{pinned}"
        + (", the per-call-process baselines once" if quick else "")
        + "), each in a fresh worker process; "
        f"contender order rotated per repetition. In parentheses: ratio to `{REFERENCE}`, "
        "**1.00 = as good as the floor, < 1 = worse, > 1 = better** (throughput: x / floor; "
        "startup and latency: floor / x).",
        "Targets: " + "; ".join(target.goal for target in TARGETS) + ".",
        "Workloads: startup = spawn → first echo answered (rpcbridge: includes its rpc.hello "
        "handshake; http: server spawn, port handshake and the client's first "
        'connection); seq = echo of {"i": i, "text": "hello"} one at a time'
        + (
            " (unpinned)"
            if seq_unpinned
            else ", both processes pinned to one CPU (a cross-CPU wake-up on this VM would "
            "otherwise add a random ~35 µs per round trip)"
        )
        + "; 64-conc = 64 tasks each looping on echo (trio tasks; asyncio tasks for "
        "`rpcbridge-asyncio` and `rpcbridge-uvloop`, which run every workload on that loop); 1 / 16 MiB = round trip of a string of that many UTF-8 "
        "bytes (ASCII, CJK, emoji, quotes, backslashes), MiB/s one direction, echo checked; "
        "compile = esbuild transform of node/test-support/fixtures/compile/Dashboard.tsx "
        "(326 lines; loader tsx, jsx automatic, target esnext, no source map), one at a time "
        "and 64 in flight, unpinned, output checked. `rpcbridge-sync` (and "
        "`rpcbridge-sync-1cpu`, whose bridge thread and calling threads share one CPU while "
        "its host keeps every CPU) runs its seq and 64-conc workloads in plain threads (one "
        "thread looping; 64 threads looping), timed inside them. "
        "Baselines (the designs rpcbridge replaces; judged by no target themselves): "
        "`spawn-stdout` starts one node process per call, JSON on its stdin/stdout; "
        "`spawn-tempfile` the same script per call, JSON through temp files "
        "(`--input`/`--output`, written, read and deleted through trio.Path); their 64-conc "
        "cells are mostly one call per task (64 processes at once). `http` is a long-lived "
        "express 5 server on 127.0.0.1 (express.json(), res.json()) called through "
        "httpx.AsyncClient under trio with a keep-alive pool of 64 connections.",
        f"Machine: {describe(info)}.",
    ]
    if reference and not reference.get("repetitions_ok"):
        lines.append(f"`{REFERENCE}` failed: no ratios.")
    return "\n\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short run (under a minute with the default contenders)",
    )
    parser.add_argument("--reps", type=int, help="repetitions (default: 5, quick: 3)")
    parser.add_argument(
        "--contenders",
        default=",".join(DEFAULT_CONTENDERS),
        help=f"comma-separated, from: {', '.join(CONTENDERS)}; or 'all' "
        f"(default: {','.join(DEFAULT_CONTENDERS)})",
    )
    parser.add_argument(
        "--seq-unpinned",
        action="store_true",
        help="measure the sequential workload where the scheduler puts the processes, instead "
        "of pinning both to one CPU (see docs/performance.md)",
    )
    parser.add_argument(
        "--sections",
        default=None,
        help=f"comma-separated, from: {', '.join(SECTIONS)}, or 'none': what runs after the "
        "contenders' table (default: all; quick: core only, the others have their own --quick: "
        "python -m benchmarks.memory --quick, python -m benchmarks.pool --quick, "
        "python -m benchmarks.ticker --quick)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--worker-timeout", type=float, default=180.0)
    parser.add_argument(
        "--cpus",
        help="pin every worker and its children to these CPUs (e.g. 0: one CPU, which makes "
        "sequential latency steady on a VM; see docs/performance.md). Default: unpinned",
    )
    args = parser.parse_args(argv)

    wanted = CONTENDERS if args.contenders == "all" else args.contenders.split(",")
    names = [name.strip() for name in wanted if name.strip()]
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders: {', '.join(unknown)}")
    names = [name for name in CONTENDERS if name in names]  # table order
    if args.sections is None:
        wanted_sections = ["core"] if args.quick else list(SECTIONS)
    elif args.sections == "none":
        wanted_sections = []
    else:
        wanted_sections = [name.strip() for name in args.sections.split(",") if name.strip()]
        if unknown_sections := [name for name in wanted_sections if name not in SECTIONS]:
            parser.error(f"unknown sections: {', '.join(unknown_sections)}")
    reps = args.reps or (3 if args.quick else 5)
    info = machine_info()
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()

    runs: list[dict[str, Any]] = []
    for rep in range(reps):
        for name in _order(names, rep):
            if rep and args.quick and CONTENDERS[name].per_call_process:
                continue  # quick: the per-call-process baselines (~10 s each) run once
            result = _run_worker(
                name, rep, args.quick, args.worker_timeout, args.cpus, args.seq_unpinned
            )
            runs.append(result)
            status = "ok" if result.get("ok") else f"FAILED: {result.get('error')}"
            print(
                f"[{time.perf_counter() - started:6.1f} s] rep {rep + 1}/{reps} {name}: "
                f"{status} ({result.get('wall_s', 0):.1f} s)",
                file=sys.stderr,
            )
    summary = aggregate(runs, names)

    sections = {
        name: _run_section(name, args.quick, args.worker_timeout) for name in wanted_sections
    }
    wall = time.perf_counter() - started
    info["load_average_end"] = load_average()

    record = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "wall_s": wall,
        "mode": "quick" if args.quick else "full",
        "repetitions": reps,
        "cpus": args.cpus,
        "seq_pinned": not args.seq_unpinned,
        "reference": REFERENCE,
        "ratio_convention": "1.0 = as good as the reference; throughput x/ref, times ref/x",
        "machine": info,
        "contenders": {
            name: {"description": CONTENDERS[name].description, **summary[name]} for name in names
        },
        "metrics": [
            {"key": m.key, "header": m.header, "higher_is_better": m.higher_is_better}
            for m in METRICS
        ],
        "runs": runs,
        "core_overhead": sections.get("core"),
        "memory": sections.get("memory"),
        "pool": sections.get("pool"),
        "preemption": sections.get("preemption"),
        "project": sections.get("project"),
        "ticker": sections.get("ticker"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1)
    args.output.write_text(text)
    if args.output == RESULTS_DIR / "latest.json":
        stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
        (RESULTS_DIR / f"run-{stamp}-{record['mode']}.json").write_text(text)
    print(render_table(summary, names))
    print()
    for sync_line in (sync_latency_line(summary), sync_throughput_line(summary)):
        if sync_line:
            print(sync_line)
            print()
    print(compile_outputs_line(runs))
    print()
    print(_notes(summary, info, reps, args.quick, args.cpus, args.seq_unpinned))
    for name, section in sections.items():
        print()
        if section is None:
            print(f"The {name} section failed (see stderr).")
        else:
            print(_SECTION_MODULES[name].render(section))
    print()
    print(f"Wall time {wall:.0f} s. Raw numbers: {args.output}")

    ok = all(summary[name]["repetitions_ok"] for name in names) and all(
        result is not None for result in sections.values()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
