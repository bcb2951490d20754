"""The Acme mock, in-process: it keeps to its spec, so contract runs judge the suite.

The mock is a third-party carrier's own code, but it is assembled from
``carrier_mocks``' parts; these tests also show which of those parts hold for a
carrier whose operations differ from the built-in ones.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import validate

from tests.registry.support import ACME_SOURCES, KEY

SPEC: dict[str, Any] = yaml.safe_load((ACME_SOURCES / "openapi.yaml").read_text("utf-8"))
PARCEL = "/parcels/{parcel_id}"


def conforms(response: httpx.Response, path: str) -> Any:
    """The body, once checked against the schema the spec documents for its status."""
    documented = SPEC["paths"][path]["get"]["responses"]
    assert str(response.status_code) in documented, response.text
    reference = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    body = response.json()
    validate(body, SPEC["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]])
    return body


@pytest.fixture
async def mock(acme_modules: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process; an exception in it fails the test instead of becoming a 500."""
    app = importlib.import_module("acme_carrier.mock").create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://acme.test") as client:
        yield client


async def jwt(mock: httpx.AsyncClient) -> str:
    response = await mock.get("/auth/token", headers={"X-Acme-Key": KEY})
    token: str = conforms(response, "/auth/token")["token"]
    return token


def bearer(token: str, key: str | None = KEY) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["X-Acme-Key"] = key
    return headers


async def test_the_docs_key_gets_a_jwt(mock: httpx.AsyncClient) -> None:
    assert (await jwt(mock)).count(".") == 2


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Acme-Key": ""}, {"X-Acme-Key": "acme_test_wrong"}, {"x-api-key": KEY}],
    ids=["missing", "empty", "unknown", "other-header"],
)
async def test_any_other_key_is_a_documented_401(
    mock: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await mock.get("/auth/token", headers=headers)
    assert response.status_code == 401
    conforms(response, "/auth/token")


async def test_a_repeated_key_header_is_a_documented_401(mock: httpx.AsyncClient) -> None:
    response = await mock.get("/auth/token", headers=[("X-Acme-Key", KEY), ("X-Acme-Key", KEY)])
    assert response.status_code == 401
    conforms(response, "/auth/token")


@pytest.mark.parametrize("key", [KEY, None], ids=["with-key", "jwt-only"])
async def test_a_parcel_with_a_jwt(mock: httpx.AsyncClient, key: str | None) -> None:
    response = await mock.get("/parcels/ACME000001", headers=bearer(await jwt(mock), key))
    assert conforms(response, PARCEL) == {
        "id": "ACME000001",
        "status": "in_transit",
        "weight_grams": 1200,
    }


@pytest.mark.parametrize("parcel_id", ["ACME999999", "acme000001", "ACME1", "%20", "A" * 300])
async def test_unknown_or_malformed_parcel_is_a_documented_404(
    mock: httpx.AsyncClient, parcel_id: str
) -> None:
    response = await mock.get(f"/parcels/{parcel_id}", headers=bearer(await jwt(mock)))
    assert response.status_code == 404
    conforms(response, PARCEL)


async def test_refusals_of_the_jwt_are_documented_401s(mock: httpx.AsyncClient) -> None:
    token = await jwt(mock)
    refused = [
        {},
        {"Authorization": token},  # no Bearer scheme
        {"Authorization": "Bearer "},
        bearer(token + "x"),
        bearer(token, key="acme_test_wrong"),
        [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")],
    ]
    for headers in refused:
        response = await mock.get("/parcels/ACME000001", headers=headers)
        assert response.status_code == 401, headers
        conforms(response, PARCEL)


async def test_revoked_and_expired_jwts_are_refused(mock: httpx.AsyncClient) -> None:
    token = await jwt(mock)
    assert (await mock.post("/__mock__/revoke")).status_code == 200
    assert (await mock.get("/parcels/ACME000001", headers=bearer(token))).status_code == 401
    token = await jwt(mock)
    assert (await mock.post("/__mock__/clock", json={"advance_seconds": 3600})).status_code == 200
    response = await mock.get("/parcels/ACME000001", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == {"error": "Token expired"}


async def test_off_spec_requests_get_the_error_body_never_a_500(mock: httpx.AsyncClient) -> None:
    for method, path in [("POST", "/auth/token"), ("GET", "/nowhere"), ("GET", "/parcels/")]:
        response = await mock.request(method, path)
        assert response.status_code in (404, 405), (method, path)
        assert set(response.json()) == {"error"}
    assert (await mock.post("/auth/token")).headers["Allow"] == "GET, HEAD"


async def test_control_routes_work_for_the_token_operation(mock: httpx.AsyncClient) -> None:
    fault = {"route": "GET /auth/token", "status": 503, "retry_after": 1}
    assert (await mock.post("/__mock__/faults", json=fault)).status_code == 200
    faulted = await mock.get("/auth/token", headers={"X-Acme-Key": KEY})
    assert (faulted.status_code, faulted.json(), faulted.headers["Retry-After"]) == (
        503,
        {"error": "Service Unavailable"},
        "1",
    )
    await jwt(mock)
    assert (await mock.get("/__mock__/stats")).json()["GET /auth/token"] == 2
    whoami = await mock.get("/__mock__/whoami", headers=bearer(await jwt(mock)))
    assert whoami.json()["account"] == "docs"


async def test_control_routes_work_for_an_operation_with_a_path_template(
    mock: httpx.AsyncClient,
) -> None:
    token = await jwt(mock)
    fault = {"route": "GET /parcels/{parcel_id}", "status": 503}
    assert (await mock.post("/__mock__/faults", json=fault)).status_code == 200
    assert (await mock.get("/parcels/ACME000001", headers=bearer(token))).status_code == 503
    assert (await mock.get("/__mock__/stats")).json()["GET /parcels/{parcel_id}"] == 1
