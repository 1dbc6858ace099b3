"""Compile a folder of TypeScript/TSX on a Dask cluster: one rpcbridge host per worker process.

A ``WorkerPlugin`` gives every worker its own ``SyncBridge`` (so its own Node host): ``setup``
starts it when the plugin reaches the worker, ``teardown`` closes it when the worker closes
(or the plugin is removed). A task finds its worker's bridge with ``get_worker()`` and calls
``compile`` on it; tasks running in the worker's threads at once share that bridge, which is
safe from any number of threads.

    .venv/bin/python examples/dask_compile.py [SRC] [--outdir DIR] [--workers N]

Defaults: ``examples/app/src`` into ``build/dask``, on a ``LocalCluster`` of 2 worker
processes. Prints which worker (and which host pid) compiled each file; each worker reports on
stderr when its host was closed. The same plugin works on a real cluster: pass the
scheduler's address to ``Client`` instead of starting a ``LocalCluster``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, Worker, WorkerPlugin, get_worker

import rpcbridge

EXAMPLES = Path(__file__).resolve().parent
PLUGIN = "rpcbridge"


class BridgePerWorker(WorkerPlugin):
    """One ``SyncBridge`` per Dask worker, opened in ``setup`` and closed in ``teardown``.

    Both run on the worker's event loop, so the blocking start and close go to a thread: the
    worker keeps answering the scheduler's heartbeats meanwhile.
    """

    idempotent = True  # registering it again (a second client) keeps the running bridges

    def __init__(self, **options: Any) -> None:
        self.options = options  # SyncBridge's (open_bridge()'s) arguments, e.g. handlers=
        self.bridge: rpcbridge.SyncBridge | None = None

    async def setup(self, worker: Worker) -> None:
        """Start this worker's host."""
        self.bridge = await asyncio.to_thread(lambda: rpcbridge.SyncBridge(**self.options))

    async def teardown(self, worker: Worker) -> None:
        """Close this worker's host (calls still running get their answer or an error)."""
        bridge, self.bridge = self.bridge, None
        if bridge is not None:
            pid = bridge.pid
            await asyncio.to_thread(bridge.close)
            print(
                f"{worker.address}: closed host pid {pid} (exit status {bridge.returncode})",
                file=sys.stderr,
                flush=True,
            )


def compile_file(source: str, filename: str) -> dict[str, Any]:
    """A Dask task: compile one file on this worker's host."""
    worker = get_worker()
    plugin = worker.plugins[PLUGIN]
    assert isinstance(plugin, BridgePerWorker) and plugin.bridge is not None
    result = plugin.bridge.call("compile", {"source": source, "filename": filename})
    return {"code": result["code"], "worker": worker.address, "host_pid": plugin.bridge.pid}


def main(argv: list[str] | None = None) -> None:
    """Compile every ``.ts``/``.tsx`` file under the folder on the cluster."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("src", nargs="?", type=Path, default=EXAMPLES / "app" / "src")
    parser.add_argument("--outdir", type=Path, default=Path("build/dask"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    sources = sorted(path for path in args.src.rglob("*.ts*") if path.suffix in (".ts", ".tsx"))
    with (
        LocalCluster(  # type: ignore[no-untyped-call] # distributed's __init__ has no hints
            n_workers=args.workers,
            threads_per_worker=2,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        client.wait_for_workers(args.workers)
        client.register_plugin(BridgePerWorker(), name=PLUGIN)  # setup() ran on every worker
        futures = {
            path: client.submit(
                compile_file,
                path.read_text(encoding="utf-8"),
                path.name,
                key=f"compile-{path.relative_to(args.src)}",
                pure=False,
            )
            for path in sources
        }
        results = {path: future.result() for path, future in futures.items()}

    for path, result in results.items():
        out = args.outdir / path.relative_to(args.src).with_suffix(".js")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result["code"], encoding="utf-8")
        print(f"{result['worker']}  host pid {result['host_pid']:<7}  {path.relative_to(args.src)}")
    used = {result["worker"] for result in results.values()}
    print(f"{len(results)} files on {len(used)} workers into {args.outdir}")


if __name__ == "__main__":
    main()
