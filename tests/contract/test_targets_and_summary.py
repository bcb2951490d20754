"""How a contract run picks its targets, and how it summarises what it saw."""

from __future__ import annotations

import json

import pytest
from carriers import registry
from carriers.registry import NOVAPOST, SHIPYO
from carriers_contract import summary
from carriers_contract.run import status_examples
from carriers_contract.targets import Target, UsageError, resolve


def by_api(targets: list[Target]) -> dict[str, Target]:
    return {t.carrier.name: t for t in targets}


def examples(target: Target, operation: str) -> list[tuple[str, str, str]]:
    return [
        (e["location"], e["name"], e["value"])
        for e in target.examples
        if e["operation"] == operation
    ]


def test_mock_is_the_default_and_uses_the_docs_examples() -> None:
    t = by_api(resolve("mock", env={}))
    assert t["novapost"].kind == t["shipyo"].kind == "mock"
    assert t["novapost"].skip_reason is None and t["shipyo"].skip_reason is None
    assert ("body", "phone", "498213437654") in examples(t["novapost"], "POST /test-api-keys")
    assert ("query", "apiKey", "np_test_4f1c2b9e8a7d6c5b") in examples(
        t["novapost"], "GET /clients/authorization"
    )
    assert t["novapost"].api_key == "np_test_4f1c2b9e8a7d6c5b"
    assert t["shipyo"].api_key == "ak_1234567890abcdef"
    # The mocks also get the fixture phones that answer 409 and 429, so those bodies
    # are checked against the spec as well.
    phones = examples(t["novapost"], "POST /test-api-keys")
    assert ("body", "phone", "491000000005") in phones
    assert ("body", "phone", "491000000006") in phones


def test_every_registered_carrier_is_a_target() -> None:
    assert [t.carrier.name for t in resolve("mock", env={})] == list(registry.names())


def test_one_url_tests_that_server_and_skips_the_other_saying_so() -> None:
    t = by_api(resolve("mock", env={"NOVAPOST_URL": "http://127.0.0.1:9/v.1.0/"}))
    assert t["novapost"].kind == "url" and t["novapost"].base_url == "http://127.0.0.1:9/v.1.0"
    assert t["shipyo"].skip_reason == "no URL given (set SHIPYO_URL=http://host:port)"


def test_url_arguments_override_the_environment() -> None:
    t = by_api(resolve("mock", env={"SHIPYO_URL": "http://a:1"}, urls={"shipyo": "http://b:2"}))
    assert t["shipyo"].base_url == "http://b:2"


def test_url_target_takes_known_good_inputs_from_the_environment() -> None:
    env = {
        "NOVAPOST_URL": "http://h:1/v.1.0",
        "SHIPYO_URL": "http://h:2",
        "NOVAPOST_PHONE": "491234567890",
        "NOVAPOST_API_KEY": "np-key",
        "SHIPYO_API_KEY": "ak_other",
    }
    t = by_api(resolve("url", env=env))
    assert examples(t["novapost"], "POST /test-api-keys") == [("body", "phone", "491234567890")]
    assert examples(t["novapost"], "GET /clients/authorization") == [("query", "apiKey", "np-key")]
    assert t["shipyo"].api_key == "ak_other"
    # The mock-only fixture phones are not sent to other servers.
    assert all(e["value"] != "491000000005" for e in t["novapost"].examples)


def test_url_without_scheme_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"NOVAPOST_URL='127.0.0.1:8010' is not an http\(s\) URL"):
        resolve("url", env={"NOVAPOST_URL": "127.0.0.1:8010"})


def test_live_without_credentials_skips_with_a_one_line_reason() -> None:
    t = by_api(resolve("live", env={}))
    assert t["novapost"].base_url == NOVAPOST.test_url and t["shipyo"].base_url == SHIPYO.test_url
    for target in t.values():
        assert target.skip_reason and "\n" not in target.skip_reason
    assert "NOVAPOST_API_KEY" in (t["novapost"].skip_reason or "")
    assert "SHIPYO_API_KEY" in (t["shipyo"].skip_reason or "")


def test_live_with_credentials_and_a_local_stand_in() -> None:
    env = {
        "NOVAPOST_PHONE": "498213437654",
        "SHIPYO_API_KEY": "ak_x",
        "SHIPYO_URL": "http://127.0.0.1:5",
    }
    t = by_api(resolve("live", env=env))
    assert t["novapost"].skip_reason is None and t["novapost"].base_url == NOVAPOST.test_url
    assert t["novapost"].sandbox_phone == "498213437654" and t["novapost"].api_key is None
    assert examples(t["novapost"], "POST /test-api-keys") == [("body", "phone", "498213437654")]
    assert t["shipyo"].base_url == "http://127.0.0.1:5" and t["shipyo"].kind == "live"


def scenario(label: str, cases: dict) -> str:  # type: ignore[type-arg]
    recorder = {"label": label, "cases": {}, "checks": {}, "interactions": {}}
    for case_id, (method, path, status, checks) in cases.items():
        recorder["cases"][case_id] = {"value": {"method": method, "path": path}}
        recorder["checks"][case_id] = [{"name": n, "status": s} for n, s in checks]
        recorder["interactions"][case_id] = {
            "response": {"status_code": status} if status else None
        }
    return json.dumps({"ScenarioFinished": {"recorder": recorder}})


def test_events_are_aggregated_per_operation() -> None:
    documented = {"GET /clients/authorization": ["200", "401", "422", "503"]}
    lines = [
        json.dumps({"EngineStarted": {}}),
        scenario(
            "GET /clients/authorization",
            {
                "a": ("GET", "/clients/authorization", 200, [("x", "success"), ("y", "success")]),
                "b": ("GET", "/clients/authorization", 401, [("x", "success"), ("y", "failure")]),
                "c": ("TRACE", "/clients/authorization", 405, [("x", "success")]),
                "d": ("GET", "/clients/authorization", None, []),
            },
        ),
    ]
    stats = summary.read_events(lines, documented)
    op = stats["GET /clients/authorization"]
    assert (op.cases, op.checks, op.failures) == (4, 5, 1)
    assert op.failed_checks == {"y"}
    assert op.statuses == {"200", "401", "405", "no response"}
    table = "\n".join(summary.render("Nova Post", documented, stats))
    row = next(line for line in table.splitlines() if line.startswith("GET /clients/authorization"))
    assert row.split()[2:5] == ["4", "5", "1"]
    assert "(y)" in row
    # Documented statuses never observed are listed: a run that sees only 4xx says so.
    assert row.rstrip().endswith("422 503")


def test_documented_statuses_read_both_spec_formats() -> None:
    assert summary.documented_statuses(NOVAPOST.spec_text(), NOVAPOST.spec)[
        "POST /test-api-keys"
    ] == [
        "200",
        "400",
        "404",
        "409",
        "429",
        "503",
    ]
    assert summary.documented_statuses(SHIPYO.spec_text(), SHIPYO.spec)["GET /api/Token/generate-from-apikey"] == [
        "200", "400", "401", "403", "422", "500",
    ]  # fmt: skip


def test_a_mock_run_fails_when_a_documented_status_is_never_reached() -> None:
    """The mock can produce every documented status: a gap there is a gap in the suite.
    Against other servers the gap is only reported."""
    from carriers_contract.run import Outcome

    documented = {"GET /clients/authorization": ["200", "401", "503"]}
    seen = summary.OperationStats(cases=3, statuses={"200", "401"})
    for kind, failed in (("mock", True), ("url", False), ("live", False)):
        target = Target(NOVAPOST, kind)  # type: ignore[arg-type]
        outcome = Outcome(target, 0, {"GET /clients/authorization": seen}, documented)
        assert outcome.unreached == ["GET /clients/authorization 503"]
        assert outcome.failed is failed
    seen.statuses.add("503")
    assert not Outcome(
        Target(NOVAPOST, "mock"), 0, {"GET /clients/authorization": seen}, documented
    ).failed


def test_every_documented_status_has_a_way_to_be_reached_on_the_mock() -> None:
    """Each error status the mock only gives for special inputs is among its examples."""
    t = by_api(resolve("mock", env={}))
    sh = {(e["name"], e["value"]) for e in t["shipyo"].examples}
    assert {("x-api-key", "ak_inactive00000000"), ("x-api-key", "ak_iprestricted0000")} <= sh
    # Every other documented status: a valid request asking for it with Prefer.
    for info in (NOVAPOST, SHIPYO):
        documented = summary.documented_statuses(info.spec_text(), info.spec)
        examples = status_examples(info.spec_text(), info.spec, documented)
        asked = {(e["operation"], e["case"].get("headers", {}).get("Prefer")) for e in examples}
        for label, statuses in documented.items():
            assert (label, None) in asked  # the plain valid request, for its 2xx
            for status in statuses:
                if not status.startswith("2"):
                    assert (label, f"code={status}") in asked
