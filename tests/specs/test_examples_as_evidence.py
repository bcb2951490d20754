"""The docs' examples are evidence: after vendoring, every example fits its own schema.

Judged by openapi-schema-validator's OpenAPI 3.0 validator (3.0.3 semantics, with
its format checker), not by the widening's own reading of a schema.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.specs.whole_api import REAL_PAGES, TEST_PAGES
from tools import evidence, vendor

PAGE_HEAD = "# Things\n\nProse about things.\n\n"


def misfits(spec: dict[str, Any]) -> list[str]:
    """Each example that its schema rejects, as 'example pointer: message'."""
    judge = evidence.Judge(spec)
    return [
        f"{evidence.pointer(site.example_loc)}: {message}"
        for site in vendor.example_sites(spec)
        for message in judge.errors(site.value, site.schema_loc)
    ]


def without_evidence(*dirs: Path) -> dict[str, Any]:
    """The pages vendored by every fix but the widening."""
    spec, _ = vendor.merge(vendor.read_fragments(*dirs))
    spec = copy.deepcopy(spec)
    for fix in vendor.FIXES:
        if fix.name != "examples-as-evidence":
            fix.apply(spec)
    return spec


@pytest.fixture(scope="module")
def whole() -> dict[str, Any]:
    return json.loads(vendor.build(REAL_PAGES, TEST_PAGES))  # type: ignore[no-any-return]


def touched(spec: dict[str, Any], name: str = "examples-as-evidence") -> list[dict[str, Any]]:
    return spec["x-vendored-fixes"][name]["touched"]  # type: ignore[no-any-return]


def test_every_example_of_the_real_and_test_pages_fits_after_vendoring(
    whole: dict[str, Any],
) -> None:
    assert list(vendor.example_sites(whole))  # there is something to check
    assert misfits(whole) == []


def test_the_test_pages_do_contradict_themselves_before_widening() -> None:
    before = misfits(without_evidence(REAL_PAGES, TEST_PAGES))
    assert len(before) >= 10, before
    assert any("None is not of type" in m or "None for not nullable" in m for m in before)
    assert any("is not of type 'integer'" in m for m in before)
    assert any("is not of type 'object'" in m for m in before)
    assert any("is not one of" in m for m in before)  # an enum value


def test_each_widening_class_is_recorded_with_its_places(whole: dict[str, Any]) -> None:
    classes = Counter(entry["class"] for entry in touched(whole))
    assert classes == {
        "nullable": 4,
        "type-union": 4,
        "number": 1,
        "json-in-string": 1,
        "enum": 1,
        "format": 1,
        "constraint": 1,
        "required": 1,
        "array-parameter": 1,
    }
    places = {entry["schema"] for entry in touched(whole)}
    assert "components/schemas/Register/properties/shipments/items" in places
    assert "components/schemas/Rate/properties/numCode" in places
    assert all(entry["example"] for entry in touched(whole))


def test_ids_where_objects_become_a_one_of(whole: dict[str, Any]) -> None:
    items = whole["components"]["schemas"]["Register"]["properties"]["shipments"]["items"]
    assert items == {
        "oneOf": [{"$ref": "#/components/schemas/RegisterShipment"}, {"type": "string"}]
    }


def test_a_null_object_gets_a_null_arm_and_a_null_field_nullable(whole: dict[str, Any]) -> None:
    tracking = whole["components"]["schemas"]["Tracking"]["properties"]
    assert tracking["invoice"] == {
        "oneOf": [{"$ref": "#/components/schemas/TrackingInvoice"}, evidence.NULL_ARM]
    }
    assert tracking["senderAddressParts"]["properties"]["city"]["nullable"] is True


def test_json_inside_a_string_is_decoded(whole: dict[str, Any]) -> None:
    ok = whole["paths"]["/registers/{registerId}/document"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["example"] == {
        "registerId": 7351,
        "pages": 2,
        "signedBy": "Marta Zielińska",
    }


def test_a_body_on_a_no_content_status_is_dropped(whole: dict[str, Any]) -> None:
    gone = whole["paths"]["/registers/{registerId}"]["delete"]["responses"]["204"]
    assert "content" not in gone and "content" in gone["x-vendored-dropped"]
    assert touched(whole, "no-content-statuses") == [
        {"operation": "DELETE /registers/{registerId}", "status": "204"}
    ]


def test_security_given_by_a_fix_documents_its_401(whole: dict[str, Any]) -> None:
    sdk = whole["paths"]["/sdk/php"]["patch"]
    assert sdk["security"] == [{"JWT": []}]
    assert sdk["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert touched(whole, "security-response") == [{"operation": "PATCH /sdk/php", "added": "401"}]


def test_nothing_is_widened_without_an_example(whole: dict[str, Any]) -> None:
    """The real page alone contradicts nothing: the widening leaves it as it was."""
    spec = json.loads(vendor.build(REAL_PAGES))
    assert touched(spec) == []
    before = without_evidence(REAL_PAGES)
    after = copy.deepcopy(spec)
    del after["x-vendored-fixes"]
    assert after == before


def page_with(schema: dict[str, Any], example: Any) -> str:
    """A docs page of one operation whose 200 has this schema and example."""
    return PAGE_HEAD + "```json\n" + json.dumps(things(schema, example)) + "\n```\n"


def test_an_example_that_cannot_be_made_to_fit_is_dropped_and_listed(tmp_path: Path) -> None:
    # 'not' is no keyword the widening reads: the example is kept out, not the schema widened
    schema = {"type": "string", "not": {"enum": ["x"]}}
    (tmp_path / "things.md").write_text(page_with(schema, "x"), encoding="utf-8")
    spec = json.loads(vendor.build(REAL_PAGES, tmp_path))
    media = spec["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "example" not in media and media["x-vendored-dropped"]["example"] == "x"
    assert [entry["class"] for entry in touched(spec)][-1] == "dropped"


# --------------------------------------------------------------------------- property


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False).filter(lambda f: not f.is_integer()),
    st.text(max_size=8),
    st.sampled_from(["2025-04-02T16:05:00Z", "5c0e2d9a-7b41-4e36-9f0a-2a8b6c1d3e45", "[1, 2]"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "name", "kind", "at"]), inner, max_size=3),
    ),
    max_leaves=8,
)
LEAF_SCHEMAS = st.one_of(
    st.sampled_from(
        [
            {"type": "integer"},
            {"type": "number", "minimum": 0},
            {"type": "string", "maxLength": 4},
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "uuid"},
            {"type": "string", "enum": ["a", "b"]},
            {"type": "boolean"},
            {"$ref": "#/components/schemas/Thing"},
            {"type": "string", "nullable": True},
        ]
    ),
)
SCHEMAS = st.recursive(
    LEAF_SCHEMAS,
    lambda inner: st.one_of(
        st.builds(lambda items: {"type": "array", "items": items}, inner),
        st.builds(
            lambda props, required: {
                "type": "object",
                "properties": props,
                **({"required": sorted(props)[:1]} if required and props else {}),
            },
            st.dictionaries(st.sampled_from(["id", "name", "kind", "at"]), inner, max_size=3),
            st.booleans(),
        ),
        st.builds(lambda a, b: {"oneOf": [a, b]}, inner, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS, example=VALUES)
def test_any_example_fits_its_schema_after_widening(schema: dict[str, Any], example: Any) -> None:
    spec = things(schema, example)
    before = copy.deepcopy(spec)
    changes = evidence.widen(spec, vendor.example_sites(spec))
    assert misfits(spec) == []
    assert [c for c in changes if c["class"] == "dropped"] == []  # widened, not dropped
    if misfits(before) == []:  # it fitted already: nothing widened
        assert spec == before


def things(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    """A document of one operation whose 200 has this schema and example, and a component."""
    thing = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
    media = {"schema": copy.deepcopy(schema), "example": copy.deepcopy(example)}
    ok = {"description": "ok", "content": {"application/json": media}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"get": {"responses": {"200": ok}}}},
        "components": {"schemas": {"Thing": thing}},
    }
