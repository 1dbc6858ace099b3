"""Finding the bundled Node host and building the command line that starts it.

The host ships twice: as ``node/`` at the top of the source tree, and inside the wheel as
``rpcbridge/node/`` (see ``pyproject.toml``). Everything that can be checked without starting
a process is checked here, so that a missing ``node`` or missing npm packages fail with a
message that says exactly what to run, instead of a crash on the first call.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ._errors import HostSetupError

__all__ = ["bundled_host_dir", "host_command"]

PROTOCOL_VERSION = 1
"""The ``protocol`` number ``rpc.hello`` must report."""

_HOST_SCRIPT = "rpc-host.js"


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


def find_node(node: str | os.PathLike[str] | None = None) -> str:
    """Resolve the ``node`` executable: the argument, ``$RPCBRIDGE_NODE``, or ``node`` on PATH."""
    wanted = os.fspath(node) if node is not None else os.environ.get("RPCBRIDGE_NODE", "node")
    found = shutil.which(wanted)
    if found is None:
        raise HostSetupError(
            f"Node.js was not found (looked for {wanted!r} on PATH). rpcbridge needs "
            "Node.js >= 20: install it (https://nodejs.org or your package manager), "
            "or pass node='/path/to/node', or set RPCBRIDGE_NODE."
        )
    return found


def check_npm_packages(host_dir: Path) -> None:
    """Raise ``HostSetupError`` if a runtime dependency of the host is not installed."""
    try:
        manifest = json.loads((host_dir / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HostSetupError(f"cannot read {host_dir / 'package.json'}: {exc}") from exc
    missing = [
        name
        for name in manifest.get("dependencies", {})
        if not (host_dir / "node_modules" / name / "package.json").is_file()
    ]
    if missing:
        raise HostSetupError(
            f"the host's npm packages are not installed (missing: {', '.join(missing)}). Run:\n"
            f"    npm ci --omit=dev --prefix {host_dir}"
        )


def host_command(
    *,
    node: str | os.PathLike[str] | None = None,
    handlers: Sequence[str | os.PathLike[str]] = (),
    max_body_size: int | None = None,
    grace_ms: int | None = None,
) -> list[str]:
    """The argv that starts the bundled host with these options (checked, not started)."""
    host_dir = bundled_host_dir()
    check_npm_packages(host_dir)
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
