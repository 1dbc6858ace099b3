"""``examples/dask_compile.py``: a folder compiled on a Dask ``LocalCluster`` of 2 worker
processes, each with its own host, opened by a ``WorkerPlugin`` and closed with the worker.

Runs the example as written (a subprocess, about 3 s) and checks its outputs against a direct
compile, that both workers' hosts did the work, and that each was closed by the plugin's
``teardown`` (exit status 0) and is gone afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import rpcbridge

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dask_compile.py"
SRC = ROOT / "examples" / "app" / "src"
LINE = re.compile(r"^(tcp://\S+)\s+host pid (\d+)\s+(\S+)$")
CLOSED = re.compile(r"^(tcp://\S+): closed host pid (\d+) \(exit status (-?\d+)\)$", re.M)


def test_dask_example_compiles_on_two_workers_each_with_its_own_host(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(SRC), "--outdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr

    sources = sorted(p for p in SRC.rglob("*.ts*") if p.suffix in (".ts", ".tsx"))
    lines = [LINE.match(line) for line in done.stdout.splitlines()[:-1]]
    assert all(lines), done.stdout
    compiled = {m[3]: (m[1], int(m[2])) for m in lines if m is not None}
    assert sorted(compiled) == sorted(str(p.relative_to(SRC)) for p in sources)
    assert done.stdout.splitlines()[-1] == f"{len(sources)} files on 2 workers into {tmp_path}"

    # Both workers compiled, each through its own host, and no worker had two hosts.
    hosts: dict[str, set[int]] = {worker: set() for worker, _ in compiled.values()}
    for worker, pid in compiled.values():
        hosts[worker].add(pid)
    assert len(hosts) == 2
    assert all(len(pids) == 1 for pids in hosts.values())
    pids = {pid for (pid,) in hosts.values()}
    assert len(pids) == 2

    # Each host was closed by its worker's teardown, cleanly, and is gone.
    closed = {
        (worker, int(pid)): int(status) for worker, pid, status in CLOSED.findall(done.stderr)
    }
    assert closed == {(worker, pid): 0 for worker, (pid,) in hosts.items()}, done.stderr
    deadline = time.monotonic() + 5
    while any(os.path.exists(f"/proc/{pid}") for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)

    # The JS written is what the host compiles for each file.
    with rpcbridge.SyncBridge() as bridge:
        for path in sources:
            out = tmp_path / path.relative_to(SRC).with_suffix(".js")
            expected = bridge.call(
                "compile", {"source": path.read_text(encoding="utf-8"), "filename": path.name}
            )["code"]
            assert out.read_text(encoding="utf-8") == expected, path
