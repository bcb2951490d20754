"""What real clients send, and bodies checked at every depth, on small specs written here.

PHP's ``http_build_query`` (and so the official SDK) sends arrays as ``refs[0]=1``,
Node's fetch sends ``Accept-Language: *``; a body's nested array items are
checked even where another keyword of the schema is in a dialect Python's ``re``
does not read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from carrier_mocks.clock import Clock
from carrier_mocks.novapost import create_app
from carrier_mocks.openapi.inputs import negotiate

from .support import NOON, NP_KEY

ERROR = {"type": "object", "properties": {"errors": {"type": "object"}}}


def _op(parameters: list[Any], body: Any = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "security": [{"JWT": []}],
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "422": {"description": "bad", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


SPEC: dict[str, Any] = {
    "openapi": "3.0.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/divisions": {
            "get": _op(
                [
                    {
                        "in": "header",
                        "name": "Accept-Language",
                        "schema": {"type": "string", "enum": ["uk", "en", "pl"]},
                    },
                    {
                        "in": "header",
                        "name": "Accept",
                        "required": True,
                        "schema": {"type": "string", "enum": ["application/json"]},
                    },
                    {
                        "in": "query",
                        "name": "countryCodes[]",
                        "schema": {
                            "type": "array",
                            "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
                        },
                    },
                ]
            )
        },
        "/divisions/by-refs": {
            "get": _op(
                [
                    {
                        "in": "query",
                        "name": "refs[]",
                        "required": True,
                        "schema": {"type": "array", "items": {"type": "integer"}},
                    }
                ]
            )
        },
        "/invoices": {
            "post": _op(
                [],
                {
                    "type": "object",
                    "properties": {
                        "recipient": {"type": "string", "pattern": "^[\\p{L} ]+$"},
                        "weight": {"type": "number", "maximum": "30"},
                        "invoice": {
                            "type": "object",
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {"packingType": {"type": "string"}},
                                    },
                                }
                            },
                        },
                    },
                },
            )
        },
    },
    "components": {
        "securitySchemes": {"JWT": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    },
}


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(clock=Clock.fixed(NOON), spec=SPEC)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://np.test/v.1.0") as client:
        token = await client.get("/clients/authorization", params={"apiKey": NP_KEY})
        client.headers["Authorization"] = token.json()["jwt"]
        yield client


async def test_a_required_array_in_php_form_is_read(api: httpx.AsyncClient) -> None:
    for query in ("refs[0]=1&refs[1]=2", "refs[]=1&refs[]=2", "refs=1&refs=2"):
        answer = await api.get(f"/divisions/by-refs?{query}")
        assert answer.status_code == 200, (query, answer.text)
    wrong = await api.get("/divisions/by-refs?refs[0]=1&refs[1]=two")
    assert wrong.status_code == 422 and "refs[]" in wrong.text
    missing = await api.get("/divisions/by-refs")
    assert missing.status_code == 422


async def test_an_optional_array_in_php_form_is_checked_not_ignored(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("/divisions?countryCodes[0]=CZ")).status_code == 200
    assert (await api.get("/divisions?countryCodes[0]=Czechia")).status_code == 422


@pytest.mark.parametrize(
    "language", ["*", "en-US,en;q=0.9", "fr-FR, pl;q=0.5", "fr", "uk-UA", "en;q=0, *;q=0.1"]
)
async def test_accept_language_is_read_as_http_says(api: httpx.AsyncClient, language: str) -> None:
    answer = await api.get("/divisions", headers={"Accept-Language": language})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("accept", ["*/*", "text/html, application/json;q=0.9", None])
async def test_an_accept_parameter_is_ignored_as_openapi_says(
    api: httpx.AsyncClient, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    if accept is None:  # httpx sends */* by default: send none at all
        api.headers.pop("Accept", None)
    assert (await api.get("/divisions", headers=headers)).status_code == 200


def test_negotiation_picks_the_best_listed_value_else_the_default() -> None:
    schema = {"type": "string", "enum": ["uk", "en", "pl"]}
    assert negotiate(["fr;q=0.9, pl;q=0.5, en;q=0.7"], schema) == ["en"]
    assert negotiate(["uk-UA"], schema) == ["uk"]
    assert negotiate(["*"], schema) == ["uk"]
    assert negotiate(["*"], {**schema, "default": "pl"}) == ["pl"]
    assert negotiate(["application/json;q=0.5, text/html"], {"type": "string"}) == ["text/html"]


async def test_nested_array_items_are_checked_whatever_else_the_schema_holds(
    api: httpx.AsyncClient,
) -> None:
    good = {"recipient": "Łucja Nowak", "weight": 2, "invoice": {"items": [{"packingType": "box"}]}}
    assert (await api.post("/invoices", json=good)).status_code == 200
    nested = {**good, "invoice": {"items": [{"packingType": 5}]}}
    refused = await api.post("/invoices", json=nested)
    assert refused.status_code == 422
    assert "invoice/items/0/packingType" in refused.text
    assert (await api.post("/invoices", json={**good, "weight": 31})).status_code == 422
    assert (await api.post("/invoices", json={**good, "recipient": "R2-D2"})).status_code == 422


def test_recursive_and_shared_schemas_are_checked_at_every_depth() -> None:
    from carrier_mocks.openapi.schemas import SchemaSet

    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            "owner": {"$ref": "#/components/schemas/Party"},
        },
    }
    party = {"type": "object", "properties": {"phone": {"type": "string"}}}
    schemas = SchemaSet(
        {"openapi": "3.0.0", "components": {"schemas": {"Node": node, "Party": party}}}
    )
    tree: dict[str, Any] = {"name": "root", "owner": {"phone": "1"}}
    leaf = tree
    for depth in range(30):  # deeper than named schemas are inlined
        child: dict[str, Any] = {"name": f"n{depth}", "owner": {"phone": "2"}}
        leaf["children"] = [child]
        leaf = child
    ref = {"$ref": "#/components/schemas/Node"}
    assert schemas.first_problem(tree, ref, "tree") is None
    leaf["owner"] = {"phone": 3}
    problem = schemas.first_problem(tree, ref, "tree")
    assert problem is not None and problem.endswith("owner/phone must be of type string")
