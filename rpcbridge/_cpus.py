"""Which CPUs a host runs on (``open_bridge(host_cpus=...)``) and which the bridge's own thread
runs on (``SyncBridge(cpu=...)``): Linux's ``sched_setaffinity``, nothing else.

Why it exists: many threads calling one ``SyncBridge`` pay, per call, one wake-up of the
calling thread and one hand-over of the GIL to it. When those threads and the bridge's thread
share one CPU the hand-over is a switch on that CPU; spread over CPUs, each one is a wake-up
across CPUs, which on a VM costs tens of microseconds (docs/performance.md, "Many threads on
one SyncBridge"). Python threads need the GIL to run, so one CPU is what they use anyway. The
host keeps every CPU, set explicitly: a host inherits the affinity of the thread that starts
it, which may be a worker thread pinned with the bridge's (and the kernel leaves out the CPUs
a cpuset does not allow). Only the standard library is imported here: ``_host`` imports it,
and ``_host`` must stay light.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection

__all__ = ["check_cpus", "confine"]


def check_cpus(cpus: Collection[int], what: str) -> frozenset[int]:
    """``cpus`` as a frozenset, or ``ValueError``/``NotImplementedError`` saying why it cannot
    be used: empty, not integers, or no ``sched_setaffinity`` here (it is Linux's)."""
    if not hasattr(os, "sched_setaffinity"):
        raise NotImplementedError(f"{what} needs os.sched_setaffinity, which Linux has")
    chosen = frozenset(cpus)
    if not chosen:
        raise ValueError(f"{what}: no CPU given")
    if not all(isinstance(cpu, int) and not isinstance(cpu, bool) and cpu >= 0 for cpu in chosen):
        raise ValueError(f"{what}: CPU numbers are integers ≥ 0, not {sorted(chosen, key=str)}")
    return chosen


def confine(pid: int, cpus: frozenset[int]) -> None:
    """Let process ``pid`` (all its threads, and the threads and children it starts later) run
    only on ``cpus``. Raises ``OSError`` (``EINVAL``: none of them is allowed here).

    The main thread first, so that every thread it creates from now on inherits the mask; then
    each thread that already exists (a child that has just been exec'd has one, or a few)."""
    os.sched_setaffinity(pid, cpus)
    with contextlib.suppress(FileNotFoundError):  # no /proc: only the main thread is set
        for task in os.listdir(f"/proc/{pid}/task"):
            if int(task) != pid:
                with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                    os.sched_setaffinity(int(task), cpus)
