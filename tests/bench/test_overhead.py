"""The in-memory whoami: it must refuse what the real one refuses, or the ratio is moot."""

from __future__ import annotations

import httpx
import pytest

from bench.apis import CARRIERS, NOVAPOST, SHIPYO, WHOAMI, Carrier
from bench.overhead import Plan, in_memory_transport, measure

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE5MDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.api)
def test_whoami_answers_only_the_carriers_headers(carrier: Carrier) -> None:
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


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.api)
def test_the_token_routes_hand_out_the_token(carrier: Carrier) -> None:
    base = "http://127.0.0.1:9" + ("/v.1.0" if carrier.api == "novapost" else "")
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
