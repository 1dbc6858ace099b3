"""Start-up of ``python -m rpcbridge compile``: the lazy package, and the host started before
the bridge is imported (``rpcbridge/__main__.py``) and adopted by ``open_bridge``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import trio

import rpcbridge
from rpcbridge import _host
from rpcbridge.__main__ import start_host_early

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "examples" / "app" / "src"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the fake node is a shell script")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _logging_node(tmp_path: Path, body: str = 'exec "$REAL_NODE" "$@"') -> tuple[Path, Path]:
    """A ``node`` that appends its pid and $RPCBRIDGE_COMPILE_WARMUP to a log, then does
    ``body``."""
    log = tmp_path / "starts.log"
    script = tmp_path / "node"
    script.write_text(
        f'#!/bin/sh\necho "$$ ${{RPCBRIDGE_COMPILE_WARMUP:-unset}}" >> "{log}"\n{body}\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script, log


def _cli(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rpcbridge", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


# -- the lazy package ------------------------------------------------------------------------------


def test_importing_the_package_imports_none_of_the_bridge() -> None:
    done = _python(
        """
        import sys, rpcbridge
        heavy = {"trio", "anyio", "attrs", "asyncio", "rpcbridge._bridge", "rpcbridge._sync"}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_public_name_works_both_ways_in_a_fresh_process() -> None:
    done = _python(
        """
        import importlib, rpcbridge
        for name in rpcbridge.__all__:
            namespace = {}
            exec(f"from rpcbridge import {name} as value", namespace)
            assert namespace["value"] is getattr(rpcbridge, name), name
            assert name in dir(rpcbridge), name
        from rpcbridge import _bridge, _errors, _pool, _sync
        assert rpcbridge.open_bridge is _bridge.open_bridge
        assert rpcbridge.HostExited is _errors.HostExited
        assert rpcbridge.Pool is _pool.Pool and rpcbridge.SyncBridge is _sync.SyncBridge
        print(len(rpcbridge.__all__))
        """
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(rpcbridge.__all__)


def test_star_import_and_unknown_names() -> None:
    done = _python(
        """
        from rpcbridge import *
        print(open_bridge.__module__, SyncBridge.__module__, DEFAULT_MAX_BODY_SIZE)
        import rpcbridge
        try:
            rpcbridge.no_such_name
        except AttributeError as exc:
            print("AttributeError", exc)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"rpcbridge._bridge rpcbridge._sync {256 * 1024 * 1024}"
    assert "AttributeError module 'rpcbridge' has no attribute 'no_such_name'" in done.stdout


# -- the early start -------------------------------------------------------------------------------


def test_the_early_start_runs_before_trio_and_the_bridge_are_imported() -> None:
    done = _python(
        """
        import sys
        from rpcbridge.__main__ import start_host_early
        host = start_host_early(["compile", "src"])
        print(host is not None and host.pid is not None)
        heavy = {"trio", "anyio", "attrs", "rpcbridge._framing", "rpcbridge._bridge"}
        print(sorted(heavy & set(sys.modules)))
        host.discard()
        print(host.pid)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["True", "[]", "None"]


def test_the_early_host_warms_esbuild_up_at_once_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rpcbridge.__main__ import host_env

    monkeypatch.delenv("RPCBRIDGE_COMPILE_WARMUP", raising=False)
    env = host_env()
    assert env is not None and env["RPCBRIDGE_COMPILE_WARMUP"] == "now"
    assert env["PATH"] == os.environ["PATH"]
    monkeypatch.setenv("RPCBRIDGE_COMPILE_WARMUP", "0")
    assert host_env() is None  # the user's choice stands


def test_the_hosts_default_frame_limit_is_pythons() -> None:
    # open_bridge() leaves out --max-body-size for the default, which must then be the host's.
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-p", "require('./node/lib/framer').DEFAULT_MAX_BODY_SIZE"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    assert int(done.stdout) == rpcbridge.DEFAULT_MAX_BODY_SIZE


def test_the_early_start_is_only_for_compile_and_check() -> None:
    for argv in ([], ["call", "rpc.echo"], ["doctor"], ["compile", "--help"], ["check", "-h"]):
        assert start_host_early(argv) is None, argv


def test_the_cli_compiles_through_the_one_host_it_started_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert NODE is not None
    node, log = _logging_node(tmp_path)
    env = {**os.environ, "RPCBRIDGE_NODE": str(node), "REAL_NODE": NODE}
    out = tmp_path / "out"
    result = _cli("compile", APP, "--outdir", out, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "App.js").is_file() and "react/jsx-runtime" in (out / "App.js").read_text()
    [start] = log.read_text().splitlines()  # one host: the one started early, then adopted
    pid, warm_up = start.split()
    assert warm_up == "now"  # esbuild starts while Python imports
    assert not _alive(int(pid))  # and closed


def test_an_unused_early_host_is_ended(tmp_path: Path) -> None:
    assert NODE is not None
    node, log = _logging_node(tmp_path)
    env = {**os.environ, "RPCBRIDGE_NODE": str(node), "REAL_NODE": NODE}
    result = _cli("compile", tmp_path / "missing.ts", env=env)
    assert result.returncode == 2 and "no such file" in result.stderr
    [start] = log.read_text().splitlines()
    assert not _alive(int(start.split()[0]))


def _without_pids(text: str) -> str:
    return re.sub(r"\b(pid|process) \d+", r"\1 N", text)


def test_an_early_host_that_dies_at_start_is_reported_as_without_the_early_start(
    tmp_path: Path,
) -> None:
    node, log = _logging_node(tmp_path, 'echo "boom: cannot start" >&2\nexit 7')
    env = {**os.environ, "RPCBRIDGE_NODE": str(node)}
    early = _cli("compile", APP / "types.ts", env=env)
    assert len(log.read_text().splitlines()) == 1  # started early, once (no second start)
    log.unlink()
    # The same command through _cli.main (no early start: the bridge starts the host itself)
    plain = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from rpcbridge._cli import main; sys.exit(main(sys.argv[1:]))",
            "compile",
            str(APP / "types.ts"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert len(log.read_text().splitlines()) == 1
    assert early.returncode == plain.returncode == 2
    assert "boom: cannot start" in early.stderr and "exit" in early.stderr
    assert _without_pids(early.stderr) == _without_pids(plain.stderr)


def test_no_node_with_the_early_start_is_reported_as_before() -> None:
    env = {**os.environ, "RPCBRIDGE_NODE": "/nonexistent/node"}
    result = _cli("compile", APP / "types.ts", env=env)
    assert result.returncode == 2
    assert "Node.js was not found" in result.stderr


# -- open_bridge(_started=...) ---------------------------------------------------------------------


def _default_host() -> _host.StartedChild:
    host = start_host_early(["compile", "x"])
    assert host is not None
    return host


async def test_open_bridge_adopts_the_started_host_and_a_restart_spawns_anew() -> None:
    host = _default_host()
    pid = host.pid
    assert pid is not None
    async with rpcbridge.open_bridge(
        _started=host, env=host.env, restart=rpcbridge.RestartPolicy(backoff=0)
    ) as bridge:
        assert bridge.pid == pid
        assert await bridge.call("rpc.echo", {"x": 1}) == {"x": 1}
        os.kill(pid, 9)
        await bridge.wait()
        assert await bridge.call("rpc.echo", [2]) == [2]  # a fresh host, spawned as usual
        assert bridge.restarts == 1 and bridge.pid != pid
        second = bridge.pid
    assert not _alive(second)


async def test_open_bridge_refuses_a_host_started_otherwise_and_ends_it() -> None:
    host = _default_host()
    pid = host.pid
    assert pid is not None
    with pytest.raises(ValueError, match="not as this bridge would start it"):
        async with rpcbridge.open_bridge(_started=host, env=host.env, max_body_size=1024):
            pass  # pragma: no cover
    assert host.pid is None
    assert not _alive(pid)


async def test_a_cancelled_open_bridge_ends_the_started_host() -> None:
    host = _default_host()
    pid = host.pid
    assert pid is not None
    with trio.CancelScope() as scope:
        scope.cancel()
        async with rpcbridge.open_bridge(_started=host, env=host.env):
            pass  # pragma: no cover
    assert host.pid is None and not _alive(pid)


# -- finding the files -----------------------------------------------------------------------------


def test_find_sources_counts_each_file_once_and_skips_what_it_should(tmp_path: Path) -> None:
    from rpcbridge._cli_args import find_sources

    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "node_modules" / "x").mkdir(parents=True)
    (src / "a-b").mkdir()
    for name in ("top.ts", "a/one.tsx", "a/b/two.mts", "a-b/three.js", "node_modules/x/no.ts"):
        (src / name).write_text("export {};\n", encoding="utf-8")
    (src / "a" / "types.d.ts").write_text("export {};\n", encoding="utf-8")
    (src / "a" / "notes.txt").write_text("", encoding="utf-8")
    (src / "alias.ts").symlink_to(src / "top.ts")  # the same file under another name
    (src / "linked").symlink_to(src / "a", target_is_directory=True)  # not entered
    jobs = find_sources([src, src / "a" / "one.tsx", src])
    assert [(job.relative.as_posix(), job.path) for job in jobs] == [
        ("a/b/two.mts", src / "a" / "b" / "two.mts"),
        ("a/one.tsx", src / "a" / "one.tsx"),
        ("a-b/three.js", src / "a-b" / "three.js"),
        ("alias.ts", src / "alias.ts"),  # sorted before top.ts, which it is
    ]
    alone = find_sources([src / "alias.ts", src])  # the symlink first: it stands for top.ts
    assert [job.relative.as_posix() for job in alone] == [
        "alias.ts",
        "a/b/two.mts",
        "a/one.tsx",
        "a-b/three.js",
    ]


# -- requests sent before the bridge exists ---------------------------------------------------------


def test_the_cli_sends_hello_and_its_compile_before_the_bridge_is_imported(tmp_path: Path) -> None:
    (tmp_path / "a.ts").write_text("export const a: number = 1;\n", encoding="utf-8")
    done = _python(
        f"""
        import sys
        from rpcbridge.__main__ import send_compile_early, start_host_early
        argv = ["compile", {str(tmp_path)!r}, "--outdir", {str(tmp_path / "out")!r}]
        host = start_host_early(argv)
        send_compile_early(host, argv)
        print([request.method for request in host.sent])
        heavy = {{"trio", "anyio", "asyncio", "attrs", "rpcbridge._framing", "rpcbridge._bridge"}}
        print(sorted(heavy & set(sys.modules)))
        host.discard()
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['rpc.hello', 'compileFiles']", "[]"]


def test_only_a_one_shot_esbuild_compile_of_files_that_exist_is_sent_early(
    tmp_path: Path,
) -> None:
    from rpcbridge.__main__ import send_compile_early

    (tmp_path / "a.ts").write_text("export {};\n", encoding="utf-8")
    src = str(tmp_path)
    for argv in (
        ["compile", src, "--watch"],
        ["compile", src, "--engine", "typescript"],
        ["compile", str(tmp_path / "missing")],
        ["check", src],
    ):
        host = _default_host()
        try:
            send_compile_early(host, argv)
            assert host.sent == [], argv
        finally:
            host.discard()
    host = _default_host()
    try:
        send_compile_early(host, ["compile", src, "--sourcemap"])
        hello, batch = host.sent
        assert (hello.id, hello.method, hello.params) == (1, "rpc.hello", None)
        assert (batch.id, batch.method) == (2, "compileFiles")
        assert batch.params == {"files": [{"path": str(tmp_path / "a.ts")}], "sourcemap": True}
    finally:
        host.discard()


async def test_the_bridge_takes_over_requests_sent_before_it_existed() -> None:
    host = _default_host()
    first = host.send_request("rpc.hello")
    echo = host.send_request("rpc.echo", {"early": "你好 🌏"})
    assert (first, echo) == (1, 2)
    async with rpcbridge.open_bridge(_started=host, env=host.env) as bridge:
        assert bridge.hello is not None  # the handshake took the hello already sent
        await trio.sleep(0.2)  # the answer arrives before anyone claims it: it is kept
        assert await bridge._call_sent_early("rpc.echo", {"early": "你好 🌏"}) == {
            "early": "你好 🌏"
        }
        # claimed once: the same request again is an ordinary call, with a later id
        assert await bridge._call_sent_early("rpc.echo", {"early": "你好 🌏"}) == {
            "early": "你好 🌏"
        }
        assert await bridge._call_sent_early("rpc.echo", ["other"]) == ["other"]
        assert await bridge.call("rpc.echo", [3]) == [3]


async def test_a_request_sent_early_fails_as_a_call_does_when_the_host_dies() -> None:
    host = _default_host()
    host.send_request("rpc.hello")
    host.send_request("rpc.echo", ["never claimed in time"])
    async with rpcbridge.open_bridge(_started=host, env=host.env) as bridge:
        # the echo was answered already; a request the host never answers must fail on exit
        pid = bridge.pid
        assert pid is not None
        session = bridge._current()
        session.take_over([_host.SentRequest(99, "rpc.echo", ["lost"])])
        os.kill(pid, 9)
        with pytest.raises(rpcbridge.HostExited):
            await bridge._call_sent_early("rpc.echo", ["lost"])
        assert await bridge._call_sent_early("rpc.echo", ["never claimed in time"]) == [
            "never claimed in time"
        ]


def test_send_request_refuses_a_taken_child_and_non_finite_numbers() -> None:
    host = _default_host()
    try:
        with pytest.raises(ValueError):
            host.send_request("rpc.echo", [float("nan")])
        assert host.sent == []
        host.take()[0].kill()
        with pytest.raises(RuntimeError):
            host.send_request("rpc.echo")
    finally:
        host.discard()


# -- each loop imports only its own runtime ---------------------------------------------------------


@pytest.mark.parametrize(
    ("runner", "absent"),
    [
        ("import asyncio; asyncio.run(main())", "trio"),
        ("import trio; trio.run(main)", "asyncio"),
    ],
)
def test_a_bridge_imports_only_the_runtime_of_its_own_loop(runner: str, absent: str) -> None:
    done = _python(
        f"""
        import sys
        import rpcbridge

        async def main():
            async with rpcbridge.open_bridge() as bridge:
                assert await bridge.call("rpc.echo", [1]) == [1]

        {runner}
        print({absent!r} in sys.modules)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["False"]


@pytest.mark.parametrize(
    "command",
    [
        ("compile", "{src}", "--outdir", "{out}"),
        ("compile", "{src}", "--outdir", "{out}", "--engine", "typescript"),
        ("check", "{src}"),
        ("call", "rpc.echo", "[1]"),
    ],
)
def test_the_command_line_runs_on_asyncio_and_never_imports_trio(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Every command runs on asyncio (``_cli_compile.run_async``): trio's import, ~60-110 ms
    more than asyncio's, would sit on every build's path."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.ts").write_text("export const a: number = 1;\n", encoding="utf-8")
    argv = [part.format(src=src, out=tmp_path / "out") for part in command]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rpcbridge", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "asyncio" in imported
    assert not {name for name in imported if name == "trio" or name.startswith("trio.")}
