"""The host runs registered methods only, and hostile keys in params change nothing."""

from __future__ import annotations

import anyio
import pytest

import rpcbridge

from .support import FAULT_METHODS

pytestmark = pytest.mark.anyio

HOSTILE = {
    "__proto__": {"polluted": True},
    "constructor": {"prototype": {"polluted": True}},
    "nested": [{"__proto__": {"polluted": True}}],
}


async def test_proto_and_constructor_keys_do_not_pollute_prototypes() -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with anyio.fail_after(10):
            assert await bridge.call("rpc.echo", HOSTILE) == HOSTILE  # kept as plain data
            seen = await bridge.call("fault.echoKeys", HOSTILE)
            assert seen == {"keys": ["__proto__", "constructor", "nested"], "proto": True}
            assert await bridge.call("fault.prototypeState") == {
                "objectPolluted": False,
                "arrayPolluted": False,
            }


@pytest.mark.parametrize(
    "name",
    [
        "toString",
        "constructor",
        "__proto__",
        "hasOwnProperty",
        "valueOf",
        "__defineGetter__",
        "fault.constructor",
        "fault.__proto__",
        "rpc.constructor",
        "eval",
        "require",
    ],
)
async def test_names_of_object_internals_are_not_methods(name: str) -> None:
    async with rpcbridge.open_bridge(handlers=[FAULT_METHODS]) as bridge:
        with anyio.fail_after(10), pytest.raises(rpcbridge.MethodNotFound):
            await bridge.call(name, {})


async def test_no_method_loads_code() -> None:
    async with rpcbridge.open_bridge() as bridge:
        assert bridge.hello is not None
        assert sorted(bridge.hello["methods"]) == [
            "compile",
            "compileFiles",  # reads and writes the files named (docs/security.md); runs none
            "rpc.echo",
            "rpc.hello",
            "rpc.shutdown",
            "rpc.stats",  # reports counters only (docs/protocol.md)
            "typecheck",  # reads the files of a project; runs none
        ]
