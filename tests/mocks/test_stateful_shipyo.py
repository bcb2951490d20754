"""Shipyo's records belong to the x-api-key that made them, on a spec with one collection.

The packaged Shipyo spec has only the token route; a collection written here in
its style (the envelope, both security schemes) shows the same remembering, keyed
by the API key (by its fixture name: the key itself is never stored or shown).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from carrier_mocks.clock import Clock
from carrier_mocks.shipyo import create_app

from .support import NOON, SHIPYO_KEY, TOKEN_URL

OTHER_KEY = "ak_tenanta000000000"
PARCEL = {
    "type": "object",
    "required": ["id", "reference"],
    "properties": {"id": {"type": "integer", "minimum": 1}, "reference": {"type": "string"}},
}
SECURITY = [{"ApiKeyHeader": [], "BearerJWT": []}]
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Shipyo", "version": "1"},
    "paths": {
        "/api/Token/generate-from-apikey": {
            "get": {"security": [{"ApiKeyHeader": []}], "responses": {"200": {"description": "ok"}}}
        },
        "/api/Parcels": {
            "post": {
                "security": SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": {
                        "description": "created",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Parcel"}}
                        },
                    }
                },
            },
            "get": {
                "security": SECURITY,
                "parameters": [
                    {
                        "in": "query",
                        "name": "ids",
                        "schema": {"type": "array", "items": {"type": "integer"}},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "list",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Parcel"},
                                }
                            }
                        },
                    }
                },
            },
        },
        "/api/Parcels/{id}": {
            "get": {
                "security": SECURITY,
                "parameters": [
                    {"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "one",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Parcel"}}
                        },
                    },
                    "404": {"description": "none"},
                },
            }
        },
    },
    "components": {
        "schemas": {"Parcel": PARCEL},
        "securitySchemes": {
            "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            "BearerJWT": {"type": "http", "scheme": "bearer"},
        },
    },
}


@pytest.fixture
async def app_transport() -> AsyncIterator[httpx.ASGITransport]:
    yield httpx.ASGITransport(app=create_app(clock=Clock.fixed(NOON), spec=SPEC))


async def client(transport: httpx.ASGITransport, key: str) -> httpx.AsyncClient:
    api = httpx.AsyncClient(transport=transport, base_url="http://shipyo.test")
    token = await api.get(TOKEN_URL, headers={"x-api-key": key})
    api.headers.update({"x-api-key": key, "Authorization": f"Bearer {token.json()['data']}"})
    return api


async def test_each_key_sees_only_its_own_records(app_transport: httpx.ASGITransport) -> None:
    mine, theirs = await client(app_transport, SHIPYO_KEY), await client(app_transport, OTHER_KEY)
    made = (await mine.post("/api/Parcels", json={"reference": "R-1"})).json()
    assert made["reference"] == "R-1"
    assert (await mine.get("/api/Parcels")).json() == [made]
    assert (await mine.get("/api/Parcels", params={"ids": made["id"]})).json() == [made]
    assert (await theirs.get("/api/Parcels")).json() == []
    assert (await theirs.get(f"/api/Parcels/{made['id']}")).status_code == 404
    assert (await mine.get(f"/api/Parcels/{made['id']}")).json() == made
    state = (await mine.get("/__mock__/state")).json()
    assert [r["owner"] for r in state["records"]] == ["docs-example"]
    assert SHIPYO_KEY not in str(state)
    await mine.aclose()
    await theirs.aclose()
