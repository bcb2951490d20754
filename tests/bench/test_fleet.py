"""The fleet section at small sizes: its rows, of the expected shapes, met where they count.

Two processes of two threads, a 2 s outage, a 4 s load, run once for the module:
the counts (mints, failed calls, calls that waited for a token, Redis commands) must
meet their targets; the timing ratios only have to be there, as a few hundred
calls give no stable p99.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import fleet
from bench.__main__ import SECTIONS
from bench.fleet import FleetError, Sizes, Spans, matched
from bench.overhead import Plan
from bench.report import Row
from bench.servers import REDIS_SERVER, mock_server

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

SMALL = Sizes(
    processes=2,
    threads=2,
    outage=2.0,
    token_life=3.0,
    load_seconds=4.0,
    plan=Plan(where="in memory", rounds=3, calls=20, warmup=5, target=1.05, per_call=True),
)


@pytest.fixture(scope="module")
def rows() -> Iterator[dict[str, Row]]:
    with (
        mock_server("novapost", separate_process=False) as novapost,
        mock_server("shipyo", separate_process=False) as shipyo,
    ):
        measured = fleet.run({"novapost": novapost, "shipyo": shipyo}, SMALL)
    assert all(row.section == "fleet" for row in measured)
    yield {row.name: row for row in measured}


def find(rows: dict[str, Row], *parts: str) -> Row:
    (name,) = (name for name in rows if all(part in name for part in parts))
    return rows[name]


def met(row: Row) -> Row:
    assert row.target is not None, row.name
    assert row.ok, (row.name, row.figure, row.note, dict(row.extra))
    return row


def test_the_section_is_registered() -> None:
    assert "fleet" in SECTIONS


def test_calls_are_sorted_around_expiries_refreshes_and_away() -> None:
    spans = Spans()
    expiry = 100.0
    calls = [(began, 0.001, 0.0, expiry) for began in (98.0, 99.5, 99.8, 100.1, 101.0)]
    spans.add(calls, begin=99.0, lead=0.6)
    assert [t for t, _ in spans.expiry] == [99.8, 100.1]
    assert [t for t, _ in spans.refresh] == [99.5]
    assert [t for t, _ in spans.away] == [101.0]  # 98.0 is before ``begin``
    assert spans.expiries == 1


def test_near_and_away_calls_are_compared_at_the_same_moments() -> None:
    near = [(0.01, 1.0), (0.02, 1.0), (1.01, 9.0)]  # a stall at 1 s
    away = [(0.03, 1.0), (1.02, 9.0), (1.03, 9.0), (5.0, 1.0)]
    close, far = matched(near, away)
    assert sorted(close) == sorted(far) == [1.0, 9.0]  # one each per shared slot


def test_a_failed_command_names_the_worker_and_leaves_the_next_one_clean() -> None:
    with fleet.fleet(2) as workers:
        with pytest.raises(FleetError, match="worker 0: ValueError: unknown command"):
            workers.ask({"op": "nothing"})
        assert workers.ask({"op": "advance", "seconds": 1}) == [{}, {}]


@pytest.mark.parametrize("cache", ["Redis cache", "file cache"])
def test_a_shared_cache_mints_once_cold_and_at_expiry(rows: dict[str, Row], cache: str) -> None:
    for when in ("cold", "at expiry"):
        row = met(find(rows, f", {cache}, {when}: mints"))
        assert row.figure == 1
        assert row.extra["outcomes"] == {"ok": SMALL.processes * SMALL.threads}
    assert met(find(rows, "burst calls not answered 200")).figure == 0


def test_without_a_shared_cache_each_process_mints(rows: dict[str, Row]) -> None:
    assert met(find(rows, "no shared cache, cold: mints")).figure == SMALL.processes


def test_an_outage_costs_a_handful_of_mints_with_redis(rows: dict[str, Row]) -> None:
    shared = met(find(rows, "token route down 2 s, Redis cache"))
    alone = find(rows, "token route down 2 s, no shared cache")
    assert shared.target is not None and shared.target.value == SMALL.outage_target
    assert alone.target is None and alone.figure >= 1
    assert "ok" in shared.extra["outcomes"]  # the calls before the outage went through


def test_a_rate_limited_key_fails_no_call_with_redis(rows: dict[str, Row]) -> None:
    shared = met(find(rows, "rate-limited key", "Redis cache"))
    alone = find(rows, "rate-limited key", "no shared cache")
    assert shared.figure == 0 and shared.extra["token_requests"] == 1
    assert alone.target is None and alone.extra["token_requests"] == SMALL.processes


def test_refresh_ahead_keeps_callers_from_waiting(rows: dict[str, Row]) -> None:
    ratio = find(rows, "refresh ahead: p99 around expiry")
    assert ratio.target is not None and ratio.figure > 0
    assert ratio.extra["expiries"] >= 2 and ratio.extra["calls_compared"] > 0
    waited = met(find(rows, "refresh ahead: calls waiting"))
    assert waited.figure == 0
    assert ratio.extra["outcomes"] == {"ok": waited.extra["calls"]}
    refresh = find(rows, "refresh ahead: p99 in the refresh span")
    assert refresh.target is None and refresh.figure > 0


def test_without_refresh_ahead_the_same_rows_have_no_target(rows: dict[str, Row]) -> None:
    ratio = find(rows, "refresh_ahead=False: p99 around expiry")
    waited = find(rows, "refresh_ahead=False: calls waiting")
    assert ratio.target is None and waited.target is None
    assert not [name for name in rows if "refresh_ahead=False: p99 in the refresh" in name]
    assert ratio.extra["mints_during_load"] >= 1


def test_the_redis_cache_is_not_touched_at_steady_state(rows: dict[str, Row]) -> None:
    ratios = [row for name, row in rows.items() if name.startswith("Redis cache / in-process")]
    assert len(ratios) == 4 and all(row.figure > 0 for row in ratios)
    assert all(row.target is not None and row.target.value == 1.05 for row in ratios)
    assert met(find(rows, "Redis commands at steady state")).figure == 0
