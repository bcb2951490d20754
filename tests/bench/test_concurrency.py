"""The concurrency section and the bench's time limit per section.

A small crowd against a real mock: the facade over aiohttp mints once and answers
every call, side by side with raw aiohttp; and a section past its time limit is
stopped, with a row that says so, instead of holding ``make bench`` up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from carrier_mocks.server import MockServer

from bench.__main__ import SECTIONS, run_bounded
from bench.apis import CARRIERS, BenchCarrier
from bench.concurrency import _rows, compare
from bench.report import Row, Target, from_record, missed, record
from bench.servers import mock_server


@pytest.fixture(scope="module", params=CARRIERS, ids=lambda c: c.name)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[BenchCarrier, MockServer]]:
    carrier: BenchCarrier = request.param
    with mock_server(carrier.name, separate_process=False) as server:
        yield carrier, server


def test_a_crowd_on_one_facade_mints_once_beside_raw_aiohttp(
    served: tuple[BenchCarrier, MockServer],
) -> None:
    carrier, server = served
    result = compare(carrier, server, count=60, rounds=2)
    assert result.cold_mints == 1
    assert result.failed == 0
    assert all(b.outcomes == {"ok": 60} for b in result.bursts)
    assert len(result.raw) == len(result.facade) == 2
    ratio, mints, failed, over_httpx = _rows(result, 60)
    assert ratio.target == Target("<=", 1.5) and ratio.figure > 0
    assert (mints.figure, failed.figure) == (1, 0) and over_httpx.target is None


def test_rows_travel_between_processes_whole() -> None:
    row = Row("s", "n", 1.25, shown="1.25 x", target=Target("<=", 1.05), note="n", extra={"a": 1})
    assert from_record(record(row)) == row


def test_a_section_past_its_time_limit_is_stopped_and_fails() -> None:
    assert "concurrency" in SECTIONS
    begin = time.monotonic()
    rows = run_bounded("fleet", soak_calls=10, seconds=1.0)
    assert time.monotonic() - begin < 10
    assert missed(rows) == rows and len(rows) == 1
    assert "did not finish within its time limit" in rows[0].note
