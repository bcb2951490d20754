"""The general fixes (classes of upstream mistakes) and bad input that once crashed vendoring."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tools import vendor

PAGES = Path(__file__).resolve().parents[2] / "specs" / "novapost" / "pages"


def fragment(schema: dict[str, Any], **operation: Any) -> dict[str, Any]:
    """A fragment with one operation whose 200 response has this schema."""
    op = {
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": schema}}}
        },
        **operation,
    }
    return {"openapi": "3.0.0", "info": {"version": "1.0.0"}, "paths": {"/things": {"get": op}}}


def build(tmp_path: Path, *fragments: dict[str, Any] | str) -> dict[str, Any]:
    """Vendor the real pages plus one page holding these fragments."""
    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    blocks = [f if isinstance(f, str) else json.dumps(f) for f in fragments]
    text = "# Things\n\nProse.\n\n" + "".join(f"```json\n{b}\n```\n\n" for b in blocks)
    (pages / "things.md").write_text(text, encoding="utf-8")
    return json.loads(vendor.build(pages))  # type: ignore[no-any-return]


def schema_of(spec: dict[str, Any]) -> dict[str, Any]:
    content = spec["paths"]["/things"]["get"]["responses"]["200"]["content"]
    return content["application/json"]["schema"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- keyword names


def test_properties_named_like_keywords_are_properties(tmp_path: Path) -> None:
    """The published crash: a property named 'type' whose value is a schema, not a type name."""
    names = ["type", "properties", "items", "example", "required", "$ref", "default", "enum"]
    props = {name: {"type": "object", "properties": {"code": {"type": "string"}}} for name in names}
    props["default"] = {"type": "integer", "default": "5"}
    spec = build(tmp_path, fragment({"type": "object", "required": names, "properties": props}))
    schema = schema_of(spec)
    assert list(schema["properties"]) == names
    assert schema["properties"]["type"]["properties"] == {"code": {"type": "string"}}
    assert schema["properties"]["$ref"]["type"] == "object"
    assert schema["properties"]["default"] == {"type": "integer", "default": 5}
    assert schema["required"] == names


def test_keyword_values_in_a_map_are_not_followed(tmp_path: Path) -> None:
    """An 'in: query' or 'example' inside a properties map is no parameter, no example."""
    props = {
        "in": {"type": "string", "enum": ["query"]},
        "name": {"type": "string", "example": "ids[]"},
        "example": {"type": "object", "properties": {"value": {"type": "string"}}},
    }
    spec = build(tmp_path, fragment({"type": "object", "properties": props}))
    assert schema_of(spec)["properties"] == props


# --------------------------------------------------------------------------- example/examples


def test_example_beside_examples_keeps_the_named_examples(tmp_path: Path) -> None:
    param = {
        "in": "query",
        "name": "q",
        "schema": {"type": "string"},
        "example": "a",
        "examples": {"one": {"value": "b"}},
    }
    spec = build(tmp_path, fragment({"type": "string"}, parameters=[param]))
    kept = spec["paths"]["/things"]["get"]["parameters"][0]
    assert "example" not in kept and kept["examples"] == {"one": {"value": "b"}}
    assert kept["x-vendored-dropped"] == {"example": "a"}


def test_a_schema_examples_list_becomes_its_example(tmp_path: Path) -> None:
    spec = build(tmp_path, fragment({"type": "string", "examples": ["x", "y"]}))
    assert schema_of(spec) == {
        "type": "string",
        "example": "x",
        "x-vendored-dropped": {"examples": ["x", "y"]},
    }


# --------------------------------------------------------------------------- value types

UNFIT = vendor.UNFIT


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        (0, {"type": "string"}, "0"),
        (1.5, {"type": "string"}, "1.5"),
        (True, {"type": "string"}, "true"),
        ({"a": 1}, {"type": "string"}, UNFIT),
        ("0", {"type": "string", "format": "date-time"}, UNFIT),
        ("2025-03-01T10:00:00+00:00", {"type": "string", "format": "date-time"}, ...),
        ("not-a-uuid", {"type": "string", "format": "uuid"}, UNFIT),
        ("5", {"type": "integer"}, 5),
        (2.0, {"type": "integer"}, 2),
        (2.5, {"type": "integer"}, UNFIT),
        (True, {"type": "integer"}, UNFIT),
        ("1.25", {"type": "number"}, 1.25),
        ("1e999", {"type": "number"}, UNFIT),
        ("true", {"type": "boolean"}, True),
        (1, {"type": "boolean"}, UNFIT),
        ("x", {"type": "array"}, UNFIT),
        ([], {"type": "object"}, UNFIT),
        (None, {"type": "string"}, UNFIT),
        (None, {"type": "string", "nullable": True}, None),
        ({"any": "thing"}, {}, ...),
        ("x", {"type": ["string", "null"]}, ...),
    ],
)
def test_coerce(value: Any, schema: dict[str, Any], expected: Any) -> None:
    """Lossless coercions only; '...' means the value is kept as it is."""
    assert vendor.coerce(value, schema) == (value if expected is ... else expected)


def test_values_of_the_wrong_type_are_coerced_or_dropped(tmp_path: Path) -> None:
    props = {
        "cost": {"type": "string", "default": 0},
        "count": {"type": "integer", "default": "many", "example": "3"},
        "size": {"type": "string", "enum": ["A6", 100, {"x": 1}, "100"], "default": "A5"},
        "at": {"type": "string", "format": "date-time", "default": 0},
    }
    spec = build(tmp_path, fragment({"type": "object", "properties": props}))
    got = schema_of(spec)["properties"]
    assert got["cost"] == {"type": "string", "default": "0"}
    assert got["count"] == {
        "type": "integer",
        "example": 3,
        "x-vendored-dropped": {"default": "many"},
    }
    assert got["size"]["enum"] == ["A6", "100"]
    assert got["size"]["x-vendored-dropped"] == {"enum": [{"x": 1}], "default": "A5"}
    assert "default" not in got["at"] and got["at"]["x-vendored-dropped"] == {"default": 0}


# --------------------------------------------------------------------------- arrays, binary


def test_array_without_items_gets_any_items(tmp_path: Path) -> None:
    spec = build(tmp_path, fragment({"type": "object", "properties": {"ids": {"type": "array"}}}))
    assert schema_of(spec)["properties"]["ids"] == {"type": "array", "items": {}}


@pytest.mark.parametrize(
    ("media_type", "binary"),
    [
        ("application/pdf", True),
        ("application/octet-stream", True),
        ("image/png", True),
        ("image/*", True),
        ("application/zip; name=a.zip", True),
        ("application/json", False),
        ("application/problem+json", False),
        ("application/xml", False),
        ("text/csv", False),
        ("multipart/form-data", False),
    ],
)
def test_is_binary(media_type: str, binary: bool) -> None:
    assert vendor.is_binary(media_type) is binary


def test_binary_responses_get_a_binary_schema(tmp_path: Path) -> None:
    op = fragment({"type": "string"})
    op["paths"]["/things"]["get"]["responses"]["200"]["content"] = {
        "application/pdf": {},
        "image/png": {"schema": {"type": "object"}},
    }
    spec = build(tmp_path, op)
    content = spec["paths"]["/things"]["get"]["responses"]["200"]["content"]
    assert content["application/pdf"] == {"schema": {"type": "string", "format": "binary"}}
    assert content["image/png"] == {
        "x-vendored-dropped": {"schema": {"type": "object"}},
        "schema": {"type": "string", "format": "binary"},
    }


def test_derived_operation_ids_are_unique(tmp_path: Path) -> None:
    ok = {"responses": {"200": {"description": "ok"}}}
    frag = {"openapi": "3.0.0", "paths": {"/a-b": {"get": ok}, "/a_b": {"get": ok}}}
    spec = build(tmp_path, frag)
    assert spec["paths"]["/a-b"]["get"]["operationId"] == "get_a_b"
    assert spec["paths"]["/a_b"]["get"]["operationId"] == "get_a_b_2"


# --------------------------------------------------------------------------- bad input


def fails(tmp_path: Path, *fragments: dict[str, Any] | str) -> str:
    with pytest.raises(vendor.VendorError) as info:
        build(tmp_path, *fragments)
    message = str(info.value)
    assert "\n" not in message
    return message


DEEP = '{"paths": {}, "components": {"schemas": {"A": ' + '{"not": ' * 150 + "{}" + "}" * 153


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ('{"paths": {}, "components": {"schemas": {"A": {"default": NaN}}}}', "NaN is not JSON"),
        ('{"paths": {}, "components": {"schemas": {"A": {"default": 1e999}}}}', "out of range"),
        ('{"paths": {}, "x": "\\ud800"}', "lone surrogate"),
        (DEEP, "nested more than"),
        ("[" * 100_000 + "]" * 100_000, "malformed JSON"),
        ('{"paths": [], "info": {}}', "paths must be an object, not a list"),
        ('{"paths": {"/x": 1}}', "path '/x' must be an object"),
        ('{"paths": {}, "info": []}', "info must be an object"),
        ('{"paths": {}, "servers": [{"url": 5}]}', "not valid OpenAPI at servers/2/url"),
        ('{"paths": {}, "tags": [{"name": {}}]}', "not valid OpenAPI at tags"),
        ('{"paths": {}, "components": {"schemas": []}}', "components/schemas must be an object"),
    ],
)
def test_malformed_blocks_are_one_line_errors(tmp_path: Path, block: str, needle: str) -> None:
    message = fails(tmp_path, block)
    assert needle in message and "things.md:" in message, message


def test_non_utf8_page(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    (pages / "latin.md").write_bytes(b"# Caf\xe9\n\n```json\n{}\n```\n")
    with pytest.raises(vendor.VendorError, match=r"latin\.md: not UTF-8"):
        vendor.build(pages)


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        ("#/components/schemas/Missing", "does not resolve"),
        ("https://example.invalid/schema.json", "does not resolve"),
        ("#", "does not resolve"),
    ],
)
def test_refs_that_do_not_resolve_name_page_and_place(
    tmp_path: Path, ref: str, needle: str
) -> None:
    message = fails(tmp_path, fragment({"$ref": ref}))
    assert needle in message and "things.md:" in message and "paths//things/get" in message


def test_a_schema_made_of_itself(tmp_path: Path) -> None:
    frag = {
        "paths": {},
        "components": {
            "schemas": {
                "Loop": {"allOf": [{"$ref": "#/components/schemas/Step"}]},
                "Step": {"$ref": "#/components/schemas/Loop"},
            }
        },
    }
    message = fails(tmp_path, frag)
    assert "things.md:" in message and "made of itself" in message


def test_a_parameter_that_is_its_own_ref(tmp_path: Path) -> None:
    alias = {"$ref": "#/components/parameters/Id"}
    message = fails(tmp_path, {"paths": {}, "components": {"parameters": {"Id": alias}}})
    assert "things.md:" in message and "components/parameters/Id is made of itself" in message


def test_a_schema_may_only_refer_to_a_schema(tmp_path: Path) -> None:
    param = {"in": "query", "name": "id", "schema": {"type": "string"}}
    components = {"paths": {}, "components": {"parameters": {"Id": param}}}
    message = fails(tmp_path, fragment({"$ref": "#/components/parameters/Id"}), components)
    assert "things.md:" in message and "'#/components/schemas/...'" in message


def test_a_recursive_schema_through_properties_is_fine(tmp_path: Path) -> None:
    node = {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}
    spec = build(tmp_path, {"paths": {}, "components": {"schemas": {"Node": node}}})
    assert spec["components"]["schemas"]["Node"] == node


def test_a_ref_inside_a_default_value(tmp_path: Path) -> None:
    """The validator follows it and cannot resolve it: an error naming the place, no traceback."""
    message = fails(tmp_path, fragment({"type": "object", "default": {"$ref": "nope"}}))
    assert "things.md:" in message and "cannot resolve" in message


def test_validation_errors_name_the_page(tmp_path: Path) -> None:
    message = fails(tmp_path, fragment({"type": "string", "minLength": "one"}))
    assert message.startswith("things.md:") and "not valid OpenAPI at paths//things/get" in message


def test_path_parameter_errors_name_the_page(tmp_path: Path) -> None:
    ok = {"responses": {"200": {"description": "ok"}}}
    message = fails(tmp_path, {"paths": {"/things/{id}": {"get": ok}}})
    assert message.startswith("things.md:") and "'id'" in message


def test_a_default_against_its_schema_is_located(tmp_path: Path) -> None:
    """The validator reports this one relative to the default value: it is found all the same."""
    bad = {"type": "object", "properties": {"a": {"type": "string"}}, "default": {"a": 1}}
    message = fails(tmp_path, fragment({"type": "object", "properties": {"p": bad}}))
    assert message.startswith("things.md:") and "properties/p/default/a" in message


def test_a_parameter_listed_twice_names_the_page(tmp_path: Path) -> None:
    param = {"in": "query", "name": "ids[]", "schema": {"type": "string"}}
    message = fails(tmp_path, fragment({"type": "string"}, parameters=[param, param]))
    assert message.startswith("things.md:") and "'ids[]' in 'query' is listed twice" in message


def test_required_counts_the_properties_of_allof_members(tmp_path: Path) -> None:
    base = {"type": "object", "properties": {"id": {"type": "string"}}}
    child = {
        "allOf": [{"$ref": "#/components/schemas/Base"}],
        "properties": {"name": {"type": "string"}},
        "required": ["id", "name", "ghost"],
    }
    frag = {"paths": {}, "components": {"schemas": {"Base": base, "Child": child}}}
    assert build(tmp_path, frag)["components"]["schemas"]["Child"]["required"] == ["id", "name"]
