"""rpcbridge as the client of a language server: vscode-json-language-server checks a JSON file.

The server is the npm package ``vscode-langservers-extracted``, a dev dependency of the Node
host (``cd node && npm ci`` or ``make setup`` installs it). Run::

    .venv/bin/python examples/lsp_client.py            # checks a built-in JSON document
    .venv/bin/python examples/lsp_client.py some.json  # checks your file

The session is the standard LSP one (docs/editor-integration.md): ``initialize``,
``initialized``, the settings, ``textDocument/didOpen``; the server answers with a
``textDocument/publishDiagnostics`` notification, printed here with line and column; then
``shutdown`` and ``exit``. Along the way the server sends requests of its own, answered by the
Python handlers below: ``client/registerCapability`` (it registers formatting) and
``vscode/content`` (it asks us for the JSON schema behind ``rpcbridge-example://``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import shutil
import sys
import unicodedata
from pathlib import Path
from typing import Any

import trio

import rpcbridge

NODE_MODULES = Path(__file__).resolve().parent.parent / "node" / "node_modules"
PACKAGE = "vscode-langservers-extracted"
SERVER_BIN = "vscode-json-language-server"

SCHEMA_URL = "rpcbridge-example://schemas/package"
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "version"],
}
SAMPLE = """{
  "name": "rpcbridge-demo",
  "greeting": "你好 🌏", "version": 2,
  "tags": ["json", "lsp",],
  "author":
}
"""
SEVERITIES = {1: "error", 2: "warning", 3: "info", 4: "hint"}


def find_server(node_modules: Path) -> list[str] | None:
    """``[node, <server script>, "--stdio"]``, or ``None`` if node or the package is missing."""
    node = shutil.which("node")
    manifest = node_modules / PACKAGE / "package.json"
    if node is None or not manifest.is_file():
        return None
    script = node_modules / PACKAGE / json.loads(manifest.read_text())["bin"][SERVER_BIN]
    return [node, str(script), "--stdio"] if script.is_file() else None


def client_methods(diagnostics: trio.MemorySendChannel[dict[str, Any]]) -> rpcbridge.Methods:
    """Handlers for what the server sends us: notifications and requests."""
    methods = rpcbridge.Methods()
    log = logging.getLogger("lsp.server")

    # Notifications: the return value is ignored. A sync handler runs inline on the trio
    # thread, so it must be quick: hand the diagnostics over to the main task.
    methods.register("textDocument/publishDiagnostics")(diagnostics.send_nowait)

    @methods.register("window/logMessage")
    def log_message(params: dict[str, Any]) -> None:
        log.info("%s", params["message"])

    # Requests: the return value is the result; an exception becomes an error answer. A
    # request with no handler is answered -32601 (Method not found) by the bridge.
    @methods.register("client/registerCapability")
    def register_capability(params: dict[str, Any]) -> None:
        for registration in params["registrations"]:
            print(f"server registered: {registration['method']}")

    @methods.register("workspace/configuration")
    def configuration(params: dict[str, Any]) -> list[Any]:
        return [None for _ in params["items"]]  # one value per item asked for: "no setting"

    @methods.register("window/workDoneProgress/create")
    def progress_create(params: dict[str, Any]) -> None:
        return None  # accept the token; $/progress notifications then carry it

    @methods.register("vscode/content")  # vscode-json-language-server's own request
    async def content(params: list[str]) -> str:
        [url] = params
        if url != SCHEMA_URL:
            raise rpcbridge.InvalidParams(f"no such schema: {url}")  # an error answer, -32602
        return json.dumps(SCHEMA)

    return methods


def utf16_to_column(line_text: str, character: int) -> int:
    """An LSP ``character`` (UTF-16 code units by default) as a 1-based code-point column."""
    prefix = line_text.encode("utf-16-le")[: character * 2].decode("utf-16-le", "replace")
    return len(prefix) + 1


def terminal_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide characters and emoji take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def print_diagnostics(name: str, text: str, diagnostics: list[dict[str, Any]]) -> None:
    lines = re.split(r"\r\n?|\n", text)  # LSP's line ends; str.splitlines() knows more
    print(f"{name}: {len(diagnostics)} diagnostic(s)")
    for diagnostic in sorted(
        diagnostics, key=lambda d: (d["range"]["start"]["line"], d["range"]["start"]["character"])
    ):
        start = diagnostic["range"]["start"]
        line_text = lines[start["line"]] if start["line"] < len(lines) else ""
        column = utf16_to_column(line_text, start["character"])
        severity = SEVERITIES.get(diagnostic.get("severity", 1), "error")
        print(f"{name}:{start['line'] + 1}:{column}: {severity}: {diagnostic['message']}")
        print(f"    {line_text}")
        print(f"    {' ' * terminal_width(line_text[: column - 1])}^")


async def check(command: list[str], name: str, text: str) -> None:
    uri = (await trio.Path(name).absolute()).as_uri()
    send, receive = trio.open_memory_channel[dict[str, Any]](math.inf)
    methods = client_methods(send)
    # Register handlers before the server starts (methods=), so no early message is missed.
    async with rpcbridge.open_bridge(command, methods=methods) as bridge:
        with trio.fail_after(30):
            result = await bridge.call(
                "initialize",
                {
                    "processId": os.getpid(),  # the server exits if this process dies
                    "clientInfo": {"name": "rpcbridge lsp_client example"},
                    "rootUri": None,
                    "capabilities": {
                        "textDocument": {
                            "publishDiagnostics": {},
                            "rangeFormatting": {"dynamicRegistration": True},
                        },
                        "workspace": {"configuration": True},
                    },
                },
            )
        print(f"initialized: the server offers {', '.join(sorted(result['capabilities']))}")
        await bridge.notify("initialized", {})
        await bridge.notify(
            "workspace/didChangeConfiguration",
            {
                "settings": {
                    "json": {
                        "validate": {"enable": True},
                        "format": {"enable": True},
                        "schemas": [{"fileMatch": ["*.json"], "url": SCHEMA_URL}],
                    }
                }
            },
        )
        document = {"uri": uri, "languageId": "json", "version": 1, "text": text}
        await bridge.notify("textDocument/didOpen", {"textDocument": document})

        with trio.fail_after(10):  # the server waits 500 ms before it validates
            async for params in receive:
                if params["uri"] == uri:
                    print_diagnostics(name, text, params["diagnostics"])
                    break

        with trio.fail_after(10):
            await bridge.call("shutdown")
        await bridge.notify("exit")
    # Leaving the block waited for the server to exit (it does on "exit"), else ended it.
    print(f"server exited with code {bridge.returncode}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("file", nargs="?", help="a JSON file to check (default: a sample)")
    parser.add_argument(
        "--node-modules",
        type=Path,
        default=NODE_MODULES,
        help=f"where {PACKAGE} is installed (default: %(default)s)",
    )
    args = parser.parse_args()
    command = find_server(args.node_modules)
    if command is None:
        print(
            f"{SERVER_BIN} not found: it comes with the npm package {PACKAGE}, expected in "
            f"{args.node_modules / PACKAGE} (and node on PATH). Install the Node packages "
            "with `make setup` or `cd node && npm ci`.",
            file=sys.stderr,
        )
        return 1
    if args.file is None:
        name, text = "sample.json", SAMPLE
    else:
        name, text = args.file, Path(args.file).read_text(encoding="utf-8")
    trio.run(check, command, name, text)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    sys.exit(main())
