"""Hypothesis strategies for the response bodies the specs document.

The specs use a small part of OpenAPI 3.0 Schema (objects, strings with formats,
patterns and enums, arrays, booleans, nullable, string maps); this builds values for
exactly that part, and fails loudly on any keyword it does not know, so that a spec
change cannot silently narrow what the consumer tests cover.
"""

from __future__ import annotations

import json
import string
from datetime import UTC
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "novapost": ROOT / "specs" / "novapost" / "openapi.json",
    "shipyo": ROOT / "specs" / "shipyo" / "openapi.yaml",
}
METHODS = ("get", "put", "post", "delete", "patch")
KNOWN = {
    "type", "properties", "required", "additionalProperties", "items", "enum", "format",
    "pattern", "minLength", "maxLength", "minimum", "maximum", "nullable", "description",
    "example", "$ref",
}  # fmt: skip

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
FIELD_NAMES = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)


def load_spec(api: str) -> dict[str, Any]:
    text = SPECS[api].read_text(encoding="utf-8")
    return json.loads(text) if SPECS[api].suffix == ".json" else yaml.safe_load(text)  # type: ignore[no-any-return]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def documented_responses(api: str) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(method, path, status, JSON schema or None) for every documented response."""
    spec = load_spec(api)
    out = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            for status, response in item[method]["responses"].items():
                response = resolve(spec, response)
                media = response.get("content", {}).get("application/json")
                out.append((method, path, status, media["schema"] if media else None))
    return out


def body_strategy(spec: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    schema = resolve(spec, schema)
    unknown = set(schema) - KNOWN
    if unknown:
        raise ValueError(f"no body strategy for schema keywords {sorted(unknown)}")
    base = _non_null(spec, schema)
    return st.none() | base if schema.get("nullable") else base


def _non_null(spec: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _object(spec, schema)
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 30))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(body_strategy(spec, schema.get("items", {})), max_size=4)
    if kind is None:
        return ANY_JSON
    raise ValueError(f"no body strategy for type {kind!r}")


def _object(spec: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = st.fixed_dictionaries(
        {name: body_strategy(spec, s) for name, s in props.items() if name in required},
        optional={
            name: body_strategy(spec, s) for name, s in props.items() if name not in required
        },
    )
    extra_schema = schema.get("additionalProperties", True)
    if extra_schema is False:
        return fixed
    values = ANY_JSON if extra_schema is True else body_strategy(spec, extra_schema)
    extras = st.dictionaries(FIELD_NAMES.filter(lambda n: n not in props), values, max_size=3)
    return st.tuples(fixed, extras).map(lambda pair: {**pair[1], **pair[0]})
