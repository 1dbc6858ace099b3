"""``python -m rpcbridge``: see ``rpcbridge._cli``.

``compile`` and ``check`` start the host here, before anything else is imported: Node boots
(~20-80 ms) while Python imports asyncio, anyio and the bridge (~150 ms; the command line runs
on asyncio, ``_cli_compile.run_async``), and the bridge then adopts
the running child instead of starting one (``open_bridge(_started=...)``). The host also
starts esbuild's service at once (``RPCBRIDGE_COMPILE_WARMUP=now``, unless that is set
already), while Python is still importing, instead of on the compile's path. Every failure of
that child is reported as the bridge reports a host it started; when the early start itself
fails (no ``node``...), nothing is started here and the bridge says why, as without it.

For a one-shot ``compile`` with the esbuild engine, the requests go out early too: the command
line is parsed and the files found with the light ``_cli_args`` module, and ``rpc.hello`` and
the ``compileFiles`` call are written to the host at once (``StartedChild.send_request``). The
host reads them as soon as Node has booted and compiles while Python imports the bridge; the
bridge takes both requests over (``HostSession.take_over``): the handshake awaits the hello
already sent, and ``_cli_compile`` claims the answer to the compile it would have sent with the
same params (``Bridge._call_sent_early``). Measured on the 600-file project of
``benchmarks/project.py``: the compile request left ~40 ms after start instead of ~250 ms.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from ._host import StartedChild

_EARLY_COMMANDS = frozenset({"compile", "check"})


def start_host_early(argv: Sequence[str]) -> StartedChild | None:
    """Start the host ``open_bridge()`` would start for ``rpcbridge compile``/``check``
    (``argv`` is the command line after the program name); ``None`` for other commands, for
    ``--help``, and when it cannot be started here (the bridge then reports why)."""
    if not argv or argv[0] not in _EARLY_COMMANDS or "-h" in argv or "--help" in argv:
        return None
    from ._host import (
        DEFAULT_SHUTDOWN_TIMEOUT,
        grace_ms,
        host_command,
        host_environment,
        start_child,
    )

    try:
        command = host_command(grace_ms=grace_ms(DEFAULT_SHUTDOWN_TIMEOUT))
        return start_child(command, cwd=None, env=host_environment(host_env(), handlers=()))
    except Exception:  # HostSetupError, OSError: the bridge starts it again and reports why
        return None


def host_env() -> dict[str, str] | None:
    """The early host's environment: ours with ``RPCBRIDGE_COMPILE_WARMUP=now``, or ``None``
    (ours unchanged) when that variable is set already."""
    if "RPCBRIDGE_COMPILE_WARMUP" in os.environ:
        return None
    return {**os.environ, "RPCBRIDGE_COMPILE_WARMUP": "now"}


def send_compile_early(host: StartedChild, argv: Sequence[str]) -> None:
    """Send ``rpc.hello`` and the ``compileFiles`` call of ``rpcbridge compile ARGV`` to
    ``host`` now, when that is what the command will do first: a one-shot compile (no
    ``--watch``) with the esbuild engine, of files that exist. Otherwise send nothing; the
    command then finds out and reports what is wrong itself. A usage error exits here, with
    the message the command would print (the same parser)."""
    from ._cli_args import batch_params, build_parser, find_sources

    args = build_parser().parse_args(argv)
    if args.command != "compile" or args.engine != "esbuild" or args.watch:
        return
    try:
        jobs = find_sources(args.sources)
    except OSError:
        return
    if jobs:
        host.send_request("rpc.hello")
        host.send_request("compileFiles", batch_params(jobs, args))


def main() -> int:
    """Run the command line (the ``rpcbridge`` script too); returns the exit status."""
    host = start_host_early(sys.argv[1:])
    try:
        if host is not None:
            # OSError: the host is already gone (BrokenPipeError); the bridge then says why
            with contextlib.suppress(OSError):
                send_compile_early(host, sys.argv[1:])
        from ._cli import main as run

        return run(host=host)
    finally:
        if host is not None:
            host.discard()  # not used (a usage error, say): end it now


if __name__ == "__main__":
    sys.exit(main())
