"""The bundled host's environment: ``NODE_EXTRA_CA_CERTS`` only where TLS may be used.

Node parses the certificates that variable names before it runs any JavaScript (~40 ms of its
start-up with Debian's bundle); the built-in methods never open a connection, so a host
without handler modules is started without it, and one with handler modules (which may use
``https``) keeps it. Everything else in the environment reaches the host unchanged. Checked on
the host itself: its ``/proc/PID/environ`` (Linux) and what a handler module sees.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import rpcbridge
from rpcbridge import _host
from rpcbridge.__main__ import start_host_early

CERTS = "/etc/ssl/certs/ca-certificates.crt"
needs_proc = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the host's /proc/PID/environ"
)


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(entry.split("=", 1) for entry in raw.decode().split("\0") if "=" in entry)


def test_host_environment_drops_only_the_certificates_and_only_without_handlers() -> None:
    env = {"PATH": "/bin", "NODE_EXTRA_CA_CERTS": CERTS, "KEEP": "1"}
    assert _host.host_environment(env, handlers=()) == {"PATH": "/bin", "KEEP": "1"}
    assert _host.host_environment(env, handlers=["m.mjs"]) is env
    clean = {"PATH": "/bin"}
    assert _host.host_environment(clean, handlers=()) is clean  # nothing to drop: as given


def test_host_environment_of_none_is_this_process_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", CERTS)
    monkeypatch.setenv("RPCBRIDGE_TEST_MARK", "kept")
    env = _host.host_environment(None, handlers=())
    assert env is not None
    assert "NODE_EXTRA_CA_CERTS" not in env
    assert env["RPCBRIDGE_TEST_MARK"] == "kept"
    assert env.keys() == os.environ.keys() - {"NODE_EXTRA_CA_CERTS"}
    monkeypatch.delenv("NODE_EXTRA_CA_CERTS")
    assert _host.host_environment(None, handlers=()) is None


@needs_proc
async def test_a_host_without_handlers_starts_without_the_certificates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", CERTS)
    monkeypatch.setenv("RPCBRIDGE_TEST_MARK", "kept")
    async with rpcbridge.open_bridge() as bridge:
        assert bridge.pid is not None
        seen = environ_of(bridge.pid)
        assert "NODE_EXTRA_CA_CERTS" not in seen
        assert seen["RPCBRIDGE_TEST_MARK"] == "kept"
        assert await bridge.call("rpc.echo", ["ok"]) == ["ok"]
    # an explicit env= is filtered the same way
    env = {**os.environ, "RPCBRIDGE_TEST_MARK": "explicit"}
    async with rpcbridge.open_bridge(env=env) as bridge:
        assert bridge.pid is not None
        seen = environ_of(bridge.pid)
        assert "NODE_EXTRA_CA_CERTS" not in seen
        assert seen["RPCBRIDGE_TEST_MARK"] == "explicit"


async def test_a_host_with_handlers_keeps_the_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", CERTS)
    module = tmp_path / "env.mjs"
    module.write_text(
        "export const methods = {\n"
        "  certs() { return process.env.NODE_EXTRA_CA_CERTS ?? null; },\n"
        "};\n",
        encoding="utf-8",
    )
    async with rpcbridge.open_bridge(handlers=[module]) as bridge:
        assert await bridge.call("certs") == CERTS


@needs_proc
def test_the_cli_s_early_host_starts_without_the_certificates_and_is_adopted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", CERTS)
    started = start_host_early(["compile", "src"])
    assert started is not None
    try:
        assert started.pid is not None
        assert "NODE_EXTRA_CA_CERTS" not in environ_of(started.pid)
        assert started.env is not None and "NODE_EXTRA_CA_CERTS" not in started.env

        async def adopt() -> object:
            # the CLI's open_bridge(_started=..., env=started.env) accepts it as its own
            async with rpcbridge.open_bridge(_started=started, env=started.env) as bridge:
                return await bridge.call("rpc.echo", ["adopted"])

        import trio

        assert trio.run(adopt) == ["adopted"]
    finally:
        started.discard()
