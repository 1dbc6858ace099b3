"""Shared test set-up: the event loops the async API tests run on.

A test module that sets ``pytestmark = pytest.mark.anyio`` runs each of its async tests three
times, under trio, asyncio and asyncio with uvloop (anyio's pytest plugin, with the
``anyio_backend`` fixture below); everything else runs under trio only (pytest-trio's
``trio_mode``, pyproject.toml).
"""

from __future__ import annotations

from typing import Any

import pytest

BACKENDS = [
    pytest.param("trio", id="trio"),
    pytest.param(("asyncio", {"use_uvloop": False}), id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
]


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """The event loop an ``anyio``-marked test runs on."""
    return request.param


@pytest.fixture
def clock_resolution(anyio_backend: Any) -> float:
    """The resolution of ``anyio.current_time()`` on the test's loop: uvloop's clock (libuv's
    ``uv_now``) counts whole milliseconds, trio's and asyncio's are ``time.monotonic``."""
    if anyio_backend == ("asyncio", {"use_uvloop": True}):
        return 1e-3
    return 1e-9


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-trio's trio_mode marks every async test as a trio test; the tests that run on
    every backend (marked ``anyio``) are run by anyio's plugin instead."""
    for item in items:
        if item.get_closest_marker("anyio") is not None:
            item.own_markers[:] = [mark for mark in item.own_markers if mark.name != "trio"]
