"""Compile the example app concurrently through one host and print a table.

Every ``.ts``/``.tsx`` file under ``examples/app/src`` and ``examples/broken`` goes to
``bridge.call("compile", ...)`` at once; the table shows each file's size, its compiled size
and how long its call took. The deliberately broken file shows what a ``CompileError``
carries.

Run it with ``make demo`` or ``.venv/bin/python examples/compile_demo.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import trio

import rpcbridge

EXAMPLES = Path(__file__).resolve().parent
SOURCES = sorted((EXAMPLES / "app" / "src").rglob("*.ts*")) + sorted(
    (EXAMPLES / "broken").glob("*.tsx")
)


async def main() -> None:
    rows: dict[Path, tuple[int, str, float]] = {}
    failures: list[rpcbridge.CompileError] = []
    started = time.perf_counter()
    async with rpcbridge.open_bridge() as bridge:

        async def compile_file(path: Path) -> None:
            source = await trio.Path(path).read_text(encoding="utf-8")
            t0 = time.perf_counter()
            try:
                result = await bridge.call(
                    "compile", {"source": source, "filename": path.name, "sourcemap": True}
                )
                outcome = f"{len(result['code'].encode()):>7,} B"
            except rpcbridge.CompileError as exc:
                failures.append(exc)
                outcome = f"{len(exc.errors)} error(s)"
            rows[path] = (len(source.encode()), outcome, (time.perf_counter() - t0) * 1000)

        async with trio.open_nursery() as nursery:
            for path in SOURCES:
                nursery.start_soon(compile_file, path)
    total_ms = (time.perf_counter() - started) * 1000

    print(f"{'file':<36} {'source':>9} {'output':>10} {'ms':>7}")
    for path in SOURCES:
        size, outcome, ms = rows[path]
        print(f"{path.relative_to(EXAMPLES)!s:<36} {size:>7,} B {outcome:>10} {ms:>7.1f}")
    print(f"{len(SOURCES)} files through one host in {total_ms:.0f} ms (start-up included)\n")
    for failure in failures:
        for diagnostic in failure.errors:
            print(diagnostic.render())
            assert diagnostic.line_text is not None and diagnostic.column is not None
            print(f"(the character at the column: {diagnostic.line_text[diagnostic.column - 1]!r})")


if __name__ == "__main__":
    trio.run(main)
