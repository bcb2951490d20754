"""Values the mock makes from a schema fit it, for schemas of shapes it was not written for.

Schemas are drawn by hypothesis (types, bounds, formats, patterns, enums, nested
objects and arrays, nullable, allOf and anyOf); each sample, fixed and random, is
checked by openapi-schema-validator, which the mock does not use.
"""

from __future__ import annotations

import random
from typing import Any

from carrier_mocks.openapi.samples import sample
from carrier_mocks.openapi.schemas import SchemaSet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator, oas30_format_checker

PATTERNS = [r"^49[0-9]{9,10}$", r"^[A-Z]{2}-\d{4}$", r"(ab|cd)+x?", r"^\w+@\w+\.pl$", r"[^0-9]{3,}"]
FORMATS = ["date-time", "date", "uuid", "email", "uri", "ipv4", "ipv6", "int32", None]
NAMES = st.sampled_from(["type", "items", "id", "", "$ref", "example", "name", "properties"])


@st.composite
def strings(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    choice = draw(st.sampled_from(["plain", "format", "pattern", "enum"]))
    if choice == "format":
        fmt = draw(st.sampled_from(FORMATS))
        if fmt is not None and fmt != "int32":
            schema["format"] = fmt
    elif choice == "pattern":
        schema["pattern"] = draw(st.sampled_from(PATTERNS))
    elif choice == "enum":
        schema["enum"] = draw(st.lists(st.text(max_size=5), min_size=1, max_size=4, unique=True))
    else:
        low = draw(st.integers(0, 20))
        schema["minLength"] = low
        if draw(st.booleans()):
            schema["maxLength"] = low + draw(st.integers(0, 10))
    return schema


@st.composite
def numbers(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["integer", "number"]))
    schema: dict[str, Any] = {"type": kind}
    low = draw(st.integers(-(10**6), 10**6))
    if draw(st.booleans()):
        schema["minimum"] = low
        schema["exclusiveMinimum"] = draw(st.booleans())
    if draw(st.booleans()):
        schema["maximum"] = low + draw(st.integers(2, 1000))
        schema["exclusiveMaximum"] = draw(st.booleans())
    if kind == "integer" and draw(st.booleans()) and "maximum" not in schema:
        schema["multipleOf"] = draw(st.integers(1, 50))
    if kind == "integer" and draw(st.booleans()):
        schema["format"] = draw(st.sampled_from(["int32", "int64"]))
        for key in ("minimum", "maximum"):
            if key in schema:
                schema[key] = max(-(2**31) + 10, min(2**31 - 10, schema[key]))
        if schema.get("maximum", 2**31) <= schema.get("minimum", -(2**31)) + 2:
            schema.pop("maximum")
    return schema


scalars = st.one_of(
    strings(),
    numbers(),
    st.just({"type": "boolean"}),
    st.just({}),
)


def containers(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def objects(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(NAMES, children, max_size=4))
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if props:
            schema["required"] = draw(st.lists(st.sampled_from(sorted(props)), unique=True))
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        elif draw(st.booleans()):
            schema["minProperties"] = len(props) + draw(st.integers(0, 2))
        return schema

    @st.composite
    def arrays(draw: st.DrawFn) -> dict[str, Any]:
        low = draw(st.integers(0, 3))
        schema: dict[str, Any] = {"type": "array", "items": draw(children), "minItems": low}
        if draw(st.booleans()):
            schema["maxItems"] = low + draw(st.integers(0, 3))
        return schema

    @st.composite
    def combined(draw: st.DrawFn) -> dict[str, Any]:
        kind = draw(st.sampled_from(["allOf", "anyOf", "nullable"]))
        if kind == "nullable":
            return {**draw(children), "nullable": True}
        if kind == "anyOf":
            return {"anyOf": draw(st.lists(children, min_size=1, max_size=3))}
        parts = draw(st.lists(objects(), min_size=1, max_size=3))
        seen: set[str] = set()
        for part in parts:  # composition extends: a later part adds properties of its own
            part["properties"] = {k: v for k, v in part["properties"].items() if k not in seen}
            part["required"] = [r for r in part.get("required", []) if r in part["properties"]]
            seen |= set(part["properties"])
        return {"allOf": parts}

    return st.one_of(objects(), arrays(), combined())


schemas = st.recursive(scalars, containers, max_leaves=12)


def valid(value: Any, schema: dict[str, Any]) -> bool:
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return bool(validator.is_valid(value))


def satisfiable_all_of(schema: Any) -> bool:
    """allOf parts that forbid each other's properties have no instance at all."""
    if isinstance(schema, dict):
        if (
            "allOf" in schema
            and any(p.get("additionalProperties") is False for p in schema["allOf"])
            and len(schema["allOf"]) > 1
        ):
            return False
        return all(satisfiable_all_of(v) for v in schema.values())
    if isinstance(schema, list):
        return all(satisfiable_all_of(v) for v in schema)
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas, seed=st.integers(0, 2**32))
def test_fixed_and_random_samples_fit_the_schema(schema: dict[str, Any], seed: int) -> None:
    if not satisfiable_all_of(schema):
        return
    made = SchemaSet({"components": {}})
    fixed = sample(schema, made)
    assert valid(fixed, schema), (schema, fixed)
    drawn = sample(schema, made, random.Random(seed))
    assert valid(drawn, schema), (schema, drawn)


def test_a_nullable_all_of_still_meets_every_part() -> None:
    """``nullable`` beside ``allOf`` constrains nothing: the parts still all apply."""
    schema = {
        "nullable": True,
        "allOf": [
            {"type": "object", "properties": {}, "required": []},
            {"type": "object", "minProperties": 1, "properties": {"type": {"type": "string"}}},
        ],
    }
    made = SchemaSet({"components": {}})
    for rng in (None, *(random.Random(seed) for seed in range(20))):
        value = sample(schema, made, rng)
        assert valid(value, schema) and len(value) >= 1, value
