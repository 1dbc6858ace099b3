"""In-process CPU cost of one call's bookkeeping, no I/O: rpcbridge's core vs pylsp's Endpoint.

    python -m benchmarks.core_overhead [--quick] [--json]

Each variant does the same job for ``{"i": i, "text": "hello"}``: build and frame the request
(bytes ready for one write), register the call, then take the response frame the peer would
send (prepared in advance, so the peer's cost is not counted), parse it and hand the result to
the caller:

* ``rpcbridge core``: ``RpcConnection.send_request`` → ``receive_data(frame)`` →
  ``next_event()`` → ``Response.result`` (the sans-I/O core the bridge runs per call);
* ``pylsp Endpoint (stdlib json)``: ``Endpoint.request`` with its consumer doing what
  ``JsonRpcStreamWriter.write`` does (``json.dumps`` + ``Content-Length``/``Content-Type``
  header, encoded), the reply parsed like ``JsonRpcStreamReader`` (header, ``json.loads``), then
  ``Endpoint.consume`` and ``future.result()``; integer ids from a counter (its default is a
  uuid4 string);
* ``pylsp Endpoint (orjson)``: the same Endpoint bookkeeping with orjson and the bare
  ``Content-Length`` header: what rpcbridge would pay if Endpoint sat on its hot path;
* ``bare dict + orjson``: a dict id → slot, ``orjson.dumps`` + ``b"Content-Length: ..."``,
  find the header end, ``int``, ``orjson.loads``, pop the slot: the floor's per-call work.

Variants are interleaved over several rounds (fresh objects per round); the table shows the
median and the best round, in µs per call.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from pylsp_jsonrpc.endpoint import Endpoint

from rpcbridge._connection import Response, RpcConnection
from rpcbridge._framing import encode_frame

__all__ = ["VARIANTS", "main", "measure"]

Params = dict[str, Any]
Round = Callable[[list[Params], list[bytes]], float]  # returns seconds for len(params) calls


def _responses(params: list[Params]) -> list[bytes]:
    """The frames the peer would answer with, for ids 1..n."""
    return [
        encode_frame(orjson.dumps({"jsonrpc": "2.0", "id": i, "result": p}))
        for i, p in enumerate(params, start=1)
    ]


def _rpcbridge_core(params: list[Params], responses: list[bytes]) -> float:
    conn = RpcConnection()
    send_request = conn.send_request
    receive_data = conn.receive_data
    next_event = conn.next_event
    sink = []
    start = time.perf_counter()
    for p, response in zip(params, responses, strict=True):
        _request_id, frame = send_request("rpc.echo", p)
        receive_data(response)
        event: Any = next_event()
        sink.append(event.result)
    elapsed = time.perf_counter() - start
    assert type(event) is Response and frame and sink[-1] == params[-1]
    return elapsed


def _endpoint_stdlib(params: list[Params], responses: list[bytes]) -> float:
    box: list[bytes] = [b""]

    def consumer(message: dict[str, Any]) -> None:  # JsonRpcStreamWriter.write, minus I/O
        body = json.dumps(message)
        content_length = len(body.encode("utf-8"))
        box[0] = (
            f"Content-Length: {content_length}\r\n"
            f"Content-Type: application/vscode-jsonrpc; charset=utf8\r\n\r\n"
            f"{body}"
        ).encode()

    ids = itertools.count(1)
    endpoint = Endpoint({}, consumer, id_generator=lambda: next(ids))
    request = endpoint.request
    consume = endpoint.consume
    sink = []
    start = time.perf_counter()
    for p, response in zip(params, responses, strict=True):
        future = request("rpc.echo", p)
        end = response.find(b"\r\n\r\n")
        length = int(response[16:end])
        body = response[end + 4 : end + 4 + length]
        consume(json.loads(body.decode("utf-8")))
        sink.append(future.result())
    elapsed = time.perf_counter() - start
    endpoint.shutdown()
    assert box[0] and sink[-1] == params[-1]
    return elapsed


def _endpoint_orjson(params: list[Params], responses: list[bytes]) -> float:
    box: list[bytes] = [b""]

    def consumer(message: dict[str, Any]) -> None:
        body = orjson.dumps(message)
        box[0] = b"Content-Length: %d\r\n\r\n%b" % (len(body), body)

    ids = itertools.count(1)
    endpoint = Endpoint({}, consumer, id_generator=lambda: next(ids))
    request = endpoint.request
    consume = endpoint.consume
    loads = orjson.loads
    sink = []
    start = time.perf_counter()
    for p, response in zip(params, responses, strict=True):
        future = request("rpc.echo", p)
        end = response.find(b"\r\n\r\n")
        length = int(response[16:end])
        consume(loads(response[end + 4 : end + 4 + length]))
        sink.append(future.result())
    elapsed = time.perf_counter() - start
    endpoint.shutdown()
    assert box[0] and sink[-1] == params[-1]
    return elapsed


class _Slot:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None


def _bare(params: list[Params], responses: list[bytes]) -> float:
    pending: dict[int, _Slot] = {}
    next_id = 1
    dumps = orjson.dumps
    loads = orjson.loads
    sink = []
    frame = b""
    start = time.perf_counter()
    for p, response in zip(params, responses, strict=True):
        request_id = next_id
        next_id += 1
        body = dumps({"jsonrpc": "2.0", "id": request_id, "method": "rpc.echo", "params": p})
        frame = b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        slot = _Slot()
        pending[request_id] = slot
        end = response.find(b"\r\n\r\n")
        length = int(response[16:end])
        message = loads(response[end + 4 : end + 4 + length])
        answered = pending.pop(message["id"])
        answered.value = message["result"]
        sink.append(slot.value)
    elapsed = time.perf_counter() - start
    assert frame and sink[-1] == params[-1]
    return elapsed


VARIANTS: dict[str, Round] = {
    "rpcbridge core (RpcConnection)": _rpcbridge_core,
    "pylsp Endpoint (stdlib json, as its streams)": _endpoint_stdlib,
    "pylsp Endpoint (orjson)": _endpoint_orjson,
    "bare dict + orjson + framing": _bare,
}


def measure(quick: bool = False) -> dict[str, Any]:
    """µs per call for every variant: medians and best rounds, plus the raw rounds."""
    calls = 5_000 if quick else 20_000
    rounds = 3 if quick else 7
    params = [{"i": i, "text": "hello"} for i in range(calls)]
    responses = _responses(params)
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for run in VARIANTS.values():  # warm-up round, not counted
        run(params[:1000], responses[:1000])
    for round_index in range(rounds):
        order = list(VARIANTS.items())
        if round_index % 2:
            order.reverse()
        for name, run in order:
            gc.collect()
            samples[name].append(run(params, responses) / calls * 1e6)
    bare = statistics.median(samples["bare dict + orjson + framing"])
    return {
        "calls_per_round": calls,
        "rounds": rounds,
        "us_per_call": {
            name: {
                "median": statistics.median(values),
                "min": min(values),
                "rounds": values,
                "vs_bare": statistics.median(values) / bare,
            }
            for name, values in samples.items()
        },
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        "| per-call core, no I/O | µs/call (median) | best round | x bare |",
        "|---|---:|---:|---:|",
    ]
    for name, cell in result["us_per_call"].items():
        lines.append(
            f"| {name} | {cell['median']:.2f} | {cell['min']:.2f} | {cell['vs_bare']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.core_overhead", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = measure(quick=args.quick)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        print(render(result))
        print(
            f"\n{result['calls_per_round']} calls x {result['rounds']} rounds per variant, "
            "interleaved; lower is better."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
