"""Turning the workers' raw numbers into medians, ratios to the floor, targets and a table.

Ratio convention: **1.00 = as good as the floor, < 1 = worse, > 1 = better**. For throughput
(calls/s, MiB/s) that is ``x / floor``; for times (startup, latency) ``floor / x``.
"""

from __future__ import annotations

import statistics
from typing import Any

import attrs

from .contenders import REFERENCE

__all__ = [
    "BASELINE",
    "BASELINES",
    "HTTP",
    "METRICS",
    "TARGETS",
    "Metric",
    "Target",
    "aggregate",
    "compile_outputs_line",
    "format_number",
    "render_table",
    "sync_latency_line",
    "sync_throughput_line",
]


@attrs.frozen
class Metric:
    key: str  # in the aggregate
    header: str  # column title
    path: tuple[str, ...]  # where the value sits in a worker's result
    higher_is_better: bool

    def extract(self, result: dict[str, Any]) -> float | None:
        value: Any = result
        for part in self.path:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        if isinstance(value, list):  # startup samples: the median of this repetition
            return statistics.median(value) if value else None
        return float(value)

    def ratio(self, value: float, reference: float) -> float:
        if self.higher_is_better:
            return value / reference
        return reference / value


METRICS: tuple[Metric, ...] = (
    Metric("startup_ms", "startup ms", ("startup_ms",), higher_is_better=False),
    Metric("seq_calls_per_s", "seq calls/s", ("seq", "calls_per_s"), higher_is_better=True),
    Metric("seq_p50_ms", "seq p50 ms", ("seq", "p50_ms"), higher_is_better=False),
    Metric("seq_p99_ms", "seq p99 ms", ("seq", "p99_ms"), higher_is_better=False),
    Metric("c64_calls_per_s", "64-conc calls/s", ("c64", "calls_per_s"), higher_is_better=True),
    Metric("mib1_mib_per_s", "1 MiB MiB/s", ("payload_1mib", "mib_per_s"), higher_is_better=True),
    Metric(
        "mib16_mib_per_s", "16 MiB MiB/s", ("payload_16mib", "mib_per_s"), higher_is_better=True
    ),
    Metric(
        "compile_seq_calls_per_s",
        "compile seq calls/s",
        ("compile_seq", "calls_per_s"),
        higher_is_better=True,
    ),
    Metric(
        "compile_seq_p50_ms",
        "compile seq p50 ms",
        ("compile_seq", "p50_ms"),
        higher_is_better=False,
    ),
    Metric(
        "compile_c64_calls_per_s",
        "compile 64-conc calls/s",
        ("compile_c64", "calls_per_s"),
        higher_is_better=True,
    ),
)


BASELINE = "spawn-stdout"
"""The per-call-process design rpcbridge replaces; the reference of the ≥ 20x spawn targets."""

HTTP = "http"
"""The long-lived express + httpx design; the reference of the ≥ 50x http target."""

BASELINES: tuple[str, ...] = (BASELINE, "spawn-tempfile", HTTP)
"""The designs rpcbridge replaces (the design note's alternatives): measured so the targets
against them can be judged, themselves judged by no target."""

SYNC, TRIO = "rpcbridge-sync", "rpcbridge"
SYNC_MAX_LATENCY = 1.5
"""Issue 5: a SyncBridge call may take at most 1.5x the trio bridge's sequential latency."""
SYNC_ONE_CPU = "rpcbridge-sync-1cpu"
SYNC_TARGETS = (("seq_calls_per_s", "sequential", 0.6), ("c64_calls_per_s", "64 threads", 0.4))
"""Issue 12: SyncBridge calls/s over the trio bridge's, same run: ≥ 0.6x sequential echo and
≥ 0.4x with 64 threads."""


@attrs.frozen
class Target:
    metric: str
    label: str
    min_ratio: float  # in the 1.0 = as good as the reference convention
    goal: str  # as stated by the project
    reference: str = REFERENCE  # the ratio is to this contender
    only: tuple[str, ...] | None = None  # judged for these contenders (None: all but BASELINES)

    def applies_to(self, name: str) -> bool:
        if name == self.reference:
            return False
        if self.only is not None:
            return name in self.only
        return name not in (REFERENCE, *BASELINES)


TARGETS: tuple[Target, ...] = (
    Target("seq_calls_per_s", "seq", 0.85, "sequential ≥ 0.85x floor calls/s"),
    Target("c64_calls_per_s", "64-conc", 0.80, "64 concurrent ≥ 0.8x floor calls/s"),
    Target("mib16_mib_per_s", "16 MiB", 0.80, "16 MiB ≥ 0.8x floor MiB/s"),
    Target("startup_ms", "startup", 1 / 1.2, "startup ≤ 1.2x floor time (ratio ≥ 0.83)"),
    Target(
        "compile_c64_calls_per_s", "compile 64", 0.90, "compile 64 in flight ≥ 0.9x floor calls/s"
    ),
    Target(
        "compile_c64_calls_per_s",
        "compile 64 ≥20x spawn",
        20.0,
        "rpcbridge compile 64 in flight ≥ 20x spawn-stdout calls/s",
        reference=BASELINE,
        only=(TRIO,),
    ),
    Target(
        "compile_seq_calls_per_s",
        "compile seq ≥20x spawn",
        20.0,
        "rpcbridge sequential compile ≥ 20x spawn-stdout calls/s",
        reference=BASELINE,
        only=(TRIO,),
    ),
    Target(
        "c64_calls_per_s",
        "64-conc ≥50x http",
        50.0,
        "rpcbridge 64 concurrent echo ≥ 50x http calls/s",
        reference=HTTP,
        only=(TRIO,),
    ),
)


def aggregate(runs: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Medians over repetitions, min/max, ratios to the reference and target verdicts."""
    out: dict[str, Any] = {}
    for name in names:
        ok = [run for run in runs if run.get("contender") == name and run.get("ok")]
        failed = [run for run in runs if run.get("contender") == name and not run.get("ok")]
        cells: dict[str, Any] = {}
        for metric in METRICS:
            values = [v for run in ok if (v := metric.extract(run)) is not None]
            if values:
                cells[metric.key] = {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                    "values": values,
                }
        out[name] = {
            "repetitions_ok": len(ok),
            "repetitions_failed": len(failed),
            "errors": [run.get("error") for run in failed],
            "metrics": cells,
        }
    reference = out.get(REFERENCE, {}).get("metrics", {})
    for entry in out.values():
        ratios: dict[str, float] = {}
        for metric in METRICS:
            ratio = _ratio(metric, entry["metrics"].get(metric.key), reference.get(metric.key))
            if ratio is not None:
                ratios[metric.key] = ratio
        entry["ratios"] = ratios
    by_key = {metric.key: metric for metric in METRICS}
    for name, entry in out.items():
        targets: dict[str, Any] = {}
        for target in TARGETS:
            if not target.applies_to(name):
                continue
            ref_entry = out.get(target.reference, {}).get("metrics", {})
            ratio = _ratio(
                by_key[target.metric],
                entry["metrics"].get(target.metric),
                ref_entry.get(target.metric),
            )
            targets[target.label] = {
                "metric": target.metric,
                "reference": target.reference,
                "ratio": ratio,
                "min_ratio": target.min_ratio,
                "pass": None if ratio is None else ratio >= target.min_ratio,
            }
        if targets:
            entry["targets"] = targets
    return out


def _ratio(metric: Metric, mine: dict[str, Any] | None, ref: dict[str, Any] | None) -> float | None:
    if mine and ref and mine["median"] > 0 and ref["median"] > 0:
        return metric.ratio(mine["median"], ref["median"])
    return None


def sync_throughput_line(summary: dict[str, Any]) -> str | None:
    """Issue 12: ``rpcbridge-sync`` (and ``rpcbridge-sync-1cpu``) calls/s over ``rpcbridge``'s,
    sequential and with 64 threads, against the targets; ``None`` unless they ran."""
    trio_ = summary.get(TRIO, {}).get("metrics", {})
    parts = []
    for name in (SYNC, SYNC_ONE_CPU):
        mine = summary.get(name, {}).get("metrics", {})
        cells = []
        for key, label, goal in SYNC_TARGETS:
            if key in mine and key in trio_ and trio_[key]["median"] > 0:
                ratio = mine[key]["median"] / trio_[key]["median"]
                verdict = "pass" if ratio >= goal else "FAIL"
                cells.append(f"{label} **{ratio:.2f}x** (≥ {goal}x: {verdict})")
        if cells:
            parts.append(f"`{name}` " + ", ".join(cells))
    if not parts:
        return None
    return f"SyncBridge calls/s vs `{TRIO}` (issue 12): " + "; ".join(parts) + "."


def sync_latency_line(summary: dict[str, Any]) -> str | None:
    """Issue 5: ``rpcbridge-sync``'s sequential p50 latency over ``rpcbridge``'s (echo and
    compile), against the 1.5x target; ``None`` unless both ran."""
    sync = summary.get(SYNC, {}).get("metrics", {})
    trio_ = summary.get(TRIO, {}).get("metrics", {})
    parts = []
    for key, label in (("seq_p50_ms", "echo"), ("compile_seq_p50_ms", "compile")):
        if key in sync and key in trio_ and trio_[key]["median"] > 0:
            factor = sync[key]["median"] / trio_[key]["median"]
            verdict = "pass" if factor <= SYNC_MAX_LATENCY else "FAIL"
            parts.append(
                f"{label} p50 {sync[key]['median']:.3f} ms vs {trio_[key]['median']:.3f} ms = "
                f"**{factor:.2f}x** ({verdict})"
            )
    if not parts:
        return None
    return (
        f"`{SYNC}` sequential latency vs `{TRIO}` (issue 5 target: ≤ {SYNC_MAX_LATENCY}x): "
        + "; ".join(parts)
        + "."
    )


def compile_outputs_line(runs: list[dict[str, Any]]) -> str:
    """Whether every contender's compile produced the same JavaScript (SHA-256)."""
    hashes: dict[str, set[str]] = {}
    for run in runs:
        digest = run.get("compile_code_sha256")
        if run.get("ok") and digest:
            hashes.setdefault(run["contender"], set()).add(digest)
    every = set().union(*hashes.values()) if hashes else set()
    if len(every) == 1:
        return f"Compile output identical for every contender (SHA-256 {next(iter(every))[:12]}…)."
    return "Compile output DIFFERS between contenders: " + ", ".join(
        f"{name}: {'/'.join(sorted(h)[:2])[:40]}" for name, h in hashes.items()
    )


def format_number(value: float) -> str:
    """About three significant digits, thousands separated."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _targets_cell(entry: dict[str, Any]) -> str:
    verdicts = []
    for label, target in entry.get("targets", {}).items():
        verdict = target.get("pass")
        word = "n/a" if verdict is None else "pass" if verdict else "FAIL"
        if target["reference"] != REFERENCE and target["ratio"] is not None:
            word = f"{word} ({target['ratio']:.0f}x)"
        verdicts.append(f"{label} {word}")
    return ", ".join(verdicts) if verdicts else "baseline"


def render_table(summary: dict[str, Any], names: list[str]) -> str:
    """The one markdown table: median figure (ratio to the floor) per cell."""
    header = ["contender", *(metric.header for metric in METRICS), "targets"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * len(METRICS) + "---|",
    ]
    for name in names:
        entry = summary[name]
        cells = [name]
        for metric in METRICS:
            cell = entry["metrics"].get(metric.key)
            if cell is None:
                cells.append("-")
                continue
            text = format_number(cell["median"])
            ratio = entry["ratios"].get(metric.key)
            cells.append(f"{text} ({ratio:.2f})" if ratio is not None else text)
        if not entry["repetitions_ok"]:
            error = str((entry["errors"] or ["?"])[0]).replace("|", "/")
            cells.append(f"failed: {error}")
        elif name == REFERENCE:
            cells.append("reference")
        else:
            cells.append(_targets_cell(entry))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
