"""``rpcbridge compile`` and ``rpcbridge check``: a project's files through one host.

* ``compile SRC... [--outdir OUT] [--sourcemap] [--tsconfig FILE] [--engine E] [--watch]
  [--check]``: every TypeScript/JavaScript file named (folders are searched recursively;
  ``.d.ts``, ``node_modules`` and ``.git`` are skipped) is compiled. With the default esbuild
  engine the whole list goes to the host in ONE ``compileFiles`` call: the host reads the
  sources, compiles them in one esbuild build (each file under its nearest tsconfig.json, as
  the esbuild CLI does) and writes the outputs itself, answering with per-file diagnostics
  only. ``--engine typescript`` compiles file by file (``compile`` with ``tsconfig``, up to
  ``--jobs`` in flight).
* ``check SRC...``: type-checks the TypeScript project around each SRC (``typecheck``).

Errors are printed the way compilers print them, then a summary. Exit status: 0 when
everything compiled (and type-checked), 1 when a file has errors, 2 for a usage error or a
bridge failure (no ``node``, the host died...).

Start-up matters here (a whole-project compile takes about half a second): the host is
started before this module is even imported (``rpcbridge/__main__.py``; the bridge adopts it
through ``open_bridge(_started=...)``), ``rich`` is imported only when a terminal shows the
output, and finding the files walks the tree once, without descending into skipped folders and
with one real path per folder.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from ._bridge import Bridge, open_bridge
from ._cli_args import (
    CHECKED_SUFFIXES,
    CONFIG_NAMES,
    EXIT_COMPILE_ERRORS,
    EXIT_FAILURE,
    EXIT_OK,
    SOURCE_SUFFIXES,
    Job,
    batch_params,
    find_sources,
)
from ._diagnostics import Diagnostic
from ._errors import BridgeError, CompileError, RpcError
from ._host import StartedChild

__all__ = ["bridge_failure", "run_async", "run_check", "run_compile"]

T = TypeVar("T")


# -- output --------------------------------------------------------------------------------------


class Output:
    """Where the results go: plain text, or ``rich`` styles when a terminal shows them (rich
    is imported only then: it costs ~35 ms of start-up)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._console: Any = None
        if self.out.isatty():
            from rich.console import Console

            self._console = Console(file=self.out, highlight=False, soft_wrap=True)

    def line(self, text: str, style: str = "") -> None:
        """Print one line on stdout (in ``style`` on a terminal)."""
        if self._console is None:
            self.out.write(text + "\n")
        else:
            from rich.text import Text

            self._console.print(Text(text, style=style))

    def diagnostic(self, diagnostic: Diagnostic) -> None:
        """Print one diagnostic compiler-style (``file:line:column: error: …``, the line, a
        caret)."""
        if self._console is None:
            self.out.write(diagnostic.render() + "\n")
            return
        from rich.text import Text

        style = "bold red" if diagnostic.severity == "error" else "bold yellow"
        first, *rest = diagnostic.render().split("\n")
        head = Text(first)
        marker = f": {diagnostic.severity}:"
        at = first.find(marker)
        if at >= 0:
            head.stylize(style, at + 2, at + len(marker))
        self._console.print(head)
        for line in rest:
            self._console.print(
                Text(line, style="bold green" if line.strip().startswith("^") else "")
            )

    def flush(self) -> None:
        """Flush both streams (watch mode prints while it waits)."""
        self.out.flush()
        self.err.flush()


class _Progress:
    """A progress bar on a terminal (stderr); one plain line per finished file otherwise."""

    def __init__(self, err: TextIO, total: int) -> None:
        self._err = err
        self._total = total
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[Job], None]:
        if not self._err.isatty():

            def line(job: Job) -> None:
                status = "failed" if job.failed else "ok"
                timing = f" ({job.seconds * 1000:.1f} ms)" if job.seconds else ""
                self._err.write(f"{status:6} {job.path}{timing}\n")

            return line
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(file=self._err, highlight=False, soft_wrap=True)
        columns = (TextColumn("compiling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self._bar = Progress(*columns, console=console, transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task("compile", total=self._total)
        return lambda _job: self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def bridge_failure(exc: BaseException) -> BridgeError | None:
    """The bridge failure behind ``exc`` (possibly inside an exception group), if any."""
    if isinstance(exc, BridgeError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = bridge_failure(inner)
            if found is not None:
                return found
    return None


def run_async(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run a command's coroutine to completion on asyncio (through anyio), as every command of
    the command line does: ``import asyncio`` and anyio's asyncio backend take ~60 ms where
    trio and anyio's trio backend take ~120-170 ms, and the CLI's start-up is on a build's
    path (docs/compile.md, "Whole-project speed"). The bridge works the same on both."""
    return anyio.run(function, *args, backend="asyncio")


# -- compile ---------------------------------------------------------------------------------------


def run_compile(args: argparse.Namespace, host: StartedChild | None = None) -> int:
    """``rpcbridge compile``: returns the exit status. ``host``: the host ``__main__`` started
    early; the bridge adopts it (its caller ends it if it is not used)."""
    try:
        jobs = find_sources(args.sources)
    except FileNotFoundError as exc:
        print(f"rpcbridge: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not jobs:
        print("rpcbridge: no TypeScript or JavaScript files found", file=sys.stderr)
        return EXIT_FAILURE
    output = Output()
    try:
        if args.watch:
            return run_async(_watch, jobs, args, output, host)
        return run_async(_compile_once, jobs, args, output, host)
    except KeyboardInterrupt:
        output.line("rpcbridge: stopped")
        return EXIT_OK
    except (BridgeError, BaseExceptionGroup) as exc:
        failure = bridge_failure(exc)
        if failure is None:
            raise
        print(f"rpcbridge: {failure}", file=sys.stderr)
        return EXIT_FAILURE


def _host_env(host: StartedChild | None) -> Mapping[str, str] | None:
    """The environment of the host(s) of this run: the early host's (``__main__.py`` adds
    ``RPCBRIDGE_COMPILE_WARMUP=now``), so that a restarted host is started the same way."""
    return None if host is None else host.env


def run_check(args: argparse.Namespace, host: StartedChild | None = None) -> int:
    """``rpcbridge check``: returns the exit status (``host``: as for ``run_compile``)."""
    try:
        jobs = [job for job in find_sources(args.sources) if job.path.suffix in CHECKED_SUFFIXES]
    except FileNotFoundError as exc:
        print(f"rpcbridge: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not jobs:
        print("rpcbridge: no TypeScript files found", file=sys.stderr)
        return EXIT_FAILURE
    output = Output()

    async def check() -> int:
        async with open_bridge(_started=host, env=_host_env(host)) as bridge:
            errors = await check_jobs(bridge, jobs, args.tsconfig, output)
        return EXIT_COMPILE_ERRORS if errors else EXIT_OK

    try:
        return run_async(check)
    except (BridgeError, BaseExceptionGroup) as exc:
        failure = bridge_failure(exc)
        if failure is None:
            raise
        print(f"rpcbridge: {failure}", file=sys.stderr)
        return EXIT_FAILURE


async def check_jobs(
    bridge: Bridge, jobs: Sequence[Job], tsconfig: Path | None, output: Output
) -> int:
    """Type-check the TypeScript files of ``jobs`` through ``bridge``, print what TypeScript
    says and a summary line; returns the number of errors (a failure to check counts one)."""
    files = [str(job.path) for job in jobs if job.path.suffix in CHECKED_SUFFIXES]
    if not files:
        return 0
    params: dict[str, Any] = {"files": files}
    if tsconfig is not None:
        params["tsconfig"] = str(tsconfig)
    started = time.perf_counter()
    try:
        result: dict[str, Any] = await bridge.call("typecheck", params)
    except RpcError as exc:  # TypeScript missing (1002), a bad --tsconfig...
        output.line(f"rpcbridge: check: {exc.message}", "bold red")
        return 1
    diagnostics = [Diagnostic.from_json(d) for d in result["diagnostics"]]
    for diagnostic in diagnostics:
        output.diagnostic(diagnostic)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    elapsed = (time.perf_counter() - started) * 1000
    project = result["project"] or "no tsconfig.json: an inferred strict project"
    output.line(
        f"check: {result['files']} file{'s' * (result['files'] != 1)}: "
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        f"in {elapsed:.0f} ms ({result['engine']} {result['engineVersion']}; {project})",
        "bold red" if errors else "bold green",
    )
    return errors


def report(
    output: Output, jobs: Sequence[Job], args: argparse.Namespace, engine: str, elapsed: float
) -> int:
    """Print every diagnostic, then the summary line; returns the exit status."""
    errors = warnings = 0
    for job in jobs:
        for diagnostic in job.diagnostics:
            output.diagnostic(diagnostic)
        errors += sum(d.severity == "error" for d in job.diagnostics)
        warnings += sum(d.severity == "warning" for d in job.diagnostics)
    failed = sum(job.failed for job in jobs)
    written = f", wrote {args.outdir}" if args.outdir and failed < len(jobs) else ""
    summary = (
        f"{len(jobs)} file{'s' * (len(jobs) != 1)}: {len(jobs) - failed} compiled, "
        f"{failed} failed; {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)} in {elapsed * 1000:.0f} ms ({engine}){written}"
    )
    output.line(summary, "bold red" if failed else "bold green")
    return EXIT_COMPILE_ERRORS if failed else EXIT_OK


async def _compile_once(
    jobs: list[Job], args: argparse.Namespace, output: Output, host: StartedChild | None
) -> int:
    async with open_bridge(_started=host, env=_host_env(host)) as bridge:
        return await _build(bridge, jobs, args, output)


async def _build(
    bridge: Bridge,
    jobs: list[Job],
    args: argparse.Namespace,
    output: Output,
    checked: Sequence[Job] | None = None,
) -> int:
    """Compile (and with --check, type-check ``checked``, default ``jobs``) ``jobs``, print
    the results; returns the exit status."""
    started = time.perf_counter()
    for job in jobs:
        job.diagnostics, job.failed = [], False
    engine = await compile_jobs(bridge, jobs, args, output)
    status = report(output, jobs, args, engine, time.perf_counter() - started)
    if args.check and await check_jobs(bridge, checked or jobs, args.tsconfig, output):
        status = EXIT_COMPILE_ERRORS
    output.flush()
    return status


def _is_watched(name: str, outdir: Path | None) -> bool:
    path = Path(name)
    if outdir is not None and path.is_relative_to(outdir):
        return False  # our own outputs
    if path.name in CONFIG_NAMES:
        return True
    return path.suffix in SOURCE_SUFFIXES and not path.name.endswith(".d.ts")


def _changed_jobs(changes: set[tuple[Any, str]], sources: Sequence[Path]) -> list[Job]:
    """The files to build again after ``changes`` (watchfiles' set): those saved or added;
    every file when a tsconfig.json/jsconfig.json changed."""
    import watchfiles

    changed = {
        os.path.realpath(name) for kind, name in changes if kind != watchfiles.Change.deleted
    }
    everything = any(Path(name).name in CONFIG_NAMES for _, name in changes)
    return [
        job for job in find_sources(sources) if everything or os.path.realpath(job.path) in changed
    ]


async def _watch(
    jobs: list[Job], args: argparse.Namespace, output: Output, host: StartedChild | None
) -> int:
    """Build once, then again on every save, until SIGINT (Ctrl-C) or SIGTERM.

    Only the files saved are compiled again (every file when a tsconfig.json changed); with
    --check the whole list is type-checked again (the host re-checks only what the edit
    affects), so that an error an edit causes in another file is shown too.
    """
    import watchfiles

    outdir = Path(await anyio.Path(args.outdir).resolve()) if args.outdir is not None else None
    stop = anyio.Event()  # watchfiles stops at its next step once this is set

    async def stop_on_signal() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                stop.set()
                return

    send, receive = anyio.create_memory_object_stream[set[tuple[Any, str]]](math.inf)

    async def watch() -> None:
        # Watching starts before the first build, so that a file saved during it is seen.
        async with send:
            async for changes in watchfiles.awatch(
                *args.sources,
                watch_filter=lambda _kind, name: _is_watched(name, outdir),
                step=50,
                stop_event=stop,
            ):
                await send.send(changes)

    async with (
        open_bridge(_started=host, env=_host_env(host)) as bridge,
        anyio.create_task_group() as nursery,
    ):
        nursery.start_soon(stop_on_signal)
        nursery.start_soon(watch)
        # let watch() create its watcher (synchronously, on its first step)
        await anyio.lowlevel.checkpoint()
        await _build(bridge, jobs, args, output)
        output.line("watching for changes (Ctrl-C to stop)")
        output.flush()
        async with receive:
            async for changes in receive:
                batch = await anyio.to_thread.run_sync(_changed_jobs, changes, args.sources)
                if not batch:
                    continue
                shown = ", ".join(str(job.path) for job in batch[:5])
                more = f" and {len(batch) - 5} more" if len(batch) > 5 else ""
                output.line(f"changed: {shown}{more}")
                checked = await anyio.to_thread.run_sync(find_sources, args.sources)
                await _build(bridge, batch, args, output, checked=checked)
        nursery.cancel_scope.cancel()
    output.line("rpcbridge: stopped")
    output.flush()
    return EXIT_OK


async def compile_jobs(
    bridge: Bridge, jobs: list[Job], args: argparse.Namespace, output: Output
) -> str:
    """Compile ``jobs`` through ``bridge`` (filling in their diagnostics); returns the engine
    and its version, for the summary."""
    with _Progress(output.err, len(jobs)) as advance:
        if args.engine == "esbuild":
            return await _compile_batch(bridge, jobs, args, advance)
        return await _compile_each(bridge, jobs, args, advance)


async def _compile_batch(
    bridge: Bridge, jobs: list[Job], args: argparse.Namespace, advance: Callable[[Job], None]
) -> str:
    params = batch_params(jobs, args)
    try:
        # sent already, as the host started, if __main__.py could (the same params)
        result: dict[str, Any] = await bridge._call_sent_early("compileFiles", params)
    except RpcError as exc:  # bad params (say, a --tsconfig that is not there): every file fails
        jobs[0].diagnostics.append(Diagnostic(severity="error", message=str(exc)))
        for job in jobs:
            job.failed = True
            advance(job)
        return "esbuild"
    for job, answer in zip(jobs, result["files"], strict=True):
        job.failed = not answer["ok"]
        job.diagnostics = [Diagnostic.from_json(d) for d in answer["diagnostics"]]
        advance(job)
    if result["diagnostics"]:
        jobs[0].diagnostics += [Diagnostic.from_json(d) for d in result["diagnostics"]]
    return f"{result['engine']} {result['engineVersion']}"


async def _compile_each(
    bridge: Bridge, jobs: list[Job], args: argparse.Namespace, advance: Callable[[Job], None]
) -> str:
    limiter = anyio.CapacityLimiter(args.jobs)
    engine: str = args.engine

    async def one(job: Job) -> None:
        nonlocal engine
        async with limiter:
            result = await _compile_one(bridge, job, args)
        if result is not None:
            engine = f"{result['engine']} {result['engineVersion']}"
        advance(job)

    async with anyio.create_task_group() as nursery:
        for job in jobs:
            nursery.start_soon(one, job)
    return engine


async def _compile_one(bridge: Bridge, job: Job, args: argparse.Namespace) -> dict[str, Any] | None:
    started = time.perf_counter()
    try:
        source = await anyio.Path(job.path).read_text(encoding="utf-8")
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
        # the file's nearest tsconfig.json, or --tsconfig: as with the esbuild engine
        "tsconfig": str(args.tsconfig) if getattr(args, "tsconfig", None) else True,
    }
    try:
        result: dict[str, Any] = await bridge.call("compile", params)
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


async def _write_output(job: Job, result: dict[str, Any], outdir: Path) -> None:
    target = job.output_path(outdir)
    await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
    code: str = result["code"]
    if result.get("map"):
        map_path = target.with_name(target.name + ".map")
        await anyio.Path(map_path).write_text(result["map"], encoding="utf-8")
        code = code.rstrip("\n") + f"\n//# sourceMappingURL={map_path.name}\n"
    await anyio.Path(target).write_text(code, encoding="utf-8")
