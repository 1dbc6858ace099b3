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


SCRIPT = """
import trio, rpcbridge, rpcbridge._host as h
print(h.bundled_host_dir())
async def main():
    try:
        async with rpcbridge.open_bridge() as b:
            print(await b.call('rpc.echo', ['ok']))
    except rpcbridge.HostSetupError as exc:
        print(exc)
trio.run(main)
"""


def run_installed(site: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n" + SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=site,
    )
    return result.stdout.splitlines()


def test_installed_package_runs_the_host_it_carries(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    host_dir = site / "rpcbridge" / "node"

    # Installed from the wheel, the host's npm packages are not there yet: the error says
    # exactly what to run.
    located, *message = run_installed(site)
    assert located == str(host_dir)
    assert f"npm ci --omit=dev --prefix {host_dir}" in "\n".join(message)

    # Once they are (here: the ones `make` installed), the carried host runs.
    (host_dir / "node_modules").symlink_to(ROOT / "node" / "node_modules")
    assert run_installed(site) == [str(host_dir), "['ok']"]
