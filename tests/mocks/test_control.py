"""The mock-only routes, in-process: stats, faults, clock, reset and revoke."""

from __future__ import annotations

import httpx
import pytest
from carrier_mocks.middleware import ConnectionDropped

from .spec import check_response
from .support import NOON, NP_KEY, SHIPYO_KEY, TOKEN_URL, advance

AUTH = "/v.1.0/clients/authorization"
KEYS = "/v.1.0/test-api-keys"


async def stats(client: httpx.AsyncClient) -> dict[str, int]:
    response = await client.get("/__mock__/stats")
    assert response.status_code == 200
    counts: dict[str, int] = response.json()
    return counts


async def fault(client: httpx.AsyncClient, **body: object) -> None:
    response = await client.post("/__mock__/faults", json=body)
    assert response.status_code == 200, response.text


async def jwt_of(client: httpx.AsyncClient) -> str:
    token: str = (await client.get(AUTH, params={"apiKey": NP_KEY})).json()["jwt"]
    return token


async def test_stats_count_operations_and_whoami_only(novapost: httpx.AsyncClient) -> None:
    assert await stats(novapost) == {
        "POST /test-api-keys": 0,
        "GET /clients/authorization": 0,
        "GET /__mock__/whoami": 0,
    }
    token = await jwt_of(novapost)
    await novapost.get(AUTH)  # a 422 is a request too
    await novapost.post(KEYS, json={"phone": "499999999999"})
    await novapost.get("/__mock__/whoami", headers={"Authorization": token})
    await novapost.put(KEYS)  # not an operation of the spec
    await novapost.get("/v.1.0/other")
    await advance(novapost, 1)
    assert await stats(novapost) == {
        "POST /test-api-keys": 1,
        "GET /clients/authorization": 2,
        "GET /__mock__/whoami": 1,
    }


async def test_head_counts_as_the_get_it_runs(shipyo: httpx.AsyncClient) -> None:
    response = await shipyo.head(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY})
    assert (response.status_code, response.content) == (200, b"")
    assert (await stats(shipyo))["GET /api/Token/generate-from-apikey"] == 1


async def test_shipyo_stats_use_the_spec_path(shipyo: httpx.AsyncClient) -> None:
    await shipyo.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY})
    assert (await stats(shipyo))["GET /api/Token/generate-from-apikey"] == 1


async def test_status_fault_hits_the_next_count_requests(novapost: httpx.AsyncClient) -> None:
    await fault(novapost, route="GET /clients/authorization", count=2, status=503, retry_after=2)
    for _ in range(2):
        response = await novapost.get(AUTH, params={"apiKey": NP_KEY})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert response.json() == {"errors": {"server": "Service Unavailable"}}
    assert (await novapost.get(AUTH, params={"apiKey": NP_KEY})).status_code == 200
    assert (await stats(novapost))["GET /clients/authorization"] == 3


async def test_faults_queue_in_order_per_route(novapost: httpx.AsyncClient) -> None:
    await fault(novapost, route="POST /test-api-keys", status=503)
    await fault(novapost, route="POST /test-api-keys", status=429)
    await fault(novapost, route="GET /clients/authorization", status=401)
    first = await novapost.post(KEYS, json={"phone": "491000000001"})
    second = await novapost.post(KEYS, json={"phone": "491000000001"})
    assert (first.status_code, second.status_code) == (503, 429)
    assert second.json() == {"success": False, "errors": ["Too Many Requests"]}
    # The faulted requests never reached the rules: the daily request is still unused.
    assert (await novapost.post(KEYS, json={"phone": "491000000001"})).status_code == 200
    assert (await novapost.get(AUTH, params={"apiKey": NP_KEY})).status_code == 401


@pytest.fixture
def unchecked(novapost: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same client without the spec hook, for statuses the spec does not list."""
    novapost.event_hooks = {"response": []}
    return novapost


async def test_fault_statuses_outside_the_spec_keep_the_body_shape(
    unchecked: httpx.AsyncClient, shipyo: httpx.AsyncClient
) -> None:
    await fault(unchecked, route="GET /clients/authorization", status=500)
    response = await unchecked.get(AUTH, params={"apiKey": NP_KEY})
    assert response.status_code == 500
    assert response.json() == {"errors": {"server": "Internal Server Error"}}
    await fault(shipyo, route="GET /api/Token/generate-from-apikey", status=500)
    response = await shipyo.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY})
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "data": None,
        "message": "Internal Server Error",
        "errors": ["Injected fault"],
    }


async def test_whoami_can_be_faulted(unchecked: httpx.AsyncClient) -> None:
    token = await jwt_of(unchecked)
    await fault(unchecked, route="GET /__mock__/whoami", status=502)
    response = await unchecked.get("/__mock__/whoami", headers={"Authorization": token})
    assert response.status_code == 502
    assert (await unchecked.get("/__mock__/whoami", headers={"Authorization": token})).is_success


async def test_delay_fault_then_normal_answer(novapost: httpx.AsyncClient) -> None:
    await fault(novapost, route="POST /test-api-keys", delay=0.01)
    response = await novapost.post(KEYS, json={"phone": "491000000001"})
    assert response.status_code == 200  # the body survived the wait
    await fault(novapost, route="POST /test-api-keys", delay=0.01, status=503)
    assert (await novapost.post(KEYS, json={"phone": "491000000001"})).status_code == 503


async def test_drop_fault_in_process_raises(novapost: httpx.AsyncClient) -> None:
    await fault(novapost, route="GET /clients/authorization", drop=True)
    with pytest.raises(ConnectionDropped):
        await novapost.get(AUTH, params={"apiKey": NP_KEY})
    assert (await novapost.get(AUTH, params={"apiKey": NP_KEY})).status_code == 200


async def test_clock_route_reports_the_new_time(novapost: httpx.AsyncClient) -> None:
    response = await novapost.post("/__mock__/clock", json={"advance_seconds": 3600})
    assert response.json() == {"now": "2025-03-14T13:00:00Z", "offset_seconds": 3600.0}
    response = await novapost.post("/__mock__/clock", json={"advance_seconds": 0.5})
    assert response.json()["offset_seconds"] == 3600.5


async def test_reset_restores_everything(novapost: httpx.AsyncClient) -> None:
    created = (await novapost.post(KEYS, json={"phone": "491000000001"})).json()["apiKey"]
    token = await jwt_of(novapost)
    await advance(novapost, 7200)
    await fault(novapost, route="GET /clients/authorization", status=503)
    assert (await novapost.post("/__mock__/reset")).json() == {"reset": True}
    assert set((await stats(novapost)).values()) == {0}
    clock = await novapost.post("/__mock__/clock", json={"advance_seconds": 0})
    assert clock.json() == {"now": NOON.strftime("%Y-%m-%dT%H:%M:%SZ"), "offset_seconds": 0.0}
    assert (await novapost.get(AUTH, params={"apiKey": NP_KEY})).status_code == 200  # no fault
    assert (await novapost.get(AUTH, params={"apiKey": created})).status_code == 401  # forgotten
    whoami = await novapost.get("/__mock__/whoami", headers={"Authorization": token})
    assert whoami.status_code == 401  # tokens from before the reset are void


async def test_revoke_voids_issued_tokens_only(novapost: httpx.AsyncClient) -> None:
    old = await jwt_of(novapost)
    assert (await novapost.post("/__mock__/revoke")).json() == {"revoked": True}
    assert (
        await novapost.get("/__mock__/whoami", headers={"Authorization": old})
    ).status_code == 401
    new = await jwt_of(novapost)
    assert (
        await novapost.get("/__mock__/whoami", headers={"Authorization": new})
    ).status_code == 200


async def test_shipyo_revoke(shipyo: httpx.AsyncClient) -> None:
    token = (await shipyo.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY})).json()["data"]
    headers = {"x-api-key": SHIPYO_KEY, "authorization": f"Bearer {token}"}
    assert (await shipyo.get("/__mock__/whoami", headers=headers)).status_code == 200
    await shipyo.post("/__mock__/revoke")
    assert (await shipyo.get("/__mock__/whoami", headers=headers)).status_code == 401


def test_spec_check_catches_a_nonconforming_body() -> None:
    request = httpx.Request("POST", "http://x/v.1.0/test-api-keys")
    extra = {"apiKey": "k", "createdAt": "x", "expDate": "y", "status": "Active", "more": 1}
    for status, body in ((200, extra), (418, {}), (400, {"errors": ["x"]})):
        with pytest.raises(AssertionError):
            check_response("novapost", httpx.Response(status, json=body, request=request))


@pytest.mark.parametrize("prefer", ["code=503", "code=503, dynamic=true", "example=x; code=503"])
async def test_prefer_asks_for_one_documented_outage(
    novapost: httpx.AsyncClient, prefer: str
) -> None:
    """Prism's header: the request is answered like an injected 503, in the spec's shape,
    and the business rules are not reached (no key is created)."""
    response = await novapost.post(
        "/v.1.0/test-api-keys", json={"phone": "498213437654"}, headers={"Prefer": prefer}
    )
    assert response.status_code == 503
    check_response("novapost", response)
    after = await novapost.post("/v.1.0/test-api-keys", json={"phone": "498213437654"})
    assert after.status_code == 200
    assert (await stats(novapost))["POST /test-api-keys"] == 2


@pytest.mark.parametrize("prefer", ["code=200", "code=404", "code=5000", "dynamic=true"])
async def test_prefer_other_than_a_5xx_changes_nothing(
    shipyo: httpx.AsyncClient, prefer: str
) -> None:
    response = await shipyo.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY, "Prefer": prefer})
    assert response.status_code == 200


async def test_prefer_500_on_shipyo_is_the_envelope(shipyo: httpx.AsyncClient) -> None:
    response = await shipyo.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY, "Prefer": "code=500"})
    assert response.status_code == 500
    check_response("shipyo", response)
    assert response.json()["success"] is False
