"""Malformed requests get a documented 4xx in the API's body shape: never a 500, never a hang."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from carrier_mocks.parsing import MAX_BODY_BYTES

from .support import NP_KEY, NP_PHONE, SHIPYO_KEY, TOKEN_URL

KEYS = "/v.1.0/test-api-keys"
AUTH = "/v.1.0/clients/authorization"


def np_errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    errors: list[str] = body["errors"]
    return errors


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "Malformed JSON body"),
        (b'{"phone": "498213437654",}', "Malformed JSON body"),
        (b"\xff\xfe{}", "Malformed JSON body"),
        ('\ufeff{"phone": "498213437654"}'.encode(), "Malformed JSON body"),
        (b'{"phone": NaN}', "Malformed JSON body"),
        (b"[" * 50000 + b"]" * 50000, "Request body too large"),
        (b"[" * 20000 + b"]" * 20000, "Malformed JSON body"),  # too deep to parse
        (b'["498213437654"]', "Request body must be a JSON object"),
        (b'"498213437654"', "Request body must be a JSON object"),
        (b"null", "Request body must be a JSON object"),
        (b'{"phone": "498213437654", "phone": "491000000001"}', "Repeated parameter: phone"),
    ],
)
async def test_malformed_json_is_400(
    novapost: httpx.AsyncClient, content: bytes, message: str
) -> None:
    response = await novapost.post(
        KEYS, content=content, headers={"content-type": "application/json"}
    )
    assert np_errors(response) == [message]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
async def test_wrong_content_type_is_400(novapost: httpx.AsyncClient, content_type: str) -> None:
    response = await novapost.post(
        KEYS, content=b'{"phone": "498213437654"}', headers={"content-type": content_type}
    )
    assert np_errors(response) == ["Content-Type must be application/json"]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd+json"]
)
async def test_json_media_type_variants_are_accepted(
    novapost: httpx.AsyncClient, content_type: str
) -> None:
    response = await novapost.post(
        KEYS, content=b'{"phone": "498213437654"}', headers={"content-type": content_type}
    )
    assert response.status_code == 200


async def test_huge_declared_body_is_refused_before_reading(novapost: httpx.AsyncClient) -> None:
    body = b'{"phone": "' + b"4" * (MAX_BODY_BYTES + 1) + b'"}'
    response = await novapost.post(KEYS, content=body, headers={"content-type": "application/json"})
    assert np_errors(response) == ["Request body too large"]


async def test_huge_streamed_body_is_refused(novapost: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"phone": "'
        for _ in range(1000):  # 64 MiB if it were all read
            sent += 1
            yield b"4" * 65536

    response = await novapost.post(
        KEYS, content=chunks(), headers={"content-type": "application/json"}
    )
    assert np_errors(response) == ["Request body too large"]
    assert sent < 1000  # refused as soon as the limit was crossed


async def test_non_ascii_body_is_a_format_error(novapost: httpx.AsyncClient) -> None:
    response = await novapost.post(KEYS, json={"phone": "49821343765😀"})
    assert np_errors(response) == ["Invalid phone format"]
    response = await novapost.post(KEYS, json={"phone": NP_PHONE, "телефон": "1"})
    assert np_errors(response) == ["Unknown parameter: телефон"]


async def test_unknown_query_parameters_on_post_are_400(novapost: httpx.AsyncClient) -> None:
    response = await novapost.post(KEYS, json={"phone": NP_PHONE}, params={"phone": NP_PHONE})
    assert np_errors(response) == ["Unknown parameter: phone"]


async def test_control_characters_in_names_are_not_echoed(novapost: httpx.AsyncClient) -> None:
    response = await novapost.post(KEYS, json={"phone": NP_PHONE, "a\u0000\u001bb" + "x" * 200: 1})
    (message,) = np_errors(response)
    assert message.startswith("Unknown parameter: a??b")
    assert len(message) < 100


@pytest.mark.parametrize(
    "query",
    [
        "apiKey=a&apiKey=b",
        f"apiKey={NP_KEY}&extra=1",
        "apikey=" + NP_KEY,
        "%ff%fe=1",
        "apiKey[]=" + NP_KEY,
        "apiKey",  # an empty key is a missing one
    ],
)
async def test_bad_query_on_the_token_route_is_422(novapost: httpx.AsyncClient, query: str) -> None:
    response = await novapost.get(f"{AUTH}?{query}")
    assert response.status_code == 422
    assert set(response.json()) == {"errors"}


@pytest.mark.parametrize("query", ["apiKey=%ff%fe", "apiKey=%00", "apiKey=" + "k" * 10000])
async def test_odd_api_key_values_are_401(novapost: httpx.AsyncClient, query: str) -> None:
    response = await novapost.get(f"{AUTH}?{query}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", KEYS, 405, "POST"),
        ("PUT", KEYS, 405, "POST"),
        ("POST", AUTH, 405, "GET, HEAD"),
        ("DELETE", AUTH, 405, "GET, HEAD"),
        ("GET", "/v.1.0/nope", 404, None),
        ("GET", f"{AUTH}/", 404, None),
        ("GET", "/clients/authorization", 404, None),  # outside the /v.1.0 mount
        ("GET", "/", 404, None),
    ],
)
async def test_routing_errors_use_the_error_body(
    novapost: httpx.AsyncClient, method: str, path: str, status: int, allow: str | None
) -> None:
    response = await novapost.request(method, path)
    assert response.status_code == status
    assert response.json()["success"] is False
    assert response.headers.get("allow") == allow


# --- Shipyo ------------------------------------------------------------------------------------


async def test_shipyo_repeated_key_header_is_401(shipyo: httpx.AsyncClient) -> None:
    headers = [("x-api-key", SHIPYO_KEY), ("x-api-key", SHIPYO_KEY)]
    response = await shipyo.get(TOKEN_URL, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"] == ["Repeated header: x-api-key"]


async def test_shipyo_repeated_tenant_header_is_400(shipyo: httpx.AsyncClient) -> None:
    headers = [("x-api-key", SHIPYO_KEY), ("x-tenant-id", "a"), ("x-tenant-id", "b")]
    response = await shipyo.get(TOKEN_URL, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"] == ["Repeated header: x-tenant-id"]


@pytest.mark.parametrize("query", ["debug=1", "x-api-key=" + SHIPYO_KEY, "%ff=1"])
async def test_shipyo_query_parameters_are_400(shipyo: httpx.AsyncClient, query: str) -> None:
    response = await shipyo.get(f"{TOKEN_URL}?{query}", headers={"x-api-key": SHIPYO_KEY})
    assert response.status_code == 400
    assert response.json()["success"] is False


async def test_shipyo_ignores_a_body_on_get(shipyo: httpx.AsyncClient) -> None:
    response = await shipyo.request(
        "GET", TOKEN_URL, headers={"x-api-key": SHIPYO_KEY}, content=b"\xff" * (MAX_BODY_BYTES * 2)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", TOKEN_URL, 405),
        ("DELETE", TOKEN_URL, 405),
        ("GET", "/api/token/generate-from-apikey", 404),
        ("GET", "/v.1.0" + TOKEN_URL, 404),
    ],
)
async def test_shipyo_routing_errors_use_the_envelope(
    shipyo: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await shipyo.request(method, path, headers={"x-api-key": SHIPYO_KEY})
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"success", "data", "message", "errors"}
    assert body["success"] is False


# --- control routes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__mock__/clock", b"{"),
        ("/__mock__/clock", b'{"advance_seconds": -1}'),
        ("/__mock__/clock", b'{"advance_seconds": "60"}'),
        ("/__mock__/clock", b'{"advance_seconds": true}'),
        ("/__mock__/clock", b'{"advance_seconds": 1e300}'),
        ("/__mock__/clock", b'{"advance": 60}'),
        ("/__mock__/clock", b"[]"),
        ("/__mock__/faults", b"{}"),
        ("/__mock__/faults", b'{"route": "GET /nope", "status": 503}'),
        ("/__mock__/faults", b'{"route": "GET /clients/authorization"}'),
        ("/__mock__/faults", b'{"route": "GET /clients/authorization", "status": 200}'),
        ("/__mock__/faults", b'{"route": "GET /clients/authorization", "status": 503, "x": 1}'),
        ("/__mock__/faults", b'{"route": "GET /clients/authorization", "count": 0, "drop": true}'),
        ("/__mock__/faults", b'{"route": "GET /clients/authorization", "delay": -1}'),
        ("/__mock__/faults", b'{"route": "GET /clients/authorization", "delay": 1e9}'),
        ("/__mock__/faults", b'{"route": "GET /clients/authorization", "drop": "yes"}'),
        (
            "/__mock__/faults",
            b'{"route": "GET /clients/authorization", "drop": true, "status": 503}',
        ),
        (
            "/__mock__/faults",
            b'{"route": "GET /clients/authorization", "retry_after": 1, "delay": 1}',
        ),
    ],
)
async def test_bad_control_requests_are_400(
    novapost: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = await novapost.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)
    assert (await novapost.get("/__mock__/stats")).status_code == 200


async def test_unknown_fault_route_lists_the_known_ones(novapost: httpx.AsyncClient) -> None:
    response = await novapost.post("/__mock__/faults", json={"route": "GET /x", "status": 503})
    assert "GET /clients/authorization" in response.json()["error"]
    assert "GET /__mock__/whoami" in response.json()["error"]
