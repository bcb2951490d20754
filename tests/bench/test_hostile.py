"""The hostile section at small sizes: each measure gives rows of the expected shape, met.

Full sizes and timings are left to ``make bench``; here the crowds, the bomb and
the key store are small, so that the whole file takes seconds.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import httpx
import pytest
from carriers import errors

from bench import hostile
from bench.__main__ import SECTIONS
from bench.apis import CARRIERS
from bench.hostile_servers import Answer, Script, gzip_bomb, jwt_with_exp, serve
from bench.report import Row

MIB = 1024 * 1024


def checked(rows: Sequence[Row], count: int) -> list[Row]:
    """``count`` hostile rows, each with a target it meets."""
    assert len(rows) == count
    for row in rows:
        assert row.section == "hostile"
        assert row.target is not None, row.name
        assert row.ok, (row.name, row.figure, row.note, dict(row.extra))
    return list(rows)


def test_the_section_is_registered() -> None:
    assert "hostile" in SECTIONS


def test_outcomes_tell_typed_errors_from_untyped_ones() -> None:
    def typed() -> None:
        raise errors.APITimeoutError("too late")

    def untyped() -> None:
        raise RecursionError

    assert hostile.outcome(lambda: None) == "ok"
    assert hostile.outcome(typed) == "APITimeoutError"
    assert hostile.outcome(untyped) == "untyped RecursionError"


def test_the_server_mints_records_and_answers_as_scripted() -> None:
    script = Script(exp=b"-1", answers={"/x": Answer(418, b"teapot")})
    with serve(script) as served, httpx.Client(base_url=served.origin) as http:
        for carrier in CARRIERS:
            assert http.get(carrier.token_path).status_code == 200
        assert http.get("/x").content == b"teapot"
        assert http.get("/y").json() == {"ok": True}
    assert served.mints == len(CARRIERS) == len(served.issued)
    assert served.paths()[-2:] == ["/x", "/y"]
    assert jwt_with_exp(b"1e308").count(".") == 2


def test_the_gzip_bomb_is_small_and_inflates_to_its_size() -> None:
    bomb = gzip_bomb(8 * MIB)
    assert len(bomb) < 16 * 1024
    assert len(zlib.decompress(bomb, zlib.MAX_WBITS | 16)) == 8 * MIB


def test_deep_json_raises_only_typed_errors() -> None:
    [row] = checked(hostile.deep_json(calls=16), 1)
    assert row.name.startswith("deep JSON, 16 sync calls")
    assert len(row.extra) == len(CARRIERS) * len(hostile.DEEP_SCENARIOS)


def test_a_huge_exp_still_gives_a_usable_token() -> None:
    untyped, used = checked(hostile.huge_exp(calls=2), 2)
    assert untyped.figure == 0
    assert used.figure == 2 * len(CARRIERS) * len(hostile.EXPS)


def test_a_gzip_bomb_is_refused_in_a_child_process() -> None:
    growth, refused = checked(hostile.bomb(inflated=32 * MIB), 2)
    assert growth.text().endswith(" MiB")
    assert refused.extra["outcomes"] == {"ResponseTooLargeError": 2 * len(CARRIERS)}


def test_no_credential_reaches_another_origin() -> None:
    [row] = checked(hostile.cross_origin(), 1)
    assert row.name.startswith(f"cross-origin, {4 * len(CARRIERS)} requests")


def test_an_outage_costs_one_flight_per_crowd() -> None:
    rows = checked(hostile.outage(threads=6, tasks=6), 2 * len(CARRIERS))
    assert all(row.extra["outcomes"] == {"ServiceUnavailableError": 6} for row in rows)


def test_waits_for_a_slow_token_route_end_at_the_deadline() -> None:
    rows = checked(hostile.slow_token(threads=3, deadline=0.5, delay=1.5), len(CARRIERS))
    for row in rows:
        assert str(row.target) == "<= 1"
        assert row.extra["outcomes"] == {"APITimeoutError": 3}
        assert "x deadline" in row.text()


def test_threads_and_tasks_share_one_mint() -> None:
    rows = checked(hostile.burst(threads=4, tasks=4), len(CARRIERS))
    assert all(row.figure == 1 and row.extra["outcomes"] == {"ok": 8} for row in rows)


@pytest.mark.timeout(120)
def test_two_processes_keep_every_key() -> None:
    [row] = checked(hostile.key_store(puts=20), 1)
    assert row.figure == 40
