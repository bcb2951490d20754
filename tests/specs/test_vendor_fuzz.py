"""Vendoring never crashes: any fragment ends in a valid spec or a one-line VendorError.

The fragments are shaped like the portal's, but property names and values collide
with OpenAPI keywords (a property named ``type`` whose value is a schema, ``default:
{"$ref": ...}``, ``items`` as a property) and any slot may hold any JSON. The default
run is short; ``VENDOR_FUZZ_EXAMPLES=5000`` runs a longer one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from tools import vendor

PAGES = Path(__file__).resolve().parents[2] / "specs" / "novapost" / "pages"
EXAMPLES = int(os.environ.get("VENDOR_FUZZ_EXAMPLES", "200"))

KEYWORDS = (
    "type",
    "properties",
    "items",
    "example",
    "examples",
    "required",
    "$ref",
    "default",
    "enum",
    "",
    "format",
    "nullable",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "in",
    "name",
    "schema",
    "content",
    "value",
    "description",
    "operationId",
    "parameters",
    "responses",
    "requestBody",
    "security",
    "url",
)
TYPES = ("object", "string", "array", "integer", "number", "boolean")
FORMATS = ("date-time", "datetime", "date", "json", "binary", "uuid", "int32")
REFS = (
    "#/components/schemas/Error",
    "#/components/schemas/Fuzz",
    "#/components/schemas/Missing",
    "#/components/responses/Unauthorized",
    "#/components/parameters/Id",
    "nope",
)
MEDIA_TYPES = ("application/json", "application/pdf", "image/png", "application/octet-stream")
PATHS = ("/test-api-keys", "/clients/authorization", "/things", "/things/{id}")

names = st.sampled_from(KEYWORDS) | st.text(max_size=3)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | st.sampled_from(KEYWORDS + TYPES + FORMATS + REFS)
    | st.text(max_size=3)
    | st.sampled_from(("\ud800", math.nan, math.inf))  # not JSON once parsed: errors, not crashes
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(names, c, max_size=3),
    max_leaves=6,
)


def loose(strategy: st.SearchStrategy[Any], odds: int = 3) -> st.SearchStrategy[Any]:
    """The well-formed shape, and one time in odds + 1 any JSON at all."""
    shapes = st.sampled_from([True] * odds + [False])
    return shapes.flatmap(lambda well_formed: strategy if well_formed else json_values)


def _schema(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    child = loose(children)
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(TYPES) | json_values,
            "format": st.sampled_from(FORMATS),
            "nullable": st.booleans(),
            "default": json_values,
            "example": json_values,
            "examples": json_values,
            "enum": st.lists(json_values, max_size=3) | json_values,
            "required": st.lists(names, max_size=3),
            "properties": st.dictionaries(names, child, max_size=4),
            "items": child,
            "additionalProperties": st.booleans() | child,
            "allOf": st.lists(child, max_size=2),
            "oneOf": st.lists(child, max_size=2),
            "not": child,
            "$ref": st.sampled_from(REFS),
        },
    )


schemas = st.recursive(_schema(st.just({})), _schema, max_leaves=5)

examples_map = st.dictionaries(
    st.text(max_size=3), st.fixed_dictionaries({"value": json_values}), max_size=2
)
media = st.fixed_dictionaries(
    {},
    optional={"schema": loose(schemas), "example": json_values, "examples": loose(examples_map)},
)
content = st.dictionaries(st.sampled_from(MEDIA_TYPES), loose(media), max_size=2)
parameter = st.fixed_dictionaries(
    {
        "in": st.sampled_from(("query", "header", "path")),
        "name": st.sampled_from(("ids[]", "id", "type", "apiKey")),
    },
    optional={
        "required": st.booleans(),
        "schema": loose(schemas),
        "example": json_values,
        "examples": loose(examples_map),
    },
) | st.just({"$ref": "#/components/parameters/Id"})
response = st.fixed_dictionaries({"description": st.just("ok")}, optional={"content": content})
responses = st.dictionaries(
    st.sampled_from(("200", "401", "default")),
    loose(response | st.just({"$ref": "#/components/responses/Unauthorized"})),
    min_size=1,
    max_size=2,
)
operation = st.fixed_dictionaries(
    {"responses": loose(responses)},
    optional={
        "operationId": st.sampled_from(("op", "get_things")),
        "parameters": st.lists(loose(parameter), max_size=2),
        "requestBody": loose(st.fixed_dictionaries({"content": content})),
        "security": loose(st.just([{"JWT": []}])),
    },
)
path_item = st.dictionaries(
    st.sampled_from(("get", "post", "delete", "parameters")), loose(operation), max_size=2
)
components = st.fixed_dictionaries(
    {},
    optional={
        "schemas": st.dictionaries(st.sampled_from(("Error", "Fuzz", "A")), schemas, max_size=3),
        "responses": st.dictionaries(st.just("Unauthorized"), loose(response), max_size=1),
        "parameters": st.dictionaries(st.just("Id"), loose(parameter), max_size=1),
    },
)
# Rarely malformed at the top, so that most examples reach the schemas and the fixes.
fragments = st.fixed_dictionaries(
    {"paths": loose(st.dictionaries(st.sampled_from(PATHS), loose(path_item, 9), max_size=2), 19)},
    optional={
        "openapi": loose(st.sampled_from(("3.0.0", "3.0.3")), 19),
        "info": loose(st.fixed_dictionaries({"version": st.just("1.0.0")}), 19),
        "servers": loose(st.just([{"url": "https://api.invalid/v.1.0/"}]), 19),
        "tags": loose(st.just([{"name": "Fuzz"}]), 19),
        "components": loose(components, 19),
    },
)


def vendor_outcome(frags: list[Any]) -> str | vendor.VendorError:
    """Vendor the real pages plus one page of these fragments; any other exception escapes."""
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        shutil.copytree(PAGES, pages)
        blocks = "\n".join(f"```json\n{json.dumps(f)}\n```\n" for f in frags)
        (pages / "fuzz.md").write_text(f"# Fuzz\n\nProse.\n\n{blocks}", encoding="utf-8")
        try:
            return vendor.build(pages)
        except vendor.VendorError as exc:
            return exc


TYPE_PROPERTY = {"type": "object", "properties": {"type": {"type": "object"}}}  # the first crash
SELF_REF = {"$ref": "#/components/parameters/Id"}  # found by this test: endless recursion
BAD_TYPES = ({"type": None, "example": None}, {"type": ["string"], "example": "x"})  # found too
LIST_EXAMPLE = {  # found too: a list where the schema says string became an array arm, no items
    "/test-api-keys": {
        "get": {
            "responses": {"200": {"description": "ok"}},
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"}, "example": []}
            ],
        }
    }
}


@pytest.mark.timeout(60 + EXAMPLES // 5)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(fragments, min_size=1, max_size=2))
@example([{"paths": {}, "components": {"schemas": {"Fuzz": TYPE_PROPERTY}}}])
@example(
    [{"paths": {}, "components": {"schemas": {"Fuzz": SELF_REF}, "parameters": {"Id": SELF_REF}}}]
)
@example([{"paths": {}, "components": {"schemas": {"Fuzz": BAD_TYPES[0]}}}])
@example(
    [{"paths": {}, "components": {"schemas": {"Fuzz": {"properties": {"key": BAD_TYPES[1]}}}}}]
)
@example([{"paths": LIST_EXAMPLE}])
def test_any_fragment_ends_in_a_valid_spec_or_a_one_line_error(frags: list[Any]) -> None:
    outcome = vendor_outcome(frags)
    if isinstance(outcome, vendor.VendorError):
        message = str(outcome)
        assert message and "\n" not in message, message
        assert ".md" in message or "component" in message or "path" in message, message
    else:
        spec = json.loads(outcome)
        validate(spec)
        for node in vendor.nodes(spec):
            if node.kind == "schema" and node.value.get("type") == "array":
                assert "items" in node.value or "$ref" in node.value, node.loc  # $ref: no siblings
            if node.kind == "media" and vendor.is_binary(node.loc[-1]):
                assert node.value["schema"] == {"type": "string", "format": "binary"}, node.loc
