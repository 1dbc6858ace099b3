"""An editor plugin without trio: watch a folder and recompile changed TypeScript files.

This is how a plugin host (an editor, an IDE, a build tool with its own threads) uses
``rpcbridge.SyncBridge``: one bridge for the plugin's life, blocking calls from whatever
thread needs them — here a small thread pool, so that a save of many files compiles them at
once through the one host. The watcher is the simplest one there is: it polls the files'
modification times.

    .venv/bin/python examples/editor_plugin.py                    # watch examples/app/src
    .venv/bin/python examples/editor_plugin.py SRC --once         # check every file once
    .venv/bin/python examples/editor_plugin.py SRC --seconds 30   # watch for 30 s

It prints one line per compiled file and the compiler-style diagnostics of each error.
Exit status (with ``--once``): 0 if everything compiled, 1 if a file has errors.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import rpcbridge

SUFFIXES = (".tsx", ".ts")
DEFAULT_ROOT = Path(__file__).resolve().parent / "app" / "src"


class TypeScriptPlugin:
    """The plugin: it owns one ``SyncBridge`` and answers ``check(path)`` from any thread."""

    def __init__(self) -> None:
        self.bridge = rpcbridge.SyncBridge(call_timeout=30)
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="plugin")

    def check(self, path: Path) -> list[str]:
        """Compile ``path`` (blocking) and return the lines to show for it."""
        source = path.read_text(encoding="utf-8")
        started = time.perf_counter()
        try:
            result = self.bridge.call("compile", {"source": source, "filename": str(path)})
        except rpcbridge.CompileError as exc:
            lines = [f"✗ {path.name}: {len(exc.errors)} error(s)"]
            return lines + [diagnostic.render() for diagnostic in exc.diagnostics]
        ms = (time.perf_counter() - started) * 1000
        lines = [f"✓ {path.name} compiled ({len(result['code'].encode())} B, {ms:.1f} ms)"]
        return lines + [
            rpcbridge.Diagnostic.from_json(warning).render() for warning in result["diagnostics"]
        ]

    def check_all(self, paths: Iterable[Path]) -> bool:
        """Compile several files at once on the pool; print their lines in order. True if
        every file compiled."""
        ok = True
        for lines in self.pool.map(self.check, sorted(paths)):
            ok &= lines[0].startswith("✓")
            print("\n".join(lines), flush=True)
        return ok

    def close(self) -> None:
        """Stop the pool, then the host."""
        self.pool.shutdown()
        self.bridge.close()


def snapshot(root: Path) -> dict[Path, float]:
    """Every watched file under ``root`` with its modification time."""
    return {
        path: path.stat().st_mtime
        for path in root.rglob("*")
        if path.suffix in SUFFIXES and not path.name.endswith(".d.ts") and path.is_file()
    }


def watch(plugin: TypeScriptPlugin, root: Path, seconds: float, interval: float) -> None:
    """Poll ``root`` until ``seconds`` have passed; recompile what changed or appeared."""
    seen = snapshot(root)
    print(f"watching {len(seen)} files under {root} for {seconds:g} s", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = snapshot(root)
        changed = [path for path, mtime in now.items() if seen.get(path) != mtime]
        for path in set(seen) - set(now):
            print(f"- {path.name} removed", flush=True)
        seen = now
        if changed:
            plugin.check_all(changed)
    print("stopped watching", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="check every file once and exit")
    mode.add_argument("--seconds", type=float, default=60.0, help="how long to watch (60)")
    parser.add_argument("--interval", type=float, default=0.2, help="polling period (0.2 s)")
    args = parser.parse_args(argv)

    plugin = TypeScriptPlugin()
    try:
        ok = plugin.check_all(snapshot(args.root))
        if args.once:
            return 0 if ok else 1
        watch(plugin, args.root, args.seconds, args.interval)
    finally:
        plugin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
