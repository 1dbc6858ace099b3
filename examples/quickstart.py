"""The quick start: one Node host, a handshake, 1000 concurrent calls, a notification.

Run it with ``make demo`` (or ``.venv/bin/python examples/quickstart.py`` once set up).
"""

from __future__ import annotations

import logging
import time

import trio

import rpcbridge


async def main() -> None:
    async with rpcbridge.open_bridge() as bridge:  # spawns the bundled node/rpc-host.js
        hello = await bridge.call("rpc.hello")
        print(f"host {hello['host']} on Node {hello['node']} (pid {hello['pid']})")
        print(f"methods: {', '.join(hello['methods'])}")

        results: dict[int, object] = {}

        async def echo(i: int) -> None:
            results[i] = await bridge.call("rpc.echo", {"i": i, "text": "你好 🌏"})

        started = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for i in range(1000):
                nursery.start_soon(echo, i)
        elapsed = time.perf_counter() - started
        assert all(results[i] == {"i": i, "text": "你好 🌏"} for i in range(1000))
        print(f"1000 concurrent calls, every answer matched to its caller: {elapsed * 1000:.0f} ms")

        await bridge.notify("some.notification", {"x": 1})

        try:
            await bridge.call("no.such.method")
        except rpcbridge.MethodNotFound as exc:
            print(f"a typed error: {type(exc).__name__} {exc}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    trio.run(main)
