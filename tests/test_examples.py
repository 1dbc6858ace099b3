"""Every example in examples/ runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_quickstart() -> None:
    out = run_example("quickstart.py")
    assert "1000 concurrent calls, every answer matched to its caller" in out
    assert "MethodNotFound" in out


def test_compile_demo() -> None:
    out = run_example("compile_demo.py")
    assert "app/src/App.tsx" in out
    assert "broken/Broken.tsx" in out and "1 error(s)" in out
    assert "Broken.tsx:18:" in out
    assert "(the character at the column: 's')" in out
