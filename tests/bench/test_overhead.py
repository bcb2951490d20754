"""The in-memory whoami: it must refuse what the real one refuses, or the ratio is moot."""

from __future__ import annotations

import httpx
import pytest

from bench.apis import CARRIERS, WHOAMI, BenchCarrier, carrier
from bench.overhead import IN_MEMORY, LOOPBACK, Plan, in_memory_transport, measure

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE5MDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
NOVAPOST = carrier("novapost")
SHIPYO = carrier("shipyo")


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.name)
def test_whoami_answers_only_the_carriers_headers(carrier: BenchCarrier) -> None:
    with httpx.Client(transport=in_memory_transport(carrier, TOKEN)) as client:
        url = "http://127.0.0.1:9" + WHOAMI
        assert client.get(url, headers=carrier.static_headers(TOKEN)).status_code == 200
        assert client.get(url).status_code == 401
        assert client.get(url, headers=carrier.static_headers("other")).status_code == 401


def test_novapost_wants_the_raw_jwt_and_shipyo_the_key_and_bearer() -> None:
    url = "http://127.0.0.1:9" + WHOAMI
    with httpx.Client(transport=in_memory_transport(NOVAPOST, TOKEN)) as client:
        assert client.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
    with httpx.Client(transport=in_memory_transport(SHIPYO, TOKEN)) as client:
        bearer_only = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get(url, headers=bearer_only).status_code == 401


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.name)
def test_the_token_routes_hand_out_the_token(carrier: BenchCarrier) -> None:
    base = "http://127.0.0.1:9" + carrier.info.mock_path
    facade = carrier.facade(base, transport=in_memory_transport(carrier, TOKEN))
    try:
        assert facade.jwt() == TOKEN
    finally:
        facade.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_small_in_memory_measurement_mints_once(mode: str) -> None:
    tiny = Plan(where="in memory", rounds=3, calls=5, warmup=2, target=1.15)
    row = measure(SHIPYO, mode, tiny, server=None)
    assert row.figure > 0
    assert row.target is not None and row.target.value == 1.15
    assert row.extra["rounds"] == 3
    assert row.note == ""  # exactly one mint for the whole run


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_per_call_measurement_pairs_the_calls_and_mints_once(mode: str) -> None:
    tiny = Plan(where="in memory", rounds=3, calls=8, warmup=2, target=1.15, per_call=True)
    row = measure(NOVAPOST, mode, tiny, server=None)
    assert row.figure > 0
    assert row.extra["timing"] == "per call, interquartile means"
    assert (row.extra["rounds"], row.extra["calls_per_round"]) == (3, 8)
    assert row.note == ""


def test_the_loopback_plan_times_each_call_and_keeps_its_target() -> None:
    assert LOOPBACK.per_call and LOOPBACK.target == 1.05
    assert not IN_MEMORY.per_call


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.name)
def test_the_in_memory_answers_are_the_mocks_own(carrier: BenchCarrier) -> None:
    recording = carrier.recording
    with httpx.Client(transport=in_memory_transport(carrier, TOKEN)) as client:
        url = "http://127.0.0.1:9" + WHOAMI
        answered = client.get(url, headers=carrier.static_headers(TOKEN))
        refused = client.get(url)
    assert answered.content == recording.whoami.body
    assert answered.headers["content-type"] == dict(recording.whoami.headers)["content-type"]
    assert (refused.status_code, refused.content) == (
        recording.refusal.status,
        recording.refusal.body,
    )
    minted = carrier.token_response(TOKEN)
    assert minted.status_code == 200
    assert TOKEN.encode() in minted.content and recording.token.encode() not in minted.content


def test_the_headers_are_the_ones_the_auth_flow_sets() -> None:
    assert NOVAPOST.static_headers(TOKEN) == {"authorization": TOKEN}
    assert SHIPYO.static_headers(TOKEN) == {
        "x-api-key": SHIPYO.info.docs_api_key,
        "authorization": f"Bearer {TOKEN}",
    }


def test_the_retry_policy_is_the_facades_with_changes() -> None:
    for each in CARRIERS:
        policy = each.retry_policy(base_delay=0.01)
        assert policy.base_delay == 0.01
        assert policy.idempotent_routes == each.facade_class.RETRY_POLICY.idempotent_routes
