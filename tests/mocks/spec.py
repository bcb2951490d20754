"""Check mock responses against the specs they must conform to."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from openapi_schema_validator import OAS30Validator

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "novapost": (ROOT / "specs" / "novapost" / "openapi.json", "/v.1.0"),
    "shipyo": (ROOT / "specs" / "shipyo" / "openapi.yaml", ""),
}


@cache
def load(api: str) -> dict[str, Any]:
    path, _ = SPECS[api]
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)  # type: ignore[no-any-return]


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operation(api: str, method: str, path: str) -> dict[str, Any] | None:
    """The spec's operation for a request path as sent (prefix included), if any."""
    _, prefix = SPECS[api]
    if not path.startswith(prefix + "/"):
        return None
    item = load(api)["paths"].get(path[len(prefix) :])
    return None if item is None else item.get(method.lower())


def response_schema(api: str, method: str, path: str, status: int) -> dict[str, Any]:
    spec = load(api)
    op = operation(api, method, path)
    assert op is not None, f"{method} {path} is not in the {api} spec"
    assert str(status) in op["responses"], f"{method} {path}: status {status} is not documented"
    response = _resolve(spec, op["responses"][str(status)])
    schema = response["content"]["application/json"]["schema"]
    # Refs inside the schema resolve against the spec's components.
    return {**schema, "components": spec["components"]}


def check_response(api: str, response: httpx.Response) -> None:
    """Assert that a response to a spec operation is documented and schema-valid."""
    request = response.request
    if operation(api, request.method, request.url.path) is None:
        return
    schema = response_schema(api, request.method, request.url.path, response.status_code)
    assert response.headers["content-type"].startswith("application/json")
    validator = OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER)
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert not errors, f"{request.method} {request.url.path} {response.status_code}: {errors}"


def checking_hook(api: str) -> Any:
    """An httpx response hook validating every response of a spec operation."""

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        check_response(api, response)

    return hook


def sync_checking_hook(api: str) -> Any:
    def hook(response: httpx.Response) -> None:
        response.read()
        check_response(api, response)

    return hook
