"""A whole project, the way a build runs it: ``python -m benchmarks.project [--quick] [--json]``.

A TypeScript/TSX project of ``--files`` (600) files is generated deterministically in a
temporary folder (no vendored tree): half React-style components, half modules importing each
other, under a tsconfig.json (strict, react-jsx), with the ambient declarations a type check
needs. Then, in the same run:

* ``compile``: wall time of ``rpcbridge compile SRC --outdir OUT`` (the CLI, a fresh process
  each time, as a user runs it: Python start-up, the host's, the compile, the writes) against
  the esbuild CLI (``node/node_modules/.bin/esbuild FILES --outdir=OUT --jsx=automatic``) on the
  same files, alternating, ``--repeats`` times each; medians and their ratio (target ≤ 1.3x),
  and whether both wrote the same bytes.

* ``typecheck``: one host's ``typecheck`` of the project: cold (the first call: the worker
  starts, loads TypeScript, checks everything), then warm re-checks after a one-file edit saved
  on disk (the host notices it by itself) — a body edit (no exported type changes: the usual
  save) and a shape edit (an exported interface changes: its importers are checked again) —
  against spawning ``tsc --noEmit -p`` per check on the same project (target: the warm
  re-check ≥ 20x faster). Each edit's expected TS2322 is verified.

Prints a markdown table; ``--json`` prints the raw result as the last line (``python -m
benchmarks`` runs it as its ``project`` section).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

import rpcbridge

_ROOT = Path(__file__).resolve().parent.parent
ESBUILD = _ROOT / "node" / "node_modules" / ".bin" / "esbuild"
TSC = _ROOT / "node" / "node_modules" / ".bin" / "tsc"
FLOOR_CLIENT = Path(__file__).resolve().parent / "floor_compile.py"
COMPILE_TARGET = 1.3
TYPECHECK_TARGET = 20.0

TSCONFIG = """{
  // the generated project's settings: strict (so every output starts with "use strict"),
  // the automatic JSX runtime, ES2022
  "compilerOptions": {
    "strict": true,
    "jsx": "react-jsx",
    "target": "es2022",
    "module": "esnext",
    "moduleResolution": "bundler",
    "noEmit": true,
    "skipLibCheck": true
  },
  "include": ["src"]
}
"""

AMBIENT = """// What the type checker needs to know about react without node_modules.
declare module "react" {
  export function useState<T>(initial: T): [T, (next: T) => void];
  export function useMemo<T>(make: () => T, deps: readonly unknown[]): T;
}
declare module "react/jsx-runtime" {
  export namespace JSX {
    interface IntrinsicElements {
      [element: string]: Record<string, unknown>;
    }
    type Element = { type: unknown; props: unknown };
  }
  export const jsx: unknown;
  export const jsxs: unknown;
  export const Fragment: unknown;
}
"""


def _module(i: int) -> str:
    # Feature folders of ten modules, each importing the one before it in its folder.
    chained = i % 10 != 0
    previous = f'import {{ total{i - 1} }} from "./m{i - 1}";\n' if chained else ""
    base = f"total{i - 1}([])" if chained else "0"
    rows = "\n".join(
        f'  {{ id: {k}, name: "row {k} of {i} — 你好", weight: {k * 0.5} }},' for k in range(8)
    )
    return f"""{previous}
export interface Row{i} {{
  readonly id: number;
  name: string;
  weight: number;
  tags?: string[];
}}

export enum Kind{i} {{
  Small = "small",
  Large = "large",
}}

export const rows{i}: Row{i}[] = [
{rows}
];

export function total{i}(extra: readonly Row{i}[]): number {{
  return [...rows{i}, ...extra].reduce((sum, row) => sum + row.weight, {base});
}}

export function kindOf{i}(row: Row{i}): Kind{i} {{
  return row.weight > 2 ? Kind{i}.Large : Kind{i}.Small;
}}

export class Store{i}<T extends {{ id: number }}> {{
  private readonly items = new Map<number, T>();
  add(item: T): this {{
    this.items.set(item.id, item);
    return this;
  }}
  get size(): number {{
    return this.items.size;
  }}
}}
"""


def _component(i: int, modules: int) -> str:
    m = i % modules
    return f"""import {{ useMemo, useState }} from "react";
import {{ rows{m}, total{m}, kindOf{m}, type Row{m} }} from "../lib/m{m}";

type Props{i} = {{ title: string; limit?: number; onPick?: (row: Row{m}) => void }};

export function Panel{i}({{ title, limit = 5, onPick }}: Props{i}) {{
  const [open, setOpen] = useState<boolean>(false);
  const shown = useMemo(() => rows{m}.slice(0, limit), [limit]);
  return (
    <section className="panel">
      <h2 onClick={{() => setOpen(!open)}}>
        {{title}} ({{total{m}([])}})
      </h2>
      {{open && (
        <ul>
          {{shown.map((row) => (
            <li key={{row.id}} data-kind={{kindOf{m}(row)}} onClick={{() => onPick?.(row)}}>
              {{row.name}}
            </li>
          ))}}
        </ul>
      )}}
    </section>
  );
}}
"""


def generate(root: Path, files: int) -> list[str]:
    """Write the project below ``root``; returns its compiled files, relative to ``root``."""
    modules = files // 2
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "ui").mkdir(parents=True)
    (root / "tsconfig.json").write_text(TSCONFIG, encoding="utf-8")
    (root / "src" / "ambient.d.ts").write_text(AMBIENT, encoding="utf-8")
    names = []
    for i in range(modules):
        (root / "src" / "lib" / f"m{i}.ts").write_text(_module(i), encoding="utf-8")
        names.append(f"src/lib/m{i}.ts")
    for i in range(files - modules):
        (root / "src" / "ui" / f"Panel{i}.tsx").write_text(_component(i, modules), encoding="utf-8")
        names.append(f"src/ui/Panel{i}.tsx")
    return sorted(names)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _timed(argv: list[str | Path], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_compile(root: Path, names: list[str], repeats: int) -> dict[str, Any]:
    """rpcbridge compile against the esbuild CLI, alternating; medians and their ratio."""
    ours, theirs = root / "out-rpcbridge", root / "out-esbuild"
    esbuild_argv: list[str | Path] = [
        ESBUILD,
        *names,
        f"--outdir={theirs}",
        "--jsx=automatic",
        "--log-level=warning",
    ]
    rpcbridge_argv: list[str | Path] = [
        sys.executable,
        "-m",
        "rpcbridge",
        "compile",
        "src",
        "--outdir",
        ours,
    ]
    floor_out = root / "out-floor"
    floor_argv: list[str | Path] = [sys.executable, FLOOR_CLIENT, floor_out, *names]
    argvs = {"esbuild": esbuild_argv, "rpcbridge": rpcbridge_argv, "floor": floor_argv}
    outs = {"esbuild": theirs, "rpcbridge": ours, "floor": floor_out}
    times: dict[str, list[float]] = {name: [] for name in argvs}
    _timed(esbuild_argv, root)  # warm the page cache for all
    for rep in range(repeats):
        order = list(argvs) if rep % 2 == 0 else list(reversed(argvs))
        for name in order:
            shutil.rmtree(outs[name], ignore_errors=True)
            times[name].append(_timed(argvs[name], root))
    same = _tree(ours) == _tree(theirs) == _tree(floor_out)
    esbuild_s = statistics.median(times["esbuild"])
    rpcbridge_s = statistics.median(times["rpcbridge"])
    floor_s = statistics.median(times["floor"])
    return {
        "files": len(names),
        "source_bytes": sum((root / n).stat().st_size for n in names),
        "esbuild_s": times["esbuild"],
        "rpcbridge_s": times["rpcbridge"],
        "floor_s": times["floor"],
        "esbuild_median_s": esbuild_s,
        "rpcbridge_median_s": rpcbridge_s,
        "floor_median_s": floor_s,
        "ratio": rpcbridge_s / esbuild_s,
        "floor_ratio": floor_s / esbuild_s,
        "target": COMPILE_TARGET,
        "same_output": same,
    }


def _edit(path: Path, old: str, new: str, stamp: int) -> None:
    """Save an edit, with an mtime of its own (a coarse clock must still see it)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    seconds = time.time() + stamp
    os.utime(path, (seconds, seconds))


async def _typecheck_host(root: Path, edits: int) -> dict[str, Any]:
    tsconfig = str(root / "tsconfig.json")
    modules = len(list((root / "src" / "lib").glob("m*.ts")))
    m = min(12, modules - 1)  # a module inside a feature folder: imported by the next one
    module = root / "src" / "lib" / f"m{m}.ts"
    body_old, body_new = f"return [...rows{m}", f'const oops: number = "s";\n  return [...rows{m}'
    shape_old, shape_new = "  weight: number;\n", "  weight: string;\n"
    timings: dict[str, list[float]] = {"body": [], "shape": []}
    async with rpcbridge.open_bridge(call_timeout=600) as bridge:
        started = time.perf_counter()
        cold = await bridge.call("typecheck", {"tsconfig": tsconfig})
        cold_s = time.perf_counter() - started
        if cold["diagnostics"]:
            raise AssertionError(f"the generated project has errors: {cold['diagnostics'][:3]}")
        stamp = 10
        for _ in range(edits):
            for kind, old, new in (("body", body_old, body_new), ("shape", shape_old, shape_new)):
                for forward in (True, False):
                    stamp += 10
                    _edit(module, old if forward else new, new if forward else old, stamp)
                    started = time.perf_counter()
                    result = await bridge.call("typecheck", {"tsconfig": tsconfig})
                    elapsed = time.perf_counter() - started
                    codes = {d["code"] for d in result["diagnostics"]}
                    if forward and "TS2322" not in codes:
                        raise AssertionError(f"the {kind} edit's TS2322 was not reported: {codes}")
                    if not forward and codes:
                        raise AssertionError(f"reverting the {kind} edit left {codes}")
                    if forward:  # the edit itself; the revert is the same work
                        timings[kind].append(elapsed)
    return {
        "cold_s": cold_s,
        "files": cold["files"],
        "body_s": timings["body"],
        "shape_s": timings["shape"],
    }


def bench_typecheck(root: Path, edits: int, tsc_runs: int) -> dict[str, Any]:
    """One host's cold check and warm re-checks, against ``tsc --noEmit`` per check."""
    host = trio.run(_typecheck_host, root, edits)
    tsc = [_timed([TSC, "--noEmit", "-p", root / "tsconfig.json"], root) for _ in range(tsc_runs)]
    tsc_s = statistics.median(tsc)
    body_s = statistics.median(host["body_s"])
    shape_s = statistics.median(host["shape_s"])
    return {
        **host,
        "tsc_s": tsc,
        "tsc_median_s": tsc_s,
        "body_median_s": body_s,
        "shape_median_s": shape_s,
        "body_speedup": tsc_s / body_s,
        "shape_speedup": tsc_s / shape_s,
        "cold_speedup": tsc_s / host["cold_s"],
        "target": TYPECHECK_TARGET,
    }


def run(quick: bool = False, files: int = 600, repeats: int | None = None) -> dict[str, Any]:
    """Generate the project, run every part, return the raw numbers."""
    reps = repeats or (3 if quick else 7)
    with tempfile.TemporaryDirectory(prefix="rpcbridge-project-") as tmp:
        root = Path(tmp)
        names = generate(root, files)
        return {
            "mode": "quick" if quick else "full",
            "repeats": reps,
            "compile": bench_compile(root, names, reps),
            "typecheck": bench_typecheck(root, edits=2 if quick else 5, tsc_runs=2 if quick else 3),
        }


def render(result: dict[str, Any]) -> str:
    """The markdown table of a result."""
    c = result["compile"]
    verdict = "meets" if c["ratio"] <= c["target"] else "misses"
    lines = [
        f"| whole project: {c['files']} files, {c['source_bytes'] / 1e6:.1f} MB "
        "| median wall s | ratio to esbuild CLI |",
        "|---|---:|---:|",
        f"| esbuild CLI (`esbuild FILES --outdir`) | {c['esbuild_median_s']:.3f} | 1.00 |",
        f"| `rpcbridge compile SRC --outdir` | {c['rpcbridge_median_s']:.3f} "
        f"| **{c['ratio']:.2f}** ({verdict} the ≤ {c['target']}x target) |",
        f"| floor: the same host from a minimal Python client (`benchmarks/floor_compile.py`) "
        f"| {c['floor_median_s']:.3f} | {c['floor_ratio']:.2f} |",
        "",
        f"Medians of {result['repeats']} alternating runs ({result['mode']} mode), each a fresh "
        "process (Python start-up and imports, the host's start and handshake, the build, the "
        "writes, the host's exit). The floor writes `rpc.hello` and `compileFiles` to the "
        "host at once and reads the answer, with the standard library only (no bridge, no "
        "error handling): what Node, the host and esbuild's service cost by themselves. Same "
        "output bytes (all three): " + ("yes" if c["same_output"] else "**NO**") + ".",
    ]
    t = result["typecheck"]
    met = "meets" if t["body_speedup"] >= t["target"] else "misses"
    lines += [
        "",
        f"| type check, {t['files']} files | median s | `tsc --noEmit` ÷ this |",
        "|---|---:|---:|",
        f"| `tsc --noEmit -p` (a process per check) | {t['tsc_median_s']:.3f} | 1.0 |",
        f"| `typecheck`, cold (worker start, TypeScript load, full check) | {t['cold_s']:.3f} "
        f"| {t['cold_speedup']:.1f} |",
        f"| `typecheck`, warm, after a body edit saved | {t['body_median_s']:.3f} "
        f"| **{t['body_speedup']:.0f}x** ({met} the ≥ {t['target']:.0f}x target) |",
        f"| `typecheck`, warm, after an exported type edit saved | {t['shape_median_s']:.3f} "
        f"| {t['shape_speedup']:.1f}x |",
        "",
        f"Warm: medians of {len(t['body_s'])} edits of one module, each verified (the TS2322 it "
        "introduces is reported, its revert clears it); the host stats the project's files at "
        "each check and re-checks only the files the edit affects. An exported type edit "
        "re-checks the files importing the module, transitively through those whose own "
        "shape depends on it.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run and print the table (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.project", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--files", type=int, default=600, help="files in the project (600)")
    parser.add_argument("--repeats", type=int, help="runs of each contender")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, files=args.files, repeats=args.repeats)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
