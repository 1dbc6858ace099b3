"""A progress bar fed by ``$/progress``: a long handler-module call, drawn with rich.

``greeter.slowCount`` (examples/handlers/greeter.mjs) counts slowly and reports
``ctx.progress({count, of})`` after every step; ``on_progress=`` receives each value in order,
before the call returns, and advances the bar. This uses ``rpcbridge.SyncBridge``, so the
callback runs in the calling thread, like any UI code would want.

    .venv/bin/python examples/progress_demo.py                      # 50 steps of 60 ms
    .venv/bin/python examples/progress_demo.py --steps 10 --delay-ms 5
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import rpcbridge

GREETER = Path(__file__).resolve().parent / "handlers" / "greeter.mjs"


def main() -> None:
    parser = argparse.ArgumentParser(description="A rich progress bar fed by $/progress.")
    parser.add_argument("--steps", type=int, default=50, help="how far to count (50)")
    parser.add_argument("--delay-ms", type=int, default=60, help="time per step (60 ms)")
    args = parser.parse_args()

    console = Console()
    seen: list[Any] = []
    columns = (
        TextColumn("greeter.slowCount"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        rpcbridge.SyncBridge(handlers=[GREETER]) as bridge,
        Progress(*columns, console=console) as progress,
    ):
        task = progress.add_task("count", total=args.steps)

        def on_progress(value: Any) -> None:
            seen.append(value)
            progress.update(task, completed=value["count"])

        started = time.perf_counter()
        result = bridge.call(
            "greeter.slowCount",
            {"to": args.steps, "delayMs": args.delay_ms},
            on_progress=on_progress,
        )
        elapsed = time.perf_counter() - started
    in_order = [value["count"] for value in seen] == list(range(1, args.steps + 1))
    console.print(
        f"counted to {result['counted']} in {elapsed:.2f} s: {len(seen)} progress values"
        f"{', in order' if in_order else ', OUT OF ORDER'}, all before the result"
    )


if __name__ == "__main__":
    main()
