"""Peak memory of both sides of a bridge: a 16 MiB round trip, and 10 000 calls in flight.

    python -m benchmarks.memory [--quick] [--json]

Issue 6 asks for the peak RSS of Python and of the Node host, and that the bridge hold no more
than ~3 copies of a body at once on either side. Linux only: it reads ``/proc``.

Every measurement runs in a fresh Python process with a fresh host (``open_bridge()``, esbuild's
background warm-up turned off so it cannot land inside a measurement). Before the baseline the
process is settled (``gc.collect()``, glibc ``malloc_trim(0)``: freed heap memory must not
absorb what is measured); the baseline is VmRSS of Python and of the host; both peaks are then
reset (``5`` written to ``/proc/<pid>/clear_refs`` restarts VmHWM from the current RSS), the
work runs, and VmHWM of both is read while the host still runs.

* **16 MiB round trip**: ``rpc.echo`` of ``{"i": 0, "text": make_text(16 MiB)}`` (ASCII, CJK
  and emoji: a UCS-4 ``str`` in Python, a UTF-16 string in V8). The text is built before the
  baseline, as the caller's own. The first call is the figure; three more calls back to back on
  the same bridge show what accumulates (the highest of the four peaks, against the same
  baseline). A second run sets ``MALLOC_MMAP_THRESHOLD_`` for Python, so every large buffer
  is its own mapping and goes back to the system when freed: its peak counts live buffers only,
  without glibc's heap keeping freed blocks resident.
* **10 000 calls in flight**: the host loads the test fixture
  ``node/test-support/fixtures/sleepy.mjs`` (the host has no waiting built-in) and 10 000 trio
  tasks call its ``sleep`` for ``hold`` ms, long enough that every request is sent before the
  first answer comes back; ``bridge.in_flight`` is sampled to report how many waited at once.
  Controls: the same 10 000 tasks waiting on a ``trio.Event`` instead (the caller's own tasks,
  not the bridge's), and, in a bare ``node``, what the fixture's ``sleep`` itself costs 10 000
  times (its ``delay`` with an ``AbortSignal``, which reading ``ctx.signal`` creates).
  Python's part is cross-checked with ``tracemalloc`` (separate runs).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["main", "render", "run"]

MiB = 1 << 20
KiB = 1 << 10

_ROOT = Path(__file__).resolve().parent.parent
SLEEPY = _ROOT / "node" / "test-support" / "fixtures" / "sleepy.mjs"
"""The handler module whose ``sleep({ms, value})`` answers ``value`` after ``ms`` ms."""

PAYLOAD_SIZE = 16 * MiB
IN_FLIGHT = 10_000
BACK_TO_BACK = 4  # round trips on one bridge; the first is the headline figure
COPY_BUDGET = 3.0  # issue 6: "no more than ~3 copies of a body at once on either side"

_CHILD_TIMEOUT = 120.0
_LIVE_ONLY = {"MALLOC_MMAP_THRESHOLD_": "131072"}  # glibc: every buffer >= 128 KiB is mmapped

# What the fixture's `sleep` does per call, in a bare node: `delay` with an AbortSignal.
_NODE_CONTROL = r"""
const fs = require('node:fs');
const { setTimeout: delay } = require('node:timers/promises');
const status = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm')
  .exec(fs.readFileSync('/proc/self/status', 'latin1'))[1]) * 1024;
const [calls, holdMs] = process.argv.slice(1).map(Number);
async function sleep({ ms = 0, value = null } = {}, signal) {
  await delay(ms, undefined, { signal });
  return value;
}
setTimeout(() => {
  const baseline = status('VmRSS');
  fs.writeFileSync('/proc/self/clear_refs', '5');
  const pending = [];
  for (let i = 0; i < calls; i++) {
    pending.push(sleep(JSON.parse(`{"ms":${holdMs},"value":${i}}`), new AbortController().signal));
  }
  Promise.all(pending).then(() => {
    console.log(JSON.stringify({ baseline, peak: status('VmHWM') }));
  });
}, 200);
"""


# -- /proc ---------------------------------------------------------------------------------------


def _status(pid: int | str, field: str) -> int:
    """``field`` (``VmRSS``, ``VmHWM``) of ``/proc/<pid>/status``, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0]) * KiB
    raise LookupError(f"no {field} in /proc/{pid}/status")


def rss(pid: int | str = "self") -> int:
    """Resident set size now, in bytes."""
    return _status(pid, "VmRSS")


def peak(pid: int | str = "self") -> int:
    """Highest resident set size since the start or the last ``reset_peak``, in bytes."""
    return _status(pid, "VmHWM")


def reset_peak(pid: int | str = "self") -> bool:
    """Restart VmHWM from the current RSS; False where the kernel does not let us."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _settle() -> None:
    """Free what can be freed before a baseline: garbage, and the free memory of the heap."""
    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc is not None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc).malloc_trim(0)


def _host_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["RPCBRIDGE_COMPILE_WARMUP"] = "0"
    return env


# -- the measurements, each in a child process ---------------------------------------------------


async def _roundtrip(size: int, calls: int) -> dict[str, Any]:
    from rpcbridge import _json, open_bridge

    from .workloads import make_text

    async with open_bridge(env=_host_env()) as bridge:
        host = bridge.pid
        await bridge.call("rpc.echo", {"warm": "up"})
        # The wire body's size, from an equal string: orjson caches a str's UTF-8 form inside
        # the str, and that cache must appear during the call, not before the baseline.
        body = len(_json.dumps({"i": 0, "text": make_text(size)}))
        text = make_text(size)
        params_str = sys.getsizeof(text)
        _settle()
        base_py, base_host = rss(), rss(host)
        reset = reset_peak() and reset_peak(host)
        peaks_py: list[int] = []
        peaks_host: list[int] = []
        times: list[float] = []
        result_str = 0
        for i in range(calls):
            params = {"i": i, "text": text}
            started = time.perf_counter()
            result = await bridge.call("rpc.echo", params)
            times.append(time.perf_counter() - started)
            peaks_py.append(peak())
            peaks_host.append(peak(host))
            if result != params:
                raise AssertionError("the echo differs from the params sent")
            result_str = sys.getsizeof(result["text"])
            del result, params
        after_py, after_host = rss(), rss(host)
    return {
        "text_bytes": size,
        "body_bytes": body,
        "params_str_bytes": params_str,
        "params_str_bytes_after": sys.getsizeof(text),
        "result_str_bytes": result_str,
        "times_s": times,
        "peaks_reset": reset,
        "python": {"baseline": base_py, "peaks": peaks_py, "after": after_py},
        "host": {"baseline": base_host, "peaks": peaks_host, "after": after_host},
    }


async def _in_flight(calls: int, hold_ms: int, control: bool, traced: bool) -> dict[str, Any]:
    import trio

    from rpcbridge import open_bridge
    from rpcbridge._bridge import DEFAULT_MAX_IN_FLIGHT

    limit = max(calls, DEFAULT_MAX_IN_FLIGHT)
    async with open_bridge(handlers=[SLEEPY], max_in_flight=limit, env=_host_env()) as bridge:
        host = bridge.pid
        if await bridge.call("sleep", {"ms": 0, "value": -1}) != -1:
            raise AssertionError("sleep answered something else")
        async with trio.open_nursery() as nursery:  # the paths once concurrently, unmeasured
            for i in range(100):
                nursery.start_soon(bridge.call, "sleep", {"ms": 1, "value": i})
        _settle()
        base_py, base_host = rss(), rss(host)
        reset = reset_peak() and reset_peak(host)
        if traced:
            tracemalloc.reset_peak()
            traced_base = tracemalloc.get_traced_memory()[0]
        release = trio.Event()
        most = 0
        all_sent_s: float | None = None
        first_answer_s: float | None = None
        clock = time.perf_counter
        started = clock()

        async def call(i: int) -> None:
            nonlocal first_answer_s
            params = {"ms": hold_ms, "value": i}
            if control:
                await release.wait()
                return
            if await bridge.call("sleep", params) != i:
                raise AssertionError(f"call {i} got another call's answer")
            if first_answer_s is None:
                first_answer_s = clock() - started

        async def watch() -> None:
            nonlocal most, all_sent_s
            while True:
                waiting = bridge.in_flight
                most = max(most, waiting)
                if all_sent_s is None and waiting >= calls:
                    all_sent_s = clock() - started
                await trio.sleep(0.002)

        async with trio.open_nursery() as outer:
            if not control:
                outer.start_soon(watch)
            async with trio.open_nursery() as nursery:
                for i in range(calls):
                    nursery.start_soon(call, i)
                if control:
                    await trio.sleep(hold_ms / 1000)
                    release.set()
            outer.cancel_scope.cancel()
        elapsed = clock() - started
        peak_py, peak_host = peak(), peak(host)
        traced_peak = tracemalloc.get_traced_memory()[1] - traced_base if traced else None
    return {
        "calls": calls,
        "hold_ms": hold_ms,
        "control": control,
        "max_in_flight_seen": calls if control else most,
        "all_sent_s": all_sent_s,
        "first_answer_s": first_answer_s,
        "elapsed_s": elapsed,
        "peaks_reset": reset,
        "python": {"baseline": base_py, "peak": peak_py},
        "host": {"baseline": base_host, "peak": peak_host},
        "python_traced_peak": traced_peak,
    }


def _child(args: argparse.Namespace) -> dict[str, Any]:
    import trio

    if args.child == "roundtrip":
        return trio.run(_roundtrip, args.size, args.calls)
    if args.tracemalloc:
        tracemalloc.start()
    control = args.child == "in-flight-control"
    return trio.run(_in_flight, args.calls, args.hold_ms, control, args.tracemalloc)


def _spawn(child_args: list[str], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = {**os.environ, **(env or {})}
    path = environ.get("PYTHONPATH")
    environ["PYTHONPATH"] = str(_ROOT) + (os.pathsep + path if path else "")
    argv = [sys.executable, "-m", "benchmarks.memory", "--child", *child_args]
    done = subprocess.run(
        argv, cwd=_ROOT, env=environ, stdout=subprocess.PIPE, text=True, timeout=_CHILD_TIMEOUT
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(child_args)}: the child exited with {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _node_control(calls: int, hold_ms: int) -> dict[str, Any] | None:
    node = shutil.which(os.environ.get("RPCBRIDGE_NODE", "node"))
    if node is None:
        return None
    argv = [node, "-e", _NODE_CONTROL, str(calls), str(hold_ms)]
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=_CHILD_TIMEOUT)
    if done.returncode != 0:
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _source_state() -> dict[str, Any]:
    """The commit, and whether rpcbridge/ or node/ differ from it (they are what is measured)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=_ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    changed = git("status", "--porcelain", "--", "rpcbridge", "node/lib", "node/rpc-host.js")
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_changes": bool(changed)}


# -- the parent ----------------------------------------------------------------------------------


def run(quick: bool = False) -> dict[str, Any]:
    """Run every measurement in its own child process; the raw runs and the derived figures."""
    if not Path("/proc/self/clear_refs").exists():
        raise SystemExit("benchmarks.memory reads /proc: Linux only")
    repeats = 1 if quick else 3
    hold_ms = 1000 if quick else 2000
    roundtrip = ["roundtrip", "--size", str(PAYLOAD_SIZE), "--calls", str(BACK_TO_BACK)]
    flight = ["--calls", str(IN_FLIGHT), "--hold-ms", str(hold_ms)]
    control = ["--calls", str(IN_FLIGHT), "--hold-ms", "300"]
    roundtrips = [_spawn(roundtrip) for _ in range(repeats)]
    live = [_spawn(roundtrip, env=_LIVE_ONLY) for _ in range(repeats)]
    flights = [_spawn(["in-flight", *flight]) for _ in range(repeats)]
    controls = [_spawn(["in-flight-control", *control]) for _ in range(repeats)]
    traced = _spawn(["in-flight", *flight, "--tracemalloc"])
    control_traced = _spawn(["in-flight-control", *control, "--tracemalloc"])
    node_controls = [_node_control(IN_FLIGHT, hold_ms) for _ in range(repeats)]
    return {
        "mode": "quick" if quick else "full",
        "repeats": repeats,
        "source": _source_state(),
        "roundtrip": _derive_roundtrip(roundtrips, live),
        "in_flight": _derive_in_flight(
            flights, controls, traced, control_traced, [c for c in node_controls if c]
        ),
    }


def _derive_roundtrip(runs: list[dict[str, Any]], live: list[dict[str, Any]]) -> dict[str, Any]:
    first = runs[0]
    body = first["body_bytes"]
    out: dict[str, Any] = {
        key: first[key]
        for key in (
            "text_bytes",
            "body_bytes",
            "params_str_bytes",
            "params_str_bytes_after",
            "result_str_bytes",
        )
    }
    out["first_call_s"] = statistics.median(r["times_s"][0] for r in runs)
    out["back_to_back"] = len(first["times_s"])
    out["peaks_reset"] = all(r["peaks_reset"] for r in runs + live)
    held = {"python": first["result_str_bytes"], "host": 0}
    for side in ("python", "host"):
        growth = statistics.median(r[side]["peaks"][0] - r[side]["baseline"] for r in runs)
        most = statistics.median(max(r[side]["peaks"]) - r[side]["baseline"] for r in runs)
        out[side] = {
            "baseline": statistics.median(r[side]["baseline"] for r in runs),
            "growth": growth,
            "copies": growth / body,
            "bridge_copies": (growth - held[side]) / body,
            "back_to_back_growth": most,
            "back_to_back_bridge_copies": (most - held[side]) / body,
            "after": statistics.median(r[side]["after"] - r[side]["baseline"] for r in runs),
        }
    live_growth = statistics.median(r["python"]["peaks"][0] - r["python"]["baseline"] for r in live)
    out["python"]["live_growth"] = live_growth
    out["python"]["live_bridge_copies"] = (live_growth - held["python"]) / body
    out["runs"] = runs
    out["live_runs"] = live
    return out


def _derive_in_flight(
    runs: list[dict[str, Any]],
    controls: list[dict[str, Any]],
    traced: dict[str, Any],
    control_traced: dict[str, Any],
    node_controls: list[dict[str, Any]],
) -> dict[str, Any]:
    calls = runs[0]["calls"]
    seen = min(r["max_in_flight_seen"] for r in runs)
    sent = [r["all_sent_s"] for r in runs]
    first_answers = [r["first_answer_s"] for r in runs]
    all_at_once = all(
        s is not None and a is not None and s < a for s, a in zip(sent, first_answers, strict=True)
    )
    out: dict[str, Any] = {
        "calls": calls,
        "hold_ms": runs[0]["hold_ms"],
        "max_in_flight_seen": seen,
        "all_in_flight_at_once": all_at_once,
        "all_sent_s": max((s for s in sent if s is not None), default=None),
        "peaks_reset": all(r["peaks_reset"] for r in runs + controls),
    }
    python = statistics.median(r["python"]["peak"] - r["python"]["baseline"] for r in runs)
    py_control = statistics.median(r["python"]["peak"] - r["python"]["baseline"] for r in controls)
    traced_bridge = traced["python_traced_peak"] - control_traced["python_traced_peak"]
    out["python"] = {
        "baseline": statistics.median(r["python"]["baseline"] for r in runs),
        "growth": python,
        "per_call": python / seen,
        "control_growth": py_control,
        "bridge_per_call": (python - py_control) / seen,
        "traced_per_call": traced["python_traced_peak"] / seen,
        "traced_bridge_per_call": traced_bridge / seen,
    }
    host = statistics.median(r["host"]["peak"] - r["host"]["baseline"] for r in runs)
    node_control = (
        statistics.median(c["peak"] - c["baseline"] for c in node_controls)
        if node_controls
        else None
    )
    out["host"] = {
        "baseline": statistics.median(r["host"]["baseline"] for r in runs),
        "growth": host,
        "per_call": host / seen,
        "control_growth": node_control,
        "bridge_per_call": None if node_control is None else (host - node_control) / seen,
    }
    out["runs"] = runs
    out["control_runs"] = controls
    out["traced_run"] = traced
    out["control_traced_run"] = control_traced
    out["node_control_runs"] = node_controls
    return out


# -- the report ----------------------------------------------------------------------------------


def _mib(n: float) -> str:
    return f"{n / MiB:.1f} MiB"


def _kib(n: float | None) -> str:
    return "n/a" if n is None else f"{n / KiB:.2f} KiB"


def _verdict(copies: float) -> str:
    return "within" if copies <= COPY_BUDGET + 0.25 else "over"


def render(result: dict[str, Any]) -> str:
    rt, fl = result["roundtrip"], result["in_flight"]
    py, host = rt["python"], rt["host"]
    fpy, fhost = fl["python"], fl["host"]
    body = rt["body_bytes"]
    lines = [
        f"| 16 MiB round trip (body {_mib(body)}) | Python | host |",
        "|---|---:|---:|",
        f"| baseline RSS | {_mib(py['baseline'])} | {_mib(host['baseline'])} |",
        f"| peak - baseline, first call | {_mib(py['growth'])} | {_mib(host['growth'])} |",
        f"| ÷ body | {py['copies']:.2f} | {host['copies']:.2f} |",
        f"| **bridge copies** (minus the result str) | **{py['bridge_copies']:.2f}** "
        f"| **{host['bridge_copies']:.2f}** |",
        f"| ... live buffers only (large buffers mmapped) | {py['live_bridge_copies']:.2f} | |",
        f"| ... highest of {rt['back_to_back']} calls back to back "
        f"| {py['back_to_back_bridge_copies']:.2f} | {host['back_to_back_bridge_copies']:.2f} |",
        f"| RSS kept after the last call | {_mib(py['after'])} | {_mib(host['after'])} |",
        "",
        f"| {fl['calls']:,} calls in flight | Python | host |",
        "|---|---:|---:|",
        f"| baseline RSS | {_mib(fpy['baseline'])} | {_mib(fhost['baseline'])} |",
        f"| peak - baseline | {_mib(fpy['growth'])} | {_mib(fhost['growth'])} |",
        f"| per call in flight | {_kib(fpy['per_call'])} | {_kib(fhost['per_call'])} |",
        f"| ... minus the control (caller's tasks / the fixture's sleep) "
        f"| {_kib(fpy['bridge_per_call'])} | {_kib(fhost['bridge_per_call'])} |",
        f"| ... tracemalloc, minus the control | {_kib(fpy['traced_bridge_per_call'])} | |",
    ]
    at_once = "all" if fl["all_in_flight_at_once"] else "NOT all"
    notes = [
        "",
        f"Medians of {result['repeats']} run(s) ({result['mode']} mode), each in a fresh Python "
        f"process with a fresh host; source {result['source']['commit']}"
        + (" with uncommitted changes" if result["source"]["uncommitted_changes"] else "")
        + ".",
        "",
        f"- Body = the request's JSON body on the wire. The caller's params str is built before "
        f"the baseline ({_mib(rt['params_str_bytes'])}: Python keeps this text as UCS-4); the "
        f"result str ({_mib(rt['result_str_bytes'])}) is the caller's too, so **bridge copies "
        "= (peak - baseline - result str) ÷ body**. orjson caches the UTF-8 form inside the "
        f"params str during the call (it grows to {_mib(rt['params_str_bytes_after'])} and "
        "stays so): counted as the bridge's. On the host nothing is subtracted; a V8 string of "
        "this text is UTF-16, ~1.4 bodies.",
        f"- ~{COPY_BUDGET:.0f} copies (issue 6): Python {_verdict(py['bridge_copies'])} "
        f"({py['bridge_copies']:.1f}), host {_verdict(host['bridge_copies'])} "
        f"({host['bridge_copies']:.1f}). The host keeps its garbage until V8 collects it, so "
        "every intermediate of the call counts toward its peak.",
        f"- In flight: {at_once} {fl['calls']:,} requests were out before the first answer "
        f"({fl['max_in_flight_seen']:,} seen waiting at once; each held {fl['hold_ms']} ms, "
        "all started together).",
    ]
    return "\n".join(lines + notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one run of each, shorter holds")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--child", choices=("roundtrip", "in-flight", "in-flight-control"), help=argparse.SUPPRESS
    )
    parser.add_argument("--size", type=int, default=PAYLOAD_SIZE, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=IN_FLIGHT, help=argparse.SUPPRESS)
    parser.add_argument("--hold-ms", type=int, default=2000, help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.stdout.write(json.dumps(_child(args)) + "\n")
        return 0
    result = run(quick=args.quick)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
