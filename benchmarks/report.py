"""Turning the workers' raw numbers into medians, ratios to the floor, targets and a table.

Ratio convention: **1.00 = as good as the floor, < 1 = worse, > 1 = better**. For throughput
(calls/s, MiB/s) that is ``x / floor``; for times (startup, latency) ``floor / x``.
"""

from __future__ import annotations

import statistics
from typing import Any

import attrs

from .contenders import REFERENCE

__all__ = ["METRICS", "TARGETS", "Metric", "Target", "aggregate", "format_number", "render_table"]


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
)


@attrs.frozen
class Target:
    metric: str
    label: str
    min_ratio: float  # in the 1.0 = as good as floor convention
    goal: str  # as stated by the project


TARGETS: tuple[Target, ...] = (
    Target("seq_calls_per_s", "seq", 0.85, "sequential ≥ 0.85x floor calls/s"),
    Target("c64_calls_per_s", "64-conc", 0.80, "64 concurrent ≥ 0.8x floor calls/s"),
    Target("mib16_mib_per_s", "16 MiB", 0.80, "16 MiB ≥ 0.8x floor MiB/s"),
    Target("startup_ms", "startup", 1 / 1.2, "startup ≤ 1.2x floor time (ratio ≥ 0.83)"),
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
    for name, entry in out.items():
        ratios: dict[str, float] = {}
        for metric in METRICS:
            mine = entry["metrics"].get(metric.key)
            ref = reference.get(metric.key)
            if mine and ref and mine["median"] > 0 and ref["median"] > 0:
                ratios[metric.key] = metric.ratio(mine["median"], ref["median"])
        entry["ratios"] = ratios
        if name != REFERENCE:
            entry["targets"] = {
                target.metric: {
                    "ratio": ratios.get(target.metric),
                    "min_ratio": target.min_ratio,
                    "pass": (
                        ratios[target.metric] >= target.min_ratio
                        if target.metric in ratios
                        else None
                    ),
                }
                for target in TARGETS
            }
    return out


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
    for target in TARGETS:
        verdict = entry.get("targets", {}).get(target.metric, {}).get("pass")
        word = "n/a" if verdict is None else "pass" if verdict else "FAIL"
        verdicts.append(f"{target.label} {word}")
    return ", ".join(verdicts)


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
