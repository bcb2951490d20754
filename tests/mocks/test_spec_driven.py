"""Operations served from the spec alone: the Nova Post spec vendored with the test pages.

Every body the mock sends is checked with openapi-schema-validator, a validator
the mock does not use, against the spec as vendored.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from carrier_mocks.clock import Clock
from carrier_mocks.novapost import create_app
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.specs.whole_api import vendor_whole_api

from .support import NOON, NP_KEY

CONTROL = "http://np.test/__mock__"
SHIPMENT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PARTY = {"name": "Ola Nowak", "phone": "48600300400", "pointId": 2291}
PICKUP = {
    "date": "2025-04-02",
    "address": {"city": "Gdynia", "street": "Morska 5"},
    "contactPhone": "48500100200",
}
NEW_SHIPMENT = [{"sender": PARTY, "recipient": PARTY, "parcels": [{"weight": 1.2}]}]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    spec = vendor_whole_api(tmp_path_factory.mktemp("whole-api"))
    return json.loads(spec.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
async def client(spec: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(clock=Clock.fixed(NOON), spec=spec)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://np.test/v.1.0") as c:
        response = await c.get("/clients/authorization", params={"apiKey": NP_KEY})
        c.headers["Authorization"] = response.json()["jwt"]
        yield c


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/")]
        node = target
    return node


def conforms(spec: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    """The status is documented for the operation and the body fits its schema."""
    op = spec["paths"][path][method.lower()]
    doc = _resolve(spec, op["responses"].get(str(response.status_code)))
    assert doc is not None, f"{method} {path}: {response.status_code} is not documented"
    content = doc.get("content") or {}
    if not content:
        return
    media = response.headers["content-type"].split(";")[0]
    assert media in content, f"{media} is not documented for {response.status_code}"
    if media != "application/json":
        assert response.content, "a file response is not empty"
        return
    schema = {**content[media]["schema"], "components": spec["components"]}
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(response.json())


def operations(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "patch", "delete") and path not in (
                "/test-api-keys",
                "/clients/authorization",
            ):
                for status in op["responses"]:
                    out.append((method.upper(), path, status))
    return out


def concrete(path: str) -> str:
    path = path.replace("{registerId}", "7351").replace("{shipmentNumber}", "20450098765432")
    numbered = "points" in path or "pickups" in path  # integer ids
    return path.replace("{id}", "12" if numbered else SHIPMENT).replace("{shipmentId}", SHIPMENT)


def valid_body(path: str) -> Any:
    return {
        "/shipments": NEW_SHIPMENT,
        "/shipments/cancellation": {"ids": [SHIPMENT]},
        "/webhooks": {"url": "https://shop.example/hooks", "events": ["status.changed"]},
        "/registers": {"name": "Evening courier", "shipments": [SHIPMENT]},
        "/registers/{registerId}/rename": {"name": "Late"},
        "/sdk/php": {"version": "1.4.2"},
        "/pickups": PICKUP,
        "/pickups/{id}/shipments": {"id": SHIPMENT},
    }.get(path)


def valid_params(path: str) -> dict[str, str]:
    return {"/dictionaries/cities": {"name": "Wars"}, "/dictionaries/points": {"cityId": "7"}}.get(
        path, {}
    )


async def test_every_documented_response_is_reachable_and_valid(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    cases = operations(spec)
    assert len({(m, p) for m, p, _ in cases}) >= 29  # the test pages' operations
    for method, path, status in cases:
        response = await client.request(
            method,
            concrete(path),
            params=valid_params(path),
            json=valid_body(path) if method in ("POST", "PATCH") else None,
            headers={"Prefer": f"code={status}"},
        )
        assert response.status_code == int(status), (method, path, response.text)
        conforms(spec, method, path, response)


async def test_a_valid_request_gets_the_lowest_documented_2xx(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    # Deletes last, members before their pickup: a deleted record is gone (404) from then on.
    ops = {(m, p) for m, p, _ in operations(spec)}
    for method, path in sorted(ops, key=lambda op: (op[0] == "DELETE", -len(op[1]), op)):
        response = await client.request(
            method,
            concrete(path),
            params=valid_params(path),
            json=valid_body(path) if method in ("POST", "PATCH") else None,
        )
        wanted = min(s for s in spec["paths"][path][method.lower()]["responses"] if s[0] == "2")
        assert response.status_code == int(wanted), (method, path, response.text)
        conforms(spec, method, path, response)


async def test_binary_responses_are_files_of_their_media_type(client: httpx.AsyncClient) -> None:
    label = await client.get(f"/shipments/{SHIPMENT}/label")
    assert label.headers["content-type"] == "application/pdf"
    assert label.content.startswith(b"%PDF-")
    barcode = await client.get(f"/shipments/{SHIPMENT}/barcode")
    assert barcode.headers["content-type"] == "image/png"
    assert barcode.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_spec_example_is_the_default_answer(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    op = spec["paths"]["/dictionaries/currencies"]["get"]
    media = op["responses"]["200"]["content"]["application/json"]
    example = media.get("example", next(iter(media.get("examples", {}).values()), {}).get("value"))
    assert example is not None, "the currencies page carries an example"
    response = await client.get("/dictionaries/currencies")
    assert response.json() == example


async def test_prefer_picks_a_named_example_and_says_when_it_is_unknown(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    named = [
        (path, method, status, name, example["value"])
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
        for status, response in op["responses"].items()
        for name, example in (
            _resolve(spec, response).get("content", {}).get("application/json", {}).get("examples")
            or {}
        ).items()
    ]
    assert named, "the test pages carry named response examples"
    path, method, status, name, value = named[0]
    response = await client.request(
        method.upper(),
        concrete(path),
        params=valid_params(path),
        json=valid_body(path) if method == "post" else None,
        headers={"Prefer": f"code={status}, example={name}"},
    )
    assert (response.status_code, response.json()) == (int(status), value)

    unknown = await client.get("/dictionaries/currencies", headers={"Prefer": "example=nope"})
    assert unknown.status_code == 404
    assert "no example named 'nope'" in unknown.text

    code = await client.get("/dictionaries/currencies", headers={"Prefer": "code=418"})
    assert code.status_code == 404
    assert "no response with code 418" in code.text


async def test_query_parameters_select_when_no_prefer_header_is_sent(
    client: httpx.AsyncClient,
) -> None:
    by_query = await client.get(f"/shipments/{SHIPMENT}", params={"__code": "404"})
    assert by_query.status_code == 404
    header_wins = await client.get(
        f"/shipments/{SHIPMENT}", params={"__code": "404"}, headers={"Prefer": "code=200"}
    )
    assert header_wins.status_code == 200
    bad = await client.get(
        "/dictionaries/cities", params={"name": "Wars"}, headers={"Prefer": "code=abc"}
    )
    assert bad.status_code == 422  # the operation's own 4xx for a request it cannot take
    assert "not an HTTP status code" in bad.text
    undocumented = await client.get("/dictionaries/currencies", params={"__dynamic": "maybe"})
    assert undocumented.status_code == 400  # no input, so no 4xx documented: plain 400
    # an empty example name selects nothing (fuzzers send one): the default answer
    empty = await client.get("/dictionaries/currencies", params={"__example": ""})
    assert empty.status_code == 200
    assert empty.json() == (await client.get("/dictionaries/currencies")).json()


async def test_dynamic_answers_vary_and_stay_valid(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    bodies = []
    for _ in range(30):
        response = await client.get(
            "/shipments", params={"__dynamic": "true"}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 200
        conforms(spec, "GET", "/shipments", response)
        bodies.append(response.text)
    assert len(set(bodies)) > 15
    static = {(await client.get("/shipments")).text for _ in range(3)}
    assert len(static) == 1


async def test_request_validation_runs_before_the_preference(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/shipments", json={"not": "a list"}, headers={"Prefer": "code=200"}
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"body": "The request body must be of type array"}}
    missing = await client.get("/dictionaries/cities", headers={"Prefer": "code=200"})
    assert missing.status_code == 422
    assert "Missing required query parameter 'name'" in missing.text
    wrong_type = await client.get("/dictionaries/points", params={"cityId": "seven"})
    assert wrong_type.status_code == 422
    assert wrong_type.json() == {
        "errors": {"cityId": "The query parameter 'cityId' must be of type integer"}
    }
    bad_path = await client.get("/dictionaries/points/abc")
    assert bad_path.status_code == 422  # as Prism answers it, though a 404 is documented too
    bad_media = await client.post(
        "/webhooks", content=b"url=x", headers={"Content-Type": "text/plain"}
    )
    assert bad_media.status_code == 422
    assert "Content-Type must be application/json" in bad_media.text
    not_json = await client.post(
        "/webhooks", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert (not_json.status_code, not_json.json()) == (
        422,
        {"errors": {"body": "The request body is not valid JSON"}},
    )


async def test_error_messages_never_echo_the_values_sent(client: httpx.AsyncClient) -> None:
    secret = "np_live_SECRET_value_123"
    response = await client.get("/dictionaries/points", params={"cityId": secret})
    assert response.status_code == 422
    assert secret not in response.text
    response = await client.post(
        "/webhooks", json={"url": "https://x.example/", "events": [secret, 1]}
    )
    assert response.status_code == 422
    assert secret not in response.text


async def test_repeated_array_query_names_are_read_as_arrays(client: httpx.AsyncClient) -> None:
    ok = await client.get("/shipments", params=[("ids[]", SHIPMENT), ("ids[]", SHIPMENT)])
    assert ok.status_code == 200
    bad = await client.get("/shipments", params=[("ids[]", SHIPMENT), ("ids[]", "nope")])
    assert bad.status_code == 422
    assert "ids[]" in bad.text


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "Missing credentials (JWT)"),
        ("not-a-jwt", "Invalid token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJjaWQiOiIxIn0.Zm9yZ2Vk", "Invalid token"),
    ],
)
async def test_missing_or_forged_jwts_are_401(
    client: httpx.AsyncClient, spec: dict[str, Any], authorization: str | None, reason: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    if authorization is None:
        del client.headers["Authorization"]
    response = await client.get("/dictionaries/currencies", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"errors": {"Authorization": reason}}
    conforms(spec, "GET", "/dictionaries/currencies", response)


async def test_bearer_prefix_expiry_and_revocation_are_401(client: httpx.AsyncClient) -> None:
    token = client.headers["Authorization"]
    prefixed = await client.get("/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert prefixed.status_code == 401
    assert "without 'Bearer '" in prefixed.text
    assert (await client.get("/webhooks")).status_code == 200
    await client.post(f"{CONTROL}/clock", json={"advance_seconds": 3600})
    expired = await client.get("/webhooks")
    assert (expired.status_code, expired.json()) == (
        401,
        {"errors": {"Authorization": "Token expired"}},
    )
    fresh = await client.get("/clients/authorization", params={"apiKey": NP_KEY})
    client.headers["Authorization"] = fresh.json()["jwt"]
    assert (await client.get("/webhooks")).status_code == 200
    await client.post(f"{CONTROL}/revoke")
    assert (await client.get("/webhooks")).status_code == 401


async def test_control_routes_cover_spec_driven_operations(client: httpx.AsyncClient) -> None:
    await client.post(f"{CONTROL}/reset")
    fresh = await client.get("/clients/authorization", params={"apiKey": NP_KEY})
    client.headers["Authorization"] = fresh.json()["jwt"]
    fault = await client.post(
        f"{CONTROL}/faults", json={"route": "GET /webhooks", "status": 503, "retry_after": 2}
    )
    assert fault.status_code == 200, fault.text
    injected = await client.get("/webhooks")
    assert (injected.status_code, injected.headers["Retry-After"]) == (503, "2")
    assert (await client.get("/webhooks")).status_code == 200
    stats = (await client.get(f"{CONTROL}/stats")).json()
    assert stats["GET /webhooks"] == 2
    assert stats["GET /shipments/{id}"] == 0
    await client.post(f"{CONTROL}/reset")
    assert (await client.get(f"{CONTROL}/stats")).json()["GET /webhooks"] == 0


async def test_undeclared_methods_are_405_listing_the_declared_ones(
    client: httpx.AsyncClient,
) -> None:
    # /shipments/cancellation is not /shipments/{id}: GET is not declared there.
    response = await client.get("/shipments/cancellation")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    put = await client.put("/shipments")
    assert (put.status_code, put.headers["Allow"]) == (405, "GET, HEAD, POST")


async def test_hostile_requests_get_a_4xx_never_a_500(client: httpx.AsyncClient) -> None:
    json_type = {"Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = (await client.post("/shipments", content=deep, headers=json_type)).status_code
    assert nested == 422
    big = b'[{"clientReference": "' + b"x" * (2 * 1024 * 1024) + b'"}]'
    assert (await client.post("/shipments", content=big, headers=json_type)).status_code == 422
    bad_utf8 = await client.post("/webhooks", content=b'{"url": "\xff"}', headers=json_type)
    assert bad_utf8.status_code == 422
    many = [("ids[]", SHIPMENT)] * 1000
    assert (await client.get("/shipments", params=many)).status_code == 200
    nan = await client.post("/webhooks", content=b'{"url": NaN}', headers=json_type)
    assert nan.status_code == 422


async def test_a_spec_with_a_broken_schema_still_answers() -> None:
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "get": {
                    "parameters": [
                        {"in": "query", "name": "q", "schema": {"type": "string", "pattern": "["}},
                        {"in": "query", "name": "r", "schema": {"$ref": "#/components/schemas/No"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "string", "pattern": "(unclosed"}
                                }
                            },
                        }
                    },
                }
            }
        },
    }
    app = create_app(clock=Clock.fixed(NOON), spec=spec)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://np.test/v.1.0") as c:
        response = await c.get("/things", params={"q": "anything", "r": "x"})
    assert response.status_code == 200
    assert isinstance(response.json(), str)


async def test_a_path_parameter_holding_a_newline_reaches_its_operation(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    response = await client.get("/shipments/ka_R%0Az")
    assert response.status_code == 422  # the uuid check, not a routing 404 in another shape
    conforms(spec, "GET", "/shipments/{id}", response)


async def test_documented_413_and_415_answer_those_problems() -> None:
    error = {"description": "no", "content": {"application/json": {"schema": {"type": "object"}}}}
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}}
                    },
                    "responses": {
                        "201": {"description": "made"},
                        "400": error,
                        "413": error,
                        "415": {  # an error shape not the API's: the documented one is sent
                            "description": "unsupported",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["code"],
                                        "properties": {"code": {"type": "integer", "minimum": 7}},
                                    }
                                }
                            },
                        },
                    },
                }
            }
        },
    }
    app = create_app(clock=Clock.fixed(NOON), spec=spec)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://np.test/v.1.0") as c:
        assert (await c.post("/things", json={})).status_code == 201
        big = await c.post("/things", json={"x": "y" * (2 * 1024 * 1024)})
        assert (big.status_code, big.json()) == (
            413,
            {"errors": {"body": "Request body too large"}},
        )
        text = await c.post("/things", content=b"{}", headers={"Content-Type": "text/plain"})
        assert (text.status_code, text.json()) == (415, {"code": 7})
        broken = await c.post("/things", content=b"{", headers={"Content-Type": "application/json"})
        assert broken.status_code == 400
