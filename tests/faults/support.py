"""Shared pieces of the fault suite: the fault handler module and RSS readings."""

from __future__ import annotations

from pathlib import Path

FAULT_METHODS = Path(__file__).parent / "fault-methods.mjs"


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for {pid}")
