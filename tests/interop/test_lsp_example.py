"""examples/lsp_client.py runs as written, against the real vscode-json-language-server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lsp_client.py"


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=60
    )


def test_the_example_prints_the_servers_diagnostics() -> None:
    result = run_example()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("initialized: the server offers ")
    assert "textDocumentSync" in lines[0]
    # Requests from the server, answered by the example's handlers.
    assert "server registered: textDocument/formatting" in lines
    # Columns in code points: the server's UTF-16 offset 34 is column 34 after "你好 🌏", not 35.
    assert lines[lines.index("sample.json: 3 diagnostic(s)") :] == [
        "sample.json: 3 diagnostic(s)",
        'sample.json:3:34: warning: Incorrect type. Expected "string".',
        '      "greeting": "你好 🌏", "version": 2,',
        "                                        ^",
        "sample.json:4:25: error: Trailing comma",
        '      "tags": ["json", "lsp",],',
        "                            ^",
        "sample.json:6:1: error: Value expected",
        "    }",
        "    ^",
        "server exited with code 0",
    ]


def test_the_example_checks_a_given_file(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"name": "ok", "version": "1.0.0", "tags": ["é"]}\n', encoding="utf-8")
    result = run_example(str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{good}: 0 diagnostic(s)" in result.stdout.splitlines()


def test_without_the_server_the_example_says_what_to_install(tmp_path: Path) -> None:
    result = run_example("--node-modules", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "vscode-json-language-server not found" in result.stderr
    assert "cd node && npm ci" in result.stderr
    assert "Traceback" not in result.stderr
