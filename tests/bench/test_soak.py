"""The soak's plan, its secret finder and its tally, then a short run of the soak itself.

The short run checks the soak's invariants on 200 calls against in-process mocks:
no exception outside ``carriers.errors``, attempts within the retry budget plus one
replay, a replay never resending a refused token, few mints, and no API key or JWT
in the DEBUG logs or the error texts. Timings are left to ``make bench``.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from bench.apis import carrier
from bench.soak import (
    KINDS,
    CallRecord,
    Secrets,
    SoakConfig,
    SoakResult,
    blocks,
    captured_debug_logs,
    lines_with_secrets,
    plan,
    rows,
    run_soak,
)

NOVAPOST = carrier("novapost")
SHIPYO = carrier("shipyo")
JWT = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJzaGlweW8iLCJleHAiOjE5MDAwMDAwMDB9"
    ".Q2xvc2VseUd1YXJkZWRTaWduYXR1cmVWYWx1ZTEyMzQ"
)


def test_the_plan_faults_a_fifth_of_the_calls_in_equal_shares() -> None:
    calls = plan(SoakConfig(calls=1000, fault_rate=0.2))
    kinds = Counter(call.fault for call in calls if call.fault)
    assert sum(kinds.values()) == 200
    assert kinds == dict.fromkeys(KINDS, 40)
    waits = [call.retry_after for call in calls if call.fault == "503"]
    assert waits[:4] == [0, 1, 0, 1]
    assert all(call.retry_after == 0 for call in calls if call.fault != "503")


def test_the_plan_depends_on_the_seed_only() -> None:
    assert plan(SoakConfig(calls=300, seed=3)) == plan(SoakConfig(calls=300, seed=3))
    assert plan(SoakConfig(calls=300, seed=3)) != plan(SoakConfig(calls=300, seed=4))


def test_blocks_rotate_through_both_carriers_sync_and_async() -> None:
    runs = list(blocks(plan(SoakConfig(calls=1000, block=100))))
    assert [len(run) for run in runs] == [100] * 10
    ways = [(run[0].carrier.name, run[0].mode) for run in runs]
    assert ways[:4] == [
        ("novapost", "sync"),
        ("shipyo", "sync"),
        ("novapost", "async"),
        ("shipyo", "async"),
    ]
    assert all(len({(c.carrier, c.mode) for c in run}) == 1 for run in runs)
    assert [c.index for run in runs for c in run] == list(range(1000))


def test_secrets_are_keys_jwts_and_pieces_of_used_jwts() -> None:
    secrets = Secrets([NOVAPOST.key, SHIPYO.key])
    signature = JWT.rsplit(".", 1)[1]
    assert not secrets.found_in("GET /__mock__/whoami 200 OK")
    assert secrets.found_in(f"apiKey={NOVAPOST.key}")
    assert secrets.found_in(f"Authorization: Bearer {JWT}")
    assert not secrets.found_in(f"tail {signature}")  # not seen on the wire yet
    secrets.saw_token("shipyo", JWT)
    assert secrets.found_in(f"tail {signature}")
    assert not secrets.found_in("Authorization: [REDACTED]")


def test_lines_with_secrets_are_counted_once_each() -> None:
    secrets = Secrets([SHIPYO.key])
    lines = ["clean", f"{SHIPYO.key} and {SHIPYO.key}", f"jwt {JWT}", "also clean"]
    assert lines_with_secrets(lines, secrets) == (2, 4)


def test_debug_logs_are_captured_then_released(tmp_path: Path) -> None:
    log = logging.getLogger("carriers")
    level = log.level
    path = tmp_path / "debug.log"
    with captured_debug_logs(path):
        log.debug("minted a JWT, usable for 3570 s")
    log.debug("after the capture")
    assert path.read_text().count("\n") == 1
    assert "minted a JWT" in path.read_text()
    assert log.level == level


def test_the_tally_and_its_round_trip() -> None:
    result = SoakResult(max_retries=2)
    result.add(CallRecord(attempts=1))
    result.add(CallRecord(attempts=2, refusals=1))
    result.add(CallRecord(attempts=3, outcome="AuthenticationError", category="typed"))
    result.add(CallRecord(attempts=1, outcome="KeyError", category="other", message="KeyError"))
    assert (result.calls, result.succeeded, result.typed, result.other) == (4, 2, 1, 1)
    assert result.max_attempts == 3
    assert result.attempts_bound == 4
    assert result.replayed_calls == 1
    assert result.attempts == {"1": 2, "2": 1, "3": 1}
    assert SoakResult.from_json(result.to_json()) == result


def test_rows_hold_the_targets() -> None:
    result = SoakResult(max_retries=2, calls=10, succeeded=10, max_attempts=5)
    result.revocations = {"novapost": 3}
    result.mints = {"novapost": 4, "shipyo": 2}
    by_name = {row.name: row for row in rows(result)}
    assert by_name["max attempts per call"].ok is False
    assert by_name["other exceptions"].ok is True
    assert by_name["Nova Post mints (mock count; 3 revocations)"].ok is True
    assert by_name["Shipyo mints (mock count; 0 revocations)"].ok is False
    assert by_name["memory growth"].text() == "n/a"  # no mark before the end


def test_memory_growth_is_measured_between_the_marks() -> None:
    result = SoakResult(max_retries=2)
    result.first_mark = {
        "calls": 2000,
        "rss_kib": 50_000,
        "allocated_blocks": 200_000,
        "gc_objects": 40_000,
    }
    result.last_mark = {
        "calls": 10_000,
        "rss_kib": 50_512,
        "allocated_blocks": 208_000,
        "gc_objects": 48_000,
    }
    by_name = {row.name: row for row in rows(result)}
    rss = by_name["RSS growth, call 2,000 to 10,000"]
    assert (rss.figure, rss.ok) == (512, True)
    leak = by_name["allocated blocks growth per later call"]
    assert (leak.figure, leak.ok) == (1.0, False)  # one block per call: a leak


@pytest.mark.timeout(240)
def test_a_short_soak_keeps_every_invariant() -> None:
    config = SoakConfig(
        calls=200,
        block=50,
        threads=8,
        tasks=16,
        timeout=1.0,
        delay=1.5,
        memory_mark=100,
        separate_process=False,
    )
    result = run_soak(config)
    assert result.calls == 200
    assert result.injected == dict.fromkeys(KINDS, 8)
    assert result.other == 0, (result.other_exceptions, result.other_messages)
    assert result.succeeded + result.typed == 200
    assert 2 <= result.max_attempts <= config.max_retries + 2
    assert result.stale_replays == 0
    assert result.replayed_calls >= 1  # the revocations were seen and replayed
    for api in ("novapost", "shipyo"):
        assert result.wrapper_mints[api] <= result.revocations.get(api, 0) + 1
        assert result.mints[api] < result.calls / 4
    assert result.log_lines > 1000
    assert result.log_lines_with_secrets == 0
    assert result.errors_with_secrets == 0
    assert result.first_mark["calls"] == 100 and result.last_mark["calls"] == 200
    assert result.peak_rss_kib > 0
