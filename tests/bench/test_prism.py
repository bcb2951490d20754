"""The prism section: wrk's report read right, rows that never claim what was not measured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import prism
from bench.prism import Outcome, Route, WrkResult, auth_headers, parse_wrk, route_rows
from bench.servers import mock_server

CLEAN = """\
Running 8s test @ http://127.0.0.1:41000/v.1.0/dictionaries/currencies
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.64ms    1.49ms  38.66ms   88.68%
    Req/Sec     3.49k   195.71     3.52k    94.00%
  55771 requests in 8.00s, 17.44MB read
Requests/sec:   6971.35
Transfer/sec:      2.18MB
"""
FAILING = """\
Running 2s test @ http://127.0.0.1:4010/dictionaries/currencies
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   850.00us    1.49ms   1.20s    88.68%
    Req/Sec     1.49k   195.71     3.52k    94.00%
  3771 requests in 2.01s, 1.44MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3771
Requests/sec:   1876.12
Transfer/sec:    734.00KB
"""
TOKEN = Route("token route", "/clients/authorization?apiKey=k")


def result(per_second: float, *, errors: int = 0) -> WrkResult:
    return WrkResult(
        requests=int(per_second * 8),
        seconds=8.0,
        per_second=per_second,
        error_responses=errors,
        socket_errors=0,
        latency_ms=4.0,
    )


def test_a_clean_report_is_a_valid_figure() -> None:
    parsed = parse_wrk(CLEAN)
    assert parsed == WrkResult(55771, 8.0, 6971.35, 0, 0, 4.64)
    assert parsed.valid and parsed.problem() == ""


def test_error_responses_and_socket_errors_make_a_run_invalid() -> None:
    parsed = parse_wrk(FAILING)
    assert (parsed.error_responses, parsed.socket_errors) == (3771, 3)
    assert parsed.latency_ms == pytest.approx(0.85)
    assert not parsed.valid
    assert parsed.problem() == "3,771 error responses and 3 socket errors in 3,771 requests"


def test_output_that_is_no_report_is_refused() -> None:
    with pytest.raises(ValueError, match="not a wrk report"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_both_measured_gives_the_ratio_against_its_target() -> None:
    rows = route_rows(TOKEN, Outcome(result(6000.0)), Outcome(result(1800.0)))
    assert [row.name for row in rows] == [
        "token route: mock req/s",
        "token route: Prism req/s",
        "token route: mock / Prism",
    ]
    assert [row.figure for row in rows] == [6000.0, 1800.0, 3.33]
    assert rows[2].text() == "3.33x" and rows[2].ok is True
    slow = route_rows(TOKEN, Outcome(result(5000.0)), Outcome(result(1800.0)))
    assert slow[2].ok is False


def test_a_missing_prism_says_why_and_claims_nothing() -> None:
    why = "npm is not installed, so Prism cannot be installed"
    rows = route_rows(TOKEN, Outcome(result(6000.0)), Outcome(reason=why))
    assert rows[0].figure == 6000.0  # the mock's own figure is still reported
    assert (rows[1].text(), rows[1].note, rows[1].ok) == ("n/a", why, None)
    assert (rows[2].text(), rows[2].ok) == ("n/a", None)


def test_a_server_that_answers_errors_fails_the_target() -> None:
    mock = prism.measured(result(6000.0, errors=12))
    assert mock.fault and mock.result is None
    rows = route_rows(TOKEN, mock, Outcome(result(1800.0)))
    assert rows[0].text() == "n/a" and "12 error responses" in rows[0].note
    assert (rows[2].text(), rows[2].ok) == ("invalid", False)
    assert rows[2].note.startswith("mock: 12 error responses")


def test_without_wrk_every_row_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prism.shutil, "which", lambda name: None)
    rows = prism.run()
    assert len(rows) == 6
    assert all(row.ok is None and row.text() == "n/a" for row in rows)
    assert {row.note for row in rows if "req/s" in row.name} == {prism.WRK_MISSING}


@pytest.fixture(scope="module")
def spec() -> dict[str, object]:
    return prism.vendored_spec()


def test_the_spec_has_both_routes_and_the_get_wants_the_jwt(spec: dict[str, object]) -> None:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    assert "get" in paths["/clients/authorization"] and "get" in paths[prism.SPEC_GET]
    assert auth_headers(spec, prism.SPEC_GET, "t0ken") == {"Authorization": "t0ken"}
    assert auth_headers(spec, "/clients/authorization", "t0ken") == {}


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_loads_the_mock_serving_the_vendored_spec(
    spec: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The measurement chain for real, briefly: a separate mock process, a JWT, two routes."""
    monkeypatch.setattr(prism, "WARMUP_SECONDS", 1)
    monkeypatch.setattr(prism, "SECONDS", 1)
    wrk = shutil.which("wrk")
    assert wrk is not None
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    with mock_server(prism.API, spec_path=spec_path) as server:
        key = "np_test_4f1c2b9e8a7d6c5b"
        headers = auth_headers(spec, prism.SPEC_GET, prism._mock_token(server, key))
        outcomes = [
            prism.load(wrk, server.base_url + f"/clients/authorization?apiKey={key}", {}),
            prism.load(wrk, server.base_url + prism.SPEC_GET, headers),
            prism.load(wrk, server.base_url + prism.SPEC_GET, {}),  # no JWT: a 401
        ]
    assert all(outcome.result is not None and outcome.result.valid for outcome in outcomes[:2])
    assert outcomes[2].fault and outcomes[2].reason.startswith("answered 401 before the run")
