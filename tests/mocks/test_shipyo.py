"""Shipyo mock, in-process: each documented status of the token route, and the JWT guard.

Every response of the spec operation is validated against the hand-written spec
by the client's hook; the envelope is asserted exactly here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from carrier_mocks.clock import Clock
from carrier_mocks.shipyo import create_app

from .spec import checking_hook
from .support import NOON, SHIPYO_KEY, TOKEN_URL, advance

DAY = 86400


async def token_response(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.get(TOKEN_URL, headers={k.replace("_", "-"): v for k, v in headers.items()})


def envelope(message: str, error: str) -> dict[str, Any]:
    return {"success": False, "data": None, "message": message, "errors": [error]}


async def test_active_key_gets_a_jwt_in_the_envelope(shipyo: httpx.AsyncClient) -> None:
    response = await token_response(shipyo, x_api_key=SHIPYO_KEY)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Token generated successfully"
    assert body["errors"] is None
    claims = jwt.decode(body["data"], options={"verify_signature": False})
    assert jwt.get_unverified_header(body["data"])["alg"] == "HS256"
    assert claims["iss"] == "shipyo"
    assert claims["sub"] == "docs-example"
    assert claims["iat"] == int(NOON.timestamp())
    assert claims["exp"] == claims["iat"] + 3600
    assert "x-ratelimit-limit" not in response.headers  # no limit on this key


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": ""}, {"x-api-key": "   "}, {"api-key": SHIPYO_KEY}, {"apikey": SHIPYO_KEY}],
)
async def test_missing_key_is_401(shipyo: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await shipyo.get(TOKEN_URL, headers=headers)
    assert response.status_code == 401
    assert response.json() == envelope("API Key is missing.", "Missing x-api-key header")


@pytest.mark.parametrize("key", ["ak_unknown", SHIPYO_KEY.upper(), "ak_1234567890abcdeg", "ключ"])
async def test_unknown_key_is_403(shipyo: httpx.AsyncClient, key: str) -> None:
    response = await shipyo.get(TOKEN_URL, headers={b"x-api-key": key.encode()})
    assert response.status_code == 403
    assert response.json() == envelope("Invalid API Key.", "API key validation failed")


async def test_other_tenants_key_is_403(shipyo: httpx.AsyncClient) -> None:
    key = "ak_tenanta000000000"
    response = await token_response(shipyo, x_api_key=key, x_tenant_id="tenant-b")
    assert response.status_code == 403
    assert response.json() == envelope("Invalid API Key.", "API key belongs to a different tenant")
    for headers in ({"x_tenant_id": "tenant-a"}, {}):
        ok = await token_response(shipyo, x_api_key=key, **headers)
        assert ok.status_code == 200
        assert jwt.decode(ok.json()["data"], options={"verify_signature": False})["tenant_id"] == (
            "tenant-a"
        )


async def test_inactive_key_is_400(shipyo: httpx.AsyncClient) -> None:
    response = await token_response(shipyo, x_api_key="ak_inactive00000000")
    assert response.status_code == 400
    assert response.json() == envelope("API Key is not active or expired", "API key is inactive")


async def test_expired_key_is_400(shipyo: httpx.AsyncClient) -> None:
    response = await token_response(shipyo, x_api_key="ak_expired000000000")
    assert response.status_code == 400
    assert response.json() == envelope("API Key is not active or expired", "API key has expired")


async def test_key_expires_after_its_day(shipyo: httpx.AsyncClient) -> None:
    await advance(shipyo, DAY - 1)
    assert (await token_response(shipyo, x_api_key="ak_expiring00000000")).status_code == 200
    await advance(shipyo, 1)
    response = await token_response(shipyo, x_api_key="ak_expiring00000000")
    assert response.status_code == 400
    assert response.json()["errors"] == ["API key has expired"]


async def test_ip_outside_the_allow_list_is_422(shipyo: httpx.AsyncClient) -> None:
    response = await token_response(shipyo, x_api_key="ak_iprestricted0000")
    assert response.status_code == 422
    assert response.json() == envelope(
        "API key restrictions", "IP address not allowed for this API key"
    )


@pytest.fixture
async def shipyo_from_allowed_ip(clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(clock=clock), client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://shipyo.test",
        event_hooks={"response": [checking_hook("shipyo")]},
    ) as client:
        yield client


async def test_ip_inside_the_allow_list_is_served(
    shipyo_from_allowed_ip: httpx.AsyncClient,
) -> None:
    response = await token_response(shipyo_from_allowed_ip, x_api_key="ak_iprestricted0000")
    assert response.status_code == 200


def rate_headers(response: httpx.Response) -> tuple[str, str, str]:
    return (
        response.headers["x-ratelimit-limit"],
        response.headers["x-ratelimit-remaining"],
        response.headers["x-ratelimit-reset"],
    )


async def test_rate_limit_of_the_key_gives_422_until_the_window_ends(
    shipyo: httpx.AsyncClient,
) -> None:
    key = "ak_ratelimited00000"
    reset = str(int(NOON.timestamp()) + 60)
    for remaining in ("2", "1", "0"):
        response = await token_response(shipyo, x_api_key=key)
        assert response.status_code == 200
        assert rate_headers(response) == ("3", remaining, reset)
    refused = await token_response(shipyo, x_api_key=key)
    assert refused.status_code == 422
    assert refused.json() == envelope(
        "API key restrictions", "Rate limit exceeded for this API key"
    )
    assert rate_headers(refused) == ("3", "0", reset)
    await advance(shipyo, 59)
    assert (await token_response(shipyo, x_api_key=key)).status_code == 422
    await advance(shipyo, 1)
    again = await token_response(shipyo, x_api_key=key)
    assert again.status_code == 200
    assert rate_headers(again) == ("3", "2", str(int(NOON.timestamp()) + 120))


async def test_other_keys_do_not_share_the_rate_limit(shipyo: httpx.AsyncClient) -> None:
    for _ in range(4):
        await token_response(shipyo, x_api_key="ak_ratelimited00000")
    for _ in range(10):
        assert (await token_response(shipyo, x_api_key=SHIPYO_KEY)).status_code == 200


async def test_error_bodies_never_echo_the_key(shipyo: httpx.AsyncClient) -> None:
    for key in ("ak_secret_value_01", "ak_inactive00000000", "ak_iprestricted0000"):
        assert key not in (await token_response(shipyo, x_api_key=key)).text


# --- the JWT guarding authorized calls (GET /__mock__/whoami) ---------------------------------


async def a_token(client: httpx.AsyncClient, key: str = SHIPYO_KEY) -> str:
    token: str = (await token_response(client, x_api_key=key)).json()["data"]
    return token


async def whoami(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.get(
        "/__mock__/whoami", headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


async def test_key_plus_bearer_jwt_is_accepted(shipyo: httpx.AsyncClient) -> None:
    token = await a_token(shipyo)
    response = await whoami(shipyo, x_api_key=SHIPYO_KEY, authorization=f"Bearer {token}")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["errors"] is None
    assert body["data"]["key"] == "docs-example"
    assert body["data"]["exp"] == int(NOON.timestamp()) + 3600


async def test_jwt_lives_one_hour(shipyo: httpx.AsyncClient) -> None:
    token = await a_token(shipyo)
    await advance(shipyo, 3599)
    ok = await whoami(shipyo, x_api_key=SHIPYO_KEY, authorization=f"Bearer {token}")
    assert ok.status_code == 200
    await advance(shipyo, 1)
    expired = await whoami(shipyo, x_api_key=SHIPYO_KEY, authorization=f"Bearer {token}")
    assert expired.status_code == 401
    assert expired.json()["errors"] == ["Token expired"]


async def test_whoami_rejects_bad_credentials(shipyo: httpx.AsyncClient) -> None:
    token = await a_token(shipyo)
    other = await a_token(shipyo, "ak_tenanta000000000")
    claims = jwt.decode(token, options={"verify_signature": False})
    foreign = jwt.encode(claims, "another-secret-of-thirty-two-bytes!", algorithm="HS256")
    cases: list[tuple[dict[str, str], int]] = [
        ({"authorization": f"Bearer {token}"}, 401),  # no x-api-key
        ({"x_api_key": "ak_unknown", "authorization": f"Bearer {token}"}, 403),
        ({"x_api_key": SHIPYO_KEY}, 401),  # no token
        ({"x_api_key": SHIPYO_KEY, "authorization": token}, 401),  # no Bearer
        ({"x_api_key": SHIPYO_KEY, "authorization": "Bearer "}, 401),
        ({"x_api_key": SHIPYO_KEY, "authorization": f"Bearer {other}"}, 401),  # another key's
        ({"x_api_key": SHIPYO_KEY, "authorization": f"Bearer {foreign}"}, 401),  # forged
        ({"x_api_key": SHIPYO_KEY, "authorization": f"Bearer {token}x"}, 401),
    ]
    for headers, status in cases:
        response = await whoami(shipyo, **headers)
        assert response.status_code == status, headers
        assert response.json()["success"] is False
