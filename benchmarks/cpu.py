"""CPU accounting and placement for the workers (Linux; elsewhere these report None).

CPU time: each workload records the CPU time of this process and of its children, as µs (or
ms) per call on each side. On two cores
the Python and Node processes each have about one, so whichever side needs more CPU per call
sets the rate under load. Children are read from ``/proc/<pid>/stat`` while alive (the Node
host), plus ``RUSAGE_CHILDREN`` for those reaped meanwhile (per-call processes).

Placement: on a VM, a wake-up across vCPUs costs tens of µs, so a sequential round trip takes
~25 µs when the scheduler happens to keep both processes on one vCPU and ~60 µs when not.
``pinned_together`` removes that lottery for the sequential workload.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

__all__ = ["CpuSnapshot", "cpu_snapshot", "last_cpus", "pinned_together"]

_TICK = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


def _stat_fields(stat_path: Path) -> list[str] | None:
    """Fields 3... of a /proc stat file (after the command name), or None."""
    try:
        stat = stat_path.read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _children() -> dict[int, list[str]]:
    me = os.getpid()
    out: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(entry / "stat")
            # fields[0] is field 3 (state), so ppid (field 4) is fields[1].
            if fields is not None and int(fields[1]) == me:
                out[int(entry.name)] = fields
    return out


def _children_ticks() -> dict[int, int]:
    # utime and stime are fields 14 and 15.
    return {pid: int(f[11]) + int(f[12]) for pid, f in _children().items()}


def last_cpus() -> dict[str, Any] | None:
    """The CPU this process and each child last ran on (field 39). On a VM a cross-CPU
    wake-up costs tens of µs, so a sequential round trip is much faster when the scheduler
    keeps both processes on one CPU: this records which case a run was in."""
    own = _stat_fields(Path("/proc/self/stat"))
    if own is None:
        return None
    return {
        "py": int(own[36]),
        "children": [int(fields[36]) for fields in _children().values()],
    }


@attrs.frozen
class CpuSnapshot:
    own: float  # seconds of CPU of this process
    reaped: float  # seconds of CPU of reaped children
    live: dict[int, int]  # clock ticks of live children, by pid

    def seconds_since(self, earlier: CpuSnapshot) -> tuple[float, float]:
        """(own CPU, children's CPU) between ``earlier`` and this snapshot."""
        children = self.reaped - earlier.reaped
        for pid, ticks in self.live.items():
            children += (ticks - earlier.live.get(pid, 0)) * _TICK
        for pid, ticks in earlier.live.items():
            if pid not in self.live:  # reaped meanwhile: counted whole in ``reaped``
                children -= ticks * _TICK
        return self.own - earlier.own, max(children, 0.0)


def cpu_snapshot() -> CpuSnapshot | None:
    if not Path("/proc/self/stat").exists():
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        own=time.process_time(),
        reaped=usage.ru_utime + usage.ru_stime,
        live=_children_ticks(),
    )


def _own_threads() -> list[int]:
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


@contextlib.contextmanager
def pinned_together(index: int = 0) -> Iterator[int | None]:
    """Pin every thread of this process (a blocking API's background thread too) and the
    main thread of every live child to one CPU (the ``index``-th allowed one, modulo their
    number), restoring the previous affinities afterwards. Threads and processes started
    meanwhile inherit the pinning of their creator.

    Yields the CPU, or ``None`` where affinities cannot be set (then nothing is pinned).
    """
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    mine = os.sched_getaffinity(0)
    cpu = sorted(mine)[index % len(mine)]
    saved: dict[int, set[int]] = {0: mine}
    try:
        for pid in [*_children(), *_own_threads()]:
            with contextlib.suppress(OSError):
                saved[pid] = os.sched_getaffinity(pid)
                os.sched_setaffinity(pid, {cpu})
        os.sched_setaffinity(0, {cpu})
        yield cpu
    finally:
        for pid, cpus in saved.items():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, cpus)
