"""A handler module with a syntax error: ``open_bridge`` raises ``HostExited`` (exit code 2)
whose message names the file, line and column once, with the line and a caret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rpcbridge

FIXTURES = Path(__file__).resolve().parent.parent / "node" / "test-support" / "fixtures"


@pytest.mark.parametrize(("name", "line"), [("syntax-error.mjs", 4), ("syntax-error.cjs", 3)])
async def test_syntax_error_in_a_handler_module_names_file_line_and_column(
    name: str, line: int
) -> None:
    path = FIXTURES / name
    with pytest.raises(rpcbridge.HostExited) as info:
        async with rpcbridge.open_bridge(handlers=[path]):
            pass
    error = info.value
    assert error.returncode == 2
    text = str(error)
    found = re.findall(rf"{re.escape(str(path))}:(\d+):(\d+): SyntaxError: ", text)
    assert len(found) == 1, text  # once
    row, column = map(int, found[0])
    assert row == line
    source_line = path.read_text(encoding="utf-8").splitlines()[row - 1]
    assert source_line[column - 1] == "*"  # columns in code points: Python indexes with them
    assert source_line.strip() in text and "node:internal" not in text
