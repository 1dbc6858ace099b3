"""The Python side of progress_methods.mjs: Python methods the host calls, progress, and
cancellation, with the trio API.

* ``py.lookup`` is registered on a ``rpcbridge.Methods`` registry: the handler module calls
  it with ``await ctx.request("py.lookup", {id})`` for every item;
* ``catalog.enrich`` is called with ``on_progress=``, which prints each ``$/progress`` value
  as it arrives, before the result;
* a second, longer call is abandoned with ``trio.move_on_after``: the bridge sends
  ``$/cancelRequest``, the host aborts ``ctx.signal``, and no lookup arrives afterwards.

Run it with ``.venv/bin/python examples/custom_handlers/main.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

import rpcbridge

MODULE = Path(__file__).resolve().parent / "progress_methods.mjs"

CATALOG = {
    "tea": {"name": "Green tea 緑茶", "price": 4.5},
    "cake": {"name": "Crème brûlée", "price": 6.0},
    "bread": {"name": "Sourdough", "price": 3.2},
}

methods = rpcbridge.Methods()
lookups: list[str] = []


@methods.register("py.lookup")
async def lookup(params: dict[str, Any]) -> dict[str, Any]:
    """Called by the host for each id; an unknown id is answered with an error."""
    item_id = params["id"]
    lookups.append(item_id)
    await trio.sleep(0.005)  # pretend to query a database
    if item_id not in CATALOG:
        raise rpcbridge.InvalidParams(f"no item {item_id!r}", data={"id": item_id})
    return {"id": item_id, **CATALOG[item_id]}


async def main() -> None:
    async with rpcbridge.open_bridge(handlers=[MODULE], methods=methods) as bridge:

        def show(value: Any) -> None:
            print(f"  progress {value['done']}/{value['total']}: {value['id']}")

        print("catalog.enrich tea, cake, bread:")
        result = await bridge.call(
            "catalog.enrich", {"ids": ["tea", "cake", "bread"], "delayMs": 20}, on_progress=show
        )
        for item in result["items"]:
            print(f"  {item['name']}: {item['price']:.2f} → {item['priceWithTax']:.2f} with tax")

        try:
            await bridge.call("catalog.enrich", {"ids": ["tea", "caviar"]})
        except rpcbridge.RpcError as exc:  # Python's error travelled to the host and back
            print(f"an unknown id: {type(exc).__name__}: {exc.message}")

        print("a long call, abandoned after 0.3 s:")
        lookups.clear()
        ids = ["tea", "cake", "bread"] * 20
        with trio.move_on_after(0.3) as scope:
            await bridge.call("catalog.enrich", {"ids": ids, "delayMs": 50}, on_progress=show)
        assert scope.cancelled_caught
        done_at_cancel = len(lookups)
        await trio.sleep(0.5)  # had the host not stopped, ~10 more lookups would arrive
        print(
            f"cancelled after {done_at_cancel} of {len(ids)} lookups; "
            f"lookups since the cancel: {len(lookups) - done_at_cancel}"
        )


if __name__ == "__main__":
    trio.run(main)
