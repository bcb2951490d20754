"""A small API of the tests' own, in Nova Post's list shape, generated into a temp dir.

``GET /registers`` pages like Nova Post's lists (query ``page`` and ``limit``; an
answer with ``current_page``, ``last_page``, ``per_page``, ``total``, ``from``,
``to``, ``items``), its items carry a camelCase integer field, ``GET
/registers/{id}`` is no list, and ``GET /clients/authorization`` mints. The
client is generated with the project's own generator and templates as
``pagedapi_client`` and called through :class:`PagedApi`, a facade built on
``carriers.Carrier`` with Nova Post's auth flow.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from carriers import Carrier
from carriers.auth import NovaPostAuth
from carriers.registry import CarrierInfo

from tools.generate import generate_into

PACKAGE = "pagedapi_client"
BASE = "https://paged.example/v1"

_REGISTER = {
    "type": "object",
    "required": ["id", "number", "responsiblePerson"],
    "properties": {
        "id": {"type": "string"},
        "number": {"type": "string"},
        "responsiblePerson": {"type": "integer"},
        "createdAt": {"type": "string", "format": "date-time"},
    },
}
_PAGE = {
    "type": "object",
    "required": ["current_page", "last_page", "per_page", "total"],
    "properties": {
        "current_page": {"type": "integer"},
        "last_page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "total": {"type": "integer"},
        "from": {"type": "integer", "nullable": True},
        "to": {"type": "integer", "nullable": True},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Register"}},
    },
}


def _json(schema: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": "OK", "content": {"application/json": {"schema": ref}}}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"in": "query", "name": name, "required": required, "schema": schema}


SPEC: dict[str, Any] = {
    "openapi": "3.0.0",
    "info": {"title": "Paged API", "version": "1.0.0"},
    "servers": [{"url": BASE}],
    "paths": {
        "/clients/authorization": {
            "get": {
                "operationId": "getToken",
                "tags": ["auth"],
                "parameters": [_query("apiKey", {"type": "string"}, required=True)],
                "responses": {"200": _json("Jwt")},
            }
        },
        "/registers": {
            "get": {
                "operationId": "listRegisters",
                "tags": ["registers"],
                "security": [{"JWT": []}],
                "parameters": [
                    _query("page", {"type": "integer", "minimum": 1, "default": 1}),
                    _query("limit", {"type": "integer", "minimum": 1, "default": 15}),
                    _query("number", {"type": "string"}),
                ],
                "responses": {"200": _json("RegisterPage")},
            }
        },
        "/registers/{id}": {
            "get": {
                "operationId": "getRegister",
                "tags": ["registers"],
                "security": [{"JWT": []}],
                "parameters": [
                    {
                        "in": "path",
                        "name": "id",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": _json("Register")},
            }
        },
    },
    "components": {
        "securitySchemes": {"JWT": {"type": "apiKey", "in": "header", "name": "Authorization"}},
        "schemas": {
            "Jwt": {
                "type": "object",
                "required": ["jwt"],
                "properties": {"jwt": {"type": "string"}},
            },
            "Register": _REGISTER,
            "RegisterPage": _PAGE,
        },
    },
}

INFO = CarrierInfo(
    name="pagedapi",
    title="Paged API",
    package=PACKAGE,
    spec="openapi.json",
    api_key_env="PAGEDAPI_API_KEY",
    environments={"sandbox": BASE},
    default_environment="sandbox",
    test_environment="sandbox",
    token_operation="GET /clients/authorization",
    jwt_scheme="JWT",
    facade="tests.wrapper.paged_api:PagedApi",
    mock_app="tests.wrapper.paged_api:no_mock",
    docs_api_key="paged-docs-key",
)


def novapost_with_registers(novapost_spec: Path) -> dict[str, Any]:
    """The vendored Nova Post spec plus ``GET /registers`` (``registers.list_registers``)."""
    spec: dict[str, Any] = json.loads(novapost_spec.read_text(encoding="utf-8"))
    spec["paths"]["/registers"] = SPEC["paths"]["/registers"]
    for name in ("Register", "RegisterPage"):
        spec["components"]["schemas"][name] = SPEC["components"]["schemas"][name]
    return spec


def generate(root: Path) -> Path:
    """Generate ``pagedapi_client`` under ``root`` and make it importable here."""
    spec = root / "openapi.json"
    spec.write_text(json.dumps(SPEC), encoding="utf-8")
    generate_into(PACKAGE, spec, root / "site")
    site = str(root / "site")
    if site not in sys.path:
        sys.path.insert(0, site)
    importlib.invalidate_caches()
    return root / "site"


def endpoint(name: str) -> Any:
    """A generated endpoint module: ``endpoint("registers.list_registers")``."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


class PagedApi(Carrier[Any]):
    """A facade over the generated ``pagedapi_client``: raw JWT in ``Authorization``."""

    INFO = INFO

    def _make_auth(self) -> NovaPostAuth:
        return NovaPostAuth(mint=self._mint, amint=self._amint, **self._flow_args())

    def _mint(self) -> str:
        token: str = self.call(endpoint("auth.get_token"), api_key=self._api_key).jwt
        return token

    async def _amint(self) -> str:
        token: str = (await self.acall(endpoint("auth.get_token"), api_key=self._api_key)).jwt
        return token
