"""Shared fixtures: in-process clients on a frozen clock.

The running servers (``novapost_mock``, ``shipyo_mock``) come from the pytest plugin
that the package registers through its ``pytest11`` entry point, as users get them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from carrier_mocks.clock import Clock
from carrier_mocks.novapost import create_app as novapost_app
from carrier_mocks.shipyo import create_app as shipyo_app

from .spec import checking_hook
from .support import NOON


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(NOON)


@pytest.fixture
async def novapost(clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """The Nova Post app in-process; every spec response is validated against the spec."""
    transport = httpx.ASGITransport(app=novapost_app(clock=clock))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://novapost.test",
        event_hooks={"response": [checking_hook("novapost")]},
    ) as client:
        yield client


@pytest.fixture
async def shipyo(clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """The Shipyo app in-process; every spec response is validated against the spec."""
    transport = httpx.ASGITransport(app=shipyo_app(clock=clock))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://shipyo.test",
        event_hooks={"response": [checking_hook("shipyo")]},
    ) as client:
        yield client
