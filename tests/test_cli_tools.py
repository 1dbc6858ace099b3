"""``python -m rpcbridge call`` and ``python -m rpcbridge doctor``: outputs and exit statuses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
H2P = FIXTURES / "host-to-python.mjs"
PEER = Path(__file__).parent / "peers" / "scripted_peer.py"


def rpcbridge_cli(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rpcbridge", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def test_call_prints_the_result_as_pretty_json_keeping_non_ascii() -> None:
    done = rpcbridge_cli("call", "rpc.echo", '{"text": "你好 🌏", "n": [1, 2]}')
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{\n  "text": "你好 🌏",\n  "n": [\n    1,\n    2\n  ]\n}\n'
    assert json.loads(done.stdout) == {"text": "你好 🌏", "n": [1, 2]}


def test_call_without_params_and_with_a_handler_module() -> None:
    assert rpcbridge_cli("call", "rpc.echo").stdout == "null\n"
    done = rpcbridge_cli("call", "h2p.sleep", '{"ms": 1, "value": "é"}', "--handlers", H2P)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '"é"\n'


def test_call_error_answer_prints_code_message_and_data_and_exits_1() -> None:
    done = rpcbridge_cli("call", "no.such.method", "[1]")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "error -32601: Method not found: no.such.method" in done.stderr
    data = done.stderr.split("data: ", 1)[1]
    assert json.loads(data) == {"method": "no.such.method"}


def test_call_bridge_failures_exit_2() -> None:
    done = rpcbridge_cli("call", "rpc.echo", env={"RPCBRIDGE_NODE": "/nonexistent/node"})
    assert done.returncode == 2
    assert "Node.js was not found" in done.stderr
    timed_out = rpcbridge_cli("call", "h2p.hang", "--handlers", H2P, "--timeout", "0.2")
    assert timed_out.returncode == 2
    assert "'h2p.hang' got no answer within 0.2 s" in timed_out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rpc.echo", "{not json"], "not valid JSON"),
        (["rpc.echo", "3"], "must be an object or an array"),
        (["rpc.echo", "--command"], "--command needs the server's argv"),
        (["echo", "--handlers", "x.mjs", "--command", "server"], "not with --command"),
    ],
)
def test_call_usage_errors_exit_2(args: list[str], message: str) -> None:
    done = rpcbridge_cli("call", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "usage: rpcbridge call" in done.stderr


def test_call_command_takes_the_rest_of_the_line_as_any_stdio_server() -> None:
    done = rpcbridge_cli("call", "echo", '["x"]', "--command", sys.executable, PEER)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["x"]
    # options after --command belong to the server: here the host's own --handlers
    host = ROOT / "node" / "rpc-host.js"
    argv: list[str | Path] = ["node", host, "--handlers", H2P, "--trace"]
    bad = rpcbridge_cli("call", "h2p.sleep", '{"ms": 1}', "--command", *argv)
    assert bad.returncode == 2  # the host refuses --trace, an option it does not know
    assert "Unknown option '--trace'" in bad.stderr
    assert "rpcbridge.trace" not in bad.stderr
    good = rpcbridge_cli("call", "h2p.sleep", '{"ms": 1}', "--command", *argv[:-1])
    assert good.returncode == 0, good.stderr
    assert good.stdout == "1\n"


def test_call_trace_prints_both_directions_on_stderr() -> None:
    done = rpcbridge_cli("call", "rpc.echo", '{"a": 1}', "--trace")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"a": 1}
    trace = [line for line in done.stderr.splitlines() if line.startswith("rpcbridge.trace")]
    assert any(re.search(r"-> pid \d+ id=\d+ rpc\.echo ", line) for line in trace), trace
    assert any(re.search(r"<- pid \d+ id=\d+ result .*\{\"a\":1\}", line) for line in trace)


def test_doctor_all_good_exits_0_with_a_checklist() -> None:
    done = rpcbridge_cli("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert re.search(r"^✓ node v\d+\.\d+\.\d+ at /", done.stdout, re.M)
    assert f"✓ host: {ROOT / 'node'} (source checkout)" in lines
    assert re.search(r"^✓ round trip: rpc\.echo answered in \d+\.\d\d ms", done.stdout, re.M)
    assert re.search(r"^✓ compile engine esbuild \d+\.\d+\.\d+$", done.stdout, re.M)
    load = r"^✓ host load: 0 call\(s\) in flight, event-loop delay p99 \d+\.\d ms \(max "
    assert re.search(load, done.stdout, re.M)
    assert not any(line.startswith("✗") for line in lines)
    assert lines[-1] == "all good"


def test_doctor_reports_an_old_node_with_the_fix_and_exits_1(tmp_path: Path) -> None:
    pretend = tmp_path / "pretend-node-18.js"
    pretend.write_text("Object.defineProperty(process, 'version', { value: 'v18.19.0' });\n")
    done = rpcbridge_cli("doctor", env={"NODE_OPTIONS": f"--require {pretend}"})
    assert done.returncode == 1
    assert re.search(r"^✗ node v18\.19\.0 at .*too old", done.stdout, re.M)
    assert "install Node.js 20 LTS or newer" in done.stdout
    assert "· round trip: not tried" in done.stdout
    assert done.stdout.splitlines()[-1] == "1 check failed"


def test_doctor_reports_a_missing_node() -> None:
    done = rpcbridge_cli("doctor", env={"RPCBRIDGE_NODE": "/nonexistent/node"})
    assert done.returncode == 1
    assert "✗ node: not found" in done.stdout
    assert "set RPCBRIDGE_NODE" in done.stdout


def test_doctor_optional_typescript_missing_is_said_but_not_a_failure() -> None:
    done = rpcbridge_cli("doctor", env={"RPCBRIDGE_TYPESCRIPT_MODULE": "/nonexistent/typescript"})
    assert done.returncode == 0, done.stdout
    assert "- compile engine typescript: not installed (optional" in done.stdout
    assert re.search(r"npm install --prefix \S+ typescript@", done.stdout)
