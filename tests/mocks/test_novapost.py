"""Nova Post mock, in-process: every business rule, across hour, day and cleanup boundaries.

The clock is frozen at NOON (see support.py) and moves only through
``POST /__mock__/clock``, so each boundary is hit to the second. Every response
of a spec operation is validated against the vendored spec by the client's hook.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from .support import NOON, NP_KEY, NP_PHONE, advance

KEYS = "/v.1.0/test-api-keys"
AUTH = "/v.1.0/clients/authorization"
DAY = 86400
HALF_DAY = DAY // 2  # from NOON to the next UTC midnight
NEW_PHONE = "491000000001"
EXPIRED_PHONE, EXPIRED_KEY = "491000000002", "np_test_expired000000001"
CLEANED_PHONE, CLEANED_KEY = "491000000003", "np_test_cleanedup0000001"
EXPIRING_PHONE, EXPIRING_KEY = "491000000004", "np_test_expiring00000001"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def plus_year(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + 1)


async def request_key(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post(KEYS, json={"phone": phone})


async def key_of(client: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    response = await request_key(client, phone)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def token_for(client: httpx.AsyncClient, api_key: str) -> httpx.Response:
    return await client.get(AUTH, params={"apiKey": api_key})


def errors(response: httpx.Response) -> Any:
    return response.json()["errors"]


# --- POST /test-api-keys -------------------------------------------------------------------


async def test_docs_phone_gets_the_docs_key_prolonged_by_a_year(
    novapost: httpx.AsyncClient,
) -> None:
    body = await key_of(novapost, NP_PHONE)
    assert body == {
        "apiKey": NP_KEY,
        "createdAt": iso(NOON - timedelta(days=30)),
        "expDate": iso(plus_year(NOON + timedelta(days=335))),
        "status": "Active",
    }


async def test_active_key_same_day_is_returned_as_is(novapost: httpx.AsyncClient) -> None:
    first = await key_of(novapost, NP_PHONE)
    await advance(novapost, HALF_DAY - 1)  # 23:59:59, still the same UTC day
    assert await key_of(novapost, NP_PHONE) == first


async def test_active_key_another_day_is_prolonged_by_a_year(novapost: httpx.AsyncClient) -> None:
    first = await key_of(novapost, NP_PHONE)
    await advance(novapost, HALF_DAY)  # 00:00:00 the next day
    second = await key_of(novapost, NP_PHONE)
    assert second["apiKey"] == first["apiKey"]
    assert second["createdAt"] == first["createdAt"]
    assert second["expDate"] == iso(plus_year(datetime.fromisoformat(first["expDate"])))


async def test_registered_phone_without_key_gets_a_new_one(novapost: httpx.AsyncClient) -> None:
    body = await key_of(novapost, NEW_PHONE)
    assert re.fullmatch(r"np_test_[0-9a-f]{16}", body["apiKey"])
    assert body["createdAt"] == iso(NOON)
    assert body["expDate"] == iso(plus_year(NOON))
    assert body["status"] == "Active"
    assert (await token_for(novapost, body["apiKey"])).status_code == 200
    assert await key_of(novapost, NEW_PHONE) == body  # one key per phone


async def test_expired_key_is_reactivated_with_a_year_more(novapost: httpx.AsyncClient) -> None:
    assert errors(await token_for(novapost, EXPIRED_KEY)) == {"apiKey": "API key expired"}
    body = await key_of(novapost, EXPIRED_PHONE)
    assert body["apiKey"] == EXPIRED_KEY
    assert body["status"] == "Active"
    assert body["expDate"] == iso(plus_year(NOON - timedelta(days=10)))
    assert (await token_for(novapost, EXPIRED_KEY)).status_code == 200


async def test_key_deleted_by_cleanup_is_replaced(novapost: httpx.AsyncClient) -> None:
    assert errors(await token_for(novapost, CLEANED_KEY)) == {"apiKey": "Invalid API key"}
    body = await key_of(novapost, CLEANED_PHONE)
    assert body["apiKey"] != CLEANED_KEY
    assert body["createdAt"] == iso(NOON)
    assert (await token_for(novapost, body["apiKey"])).status_code == 200
    assert (await token_for(novapost, CLEANED_KEY)).status_code == 401


async def test_key_expires_at_its_exp_date(novapost: httpx.AsyncClient) -> None:
    await advance(novapost, DAY - 1)
    assert (await token_for(novapost, EXPIRING_KEY)).status_code == 200
    await advance(novapost, 1)
    response = await token_for(novapost, EXPIRING_KEY)
    assert response.status_code == 401
    assert errors(response) == {"apiKey": "API key expired"}


async def test_cleanup_deletes_keys_more_than_90_days_after_expiry(
    novapost: httpx.AsyncClient,
) -> None:
    await advance(novapost, DAY + 90 * DAY)  # exactly 90 days past expiry: still Expired
    assert errors(await token_for(novapost, EXPIRING_KEY)) == {"apiKey": "API key expired"}
    await advance(novapost, 1)
    assert errors(await token_for(novapost, EXPIRING_KEY)) == {"apiKey": "Invalid API key"}
    body = await key_of(novapost, EXPIRING_PHONE)
    assert body["apiKey"] != EXPIRING_KEY


async def test_reactivation_just_before_cleanup_keeps_the_key(novapost: httpx.AsyncClient) -> None:
    await advance(novapost, DAY + 90 * DAY)
    body = await key_of(novapost, EXPIRING_PHONE)
    assert body["apiKey"] == EXPIRING_KEY
    assert body["expDate"] == iso(plus_year(NOON + timedelta(days=1)))


async def test_unknown_phone_is_404(novapost: httpx.AsyncClient) -> None:
    response = await request_key(novapost, "499999999999")
    assert response.status_code == 404
    assert response.json() == {"success": False, "errors": ["Client not found"]}


async def test_phone_of_several_clients_is_409(novapost: httpx.AsyncClient) -> None:
    response = await request_key(novapost, "491000000005")
    assert response.status_code == 409
    assert response.json() == {"success": False, "errors": ["Multiple matching clients found"]}


async def test_daily_limit_used_is_429_until_the_next_day(novapost: httpx.AsyncClient) -> None:
    response = await request_key(novapost, "491000000006")
    assert response.status_code == 429
    assert response.json() == {"success": False, "errors": ["Daily limit reached"]}
    await advance(novapost, HALF_DAY - 1)
    assert (await request_key(novapost, "491000000006")).status_code == 429
    await advance(novapost, 1)
    assert (await request_key(novapost, "491000000006")).status_code == 200


async def test_one_creating_request_per_user_per_day(novapost: httpx.AsyncClient) -> None:
    first = await key_of(novapost, "491000000007")
    response = await request_key(novapost, "491000000008")  # same user, other phone
    assert response.status_code == 429
    assert errors(response) == ["Daily limit reached"]
    assert await key_of(novapost, "491000000007") == first  # repeats stay free
    await advance(novapost, HALF_DAY)
    second = await key_of(novapost, "491000000008")
    assert second["apiKey"] != first["apiKey"]
    # Prolonging the first phone's key would be this user's second creating request today.
    assert (await request_key(novapost, "491000000007")).status_code == 429


async def test_repeats_on_the_day_of_a_prolongation_are_free(novapost: httpx.AsyncClient) -> None:
    await key_of(novapost, NP_PHONE)
    await advance(novapost, DAY)
    prolonged = await key_of(novapost, NP_PHONE)
    for _ in range(3):
        assert await key_of(novapost, NP_PHONE) == prolonged


@pytest.mark.parametrize("phone", ["380501234567", "+380501234567", "380931112233"])
async def test_ua_numbers_are_rejected(novapost: httpx.AsyncClient, phone: str) -> None:
    response = await request_key(novapost, phone)
    assert response.status_code == 400
    assert errors(response) == ["UA key generation is currently not supported"]


@pytest.mark.parametrize(
    "phone",
    [
        "+498213437654",
        "4982134376",
        "4982134376541",
        "49 8213437654",
        "49821343765a",
        "498213437654\n",
        "٤٩٨٢١٣٤٣٧٦٥٤",  # Arabic-Indic digits
        "",
        498213437654,
        None,
        ["498213437654"],
        {"number": "498213437654"},
        True,
    ],
)
async def test_invalid_phone_format_is_400(novapost: httpx.AsyncClient, phone: Any) -> None:
    response = await novapost.post(KEYS, json={"phone": phone})
    assert response.status_code == 400
    assert errors(response) == ["Invalid phone format"]


@pytest.mark.parametrize("phone", ["49999999999", "499999999999"])
async def test_both_documented_lengths_are_well_formed(
    novapost: httpx.AsyncClient, phone: str
) -> None:
    assert (await request_key(novapost, phone)).status_code == 404  # not registered, not 400


@pytest.mark.parametrize("body", [{}, None])
async def test_missing_phone_is_400(novapost: httpx.AsyncClient, body: Any) -> None:
    response = (
        await novapost.post(KEYS, json=body) if body is not None else await novapost.post(KEYS)
    )
    assert response.status_code == 400
    assert response.json() == {"success": False, "errors": ["Missing required parameter: phone"]}


async def test_extra_properties_are_400(novapost: httpx.AsyncClient) -> None:
    response = await novapost.post(KEYS, json={"phone": NP_PHONE, "name": "x", "cid": 1})
    assert response.status_code == 400
    assert errors(response) == ["Unknown parameter: name", "Unknown parameter: cid"]


async def test_rejected_requests_do_not_use_the_daily_limit(novapost: httpx.AsyncClient) -> None:
    await novapost.post(KEYS, json={"phone": NEW_PHONE, "extra": 1})
    await novapost.post(KEYS, json={"phone": NEW_PHONE}, params={"debug": "1"})
    assert (await request_key(novapost, NEW_PHONE)).status_code == 200


# --- GET /clients/authorization --------------------------------------------------------------


def header_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


async def test_valid_key_gets_a_real_hs256_jwt(novapost: httpx.AsyncClient) -> None:
    response = await token_for(novapost, NP_KEY)
    assert response.status_code == 200
    token = response.json()["jwt"]
    assert header_of(token) == {"typ": "JWT", "alg": "HS256"}
    assert token.startswith("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.")  # as the docs print it
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "np"
    assert claims["iat"] == int(NOON.timestamp())
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["cid"] == "100001"
    assert isinstance(claims["ref"], str) and claims["ref"]


async def test_each_token_is_distinct(novapost: httpx.AsyncClient) -> None:
    first = (await token_for(novapost, NP_KEY)).json()["jwt"]
    second = (await token_for(novapost, NP_KEY)).json()["jwt"]
    assert first != second


async def test_missing_api_key_is_422(novapost: httpx.AsyncClient) -> None:
    response = await novapost.get(AUTH)
    assert response.status_code == 422
    assert response.json() == {"errors": {"apiKey": "Missing required parameter: apiKey"}}


async def test_an_empty_api_key_is_422_like_a_missing_one(novapost: httpx.AsyncClient) -> None:
    """The spec gives the required apiKey minLength 1: an empty one is a validation error."""
    response = await token_for(novapost, "")
    assert response.status_code == 422
    assert response.json() == {"errors": {"apiKey": "The apiKey must not be empty"}}


@pytest.mark.parametrize("value", ["nope", "NP_TEST_4F1C2B9E8A7D6C5B", f"{NP_KEY} ", "ключ"])
async def test_unknown_key_is_401(novapost: httpx.AsyncClient, value: str) -> None:
    response = await token_for(novapost, value)
    assert response.status_code == 401
    assert response.json() == {"errors": {"apiKey": "Invalid API key"}}


async def test_repeated_and_unknown_query_parameters_are_422(novapost: httpx.AsyncClient) -> None:
    response = await novapost.get(f"{AUTH}?apiKey={NP_KEY}&apiKey={NP_KEY}&phone=1")
    assert response.status_code == 422
    assert response.json() == {
        "errors": {"apiKey": "Repeated parameter: apiKey", "phone": "Unknown parameter: phone"}
    }


async def test_401_bodies_never_echo_the_key(novapost: httpx.AsyncClient) -> None:
    for value in ("np_test_secretvalue0001", EXPIRED_KEY):
        assert value not in (await token_for(novapost, value)).text


# --- the JWT guarding authorized calls (GET /__mock__/whoami) ---------------------------------


async def whoami(client: httpx.AsyncClient, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return await client.get("/__mock__/whoami", headers=headers)


async def test_raw_jwt_is_accepted(novapost: httpx.AsyncClient) -> None:
    token = (await token_for(novapost, NP_KEY)).json()["jwt"]
    response = await whoami(novapost, token)
    assert response.status_code == 200
    assert response.json() == {
        "cid": "100001",
        "name": "Docs example client",
        "expiresAt": iso(NOON + timedelta(hours=1)),
    }


async def test_jwt_lives_exactly_one_hour(novapost: httpx.AsyncClient) -> None:
    token = (await token_for(novapost, NP_KEY)).json()["jwt"]
    await advance(novapost, 3599)
    assert (await whoami(novapost, token)).status_code == 200
    await advance(novapost, 1)
    response = await whoami(novapost, token)
    assert response.status_code == 401
    assert response.json() == {"errors": {"Authorization": "Token expired"}}
    fresh = (await token_for(novapost, NP_KEY)).json()["jwt"]
    assert (await whoami(novapost, fresh)).status_code == 200


def forge(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cid"] = "100002"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{tampered}.{signature}"


async def test_bearer_missing_forged_and_foreign_tokens_are_401(
    novapost: httpx.AsyncClient,
) -> None:
    token = (await token_for(novapost, NP_KEY)).json()["jwt"]
    claims = jwt.decode(token, options={"verify_signature": False})
    foreign = jwt.encode(claims, "another-secret-of-thirty-two-bytes!", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for authorization in (
        None,
        "",
        f"Bearer {token}",
        f"bearer {token}",
        forge(token),
        foreign,
        unsigned,
        "not.a.jwt",
        token[:-2],
    ):
        response = await whoami(novapost, authorization)
        assert response.status_code == 401, authorization
        assert set(response.json()) == {"errors"}
