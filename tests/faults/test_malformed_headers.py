"""A corpus of malformed headers (tests/faults/malformed-headers/, one case per file): each is
reported and skipped, and the good frame after it still reaches its caller — in the framer
alone and through a real pipe from a peer process."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import anyio
import pytest

import rpcbridge
from rpcbridge._framing import FrameReader, Garbage, encode_frame

pytestmark = pytest.mark.anyio

CORPUS = sorted((Path(__file__).parent / "malformed-headers").glob("*.bin"))
PEER = [sys.executable, str(Path(__file__).parent.parent / "peers" / "scripted_peer.py")]
GOOD = b'{"jsonrpc":"2.0","id":1,"result":"\xe2\x9c\x93"}'


def test_the_corpus_has_at_least_30_cases() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("case", CORPUS, ids=[p.stem for p in CORPUS])
def test_framer_reports_the_case_and_reads_the_next_frame(case: Path) -> None:
    reader = FrameReader()
    reader.receive_data(case.read_bytes() + encode_frame(GOOD))
    reader.receive_data(b"")
    items = []
    while (item := reader.next_event()) is not None:
        items.append(item)
    assert [i for i in items if isinstance(i, bytes | bytearray)] == [GOOD]
    assert any(isinstance(i, Garbage) for i in items)


async def test_every_case_through_a_real_pipe(caplog: pytest.LogCaptureFixture) -> None:
    async with rpcbridge.open_bridge(PEER) as bridge:
        for case in CORPUS:
            caplog.clear()
            params = {"path": str(case)}
            with anyio.fail_after(5):
                assert await bridge.call("raw_file_then_echo", params) == params, case.name
            warnings = [r for r in caplog.records if r.name == "rpcbridge"]
            assert warnings and warnings[0].levelno == logging.WARNING, case.name
