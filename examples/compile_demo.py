"""Compile the example app concurrently through one host, then type-check a file.

Every ``.ts``/``.tsx`` file under ``examples/app/src`` and ``examples/broken`` goes to
``bridge.call("compile", ...)`` at once; the table shows each file's size, its compiled size
and how long its call took. The deliberately broken file shows what a ``CompileError``
carries.

Then ``examples/typecheck/invoice.ts``, which compiles (compiling only strips types) but has a
type error, goes to ``bridge.call("typecheck", ...)``: TypeScript's TS2322 comes back with its
line and column. The fix is sent as text (an editor's unsaved buffer) and checked again on
the warm program.

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
INVOICE = EXAMPLES / "typecheck" / "invoice.ts"


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
    print()
    await typecheck_demo()


async def typecheck_demo() -> None:
    """A file that compiles but does not type-check; the fix checked on the warm program."""
    async with rpcbridge.open_bridge() as bridge:
        source = await trio.Path(INVOICE).read_text(encoding="utf-8")
        compiled = await bridge.call("compile", {"source": source, "filename": INVOICE.name})
        print(f"{INVOICE.name} compiles to {len(compiled['code'])} characters of JavaScript, but:")
        t0 = time.perf_counter()
        cold = await bridge.call("typecheck", {"files": [str(INVOICE)]})
        cold_ms = (time.perf_counter() - t0) * 1000
        for raw in cold["diagnostics"]:
            diagnostic = rpcbridge.Diagnostic.from_json(raw)
            print(diagnostic.render())
        print(
            f"type check: {len(cold['diagnostics'])} error(s) in {cold_ms:.0f} ms "
            "(cold: the worker starts, loads TypeScript and its libraries)"
        )
        fixed = source.replace('price: "2.10"', "price: 2.1")
        t0 = time.perf_counter()
        warm = await bridge.call(
            "typecheck",
            {"files": [str(INVOICE)], "changes": [{"path": str(INVOICE), "text": fixed}]},
        )
        warm_ms = (time.perf_counter() - t0) * 1000
        print(
            f"after the fix (sent as text): {len(warm['diagnostics'])} error(s) in "
            f"{warm_ms:.0f} ms (warm)"
        )


if __name__ == "__main__":
    trio.run(main)
