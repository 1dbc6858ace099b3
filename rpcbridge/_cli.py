"""The command line: ``python -m rpcbridge compile SRC... [options]`` (also ``rpcbridge``).

``compile`` sends every TypeScript/JavaScript file named (folders are searched recursively)
through one host, all at once up to ``--jobs`` in flight, with a progress bar on a terminal
(plain lines otherwise). Errors are printed the way compilers print them, then a summary.
Exit status: 0 when everything compiled, 1 when a file has errors, 2 for a usage error or a
bridge failure (no ``node``, the host died...).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from ._bridge import open_bridge
from ._diagnostics import Diagnostic
from ._errors import BridgeError, CompileError, RpcError

__all__ = ["main"]

SOURCE_SUFFIXES = {".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"}
_OUTPUT_SUFFIX = {".mts": ".mjs", ".mjs": ".mjs", ".cts": ".cjs", ".cjs": ".cjs"}
_SKIPPED_DIRS = {"node_modules", ".git"}

EXIT_OK, EXIT_COMPILE_ERRORS, EXIT_FAILURE = 0, 1, 2


@attrs.define
class _Job:
    """One file to compile, and what came of it."""

    path: Path
    relative: Path  # where it goes below --outdir
    diagnostics: list[Diagnostic] = attrs.Factory(list)
    output_bytes: int = 0
    seconds: float = 0.0
    failed: bool = False


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rpcbridge", description="Talk to Node.js through one long-lived host."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compile_ = commands.add_parser(
        "compile",
        help="compile TypeScript/TSX/JSX files through one host",
        description="Compile files and folders (searched recursively; .d.ts and node_modules "
        "are skipped) concurrently through one host. Without --outdir nothing is written: "
        "the files are only checked.",
    )
    compile_.add_argument("sources", nargs="+", metavar="SRC", type=Path)
    compile_.add_argument("--outdir", type=Path, help="write the JavaScript here")
    compile_.add_argument(
        "--sourcemap", action="store_true", help="write a .map file beside each output"
    )
    compile_.add_argument("--engine", choices=["esbuild", "typescript"], default="esbuild")
    compile_.add_argument(
        "--jobs", type=_positive, default=16, metavar="N", help="compiles in flight (16)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        jobs = list(_find_sources(args.sources))
    except FileNotFoundError as exc:
        print(f"rpcbridge: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not jobs:
        print("rpcbridge: no TypeScript or JavaScript files found", file=sys.stderr)
        return EXIT_FAILURE
    return _compile_command(jobs, args)


def _find_sources(sources: Sequence[Path]) -> Iterator[_Job]:
    seen: set[Path] = set()
    for source in sources:
        if source.is_dir():
            found = sorted(
                p
                for p in source.rglob("*")
                if p.is_file()
                and p.suffix in SOURCE_SUFFIXES
                and not p.name.endswith(".d.ts")
                and not _SKIPPED_DIRS.intersection(p.relative_to(source).parts)
            )
            pairs = [(p, p.relative_to(source)) for p in found]
        elif source.is_file():
            pairs = [(source, Path(source.name))]
        else:
            raise FileNotFoundError(f"no such file or folder: {source}")
        for path, relative in pairs:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                yield _Job(path, relative)


def _compile_command(jobs: list[_Job], args: argparse.Namespace) -> int:
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    started = time.perf_counter()
    try:
        engine = trio.run(_compile_all, jobs, args, err)
    except (BridgeError, BaseExceptionGroup) as exc:
        failure = _bridge_failure(exc)
        if failure is None:
            raise
        err.print(Text(f"rpcbridge: {failure}", style="bold red"))
        return EXIT_FAILURE
    elapsed = time.perf_counter() - started
    errors = warnings = 0
    for job in jobs:
        for diagnostic in job.diagnostics:
            _print_diagnostic(out, diagnostic)
        errors += sum(d.severity == "error" for d in job.diagnostics)
        warnings += sum(d.severity == "warning" for d in job.diagnostics)
    failed = sum(job.failed for job in jobs)
    written = f", wrote {args.outdir}" if args.outdir and failed < len(jobs) else ""
    summary = (
        f"{len(jobs)} file{'s' * (len(jobs) != 1)}: {len(jobs) - failed} compiled, "
        f"{failed} failed; {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)} in {elapsed * 1000:.0f} ms ({engine}){written}"
    )
    out.print(Text(summary, style="bold red" if failed else "bold green"))
    return EXIT_COMPILE_ERRORS if failed else EXIT_OK


async def _compile_all(jobs: list[_Job], args: argparse.Namespace, err: Console) -> str:
    limiter = trio.CapacityLimiter(args.jobs)
    engine: str = args.engine
    with _progress(err, len(jobs)) as advance:
        async with open_bridge() as bridge, trio.open_nursery() as nursery:

            async def one(job: _Job) -> None:
                nonlocal engine
                async with limiter:
                    result = await _compile_one(bridge.call, job, args)
                if result is not None:
                    engine = f"{result['engine']} {result['engineVersion']}"
                advance(job)

            for job in jobs:
                nursery.start_soon(one, job)
    return engine


async def _compile_one(call: Any, job: _Job, args: argparse.Namespace) -> dict[str, Any] | None:
    started = time.perf_counter()
    try:
        source = await trio.Path(job.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        job.failed = True
        job.diagnostics.append(
            Diagnostic(severity="error", message=f"cannot read: {exc}", file=str(job.path))
        )
        return None
    params = {
        "source": source,
        "filename": str(job.path),
        "engine": args.engine,
        "sourcemap": bool(args.sourcemap),
    }
    try:
        result: dict[str, Any] = await call("compile", params)
    except CompileError as exc:
        job.failed = True
        job.diagnostics = exc.diagnostics
        return None
    except RpcError as exc:  # bad params, engine unavailable: this file fails, others go on
        job.failed = True
        job.diagnostics.append(Diagnostic(severity="error", message=str(exc), file=str(job.path)))
        return None
    finally:
        job.seconds = time.perf_counter() - started
    job.diagnostics = [Diagnostic.from_json(d) for d in result.get("diagnostics", [])]
    job.output_bytes = len(result["code"].encode())
    if args.outdir is not None:
        await _write_output(job, result, args.outdir)
    return result


async def _write_output(job: _Job, result: dict[str, Any], outdir: Path) -> None:
    target = outdir / job.relative.with_suffix(_OUTPUT_SUFFIX.get(job.relative.suffix, ".js"))
    await trio.Path(target.parent).mkdir(parents=True, exist_ok=True)
    code: str = result["code"]
    if result.get("map"):
        map_path = target.with_name(target.name + ".map")
        await trio.Path(map_path).write_text(result["map"], encoding="utf-8")
        code = code.rstrip("\n") + f"\n//# sourceMappingURL={map_path.name}\n"
    await trio.Path(target).write_text(code, encoding="utf-8")


@contextlib.contextmanager
def _progress(err: Console, total: int) -> Iterator[Any]:
    """A progress bar on a terminal; one plain line per finished file otherwise."""
    if not err.is_terminal:

        def line(job: _Job) -> None:
            status = "failed" if job.failed else "ok"
            err.print(f"{status:6} {job.path} ({job.seconds * 1000:.1f} ms)", markup=False)

        yield line
        return
    columns = (
        TextColumn("compiling"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("compile", total=total)
        yield lambda _job: progress.advance(task)


def _bridge_failure(exc: BaseException) -> BridgeError | None:
    """The bridge failure behind ``exc`` (possibly inside an exception group), if any."""
    if isinstance(exc, BridgeError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _bridge_failure(inner)
            if found is not None:
                return found
    return None


def _print_diagnostic(console: Console, diagnostic: Diagnostic) -> None:
    style = "bold red" if diagnostic.severity == "error" else "bold yellow"
    first, *rest = diagnostic.render().split("\n")
    head = Text(first)
    marker = f": {diagnostic.severity}:"
    at = first.find(marker)
    if at >= 0:
        head.stylize(style, at + 2, at + len(marker))
    console.print(head)
    for line in rest:
        console.print(Text(line, style="bold green" if line.strip().startswith("^") else ""))
