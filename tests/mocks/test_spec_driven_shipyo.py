"""Shipyo's mock serves an operation added to its spec with no code: key plus bearer JWT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import yaml
from carrier_mocks.clock import Clock
from carrier_mocks.shipyo import create_app
from carriers import registry

from .support import NOON, SHIPYO_KEY, TOKEN_URL

ENVELOPE = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {
        "success": {"type": "boolean"},
        "data": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "status": {"type": "string", "enum": ["created", "shipped"]},
            },
        },
    },
}


def spec_with_shipment_route() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(registry.get("shipyo").spec_text())
    spec["paths"]["/api/Shipment/{id}"] = {
        "get": {
            "operationId": "get_shipment",
            "security": [{"ApiKeyHeader": [], "BearerJWT": []}],
            "parameters": [
                {"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {
                    "description": "The shipment",
                    "content": {"application/json": {"schema": ENVELOPE}},
                },
                "401": {
                    "description": "Unauthorized",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}
                        }
                    },
                },
                "404": {"description": "Unknown shipment"},
            },
        }
    }
    return spec


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(clock=Clock.fixed(NOON), spec=spec_with_shipment_route())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shipyo.test") as c:
        yield c


async def test_an_added_operation_is_served_behind_key_and_jwt(
    client: httpx.AsyncClient,
) -> None:
    token = (await client.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY})).json()["data"]
    both = {"x-api-key": SHIPYO_KEY, "Authorization": f"Bearer {token}"}
    response = await client.get("/api/Shipment/7", headers=both)
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"id": 1, "status": "created"}}

    for headers, why in [
        ({"x-api-key": SHIPYO_KEY}, "Missing credentials (BearerJWT)"),
        ({"Authorization": f"Bearer {token}"}, "Missing credentials (ApiKeyHeader)"),
        ({**both, "x-api-key": "ak_unknown000000000"}, "API key validation failed"),
        ({**both, "Authorization": "Bearer forged"}, "Invalid token"),
    ]:
        refused = await client.get("/api/Shipment/7", headers=headers)
        assert refused.status_code == 401
        assert refused.json() == {"success": False, "data": None, "message": why, "errors": [why]}

    missing = await client.get("/api/Shipment/abc", headers=both)
    assert missing.status_code == 404
    chosen = await client.get("/api/Shipment/7", headers={**both, "Prefer": "code=404"})
    assert (chosen.status_code, chosen.content) == (404, b"")
    stats = (await client.get("/__mock__/stats")).json()
    assert stats["GET /api/Shipment/{id}"] == 7
