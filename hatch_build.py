"""Platform wheels: the hatch build hook that puts the Node host's runtime npm packages in the wheel.

A wheel built from this repo (``pip install .``, ``python -m build``, ``make wheel``) carries
``rpcbridge/node/`` (the host's JavaScript, from ``pyproject.toml``) and, added here,
``rpcbridge/node/node_modules/`` with the host's runtime packages for ONE platform: esbuild, its
native binary ``@esbuild/<platform>`` and TypeScript (trimmed to the files the host loads). So
``pip install`` alone gives a bridge that compiles: no checkout, no npm, nothing written into
site-packages later. The wheel's tag says the platform (``py3-none-<platform tag>``).

Which platform (``RPCBRIDGE_WHEEL_PLATFORM``, or ``--platform`` when this file is run):

* ``auto`` (the default): this machine's. Without ``npm`` the build falls back to ``none``,
  with a warning: such a wheel still works for calls and handler modules, and ``compile``
  answers ``EngineUnavailable`` naming the fix.
* one of ``PLATFORMS`` below (``linux-x64``, ``darwin-arm64``, ...): npm's ``--os``/``--cpu``
  pick that platform's esbuild binary, so one machine builds every platform's wheel.
* ``none``: the pure-Python wheel (``py3-none-any``), no npm packages.

``RPCBRIDGE_WHEEL_TYPESCRIPT=0`` (``--no-typescript``) leaves TypeScript out.

The packages come from ``node/package-lock.json`` (``npm ci --omit=dev --ignore-scripts``: no
dev packages, no install scripts, so esbuild's binary is not copied a second time into
``esbuild/bin``), installed once per platform and lock file into ``build/rpcbridge-node/``.

Run as a script, it builds one wheel::

    python hatch_build.py [--platform auto|none|linux-x64|darwin-arm64|...] [--no-typescript] [--outdir dist]
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent
NODE_SRC = ROOT / "node"
WHEEL_NODE_DIR = "rpcbridge/node"
WHEEL_INFO = "wheel.json"  # rpcbridge/node/wheel.json: read by node/lib/compile/packages.js

# npm platform (esbuild's package name @esbuild/<platform>) -> (npm --os, npm --cpu, wheel
# platform tag). esbuild's binaries are static Go programs (CGO off): on Linux they run on any
# libc, so the Linux wheels are tagged for glibc AND musl. Go >= 1.23 needs macOS 11.
PLATFORMS: dict[str, tuple[str, str, str]] = {
    "linux-x64": (
        "linux",
        "x64",
        "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64",
    ),
    "linux-arm64": (
        "linux",
        "arm64",
        "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
    ),
    "darwin-x64": ("darwin", "x64", "macosx_11_0_x86_64"),
    "darwin-arm64": ("darwin", "arm64", "macosx_11_0_arm64"),
    "win32-x64": ("win32", "x64", "win_amd64"),
    "win32-arm64": ("win32", "arm64", "win_arm64"),
}

# Per package: the files the host loads (globs, relative to the package). A package not listed
# here ships whole. TypeScript: the compiler API (typescript.js needs only Node's builtins) and
# the lib.*.d.ts files a LanguageService / Program reads beside it; not tsc, tsserver, their
# .d.ts or the localized messages (~23 MB -> ~12 MB).
KEEP: dict[str, tuple[str, ...]] = {
    "esbuild": ("package.json", "LICENSE.md", "lib/main.js"),
    "typescript": (
        "package.json",
        "LICENSE.txt",
        "ThirdPartyNoticeText.txt",
        "lib/typescript.js",
        "lib/lib.d.ts",
        "lib/lib.*.d.ts",
    ),
}


class BuildError(RuntimeError):
    """The wheel cannot be built as asked (say why and what to do)."""


def host_platform() -> str | None:
    """This machine's npm platform name, or None if esbuild publishes no binary for it."""
    machine = platform.machine().lower()
    cpu = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    name = f"{sys.platform}-{cpu}"
    return name if name in PLATFORMS else None


def _stamp(target: str) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((NODE_SRC / name).read_bytes())
    digest.update(target.encode())
    return digest.hexdigest()


def install_runtime_packages(target: str, *, cache: Path) -> Path:
    """``npm ci`` the host's runtime packages for ``target`` into a cached folder; its node_modules."""
    npm_os, npm_cpu, _tag = PLATFORMS[target]
    stage = cache / target
    stamp = _stamp(target)
    if (stage / "stamp").is_file() and (stage / "stamp").read_text() == stamp:
        return stage / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(
            f"npm is needed to build the {target} wheel (it installs esbuild's binary for "
            "that platform): install Node.js with npm, or build the pure-Python wheel with "
            "RPCBRIDGE_WHEEL_PLATFORM=none"
        )
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NODE_SRC / name, stage / name)
    argv = [npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"]
    argv += [f"--os={npm_os}", f"--cpu={npm_cpu}"]
    done = subprocess.run(argv, cwd=stage, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"{' '.join(argv)} failed in {stage}:\n{done.stdout}{done.stderr}")
    binary = stage / "node_modules" / "@esbuild" / target
    if not binary.is_dir():
        raise BuildError(f"npm did not install @esbuild/{target} (esbuild's binary) in {stage}")
    (stage / "stamp").write_text(stamp)
    return stage / "node_modules"


def package_dirs(node_modules: Path) -> dict[str, Path]:
    """The packages below ``node_modules`` (scoped ones as ``@scope/name``)."""
    found: dict[str, Path] = {}
    for entry in sorted(node_modules.iterdir()):
        if entry.name.startswith("."):
            continue  # .package-lock.json, .bin
        if entry.name.startswith("@"):
            for inner in sorted(entry.iterdir()):
                found[f"{entry.name}/{inner.name}"] = inner
        else:
            found[entry.name] = entry
    return found


def runtime_packages(node_modules: Path, *, typescript: bool) -> dict[str, Path]:
    """The packages that go in the wheel: all that ``npm ci`` installed, TypeScript if asked."""
    found = package_dirs(node_modules)
    return {name: path for name, path in found.items() if typescript or name != "typescript"}


def runtime_files(packages: dict[str, Path]) -> dict[str, str]:
    """Every file that goes in the wheel: its path here -> its path below ``node_modules``."""
    files: dict[str, str] = {}
    for name, directory in packages.items():
        patterns = KEEP.get(name, ("*",))
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            relative = path.relative_to(directory).as_posix()
            if any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns):
                files[str(path)] = f"{name}/{relative}"
        if name in KEEP and f"{name}/package.json" not in files.values():
            raise BuildError(f"{name}: no package.json kept (KEEP in hatch_build.py)")
    return files


def versions(packages: dict[str, Path]) -> dict[str, str]:
    """name -> version of each package."""
    return {
        name: str(json.loads((directory / "package.json").read_text("utf-8"))["version"])
        for name, directory in packages.items()
    }


class RuntimePackagesHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the platform's npm packages and ``wheel.json`` to the wheel and sets its tag."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Called by hatchling before it builds the wheel."""
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install runs the host from node/ in the checkout
        wanted = os.environ.get("RPCBRIDGE_WHEEL_PLATFORM", "auto").strip() or "auto"
        typescript = os.environ.get("RPCBRIDGE_WHEEL_TYPESCRIPT", "1") != "0"
        target: str | None
        if wanted == "auto":
            target = host_platform()
            if target is None:
                print(
                    f"rpcbridge: WARNING: esbuild has no binary for {sys.platform} "
                    f"{platform.machine()}, so this wheel carries no compile engines "
                    "(py3-none-any).",
                    file=sys.stderr,
                )
            elif shutil.which("npm") is None:
                print(
                    "rpcbridge: WARNING: npm not found, so this wheel carries no compile "
                    "engines (py3-none-any); compile will say how to install esbuild. Install "
                    "npm to build the wheel for this platform.",
                    file=sys.stderr,
                )
                target = None
        elif wanted == "none":
            target = None
        elif wanted in PLATFORMS:
            target = wanted
        else:
            raise BuildError(
                f"RPCBRIDGE_WHEEL_PLATFORM={wanted!r}: expected auto, none or one of "
                + ", ".join(PLATFORMS)
            )
        info: dict[str, Any] = {"platform": target, "packages": {}}
        if target is not None:
            cache = ROOT / "build" / "rpcbridge-node"
            node_modules = install_runtime_packages(target, cache=cache)
            packages = runtime_packages(node_modules, typescript=typescript)
            for source, relative in runtime_files(packages).items():
                build_data["force_include"][source] = f"{WHEEL_NODE_DIR}/node_modules/{relative}"
            info["packages"] = versions(packages)
            build_data["pure_python"] = False
            build_data["tag"] = f"py3-none-{PLATFORMS[target][2]}"
        self._generated = Path(tempfile.mkdtemp(prefix="rpcbridge-wheel-"))
        generated = self._generated / WHEEL_INFO
        generated.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        build_data["force_include"][str(generated)] = f"{WHEEL_NODE_DIR}/{WHEEL_INFO}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the generated wheel.json."""
        generated = getattr(self, "_generated", None)
        if generated is not None:
            shutil.rmtree(generated, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``python hatch_build.py``: build one wheel for one platform; print its path and size."""
    parser = argparse.ArgumentParser(description="Build an rpcbridge wheel for one platform.")
    parser.add_argument(
        "--platform",
        default="auto",
        choices=["auto", "none", *PLATFORMS],
        help="auto: this machine's (default); none: the pure-Python wheel",
    )
    parser.add_argument("--no-typescript", action="store_true", help="leave TypeScript out")
    parser.add_argument("--outdir", type=Path, default=ROOT / "dist", help="where (dist/)")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    before = set(args.outdir.glob("*.whl"))
    env = {
        **os.environ,
        "RPCBRIDGE_WHEEL_PLATFORM": args.platform,
        "RPCBRIDGE_WHEEL_TYPESCRIPT": "0" if args.no_typescript else "1",
    }
    build = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(args.outdir)]
    done = subprocess.run(build, cwd=ROOT, env=env)
    if done.returncode != 0:
        return done.returncode
    built = (
        sorted(set(args.outdir.glob("*.whl")) - before)
        or sorted(args.outdir.glob("*.whl"), key=lambda p: p.stat().st_mtime)[-1:]
    )
    for wheel in built:
        print(f"{wheel} ({wheel.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
