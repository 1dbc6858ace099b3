"""``bridge.call("compile", ...)`` from Python: results, typed compile errors with exact
columns, source maps decoded back to the right line, bad params, both engines, cancellation,
and 200 concurrent compiles through one host."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import rpcbridge

from .sourcemaps import original_line_of

pytestmark = pytest.mark.anyio

COMPONENT = """\
import { useState } from "react";

type Props<T> = { items: readonly T[]; label: (item: T) => string };

export function List<T>({ items, label }: Props<T>) {
  const [open, setOpen] = useState<boolean>(false);
  return (
    <ul onClick={() => setOpen(!open)}>
      {items.map((item, i) => <li key={i}>{label(item)} — 你好 🌏</li>)}
    </ul>
  );
}
"""


def js_unescape(code: str) -> str:
    """Undo JavaScript's \\uXXXX and \\u{X...} escapes (surrogate pairs included)."""
    code = re.sub(r"\\u\{([0-9A-Fa-f]+)\}", lambda m: chr(int(m[1], 16)), code)
    code = re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m[1], 16)), code)
    return code.encode("utf-16", "surrogatepass").decode("utf-16")


@pytest.fixture
async def bridge() -> AsyncIterator[rpcbridge.Bridge]:
    async with rpcbridge.open_bridge() as b:
        yield b


async def compile_(bridge: rpcbridge.Bridge, source: str, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = await bridge.call("compile", {"source": source, **params})
    return result


@pytest.mark.parametrize("engine", ["esbuild", "typescript"])
async def test_tsx_compiles_to_javascript(bridge: rpcbridge.Bridge, engine: str) -> None:
    result = await compile_(bridge, COMPONENT, filename="List.tsx", engine=engine)
    assert result["engine"] == engine
    assert result["engineVersion"]
    assert result["map"] is None
    code = result["code"]
    assert "react/jsx-runtime" in code  # the automatic runtime by default
    assert "Props" not in code and "<boolean>" not in code  # types are gone
    # Both engines may write non-ASCII text as \u escapes: the text must survive either way.
    assert "你好 🌏" in js_unescape(code)


async def test_loader_comes_from_the_filename_and_an_explicit_loader_wins(
    bridge: rpcbridge.Bridge,
) -> None:
    assert "x" in (await compile_(bridge, "let x: number = 1;", filename="a.mts"))["code"]
    with pytest.raises(rpcbridge.CompileError):  # type annotations are not JavaScript
        await compile_(bridge, "let x: number = 1;", filename="a.js")
    result = await compile_(bridge, "let x: number = 1;", filename="a.js", loader="ts")
    assert ": number" not in result["code"]


@pytest.mark.parametrize("engine", ["esbuild", "typescript"])
async def test_source_map_points_back_to_the_original_line(
    bridge: rpcbridge.Bridge, engine: str
) -> None:
    source = "type A = { a: string };\n\n\nexport const marker = (a: A): string => a.a;\n"
    result = await compile_(bridge, source, filename="m.ts", sourcemap=True, engine=engine)
    generated = result["code"].split("\n")
    [line_no] = [i for i, line in enumerate(generated) if "marker" in line]
    assert original_line_of(result["map"], line_no) == 3


async def test_inline_source_map_is_appended_to_the_code(bridge: rpcbridge.Bridge) -> None:
    result = await compile_(
        bridge, "export const a: number = 1;", filename="a.ts", sourcemap="inline"
    )
    assert result["map"] is None
    assert "sourceMappingURL=data:application/json;base64," in result["code"]


# A syntax error after characters of every UTF-8 length: the column must still point at "*".
PREFIXES = ["abc", "é", "你", "😀", "é你😀x"]


@pytest.mark.parametrize("engine", ["esbuild", "typescript"])
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_compile_error_columns_count_code_points(
    bridge: rpcbridge.Bridge, engine: str, prefix: str
) -> None:
    source = f'const ok = 1;\nconst s = "{prefix}"; const t = (1 +* 2);\n'
    with pytest.raises(rpcbridge.CompileError) as info:
        await compile_(bridge, source, filename="bad.ts", engine=engine)
    error = info.value
    assert error.code == 1001
    assert isinstance(error, rpcbridge.RpcError)
    [first, *_] = error.errors
    assert first.severity == "error"
    assert first.file is not None and first.file.endswith("bad.ts")
    assert first.line == 2
    assert first.line_text == f'const s = "{prefix}"; const t = (1 +* 2);'
    assert first.column is not None
    assert first.line_text[first.column - 1] == "*"
    if engine == "typescript":
        assert first.code is not None and first.code.startswith("TS")
    assert "bad.ts:2:" in str(error)


async def test_compile_error_is_not_a_protocol_error_and_the_reverse(
    bridge: rpcbridge.Bridge,
) -> None:
    with pytest.raises(rpcbridge.CompileError) as compile_failure:
        await compile_(bridge, "let = ;", filename="x.ts")
    assert not isinstance(compile_failure.value, rpcbridge.InvalidParams)
    with pytest.raises(rpcbridge.InvalidParams) as bad_params:
        await bridge.call("compile", {"source": 42})
    assert not isinstance(bad_params.value, rpcbridge.CompileError)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "source"),
        ({"source": 1}, "source"),
        ({"source": "", "filename": 3}, "filename"),
        ({"source": "", "filename": "a.coffee"}, "filename"),
        ({"source": "", "loader": "coffee"}, "loader"),
        ({"source": "", "jsx": {"runtime": "magic"}}, "jsx"),
        ({"source": "", "jsx": {"development": "yes"}}, "jsx"),
        ({"source": "", "target": 2020}, "target"),
        ({"source": "", "format": "amd"}, "format"),
        ({"source": "", "sourcemap": "yes"}, "sourcemap"),
        ({"source": "", "minify": "no"}, "minify"),
        ({"source": "", "tsconfigRaw": 5}, "tsconfigRaw"),
        ({"source": "", "engine": "babel"}, "engine"),
        ({"source": "", "colour": "red"}, "colour"),
    ],
)
async def test_bad_params_name_the_field(
    bridge: rpcbridge.Bridge, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(rpcbridge.InvalidParams) as info:
        await bridge.call("compile", params)
    assert field in info.value.message


async def test_missing_typescript_engine_says_how_to_install_it() -> None:
    env = {**os.environ, "RPCBRIDGE_TYPESCRIPT_MODULE": "typescript-that-is-not-installed"}
    async with rpcbridge.open_bridge(env=env) as bridge:
        with pytest.raises(rpcbridge.EngineUnavailable) as info:
            await compile_(bridge, "let a = 1;", engine="typescript")
        assert "npm install" in info.value.message
        assert "typescript@~5.9" in info.value.data["install"]
        assert (await compile_(bridge, "let a = 1;"))["engine"] == "esbuild"


async def test_200_concurrent_compiles_from_one_bridge(bridge: rpcbridge.Bridge) -> None:
    results: dict[int, str] = {}

    async def one(i: int) -> None:
        source = f"export const value{i}: number = {i} * 2;\nexport const Tag = () => <b>{i}</b>;\n"
        results[i] = (await compile_(bridge, source, filename=f"f{i}.tsx"))["code"]

    async with anyio.create_task_group() as nursery:
        for i in range(200):
            nursery.start_soon(one, i)
    assert len(results) == 200
    for i, code in results.items():
        assert f"value{i} = {i} * 2" in code


async def test_cancelling_a_compile_raises_cancelled_not_a_result(bridge: rpcbridge.Bridge) -> None:
    huge = "\n".join(f"export const c{i} = (x: number): number => x * {i};" for i in range(150_000))
    with anyio.move_on_after(0.05) as scope:
        await compile_(bridge, huge, filename="huge.ts")
    assert scope.cancelled_caught
    assert bridge.in_flight == 0
    assert (await compile_(bridge, "export const ok = 1;"))["code"]


async def test_typecheck_reports_semantic_errors_with_code_point_columns(
    bridge: rpcbridge.Bridge, tmp_path: Any
) -> None:
    source = 'const s = "é你😀"; export const n: number = s;\n'
    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"strict": true}}')
    (tmp_path / "bad.ts").write_text(source, encoding="utf-8")
    result = await bridge.call("typecheck", {"files": [str(tmp_path / "bad.ts")]})
    assert result["project"] == str(tmp_path / "tsconfig.json")
    [d] = [as_diagnostic(d) for d in result["diagnostics"]]
    assert d.code == "TS2322" and d.severity == "error" and d.line == 1
    assert d.line_text is not None and d.column is not None and d.end_column is not None
    assert d.line_text[d.column - 1 : d.end_column - 1] == "n"
    # The caller's unsaved text, then the file on disk again:
    fixed = await bridge.call(
        "typecheck",
        {
            "files": [str(tmp_path / "bad.ts")],
            "changes": [{"path": str(tmp_path / "bad.ts"), "text": "export const n = 1;\n"}],
        },
    )
    assert fixed["diagnostics"] == []
    again = await bridge.call(
        "typecheck",
        {"files": [str(tmp_path / "bad.ts")], "changes": [{"path": str(tmp_path / "bad.ts")}]},
    )
    assert [d["code"] for d in again["diagnostics"]] == ["TS2322"]


def as_diagnostic(data: dict[str, Any]) -> rpcbridge.Diagnostic:
    return rpcbridge.Diagnostic.from_json(data)


async def test_compile_with_tsconfig_true_reads_the_nearest_tsconfig_json(
    bridge: rpcbridge.Bridge, tmp_path: Any
) -> None:
    (tmp_path / "base.json").write_text('{"compilerOptions": {"strict": true, "jsx": "react"}}')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "tsconfig.json").write_text('{"extends": "../base.json"}')
    filename = str(tmp_path / "app" / "A.tsx")
    source = "export const A = () => <b>a</b>;\n"
    with_it = await compile_(bridge, source, filename=filename, tsconfig=True)
    assert with_it["code"].startswith('"use strict";')  # strict, through extends
    assert "React.createElement" in with_it["code"]  # the file's jsx wins, as in esbuild's CLI
    without = await compile_(bridge, source, filename=filename)
    assert "react/jsx-runtime" in without["code"] and "use strict" not in without["code"]
