"""Every example in examples/ runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    # The type error that compiles, caught by typecheck, and the fix checked warm:
    assert "invoice.ts compiles to" in out
    assert "invoice.ts:15:" in out and "[TS2322]" in out
    assert "type check: 1 error(s)" in out
    assert "after the fix (sent as text): 0 error(s)" in out


def run_example_with(
    name: str, *args: str | Path, expect_status: int = 0
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert result.returncode == expect_status, result.stdout + result.stderr
    return result


def test_editor_plugin_once_on_the_app_and_on_the_broken_file() -> None:
    app = run_example_with("editor_plugin.py", EXAMPLES / "app" / "src", "--once").stdout
    compiled = sorted(line.split()[1] for line in app.splitlines() if line.startswith("✓ "))
    expected = sorted(p.name for p in (EXAMPLES / "app" / "src").rglob("*.ts*"))
    assert compiled == expected
    broken = run_example_with("editor_plugin.py", EXAMPLES / "broken", "--once", expect_status=1)
    assert "✗ Broken.tsx: 1 error(s)" in broken.stdout
    assert 'Broken.tsx:18:54: error: Unexpected closing "section" tag' in broken.stdout


def test_editor_plugin_watch_recompiles_changed_and_new_files(tmp_path: Path) -> None:
    import os
    import queue
    import shutil
    import threading

    src = tmp_path / "src"
    shutil.copytree(EXAMPLES / "app" / "src", src)
    argv = [sys.executable, str(EXAMPLES / "editor_plugin.py"), str(src)]
    plugin = subprocess.Popen(
        [*argv, "--seconds", "3", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str] = queue.Queue()
    assert plugin.stdout is not None
    stdout = plugin.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def expect(text: str) -> None:
        while text not in lines.get(timeout=15):
            pass

    def touch(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        mtime = path.stat().st_mtime_ns + 1_000_000_000  # a new mtime even on coarse clocks
        os.utime(path, ns=(mtime, mtime))

    try:
        expect("watching 8 files")
        item = src / "components" / "TodoItem.tsx"
        original = item.read_text(encoding="utf-8")
        touch(item, original + "\nexport const broken = <div>;\n")
        expect("✗ TodoItem.tsx: 1 error(s)")
        expect(": error: ")
        touch(item, original)
        expect("✓ TodoItem.tsx compiled")
        touch(src / "Added.tsx", "export const Added = () => <b>new</b>;\n")
        expect("✓ Added.tsx compiled")
        expect("stopped watching")
        assert plugin.wait(timeout=20) == 0
    finally:
        plugin.kill()
        plugin.wait()
        reader.join(5)


def test_custom_handlers_progress_callbacks_and_cancellation() -> None:
    out = run_example("custom_handlers/main.py")
    assert out.index("progress 1/3: tea") < out.index("progress 3/3: bread")
    assert out.index("progress 3/3: bread") < out.index("Green tea 緑茶: 4.50 → 5.40 with tax")
    assert "an unknown id: InvalidParams: no item 'caviar'" in out
    assert "lookups since the cancel: 0" in out
    cancelled_after = int(out.split("cancelled after ")[1].split()[0])
    assert 1 <= cancelled_after < 60


def test_progress_demo_draws_every_step_in_order() -> None:
    done = run_example_with("progress_demo.py", "--steps", "12", "--delay-ms", "5")
    assert "counted to 12" in done.stdout
    assert "12 progress values, in order, all before the result" in done.stdout


def test_asyncio_quickstart_on_asyncio_and_uvloop() -> None:
    for args in ((), ("--uvloop",)):
        out = run_example_with("asyncio_quickstart.py", *args).stdout
        assert "1000 concurrent calls, every answer matched to its caller" in out
        assert "progress: ['tea', 'bread']" in out
        assert "Green tea 緑茶: 4.50 -> 5.40 with tax" in out
        assert "a typed error: CallTimeout" in out
        assert "cancelled; calls still in flight: 0" in out


def test_asyncio_quickstart_in_an_already_running_loop(capsys: pytest.CaptureFixture[str]) -> None:
    """As in Jupyter: the loop runs first (``run_forever``), the example's ``main()`` is
    scheduled on it from outside, and other work on that loop keeps running meanwhile."""
    import asyncio
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "asyncio_quickstart", EXAMPLES / "asyncio_quickstart.py"
    )
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    loop = asyncio.new_event_loop()
    ticks = 0
    outcome: list[asyncio.Task[None]] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    def start() -> None:  # runs inside the already running loop, like a notebook cell
        ticking = loop.create_task(ticker())
        cell = loop.create_task(example.main())
        outcome.append(cell)
        cell.add_done_callback(lambda _: (ticking.cancel(), loop.stop()))

    loop.call_soon(start)
    try:
        loop.run_forever()
    finally:
        loop.close()
    outcome[0].result()  # raises what main() raised
    out = capsys.readouterr().out
    assert "1000 concurrent calls, every answer matched to its caller" in out
    assert "cancelled; calls still in flight: 0" in out
    assert ticks > 0  # the loop kept serving its other task while the example ran
