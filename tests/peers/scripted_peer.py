"""A stdio JSON-RPC peer whose misbehaviour is chosen per request, for bridge tests.

It reads Content-Length frames on stdin and answers each request according to its method:

* ``echo``                 -> its params
* ``garbage_then_echo``    -> writes ``params["garbage"]`` raw to stdout, then the answer
* ``raw_file_then_echo``   -> writes the bytes of the file ``params["path"]``, then the answer
* ``trickle``              -> writes its answer one byte at a time
* ``not_json_then_echo``   -> writes a frame whose body is not JSON, then the answer
* ``no_result``            -> answers ``{"jsonrpc": "2.0", "id": ID}`` (neither result nor error)
* ``reverse``              -> holds answers until ``params["n"]`` requests arrived, answers them last-first
* ``ask``                  -> sends the request ``params["method"]`` to the client, answers with
                              the client's whole answer object
* ``notify_client``        -> sends the notification ``params["method"]`` and answers ``true``
* ``stderr``               -> writes ``params["lines"]`` to stderr, answers ``true``
* ``exit``                 -> writes ``params["stderr"]`` to stderr and exits with ``params["code"]``
* ``hang``                 -> never answers
* anything else            -> a -32601 error

Stdin EOF ends it with exit code 0. With ``SCRIPTED_PEER_RECORD=PATH`` in its environment it
appends every message it receives (notifications included) to PATH, one JSON line each, so a
test can check what reached the wire.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from rpcbridge._framing import FrameReader, encode_frame

out = sys.stdout.buffer
held: list[dict[str, Any]] = []
next_id = 1000
RECORD = os.environ.get("SCRIPTED_PEER_RECORD")


def write(data: bytes) -> None:
    out.write(data)
    out.flush()


def send(message: Any) -> None:
    write(encode_frame(json.dumps(message, ensure_ascii=False).encode()))


def answer(request: dict[str, Any], result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


def read_frames(reader: FrameReader) -> Any:
    while True:
        item = reader.next_event()
        if item is None:
            chunk = os.read(0, 65536)
            reader.receive_data(chunk)
            if not chunk:
                return
            continue
        if isinstance(item, bytes | bytearray):
            if RECORD:
                with open(RECORD, "ab") as record:
                    record.write(bytes(item) + b"\n")
            yield json.loads(item)


def main() -> None:
    global next_id
    frames = read_frames(FrameReader())
    for message in frames:
        if "method" not in message or "id" not in message:
            continue
        method, params = message["method"], message.get("params")
        if method == "echo":
            send(answer(message, params))
        elif method == "garbage_then_echo":
            write(params["garbage"].encode())
            send(answer(message, params))
        elif method == "trickle":
            data = encode_frame(json.dumps(answer(message, params), ensure_ascii=False).encode())
            for i in range(len(data)):
                write(data[i : i + 1])
        elif method == "raw_file_then_echo":
            with open(params["path"], "rb") as raw:
                write(raw.read())
            send(answer(message, params))
        elif method == "not_json_then_echo":
            write(encode_frame(b"{not json"))
            send(answer(message, params))
        elif method == "no_result":
            send({"jsonrpc": "2.0", "id": message["id"]})
        elif method == "reverse":
            held.append(message)
            if len(held) == params["n"]:
                for request in reversed(held):
                    send(answer(request, request["params"]["i"]))
                held.clear()
        elif method == "ask":
            next_id += 1
            request = {"jsonrpc": "2.0", "id": next_id, "method": params["method"]}
            if "params" in params:
                request["params"] = params["params"]
            send(request)
            for reply in frames:
                if reply.get("id") == next_id and "method" not in reply:
                    send(answer(message, reply))
                    break
        elif method == "notify_client":
            send({"jsonrpc": "2.0", "method": params["method"], "params": params.get("params", [])})
            send(answer(message, True))
        elif method == "stderr":
            sys.stderr.write("".join(line + "\n" for line in params["lines"]))
            sys.stderr.flush()
            send(answer(message, True))
        elif method == "exit":
            sys.stderr.write(params.get("stderr", ""))
            sys.stderr.flush()
            os._exit(params["code"])
        elif method == "hang":
            pass
        else:
            send(
                {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": -32601, "message": method},
                }
            )


if __name__ == "__main__":
    main()
