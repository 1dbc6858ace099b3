"""The command line's grammar, and the files ``rpcbridge compile`` works on.

Everything ``python -m rpcbridge compile`` needs before the bridge is imported lives here, with
light imports only (the standard library): ``rpcbridge/__main__.py`` parses the
command line with ``build_parser()``, finds the files (``find_sources``) and sends
``compileFiles`` with ``batch_params`` to the host it has just started, and only then imports
anyio and the bridge (``_cli.py``, ``_cli_compile.py``, which use the same three functions, so
that what is sent early is exactly what they would send).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._diagnostics import Diagnostic

__all__ = [
    "CHECKED_SUFFIXES",
    "CONFIG_NAMES",
    "EXIT_COMPILE_ERRORS",
    "EXIT_FAILURE",
    "EXIT_OK",
    "SOURCE_SUFFIXES",
    "Job",
    "batch_params",
    "build_parser",
    "find_sources",
]

SOURCE_SUFFIXES = frozenset({".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"})
_OUTPUT_SUFFIX = {".mts": ".mjs", ".mjs": ".mjs", ".cts": ".cjs", ".cjs": ".cjs"}
_SKIPPED_DIRS = frozenset({"node_modules", ".git"})
CHECKED_SUFFIXES = frozenset({".ts", ".tsx", ".mts", ".cts"})
CONFIG_NAMES = frozenset({"tsconfig.json", "jsconfig.json"})

EXIT_OK, EXIT_COMPILE_ERRORS, EXIT_FAILURE = 0, 1, 2


class Job:
    """One file to compile, and what came of it. A plain class, not attrs: this module is
    imported before the compile is asked for, and attrs' import (~20-30 ms) would delay it."""

    __slots__ = ("diagnostics", "failed", "output_bytes", "path", "relative", "seconds")

    def __init__(self, path: Path, relative: Path) -> None:
        self.path = path
        self.relative = relative  # where it goes below --outdir
        self.diagnostics: list[Diagnostic] = []
        self.output_bytes = 0
        self.seconds = 0.0
        self.failed = False

    def __repr__(self) -> str:
        return f"Job({self.path!r}, {self.relative!r}, failed={self.failed})"

    def output_path(self, outdir: Path) -> Path:
        """Where the JavaScript goes: ``.mts``/``.mjs`` → ``.mjs``, ``.cts``/``.cjs`` →
        ``.cjs``, anything else → ``.js``."""
        return outdir / self.relative.with_suffix(_OUTPUT_SUFFIX.get(self.relative.suffix, ".js"))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_compile_commands(commands: Any) -> None:
    """Add the ``compile`` and ``check`` subcommands to the CLI's subparsers."""
    compile_ = commands.add_parser(
        "compile",
        help="compile TypeScript/TSX/JSX files through one host",
        description="Compile files and folders (searched recursively; .d.ts and node_modules "
        "are skipped) through one host. Each file gets the settings of its nearest "
        "tsconfig.json (following extends), as with the esbuild CLI. Without --outdir nothing "
        "is written: the files are only checked for syntax errors.",
    )
    compile_.add_argument(
        "sources",
        nargs="+",
        metavar="SRC",
        type=Path,
        help="a file or folder to compile (.ts .tsx .mts .cts .js .jsx .mjs .cjs); folders are "
        "searched recursively",
    )
    compile_.add_argument("--outdir", type=Path, help="write the JavaScript here")
    compile_.add_argument(
        "--sourcemap", action="store_true", help="write a .map file beside each output"
    )
    compile_.add_argument(
        "--tsconfig",
        type=Path,
        metavar="FILE",
        help="use this tsconfig.json for every file instead of each file's nearest one",
    )
    compile_.add_argument(
        "--engine",
        choices=["esbuild", "typescript"],
        default="esbuild",
        help="esbuild (default: fast, no type checks) or typescript (its transpileModule)",
    )
    compile_.add_argument(
        "--check",
        action="store_true",
        help="also type-check the TypeScript files (semantic errors such as TS2322)",
    )
    compile_.add_argument(
        "--watch",
        action="store_true",
        help="keep running: recompile (and with --check, re-check) the files changed on save, "
        "through the same host, until Ctrl-C",
    )
    compile_.add_argument(
        "--jobs",
        type=_positive,
        default=16,
        metavar="N",
        help="compiles in flight with --engine typescript (16)",
    )
    check = commands.add_parser(
        "check",
        help="type-check TypeScript files and folders",
        description="Type-check with TypeScript (semantic errors such as TS2322, not only "
        "syntax): the files found in SRC..., as part of the project of --tsconfig or of the "
        "tsconfig.json nearest to the first of them (an inferred strict project when there is "
        "none). Exit status: 0 without errors, 1 with errors, 2 for a usage error or a bridge "
        "failure.",
    )
    check.add_argument("sources", nargs="+", metavar="SRC", type=Path)
    check.add_argument("--tsconfig", type=Path, metavar="FILE", help="the project's tsconfig.json")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: ``compile``, ``check``, ``call`` and ``doctor``."""
    parser = argparse.ArgumentParser(
        prog="rpcbridge", description="Talk to Node.js through one long-lived host."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_compile_commands(commands)
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
        help="check node, the host, one round trip and the compile engines",
        description="Check that rpcbridge can work here: node (>= 20; which one and where it "
        "came from), the bundled host (a checkout, or which wheel), one round trip, and the "
        "compile engines. Prints a checklist with what to fix; exit status 0 when every check "
        "passed, else 1.",
    )
    return parser


# -- finding the files ---------------------------------------------------------------------------


def find_sources(sources: Sequence[Path]) -> list[Job]:
    """The files to compile, in a stable order, each once.

    Raises:
        FileNotFoundError: a SRC that does not exist.
    """
    jobs: list[Job] = []
    seen: set[str] = set()
    for source in sources:
        if source.is_dir():
            found = [(source / relative, relative, key) for relative, key in _walk(source)]
        elif source.is_file():
            found = [(source, Path(source.name), os.path.realpath(source))]
        else:
            raise FileNotFoundError(f"no such file or folder: {source}")
        for path, relative, key in found:
            if key not in seen:
                seen.add(key)
                jobs.append(Job(path, relative))
    return jobs


def _walk(root: Path) -> list[tuple[Path, str]]:
    """The source files below ``root`` (relative paths, sorted), each with its real path (the
    key that makes a file named twice count once). Symlinked folders are not entered (as
    ``os.walk``); the real path is resolved once per folder, and per file only for a symlink:
    ``realpath`` on every file cost ~10 ms for 600 files."""
    found: list[tuple[Path, str]] = []

    def visit(directory: str, real: str, relative: Path | None) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir():
                    if name not in _SKIPPED_DIRS and not entry.is_symlink():
                        below = Path(name) if relative is None else relative / name
                        visit(entry.path, os.path.join(real, name), below)
                elif os.path.splitext(name)[1] in SOURCE_SUFFIXES and not name.endswith(".d.ts"):
                    key = (
                        os.path.realpath(entry.path)
                        if entry.is_symlink()
                        else os.path.join(real, name)
                    )
                    found.append((Path(name) if relative is None else relative / name, key))

    visit(os.fspath(root), os.path.realpath(root), None)
    found.sort()
    return found


def batch_params(jobs: Sequence[Job], args: argparse.Namespace) -> dict[str, Any]:
    """The params of the one ``compileFiles`` call that compiles ``jobs`` (the esbuild engine)
    as ``args`` (of ``compile``) ask."""
    files: list[dict[str, str]] = []
    for job in jobs:
        entry = {"path": str(job.path)}
        if args.outdir is not None:
            entry["out"] = str(job.output_path(args.outdir))
        files.append(entry)
    params: dict[str, Any] = {"files": files, "sourcemap": bool(args.sourcemap)}
    if getattr(args, "tsconfig", None) is not None:
        params["tsconfig"] = str(args.tsconfig)
    return params
