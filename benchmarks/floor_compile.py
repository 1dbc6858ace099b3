"""The floor of a whole-project compile through the host: ``python floor_compile.py OUTDIR
FILE...``.

The least a Python program can do to have the bundled host compile files: start
``node node/rpc-host.js`` (esbuild warmed up at once, as the CLI's host), write ``rpc.hello``
and one ``compileFiles`` at once, read the answers off stdout, close stdin and wait for the
exit. Standard library only (``json``, ``subprocess``), no bridge, no error handling beyond a
failed file: what ``rpcbridge compile`` would cost if it did nothing but this.
``benchmarks/project.py`` runs it beside the CLI and the esbuild CLI, so the target's distance
from what Node itself costs is visible in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HOST = Path(__file__).resolve().parent.parent / "node" / "rpc-host.js"
_OUTPUT_SUFFIX = {".mts": ".mjs", ".mjs": ".mjs", ".cts": ".cjs", ".cjs": ".cjs"}


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def main(outdir: str, names: list[str]) -> int:
    env = {**os.environ, "RPCBRIDGE_COMPILE_WARMUP": "now"}
    env.pop("NODE_EXTRA_CA_CERTS", None)  # as rpcbridge's host without handler modules
    host = subprocess.Popen(
        ["node", str(HOST)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert host.stdin is not None and host.stdout is not None
    base = os.path.commonpath([os.path.dirname(name) for name in names])  # as esbuild's outbase
    files = []
    for name in names:
        stem, suffix = os.path.splitext(os.path.relpath(name, base))
        out = os.path.join(outdir, stem + _OUTPUT_SUFFIX.get(suffix, ".js"))
        files.append({"path": name, "out": out})
    host.stdin.write(
        frame({"jsonrpc": "2.0", "id": 1, "method": "rpc.hello"})
        + frame({"jsonrpc": "2.0", "id": 2, "method": "compileFiles", "params": {"files": files}})
    )
    host.stdin.flush()
    buffer, answered = b"", {}
    while 2 not in answered:
        while b"\r\n\r\n" not in buffer:
            buffer += os.read(host.stdout.fileno(), 1 << 16)
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = int(head.split(b":")[1])
        while len(rest) < length:
            rest += os.read(host.stdout.fileno(), 1 << 16)
        message = json.loads(rest[:length])
        buffer = rest[length:]
        answered[message["id"]] = message
    host.stdin.close()
    host.wait()
    failed = [f["path"] for f in answered[2]["result"]["files"] if not f["ok"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
