"""The command line: ``python -m rpcbridge COMMAND ...`` (also ``rpcbridge``).

* ``compile SRC... [options]``: compile files through one host (below).
* ``call METHOD [JSON] [--handlers PATH]... [--timeout S] [--trace] [--command ARGV...]``: one
  call, its result printed as pretty JSON on stdout. ``--command`` takes **the rest of the
  command line** as the argv of any stdio JSON-RPC server (so it comes last, and its own
  options need no quoting): ``rpcbridge call initialize '{}' --command pylsp --stdio``.
  Exit status: 0 with a result, 1 for an error answer (code, message and data on stderr), 2
  for a usage error or a bridge failure.
* ``doctor``: checks ``node``, the host's npm packages and compile engines, and makes one
  round trip; a checklist with what to fix. Exit status 0 when every check passed, else 1.

``compile`` sends every TypeScript/JavaScript file named (folders are searched recursively)
through one host, all at once up to ``--jobs`` in flight, with a progress bar on a terminal
(plain lines otherwise). Errors are printed the way compilers print them, then a summary.
Exit status: 0 when everything compiled, 1 when a file has errors, 2 for a usage error or a
bridge failure (no ``node``, the host died...).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import platform
import subprocess
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
from ._errors import BridgeError, CompileError, HostSetupError, RpcError
from ._host import bundled_host_dir, check_npm_packages, find_node

__all__ = ["main"]

SOURCE_SUFFIXES = {".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"}
_OUTPUT_SUFFIX = {".mts": ".mjs", ".mjs": ".mjs", ".cts": ".cjs", ".cjs": ".cjs"}
_SKIPPED_DIRS = {"node_modules", ".git"}

EXIT_OK, EXIT_COMPILE_ERRORS, EXIT_FAILURE = 0, 1, 2
EXIT_RPC_ERROR = 1  # call: the peer answered with an error
EXIT_CHECK_FAILED = 1  # doctor: a check failed
_MIN_NODE_MAJOR = 20


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
    call = commands.add_parser(
        "call",
        help="make one call and print its result as JSON",
        description="Call METHOD on the bundled host (or on any stdio JSON-RPC server with "
        "--command) and print the result as pretty JSON. Exit status: 0 with a result, 1 for "
        "an error answer (printed on stderr), 2 for a usage error or a bridge failure.",
    )
    call.add_argument("method", metavar="METHOD")
    call.add_argument(
        "params",
        nargs="?",
        metavar="JSON",
        help="the params: a JSON object or array (omitted: no params)",
    )
    call.add_argument(
        "--handlers",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="load this handler module into the host (repeatable)",
    )
    call.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="give up (and cancel) after this long"
    )
    call.add_argument("--trace", action="store_true", help="log every message both ways on stderr")
    call.add_argument(
        "--command",
        dest="server",
        nargs=argparse.REMAINDER,
        metavar="ARGV",
        help="talk to this stdio JSON-RPC server instead of the bundled host: everything after "
        "--command is its argv (so put --command last)",
    )
    call.set_defaults(subparser=call)
    commands.add_parser(
        "doctor",
        help="check node, the host's npm packages and engines, and one round trip",
        description="Check that rpcbridge can work here: node (>= 20), the bundled host and "
        "its npm packages, the compile engines, and one round trip. Prints a checklist with "
        "what to fix; exit status 0 when every check passed, else 1.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "call":
        return _call_command(args.subparser, args)
    if args.command == "doctor":
        return _doctor_command()
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


# -- call ---------------------------------------------------------------------------------------


def _call_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    def usage(message: str) -> int:
        parser.print_usage(sys.stderr)
        print(f"rpcbridge call: error: {message}", file=sys.stderr)
        return EXIT_FAILURE

    params: Any = None
    if args.params is not None:
        try:
            params = json.loads(args.params)
        except ValueError as exc:
            return usage(f"JSON is not valid JSON: {exc}")
        if not isinstance(params, dict | list):
            return usage("JSON must be an object or an array (JSON-RPC params)")
    if args.server is not None and not args.server:
        return usage("--command needs the server's argv after it")
    if args.server and args.handlers:
        return usage("--handlers loads modules into the bundled host; not with --command")
    if args.timeout is not None and not args.timeout > 0:
        return usage("--timeout must be a positive number of seconds")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    if args.trace:
        logging.getLogger("rpcbridge.trace").setLevel(logging.DEBUG)

    async def run() -> Any:
        async with open_bridge(
            args.server or None, handlers=args.handlers, trace=args.trace or None
        ) as bridge:
            return await bridge.call(
                args.method, params, timeout=math.inf if args.timeout is None else args.timeout
            )

    try:
        result = trio.run(run)
    except RpcError as exc:
        print(f"rpcbridge: {args.method}: error {exc.code}: {exc.message}", file=sys.stderr)
        if exc.data is not None:
            data = json.dumps(exc.data, indent=2, ensure_ascii=False)
            print(f"data: {data}", file=sys.stderr)
        return EXIT_RPC_ERROR
    except (BridgeError, BaseExceptionGroup) as exc:
        failure = _bridge_failure(exc)
        if failure is None:
            raise
        print(f"rpcbridge: {failure}", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return EXIT_OK


# -- doctor -------------------------------------------------------------------------------------


_MARKS = {"ok": "✓", "failed": "✗", "optional": "-", "skipped": "·"}


@attrs.define
class _Check:
    """One line of the doctor's checklist: ``ok``, ``failed`` (exit status 1), ``optional``
    (an optional part is missing: said, but not a failure) or ``skipped`` (not tried because
    an earlier check failed)."""

    status: str
    what: str
    fix: str = ""

    def render(self) -> str:
        text = f"{_MARKS[self.status]} {self.what}"
        if self.fix:
            text += "\n    " + self.fix.replace("\n", "\n    ")
        return text


def _doctor_command() -> int:
    checks: list[_Check] = []
    out = sys.stdout

    def report(check: _Check) -> _Check:
        checks.append(check)
        print(check.render(), file=out, flush=True)
        return check

    from . import __version__

    report(_Check("ok", f"python {platform.python_version()} (rpcbridge {__version__})"))
    report(_check_node())
    host_dir = None
    try:
        host_dir = bundled_host_dir()
        report(_Check("ok", f"host: {host_dir}"))
    except HostSetupError as exc:
        report(_Check("failed", "host: missing", str(exc)))
    if host_dir is not None:
        try:
            check_npm_packages(host_dir)
            report(_Check("ok", "the host's npm packages are installed"))
        except HostSetupError as exc:
            report(_Check("failed", "the host's npm packages are missing", str(exc)))
    if any(check.status == "failed" for check in checks):
        report(_Check("skipped", "round trip: not tried until the items above are fixed"))
    else:
        for check in _check_round_trip(host_dir):
            report(check)
    failed = sum(check.status == "failed" for check in checks)
    if failed:
        print(f"\n{failed} check{'s' * (failed != 1)} failed", file=out)
        return EXIT_CHECK_FAILED
    print("\nall good", file=out)
    return EXIT_OK


def _check_node() -> _Check:
    install = (
        f"install Node.js {_MIN_NODE_MAJOR} LTS or newer (https://nodejs.org, nvm or your "
        "package manager), or point rpcbridge at one with RPCBRIDGE_NODE=/path/to/node"
    )
    try:
        node = find_node()
    except HostSetupError as exc:
        return _Check("failed", "node: not found", f"{exc}")
    try:
        # process.version, as the host will see it (NODE_OPTIONS and all), not `node --version`
        found = subprocess.run(
            [node, "-e", "process.stdout.write(process.version)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return _Check("failed", f"node: {node} does not run ({exc})", install)
    try:
        major = int(found.lstrip("v").split(".")[0])
    except ValueError:
        return _Check("failed", f"node: {node} reports an unknown version {found!r}", install)
    if major < _MIN_NODE_MAJOR:
        return _Check(
            "failed",
            f"node {found} at {node}: too old (rpcbridge needs >= {_MIN_NODE_MAJOR})",
            install,
        )
    return _Check("ok", f"node {found} at {node}")


def _check_round_trip(host_dir: Path | None) -> list[_Check]:
    """Start the host, read the engines from its hello, and time one ``rpc.echo``."""

    async def run() -> tuple[dict[str, Any], float, float, Any]:
        started = time.perf_counter()
        async with open_bridge(startup_timeout=30) as bridge:
            up = time.perf_counter() - started
            assert bridge.hello is not None
            payload = {"doctor": "你好 🌏"}
            t0 = time.perf_counter()
            echoed = await bridge.call("rpc.echo", payload, timeout=10)
            elapsed = time.perf_counter() - t0
            if echoed != payload:
                raise BridgeError(f"rpc.echo answered {echoed!r}, expected {payload!r}")
            stats = await bridge.call("rpc.stats", timeout=10)
            return bridge.hello, up, elapsed, stats

    try:
        hello, up, elapsed, stats = trio.run(run)
    except (BridgeError, BaseExceptionGroup) as exc:
        failure = _bridge_failure(exc)
        if failure is None:
            raise
        return [_Check("failed", "the host does not start", str(failure))]
    checks = [
        _Check(
            "ok",
            f"round trip: rpc.echo answered in {elapsed * 1000:.2f} ms (host {hello.get('host')} "
            f"started and answered rpc.hello in {up * 1000:.0f} ms)",
        )
    ]
    checks.append(_stats_check(stats))
    engines = hello.get("engines") or {}
    esbuild = engines.get("esbuild")
    if esbuild:
        checks.append(_Check("ok", f"compile engine esbuild {esbuild}"))
    else:
        checks.append(
            _Check(
                "failed",
                "compile engine esbuild: not installed",
                f"npm ci --omit=dev --prefix {host_dir}",
            )
        )
    typescript = engines.get("typescript")
    if typescript:
        checks.append(_Check("ok", f"compile engine typescript {typescript}"))
    else:
        checks.append(
            _Check(
                "optional",
                "compile engine typescript: not installed (optional: only for "
                'compile with engine "typescript")',
                f"npm install --prefix {host_dir} typescript@{_typescript_range(host_dir)}",
            )
        )
    return checks


def _stats_check(stats: Any) -> _Check:
    """The host's ``rpc.stats`` in one line: calls in flight, event-loop delay, handler thread."""
    try:
        delay = stats["eventLoopDelay"]
        thread = stats["handlerThread"]
        where = {"worker": "in a handler thread", "main": "on the main thread"}
        modules = where.get(thread["mode"])
        return _Check(
            "ok",
            f"host load: {stats['inFlight']} call(s) in flight, event-loop delay p99 "
            f"{delay['p99Ms']:.1f} ms (max {delay['maxMs']:.1f} ms over {delay['windowMs']} ms)"
            + (f"; handler modules run {modules}" if modules else ""),
        )
    except (KeyError, TypeError):
        return _Check("failed", f"host load: rpc.stats answered {stats!r}")


def _typescript_range(host_dir: Path | None) -> str:
    try:
        assert host_dir is not None
        manifest = json.loads((host_dir / "package.json").read_text(encoding="utf-8"))
        return str(manifest["optionalDependencies"]["typescript"])
    except (AssertionError, OSError, ValueError, KeyError, TypeError):
        return "~5.9.3"
