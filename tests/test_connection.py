"""JSON-RPC 2.0 bookkeeping without any process: ids, answers, errors, batches, cancellation."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import rpcbridge
from rpcbridge._connection import (
    CancelRequested,
    ErrorResponse,
    Event,
    Notification,
    Progress,
    ProtocolViolation,
    Request,
    Response,
    RpcConnection,
)
from rpcbridge._framing import FrameReader, encode_frame


def frame(message: Any) -> bytes:
    return encode_frame(json.dumps(message, ensure_ascii=False).encode())


def decode(data: bytes) -> list[Any]:
    """Frames written by the connection, parsed back into JSON."""
    reader = FrameReader()
    reader.receive_data(data)
    out = []
    while (item := reader.next_event()) is not None:
        assert isinstance(item, bytes | bytearray)
        out.append(json.loads(item))
    return out


def feed(conn: RpcConnection, *messages: Any, raw: bytes = b"") -> list[Event]:
    conn.receive_data(b"".join(frame(m) for m in messages) + raw)
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    return events


def test_requests_get_increasing_integer_ids_and_omit_absent_params() -> None:
    conn = RpcConnection()
    id1, data1 = conn.send_request("a")
    id2, data2 = conn.send_request("b", {"x": "你好"})
    assert (id1, id2) == (1, 2)
    assert decode(data1) == [{"jsonrpc": "2.0", "id": 1, "method": "a"}]
    assert decode(data2) == [{"jsonrpc": "2.0", "id": 2, "method": "b", "params": {"x": "你好"}}]
    assert conn.pending == {1: "a", 2: "b"}


def test_non_ascii_is_sent_as_utf8_not_escaped() -> None:
    _, data = RpcConnection().send_request("m", ["🌏"])
    assert "🌏".encode() in data


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"x": math.nan}, ValueError),
        ([math.inf], ValueError),
        ({"big": 2**60}, TypeError),
        ({1: "non-string key"}, TypeError),
        ({"s": "\ud800"}, TypeError),
        ("a string", TypeError),
        (42, TypeError),
    ],
)
def test_params_that_cannot_cross_unchanged_are_refused_before_anything_is_registered(
    params: Any, error: type[Exception]
) -> None:
    conn = RpcConnection()
    with pytest.raises(error):
        conn.send_request("m", params)
    assert conn.pending == {}
    assert conn.send_request("m")[0] == 1  # no id was used up


def test_response_and_out_of_order_answers() -> None:
    conn = RpcConnection()
    for _ in range(3):
        conn.send_request("m")
    events = feed(
        conn,
        {"jsonrpc": "2.0", "id": 3, "result": "c"},
        {"jsonrpc": "2.0", "id": 1, "result": None},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "error": {"code": -32601, "message": "nope", "data": {"method": "m"}},
        },
    )
    assert events[:2] == [Response(3, "c"), Response(1, None)]
    assert isinstance(events[2], ErrorResponse)
    assert isinstance(events[2].error, rpcbridge.MethodNotFound)
    assert events[2].error.data == {"method": "m"}
    assert conn.pending == {}


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (-32700, rpcbridge.ParseError),
        (-32600, rpcbridge.InvalidRequest),
        (-32601, rpcbridge.MethodNotFound),
        (-32602, rpcbridge.InvalidParams),
        (-32603, rpcbridge.InternalError),
        (-32800, rpcbridge.RequestCancelled),
        (-32000, rpcbridge.ServerError),
        (-32050, rpcbridge.ServerError),
        (1234, rpcbridge.RpcError),
    ],
)
def test_error_codes_map_to_their_classes(code: int, cls: type[rpcbridge.RpcError]) -> None:
    error = rpcbridge.RpcError.from_error_object({"code": code, "message": "m", "data": [1]})
    assert type(error) is cls
    assert (error.code, error.message, error.data) == (code, "m", [1])
    assert isinstance(error, rpcbridge.BridgeError)


def test_error_objects_with_extra_or_missing_members_lose_nothing() -> None:
    error = rpcbridge.RpcError.from_error_object(
        {"code": -32603, "stack": "at x", "data": {"a": 1}}
    )
    assert isinstance(error, rpcbridge.InternalError)
    assert error.message == "(no message)"
    assert error.data == {"a": 1, "extra": {"stack": "at x"}}


def test_internal_error_code_is_the_specs_not_pylsp_jsonrpcs() -> None:
    from pylsp_jsonrpc.exceptions import JsonRpcException, JsonRpcInternalError

    error = rpcbridge.InternalError()
    assert error.code == -32603
    assert isinstance(error, JsonRpcInternalError)
    assert isinstance(error, JsonRpcException)


def test_late_answer_after_cancel_is_dropped_quietly() -> None:
    conn = RpcConnection()
    request_id, _ = conn.send_request("slow")
    cancel = conn.send_cancel(request_id)
    assert decode(cancel) == [
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": request_id}}
    ]
    assert conn.send_cancel(request_id) == b""  # sent at most once
    assert (
        feed(conn, {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32800, "message": "c"}})
        == []
    )


def test_answer_to_an_id_never_issued_is_reported() -> None:
    [event] = feed(RpcConnection(), {"jsonrpc": "2.0", "id": 99, "result": 1})
    assert isinstance(event, ProtocolViolation)


def test_answer_with_neither_result_nor_error_fails_that_call() -> None:
    conn = RpcConnection()
    conn.send_request("m")
    [event] = feed(conn, {"jsonrpc": "2.0", "id": 1})
    assert isinstance(event, ProtocolViolation)
    assert event.request_id == 1


def test_error_with_null_id_is_reported_with_its_message() -> None:
    [event] = feed(
        RpcConnection(), {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "bad"}}
    )
    assert isinstance(event, ProtocolViolation)
    assert "bad" in event.reason


def test_body_that_is_not_json_is_reported_and_the_next_frame_is_read() -> None:
    conn = RpcConnection()
    conn.send_request("m")
    conn.receive_data(encode_frame(b"{oops") + frame({"jsonrpc": "2.0", "id": 1, "result": 2}))
    first, second = conn.next_event(), conn.next_event()
    assert isinstance(first, ProtocolViolation)
    assert second == Response(1, 2)


def test_garbage_on_the_stream_is_reported_and_the_next_answer_delivered() -> None:
    conn = RpcConnection()
    conn.send_request("m")
    events = feed(conn, {"jsonrpc": "2.0", "id": 1, "result": 2}, raw=b"")
    assert events == [Response(1, 2)]
    conn.send_request("m")
    conn.receive_data(b"stray console output\n" + frame({"jsonrpc": "2.0", "id": 2, "result": 3}))
    first, second = conn.next_event(), conn.next_event()
    assert isinstance(first, ProtocolViolation) and first.data == b"stray console output\n"
    assert second == Response(2, 3)


def test_inbound_request_is_answered_exactly_once() -> None:
    conn = RpcConnection()
    [event] = feed(conn, {"jsonrpc": "2.0", "id": "a", "method": "py.add", "params": [1, 2]})
    assert event == Request("a", "py.add", [1, 2])
    assert decode(conn.send_result("a", 3)) == [{"jsonrpc": "2.0", "id": "a", "result": 3}]
    with pytest.raises(KeyError):
        conn.send_result("a", 4)


def test_result_that_is_not_json_becomes_an_internal_error_answer() -> None:
    conn = RpcConnection()
    feed(conn, {"jsonrpc": "2.0", "id": 1, "method": "m"})
    [answer] = decode(conn.send_result(1, {"x": math.nan}))
    assert answer["error"]["code"] == -32603


def test_inbound_cancel_of_an_owed_request_is_an_event_and_others_are_ignored() -> None:
    conn = RpcConnection()
    feed(conn, {"jsonrpc": "2.0", "id": 5, "method": "m"})
    events = feed(
        conn,
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 5}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 6}},
    )
    assert events == [CancelRequested(5)]


def test_progress_for_a_pending_call_and_other_notifications() -> None:
    conn = RpcConnection()
    conn.send_request("m")
    events = feed(
        conn,
        {"jsonrpc": "2.0", "method": "$/progress", "params": {"token": 1, "value": 50}},
        {"jsonrpc": "2.0", "method": "$/progress", "params": {"token": "other", "value": 1}},
        {"jsonrpc": "2.0", "method": "log", "params": ["x"]},
    )
    assert events == [
        Progress(1, 50),
        Notification("$/progress", {"token": "other", "value": 1}),
        Notification("log", ["x"]),
    ]


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "1.0", "id": 1, "method": "m"},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": 1, "method": "m", "params": "str"},
    ],
)
def test_invalid_inbound_request_is_answered_with_32600(message: Any) -> None:
    conn = RpcConnection()
    assert feed(conn, message) == []
    [answer] = decode(conn.data_to_send())
    assert answer["error"]["code"] == -32600
    assert answer["id"] == 1


def test_request_with_unusable_id_is_answered_with_null_id() -> None:
    conn = RpcConnection()
    feed(conn, {"jsonrpc": "2.0", "id": [1], "method": "m"})
    [answer] = decode(conn.data_to_send())
    assert answer["id"] is None and answer["error"]["code"] == -32600


def test_empty_batch_is_one_error_not_an_array() -> None:
    conn = RpcConnection()
    conn.receive_data(encode_frame(b"[]"))
    assert conn.next_event() is None
    [answer] = decode(conn.data_to_send())
    assert answer == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": answer["error"]["message"]},
    }


def test_batch_is_answered_by_one_array_when_its_last_request_is_answered() -> None:
    conn = RpcConnection()
    conn.receive_data(
        frame(
            [
                {"jsonrpc": "2.0", "id": 1, "method": "a"},
                {"jsonrpc": "2.0", "method": "note"},
                7,
                {"jsonrpc": "2.0", "id": 2, "method": "b"},
            ]
        )
    )
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    assert events == [Request(1, "a", None), Notification("note", None), Request(2, "b", None)]
    assert conn.data_to_send() == b""
    assert conn.send_result(2, "B") == b""
    [answers] = decode(conn.send_error(1, rpcbridge.InvalidParams("bad")))
    by_id = {a["id"]: a for a in answers}
    assert by_id[2]["result"] == "B"
    assert by_id[1]["error"]["code"] == -32602
    assert by_id[None]["error"]["code"] == -32600  # the element 7


def test_batch_of_only_notifications_gets_no_answer() -> None:
    conn = RpcConnection()
    events = feed(conn, [{"jsonrpc": "2.0", "method": "a"}, {"jsonrpc": "2.0", "method": "b"}])
    assert events == [Notification("a", None), Notification("b", None)]
    assert conn.data_to_send() == b""


def test_batch_of_answers_is_delivered() -> None:
    conn = RpcConnection()
    conn.send_request("a")
    conn.send_request("b")
    events = feed(
        conn,
        [{"jsonrpc": "2.0", "id": 2, "result": "B"}, {"jsonrpc": "2.0", "id": 1, "result": "A"}],
    )
    assert events == [Response(2, "B"), Response(1, "A")]


def test_forget_pending_returns_every_outstanding_id() -> None:
    conn = RpcConnection()
    conn.send_request("a")
    conn.send_request("b")
    assert conn.forget_pending() == [1, 2]
    assert conn.pending == {}


def test_a_request_over_the_size_limit_is_refused_before_anything_is_registered() -> None:
    conn = RpcConnection(max_body_size=100)
    with pytest.raises(ValueError, match="max_body_size"):
        conn.send_request("m", ["x" * 200])
    assert conn.pending == {}
    assert conn.send_request("m", ["small"])[0] == 1


def test_an_oversized_answer_fails_the_call_it_answers() -> None:
    conn = RpcConnection(max_body_size=100)
    conn.send_request("big")
    [event] = feed(conn, {"jsonrpc": "2.0", "id": 1, "result": "x" * 500})
    assert isinstance(event, ProtocolViolation)
    assert event.request_id == 1
    assert "over the 100-byte limit" in event.reason
    assert conn.pending == {}


def test_an_oversized_inbound_request_is_answered_32600_with_its_id() -> None:
    conn = RpcConnection(max_body_size=100)
    [event] = feed(conn, {"jsonrpc": "2.0", "id": "r1", "method": "py.m", "params": ["x" * 500]})
    assert isinstance(event, ProtocolViolation)
    [answer] = decode(conn.data_to_send())
    assert answer["id"] == "r1"
    assert answer["error"]["code"] == -32600
    assert answer["error"]["data"]["limit"] == 100


def test_a_result_over_the_size_limit_is_answered_with_an_error() -> None:
    conn = RpcConnection(max_body_size=200)
    feed(conn, {"jsonrpc": "2.0", "id": 1, "method": "m"})
    [answer] = decode(conn.send_result(1, "x" * 500))
    assert answer["error"]["code"] == -32603
    assert "max_body_size" in answer["error"]["message"]


def test_an_adopted_request_is_answered_and_later_ids_follow_it() -> None:
    conn = RpcConnection()
    conn.adopt_request(2, "compileFiles")
    assert conn.pending == {2: "compileFiles"}
    request_id, _ = conn.send_request("rpc.echo")
    assert request_id == 3
    conn.receive_data(encode_frame(b'{"jsonrpc":"2.0","id":2,"result":{"ok":true}}'))
    event = conn.next_event()
    assert isinstance(event, Response) and event.request_id == 2 and event.result == {"ok": True}
    assert conn.pending == {3: "rpc.echo"}
    with pytest.raises(ValueError, match="already pending"):
        conn.adopt_request(3, "again")
