"""The hand-written Shipyo spec carries everything its docs page documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate

SPEC = Path(__file__).resolve().parents[2] / "specs" / "shipyo" / "openapi.yaml"

PAGE_EXAMPLES = {
    "200": {"success": True, "message": "Token generated successfully"},
    "400": {
        "success": False,
        "message": "API Key is not active or expired",
        "errors": ["API key is inactive"],
    },
    "401": {
        "success": False,
        "message": "API Key is missing.",
        "errors": ["Missing x-api-key header"],
    },
    "403": {
        "success": False,
        "message": "Invalid API Key.",
        "errors": ["API key validation failed"],
    },
    "422": {
        "success": False,
        "message": "API key restrictions",
        "errors": ["IP address not allowed for this API key"],
    },
    "500": {
        "success": False,
        "message": "Internal server error",
        "errors": ["Token generation service unavailable"],
    },
}


def load() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_spec_is_valid_openapi() -> None:
    validate(load())


def test_servers_and_security_schemes() -> None:
    spec = load()
    assert [s["url"] for s in spec["servers"]] == ["https://shipyo.it", "https://staging.shipyo.it"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {
        **schemes["ApiKeyHeader"],
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert (
        schemes["BearerJWT"]["scheme"] == "bearer" and schemes["BearerJWT"]["bearerFormat"] == "JWT"
    )
    op = spec["paths"]["/api/Token/generate-from-apikey"]["get"]
    assert op["security"] == [{"ApiKeyHeader": []}]


def test_every_documented_status_with_the_page_example() -> None:
    responses = load()["paths"]["/api/Token/generate-from-apikey"]["get"]["responses"]
    assert set(responses) == set(PAGE_EXAMPLES)
    for status, expected in PAGE_EXAMPLES.items():
        example = responses[status]["content"]["application/json"]["example"]
        assert {k: example.get(k) for k in expected} == expected, status
        assert responses[status]["description"].strip()
