"""The wheel carries the Node host, and an installed rpcbridge finds it there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [built] = out.glob("rpcbridge-*.whl")
    return built


def test_wheel_contains_the_host_and_the_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "rpcbridge/py.typed" in names
    assert "rpcbridge/node/rpc-host.js" in names
    assert "rpcbridge/node/package.json" in names
    assert "rpcbridge/node/package-lock.json" in names
    host_modules = {Path(n).name for n in names if n.startswith("rpcbridge/node/lib/")}
    assert {"framer.js", "dispatcher.js", "stdout-guard.js"} <= host_modules
    assert not any("node_modules" in n or "/test/" in n for n in names)


def test_installed_package_runs_the_host_it_carries(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    script = (
        "import trio, rpcbridge, rpcbridge._host as h\n"
        "print(h.bundled_host_dir())\n"
        "async def main():\n"
        "    async with rpcbridge.open_bridge() as b:\n"
        "        print(await b.call('rpc.echo', ['ok']))\n"
        "trio.run(main)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r})\n" + script,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    )
    host_dir, answer = result.stdout.splitlines()
    assert host_dir == str(tmp_path / "site" / "rpcbridge" / "node")
    assert answer == "['ok']"
