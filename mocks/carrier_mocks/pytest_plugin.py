"""pytest fixtures ``novapost_mock`` and ``shipyo_mock``: running mock servers.

Each server starts once per session on a free port and is reset before every
test, so tests see the fixtures, the real time and no faults, whatever ran
before. Seed them differently by overriding the ``carrier_mocks_fixtures``
fixture in a conftest::

    @pytest.fixture(scope="session")
    def carrier_mocks_fixtures():
        return load_fixtures("tests/my_fixtures.json")

Starlette and uvicorn are imported only when a server starts, so merely having
the plugin installed costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from carrier_mocks.server import MockServer, serve

if TYPE_CHECKING:
    from carrier_mocks.fixtures import Fixtures

__all__ = [
    "carrier_mocks_fixtures",
    "carrier_mocks_novapost_server",
    "carrier_mocks_shipyo_server",
    "novapost_mock",
    "shipyo_mock",
]


@pytest.fixture(scope="session")
def carrier_mocks_fixtures() -> Fixtures | None:
    """The fixtures both servers are seeded with; ``None`` means the packaged defaults."""
    return None


@pytest.fixture(scope="session")
def carrier_mocks_novapost_server(
    carrier_mocks_fixtures: Fixtures | None,
) -> Iterator[MockServer]:
    """The session's Nova Post server, not reset: prefer ``novapost_mock``."""
    with serve("novapost", fixtures=carrier_mocks_fixtures) as server:
        yield server


@pytest.fixture(scope="session")
def carrier_mocks_shipyo_server(
    carrier_mocks_fixtures: Fixtures | None,
) -> Iterator[MockServer]:
    """The session's Shipyo server, not reset: prefer ``shipyo_mock``."""
    with serve("shipyo", fixtures=carrier_mocks_fixtures) as server:
        yield server


@pytest.fixture
def novapost_mock(carrier_mocks_novapost_server: MockServer) -> MockServer:
    """A running Nova Post mock in its initial state; ``.base_url`` ends in ``/v.1.0``."""
    carrier_mocks_novapost_server.reset()
    return carrier_mocks_novapost_server


@pytest.fixture
def shipyo_mock(carrier_mocks_shipyo_server: MockServer) -> MockServer:
    """A running Shipyo mock in its initial state; ``.base_url`` is the origin."""
    carrier_mocks_shipyo_server.reset()
    return carrier_mocks_shipyo_server
