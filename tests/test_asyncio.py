"""The asyncio API used the asyncio way: ``asyncio.run``/``uvloop.run``, ``Task.cancel()``,
``asyncio.wait_for``, ``asyncio.gather`` — native cancellation, not anyio's. What reaches the
wire is checked in the scripted peer's record of every message it received."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop

import rpcbridge

PEER = [sys.executable, str(Path(__file__).parent / "peers" / "scripted_peer.py")]

Runner = Callable[[Coroutine[Any, Any, Any]], Any]
RUNNERS = [pytest.param(asyncio.run, id="asyncio"), pytest.param(uvloop.run, id="uvloop")]


def received(record: Path) -> list[dict[str, Any]]:
    """Every message the peer received, in order."""
    return [json.loads(line) for line in record.read_text().splitlines()]


def recording_env(record: Path) -> dict[str, str]:
    return {**os.environ, "SCRIPTED_PEER_RECORD": str(record)}


@pytest.mark.parametrize("run", RUNNERS)
def test_open_bridge_under_asyncio_run(run: Runner) -> None:
    async def main() -> tuple[Any, Any, int | None]:
        async with rpcbridge.open_bridge() as bridge:
            echoed = await bridge.call("rpc.echo", {"text": "你好 🌏"})
            many = await asyncio.gather(*(bridge.call("rpc.echo", [i]) for i in range(200)))
            return echoed, many, bridge.returncode

    echoed, many, running = run(main())
    assert echoed == {"text": "你好 🌏"}
    assert many == [[i] for i in range(200)]
    assert running is None  # still running inside the block


@pytest.mark.parametrize("run", RUNNERS)
def test_cancelling_the_awaiting_task_sends_one_cancel_request(run: Runner, tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"

    async def main() -> int:
        async with rpcbridge.open_bridge(PEER, env=recording_env(record)) as bridge:
            task = asyncio.create_task(bridge.call("hang"))
            while bridge.in_flight == 0:  # noqa: ASYNC110 (the call is sent: nothing to await)
                await asyncio.sleep(0.001)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert bridge.in_flight == 0
            # The peer answers in order, so by this answer it has read the cancel too.
            assert await bridge.call("echo", [1]) == [1]
            task.cancel()  # cancelling a finished task again sends nothing
            assert await bridge.call("echo", [2]) == [2]
        return 0

    run(main())
    messages = received(record)
    [hang] = [m for m in messages if m.get("method") == "hang"]
    cancels = [m for m in messages if m.get("method") == "$/cancelRequest"]
    assert cancels == [
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": hang["id"]}}
    ]


@pytest.mark.parametrize("run", RUNNERS)
def test_wait_for_asyncio_timeout_and_the_timeout_argument_cancel_on_the_wire(
    run: Runner, tmp_path: Path
) -> None:
    record = tmp_path / "received.jsonl"

    async def main() -> None:
        async with rpcbridge.open_bridge(PEER, env=recording_env(record)) as bridge:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(bridge.call("hang", ["wait_for"]), 0.05)
            with pytest.raises(rpcbridge.CallTimeout):
                await bridge.call("hang", ["timeout"], timeout=0.05)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await bridge.call("hang", ["asyncio.timeout"])
            assert await bridge.call("echo", [1]) == [1]
            assert bridge.in_flight == 0

    run(main())
    messages = received(record)
    hangs = {m["params"][0]: m["id"] for m in messages if m.get("method") == "hang"}
    assert set(hangs) == {"wait_for", "timeout", "asyncio.timeout"}
    cancelled = [m["params"]["id"] for m in messages if m.get("method") == "$/cancelRequest"]
    assert sorted(cancelled) == sorted(hangs.values())


@pytest.mark.parametrize("run", RUNNERS)
def test_a_task_cancelled_while_the_bridge_closes_still_ends_the_host(
    run: Runner, tmp_path: Path
) -> None:
    """Closing is shielded from a native ``Task.cancel()`` too: the stubborn child (it ignores
    stdin EOF and SIGTERM) is still killed and reaped before the task ends."""
    script = tmp_path / "stubborn.py"
    script.write_text(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "sys.stdin.read()\n"
        "time.sleep(60)\n"
    )
    pids: list[int] = []

    async def use() -> None:
        async with rpcbridge.open_bridge([sys.executable, str(script)], shutdown_timeout=0.3) as b:
            pids.append(b.pid)
        # not reached when cancelled during the close

    async def main() -> None:
        task = asyncio.create_task(use())
        while not pids:  # noqa: ASYNC110 (waiting for the child to start)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # now inside the close: waiting for the child to exit
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)

    run(main())
    assert not Path(f"/proc/{pids[0]}").exists()  # killed and reaped


def test_open_bridge_outside_an_event_loop_says_what_to_use() -> None:
    async def not_awaited_by_a_loop() -> None:
        async with rpcbridge.open_bridge():
            pass

    coroutine = not_awaited_by_a_loop()
    with pytest.raises(RuntimeError, match="SyncBridge"):
        coroutine.send(None)
    coroutine.close()
