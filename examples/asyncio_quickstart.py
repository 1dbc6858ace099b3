"""The quick start on asyncio: the same API as under trio, in a plain ``asyncio.run``.

One Node host, 1000 concurrent calls, progress, a Python method the host calls, a timeout, and
a task that is cancelled (which cancels its call on the host). ``main()`` also works where a
loop is already running — in Jupyter, ``await main()`` in a cell.

Run it with ``.venv/bin/python examples/asyncio_quickstart.py`` (``--uvloop`` to run it on
uvloop).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any

import rpcbridge

HERE = Path(__file__).resolve().parent
HANDLERS = [HERE / "handlers" / "greeter.mjs", HERE / "custom_handlers" / "progress_methods.mjs"]
PRICES = {"tea": ("Green tea 緑茶", 4.5), "bread": ("Rye bread", 3.2)}


async def main() -> None:
    methods = rpcbridge.Methods()

    @methods.register("py.lookup")  # catalog.enrich asks Python for each record
    async def lookup(params: dict[str, str]) -> dict[str, Any]:
        await asyncio.sleep(0)  # an async handler runs as an asyncio task
        name, price = PRICES[params["id"]]
        return {"id": params["id"], "name": name, "price": price}

    async with rpcbridge.open_bridge(handlers=HANDLERS, methods=methods) as bridge:
        hello = bridge.hello
        assert hello is not None
        print(f"host on Node {hello['node']} (pid {hello['pid']})")

        started = time.perf_counter()
        answers = await asyncio.gather(
            *(bridge.call("rpc.echo", {"i": i, "text": "你好 🌏"}) for i in range(1000))
        )
        elapsed = time.perf_counter() - started
        assert answers == [{"i": i, "text": "你好 🌏"} for i in range(1000)]
        print(f"1000 concurrent calls, every answer matched to its caller: {elapsed * 1000:.0f} ms")

        steps: list[Any] = []
        enriched = await bridge.call(
            "catalog.enrich", {"ids": ["tea", "bread"], "delayMs": 1}, on_progress=steps.append
        )
        print(f"progress: {[step['id'] for step in steps]}")
        for item in enriched["items"]:
            print(f"{item['name']}: {item['price']:.2f} -> {item['priceWithTax']:.2f} with tax")

        try:
            await bridge.call("greeter.slowCount", {"to": 100, "delayMs": 100}, timeout=0.2)
        except rpcbridge.CallTimeout as exc:
            print(f"a typed error: {type(exc).__name__}: {exc}")

        counting = asyncio.create_task(bridge.call("greeter.slowCount", {"to": 100}))
        await asyncio.sleep(0.05)
        counting.cancel()  # sends $/cancelRequest: the host stops counting
        try:
            await counting
        except asyncio.CancelledError:
            print(f"cancelled; calls still in flight: {bridge.in_flight}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    if "--uvloop" in sys.argv:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
