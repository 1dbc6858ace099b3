"""What the suite ran on: recorded in the JSON and printed under the table."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from . import NODE_EXTRA_CA_CERTS_WAS_SET

__all__ = ["describe", "machine_info"]

_ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=_ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    node = shutil.which("node")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "node": _run([node, "--version"]) if node else None,
        "packages": {
            name: _version(name) for name in ("rpcbridge", "trio", "orjson", "python-lsp-jsonrpc")
        },
        "git_commit": _run(["git", "rev-parse", "--short", "HEAD"]),
        "load_average_start": load_average(),
        "node_extra_ca_certs": NODE_EXTRA_CA_CERTS_WAS_SET,
    }


def describe(info: dict[str, Any]) -> str:
    """One line for humans."""
    cpus = info.get("cpu_count")
    model = info.get("cpu_model") or "unknown CPU"
    memory = info.get("memory_gib")
    parts = [
        f"{cpus} CPUs ({model})",
        f"{memory} GiB" if memory else None,
        info.get("platform"),
        f"Python {info.get('python')}",
        f"Node {info.get('node')}",
        f"trio {info['packages'].get('trio')}",
        f"orjson {info['packages'].get('orjson')}",
        f"commit {info['git_commit']}" if info.get("git_commit") else None,
        "NODE_EXTRA_CA_CERTS removed for every contender"
        if info.get("node_extra_ca_certs")
        else None,
    ]
    return ", ".join(part for part in parts if part)
