"""``python -m rpcbridge compile``: outputs, compiler-style errors, exit statuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .sourcemaps import original_line_of

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "examples" / "app" / "src"
BROKEN = ROOT / "examples" / "broken"


def rpcbridge_cli(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rpcbridge", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_compiles_a_folder_into_outdir(tmp_path: Path) -> None:
    result = rpcbridge_cli("compile", APP, "--outdir", tmp_path, "--jobs", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    sources = sorted(p.relative_to(APP) for p in APP.rglob("*.ts*"))
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.js"))
    assert written == [p.with_suffix(".js") for p in sources]
    assert "react/jsx-runtime" in (tmp_path / "App.js").read_text()
    assert f"{len(sources)} files: {len(sources)} compiled, 0 failed" in result.stdout
    assert "(esbuild " in result.stdout


def test_syntax_error_is_printed_compiler_style_and_exits_1(tmp_path: Path) -> None:
    result = rpcbridge_cli("compile", BROKEN, APP / "types.ts", "--outdir", tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    [at] = [i for i, line in enumerate(lines) if ": error: " in line]
    location, message = lines[at].split(": error: ", 1)
    path, line, column = location.rsplit(":", 2)
    assert path.endswith("Broken.tsx")
    assert "section" in message
    source_line = (BROKEN / "Broken.tsx").read_text().splitlines()[int(line) - 1]
    assert lines[at + 1].strip() == source_line.strip()
    assert source_line[int(column) - 1 :].startswith("section")
    assert lines[at + 2].strip().startswith("^")
    assert "2 files: 1 compiled, 1 failed; 1 error" in result.stdout
    assert (tmp_path / "types.js").exists() and not (tmp_path / "Broken.js").exists()


def test_sourcemap_files_map_back_to_the_source(tmp_path: Path) -> None:
    result = rpcbridge_cli("compile", APP / "lib" / "store.ts", "--outdir", tmp_path, "--sourcemap")
    assert result.returncode == 0, result.stderr
    code = (tmp_path / "store.js").read_text()
    assert code.rstrip().endswith("//# sourceMappingURL=store.js.map")
    source_lines = (APP / "lib" / "store.ts").read_text().splitlines()
    [generated] = [i for i, line in enumerate(code.splitlines()) if "function groupBy" in line]
    original = original_line_of((tmp_path / "store.js.map").read_text(), generated)
    assert "function groupBy" in source_lines[original]


def test_typescript_engine(tmp_path: Path) -> None:
    result = rpcbridge_cli(
        "compile", APP / "App.tsx", "--engine", "typescript", "--outdir", tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "(typescript 5.9" in result.stdout


def test_without_outdir_nothing_is_written(tmp_path: Path) -> None:
    before = sorted(ROOT.joinpath("examples").rglob("*"))
    result = rpcbridge_cli("compile", APP)
    assert result.returncode == 0
    assert sorted(ROOT.joinpath("examples").rglob("*")) == before


def test_plain_progress_lines_when_not_on_a_terminal() -> None:
    result = rpcbridge_cli("compile", APP / "types.ts")
    assert result.stderr.startswith("ok ") and "types.ts" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert rpcbridge_cli().returncode == 2
    assert rpcbridge_cli("compile").returncode == 2
    assert rpcbridge_cli("compile", APP, "--jobs", "0").returncode == 2
    missing = rpcbridge_cli("compile", tmp_path / "nope.tsx")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert rpcbridge_cli("compile", tmp_path).returncode == 2  # an empty folder


def test_bridge_failure_exits_2_with_the_reason() -> None:
    env = {**os.environ, "RPCBRIDGE_NODE": "/nonexistent/node"}
    result = rpcbridge_cli("compile", APP / "types.ts", env=env)
    assert result.returncode == 2
    assert "Node.js was not found" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_progress_bar_on_a_terminal() -> None:
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "rpcbridge", "compile", str(APP)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
        cwd=ROOT,
    )
    os.close(terminal)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(controller)
    assert process.returncode == 0
    assert b"compiling" in shown and b"\x1b[" in shown  # drawn with escape codes
    assert b"8 files: 8 compiled" in stdout  # the results still go to stdout, plainly


PROJECT = ROOT / "node" / "test-support" / "fixtures" / "compile" / "project"
ESBUILD = ROOT / "node" / "node_modules" / ".bin" / "esbuild"


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_each_file_gets_its_nearest_tsconfig_as_with_the_esbuild_cli(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    sources = sorted(p.relative_to(PROJECT).as_posix() for p in PROJECT.rglob("*.*ts*"))
    sources = [s for s in sources if not s.endswith(".json")]
    subprocess.run(
        [ESBUILD, *sources, f"--outdir={theirs}", "--jsx=automatic", "--log-level=error"],
        cwd=PROJECT,
        check=True,
    )
    result = rpcbridge_cli("compile", PROJECT, "--outdir", ours)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = _tree(theirs)
    # The one difference, on purpose: .mts becomes .mjs (esbuild's CLI writes .js).
    expected["lib/math.mjs"] = expected.pop("lib/math.js")
    assert _tree(ours) == expected
    assert expected["app/src/Panel.js"].startswith('"use strict";')  # from the base, by extends
    assert 'from "preact/jsx-runtime"' in expected["lib/Button.js"]


def test_tsconfig_option_applies_one_file_to_every_source(tmp_path: Path) -> None:
    result = rpcbridge_cli(
        "compile",
        PROJECT / "loose",
        "--outdir",
        tmp_path,
        "--tsconfig",
        PROJECT / "app" / "tsconfig.json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    code = (tmp_path / "plain.js").read_text()
    assert code.startswith('"use strict";') and "h(" in code  # app's settings, not the defaults
    missing = rpcbridge_cli("compile", PROJECT / "loose", "--tsconfig", tmp_path / "nope.json")
    assert missing.returncode == 1 and "nope.json" in missing.stdout


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


STRICT = '{"compilerOptions": {"strict": true, "noEmit": true}, "include": ["src"]}'


def test_check_prints_a_type_error_compiler_style_and_exits_1(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "tsconfig.json": STRICT,
            "src/ok.ts": "export const ok = 1;\n",
            "src/bad.ts": 'const s = "é你😀"; export const n: number = s;\n',
        },
    )
    result = rpcbridge_cli("check", root / "src")
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if ": error: " in line]
    location, message = line.split(": error: ", 1)
    path, row, column = location.rsplit(":", 2)
    assert path.endswith("bad.ts") and row == "1"
    assert "[TS2322]" in message
    source_line = (root / "src" / "bad.ts").read_text(encoding="utf-8").splitlines()[0]
    assert source_line[int(column) - 1 :].startswith("n: number")  # code points: 😀 counts one
    assert "check: 2 files: 1 error" in result.stdout
    fixed = rpcbridge_cli("check", root / "src" / "ok.ts")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_compile_check_fails_on_a_type_error_that_compiles(tmp_path: Path) -> None:
    root = _project(tmp_path, {"src/bad.ts": "export const n: number = 'text';\n"})
    plain = rpcbridge_cli("compile", root / "src", "--outdir", root / "out")
    assert plain.returncode == 0  # esbuild only strips the types
    checked = rpcbridge_cli("compile", root / "src", "--outdir", root / "out", "--check")
    assert checked.returncode == 1
    assert "[TS2322]" in checked.stdout
    assert (root / "out" / "bad.js").exists()  # the output is still written


def test_watch_recompiles_on_save_reports_errors_and_stops_on_sigint(tmp_path: Path) -> None:
    import queue
    import signal
    import threading
    import time

    root = _project(tmp_path, {"tsconfig.json": STRICT, "src/a.ts": "export const a = 1;\n"})
    out = root / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rpcbridge",
            "compile",
            "src",
            "--outdir",
            "out",
            "--watch",
            "--check",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 60
        while not any(text in line for line in seen):
            try:
                seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"{text!r} never came; saw:\n{''.join(seen)}") from None

    try:
        wait_for("watching for changes")
        assert (out / "a.js").read_text() == '"use strict";\nexport const a = 1;\n'
        (root / "src" / "b.ts").write_text("export const b: number = 2;\n", encoding="utf-8")
        wait_for("changed: src/b.ts")
        wait_for("check: 2 files: 0 errors")
        assert (out / "b.js").exists()
        (root / "src" / "b.ts").write_text("export const b = (;\n", encoding="utf-8")
        wait_for("b.ts:1:19: error: Unexpected")
        (root / "src" / "b.ts").write_text("export const b: number = 'x';\n", encoding="utf-8")
        wait_for("[TS2322]")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        wait_for("rpcbridge: stopped")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_typescript_engine_also_reads_each_files_tsconfig(tmp_path: Path) -> None:
    result = rpcbridge_cli(
        "compile", PROJECT / "app", "--engine", "typescript", "--outdir", tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    code = (tmp_path / "src" / "Panel.js").read_text(encoding="utf-8")
    assert "__decorate(" in code and "h(Fragment, null" in code  # from the base, by extends
