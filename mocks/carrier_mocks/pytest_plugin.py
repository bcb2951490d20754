"""pytest fixtures: a running mock server per carrier, ``novapost_mock``, ``shipyo_mock``.

Every carrier of the registry gets ``<name>_mock``: its server, started once per
session on a free port and reset before every test, so tests see the fixtures,
the real time and no faults, whatever ran before. ``carrier_mock(name)`` does the
same by name. Seed them differently by overriding ``carrier_mocks_fixtures`` in a
conftest::

    @pytest.fixture(scope="session")
    def carrier_mocks_fixtures():
        return load_fixtures("tests/my_fixtures.json")

Starlette and uvicorn are imported only when a server starts, so merely having
the plugin installed costs nothing; without ``carriers[mock]`` a test using a
fixture fails with one line saying what to install.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest
from carriers import registry
from carriers.extras import MissingExtraError

from carrier_mocks.server import MockServer, serve

if TYPE_CHECKING:
    from carrier_mocks.fixtures import Fixtures

__all__ = ["carrier_mock", "carrier_mocks_fixtures", "carrier_mocks_servers"]


@pytest.fixture(scope="session")
def carrier_mocks_fixtures() -> Fixtures | None:
    """The fixtures every server is seeded with; ``None`` means the packaged defaults."""
    return None


class _Servers:
    """The session's servers, started on first use."""

    def __init__(self, fixtures: Fixtures | None) -> None:
        self._fixtures = fixtures
        self._stack = ExitStack()
        self._servers: dict[str, MockServer] = {}

    def get(self, name: str) -> MockServer:
        server = self._servers.get(name)
        if server is None:
            try:
                server = self._stack.enter_context(serve(name, fixtures=self._fixtures))
            except (MissingExtraError, registry.RegistryError) as exc:
                pytest.fail(str(exc), pytrace=False)
            self._servers[name] = server
        return server

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def carrier_mocks_servers(carrier_mocks_fixtures: Fixtures | None) -> Iterator[_Servers]:
    """The session's running servers, not reset: prefer ``<name>_mock``."""
    servers = _Servers(carrier_mocks_fixtures)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def carrier_mock(carrier_mocks_servers: _Servers) -> Callable[[str], MockServer]:
    """``carrier_mock("novapost")``: that carrier's running mock, reset for this test."""

    def get(name: str) -> MockServer:
        server = carrier_mocks_servers.get(name)
        server.reset()
        return server

    return get


def _named_fixture(info: registry.CarrierInfo) -> Any:
    def fixture(carrier_mock: Callable[[str], MockServer]) -> MockServer:
        return carrier_mock(info.name)

    fixture.__name__ = f"{info.name}_mock"
    fixture.__doc__ = (
        f"A running {info.title} mock in its initial state; ``.base_url`` is its API root."
    )
    return pytest.fixture(fixture)


for _info in registry.all_carriers():
    globals()[f"{_info.name}_mock"] = _named_fixture(_info)
