"""Single-flight bursts against a real mock: one mint per burst, every call answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from carrier_mocks.server import MockServer

from bench.apis import CARRIERS, BenchCarrier
from bench.servers import mock_server
from bench.singleflight import SCENARIOS, OffsetClock, tasks, threads


@pytest.fixture(scope="module", params=CARRIERS, ids=lambda c: c.name)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[BenchCarrier, MockServer]]:
    carrier: BenchCarrier = request.param
    with mock_server(carrier.name, separate_process=False) as server:
        yield carrier, server


def test_the_client_clock_moves_only_when_told() -> None:
    clock = OffsetClock()
    before = clock()
    clock.advance(3600)
    assert 3600 <= clock() - before < 3660


def test_tasks_mint_once_per_burst(served: tuple[BenchCarrier, MockServer]) -> None:
    carrier, server = served
    bursts = tasks(carrier, server, count=100)
    assert [burst.scenario for burst in bursts] == list(SCENARIOS)
    assert [burst.mints for burst in bursts] == [1, 1, 1]
    assert all(burst.outcomes == {"ok": 100} for burst in bursts)
    cold, expired, refused = bursts
    assert cold.whoami_requests == 100  # nothing cached, nothing refused
    assert expired.whoami_requests == 100  # refreshed before sending: nothing refused
    assert refused.whoami_requests == 200  # every call refused once, then replayed


def test_threads_mint_once_per_burst(served: tuple[BenchCarrier, MockServer]) -> None:
    carrier, server = served
    bursts = threads(carrier, server, count=16)
    assert [burst.mints for burst in bursts] == [1, 1, 1]
    assert all(burst.outcomes == {"ok": 16} for burst in bursts)
    assert bursts[1].whoami_requests == 16
    assert 17 <= bursts[2].whoami_requests <= 32  # at least the first caller replays
