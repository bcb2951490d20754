"""Widen schemas exactly as far as the docs' own examples need.

The published examples are what real clients send and real servers answer, and
some contradict their own schemas: ``null`` where the schema does not say
``nullable``, a string where it says integer, an id where it says object, a JSON
document inside a string. Each example is walked against its schema, and each
contradiction widens the schema at the place it was found, never elsewhere:

- ``nullable``: ``null`` in a schema that does not allow it gets ``nullable: true``;
  a ``$ref`` or a union gets a null arm (``oneOf: [$ref, NULL_ARM]``), since
  ``nullable`` means nothing without a ``type`` beside it (OpenAPI 3.0.3);
- ``number``: a fraction where the schema says integer makes it a number;
- ``type-union``: another JSON type makes the schema ``oneOf`` the old schema and
  that type (an array of ids where the items are objects is one such case);
- ``json-in-string``: an example that is a string holding JSON that fits an object
  or array schema is replaced by the decoded document;
- ``one-of-overlap``: a value that fits several arms of a ``oneOf`` makes it ``anyOf``;
- ``enum``: a value outside the enum is added to it;
- ``format``: a string its format cannot parse (date, date-time, uuid) loses the format;
- ``constraint``: a bound or pattern the example breaks is dropped (kept under
  ``x-vendored-dropped``);
- ``required``: a required property an example leaves out is no longer required;
- ``array-parameter``: one value given for an array parameter (``ids[]``) becomes a list.

Every place touched is returned, so the fix is recorded with them. An example
that still does not fit is dropped (kept under ``x-vendored-dropped``) and listed.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import referencing
import referencing.exceptions
import referencing.jsonschema
from dateutil.parser import isoparse
from openapi_schema_validator import OAS30Validator, oas30_format_checker

Json = dict[str, Any]
Loc = tuple[str, ...]

__all__ = ["NULL_ARM", "Judge", "Site", "fits", "pointer", "widen"]

REF_PREFIX = "#/components/schemas/"

FORMAT_PARSERS: dict[str, Callable[[str], object]] = {
    # what the generated client parses these formats with
    "date": datetime.date.fromisoformat,
    "date-time": isoparse,
    "uuid": uuid.UUID,
}
CONSTRAINTS = (
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)
MAX_REF_HOPS = 50
NULL_ARM: Json = {"type": "object", "nullable": True, "enum": [None]}
"""A schema only ``null`` fits, in OpenAPI 3.0 terms (the generator reads it as ``None``)."""
ANNOTATIONS = ("title", "description")
"""Kept on the outside when a schema becomes one arm of a union."""


@dataclass
class Site:
    """One example and the schema it must fit: ``holder[key]`` is the schema."""

    value: Any
    holder: Json
    key: str
    schema_loc: Loc
    example_loc: Loc
    write: Callable[[Any], None]
    drop: Callable[[], None]
    array_parameter: bool = False


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def arm_for(value: Any) -> Json:
    """The schema a new ``oneOf`` arm gets: the example's JSON type (an array with any items,
    since OpenAPI 3.0 requires ``items``)."""
    kind = json_type(value)
    return {"type": kind, "items": {}} if kind == "array" else {"type": kind}


def _type_fits(kind: Any, value: Any) -> bool:
    if not isinstance(kind, str):
        return True
    actual = json_type(value)
    if kind == "number":
        return actual in {"integer", "number"}
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return actual == kind


def pointer(loc: Loc) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in loc)


class Walker:
    """Walks examples against schemas; with ``mutate`` it widens, else it only judges."""

    def __init__(self, spec: Json, *, mutate: bool) -> None:
        self.spec = spec
        self.mutate = mutate
        self.touched: list[Json] = []
        self.misfit = False
        self.example_loc: Loc = ()

    # --- recording ---------------------------------------------------------------------

    def record(self, kind: str, loc: Loc, detail: str = "") -> None:
        if not self.mutate:
            self.misfit = True
            return
        entry = {"class": kind, "schema": pointer(loc), "example": pointer(self.example_loc)}
        if detail:
            entry["detail"] = detail
        if entry not in self.touched:
            self.touched.append(entry)

    def _components(self) -> Json:
        schemas = self.spec.get("components", {}).get("schemas", {})
        return schemas if isinstance(schemas, dict) else {}

    def _target(self, ref: Any) -> tuple[Json, str] | None:
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            name = ref[len(REF_PREFIX) :]
            schemas = self._components()
            if isinstance(schemas.get(name), dict):
                return schemas, name
        return None

    # --- the walk ----------------------------------------------------------------------

    def walk(self, value: Any, holder: Any, key: Any, loc: Loc, hops: int = 0) -> Any:
        """Fit ``value`` to ``holder[key]``; return the value (decoded where JSON was a string)."""
        schema = holder[key] if isinstance(holder, dict | list) else None
        if not isinstance(schema, dict) or hops > MAX_REF_HOPS:
            return value
        if "$ref" in schema:
            return self._through_ref(value, holder, key, schema, loc, hops)
        if value is None:
            self._null(holder, key, schema, loc)
            return value
        for member in ("oneOf", "anyOf"):
            if isinstance(schema.get(member), list):
                return self._union(value, schema, member, loc, hops)
        value = self._types(value, holder, key, schema, loc)
        schema = holder[key]
        if "oneOf" in schema and "type" not in schema:  # just widened: the new arm fits
            return value
        if isinstance(schema.get("allOf"), list):
            for index in range(len(schema["allOf"])):
                value = self.walk(value, schema["allOf"], index, (*loc, "allOf", str(index)), hops)
        self._enum(value, schema, loc)
        self._format(value, schema, loc)
        self._constraints(value, schema, loc)
        if isinstance(value, dict):
            self._object(value, schema, loc, hops)
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                value[index] = self.walk(item, schema, "items", (*loc, "items"), hops)
        return value

    def _through_ref(
        self, value: Any, holder: Any, key: Any, schema: Json, loc: Loc, hops: int
    ) -> Any:
        found = self._target(schema["$ref"])
        if found is None:
            return value
        schemas, name = found
        target = schemas[name]
        kind = target.get("type")
        if value is None or (
            not _type_fits(kind, value)
            and not self._decodes_to(value, kind)
            and not _is_union(target)
        ):
            if value is None:
                self._null(holder, key, schema, loc)
            else:
                if self.mutate:
                    holder[key] = _union_of(schema, arm_for(value))
                self.record("type-union", loc, f"{kind} or {json_type(value)}")
            return value
        return self.walk(value, schemas, name, ("components", "schemas", name), hops + 1)

    def _decodes_to(self, value: Any, kind: Any) -> bool:
        if not isinstance(value, str) or kind not in {"object", "array"}:
            return False
        try:
            decoded = json.loads(value)
        except ValueError:
            return False
        return _type_fits(kind, decoded)

    def _types(self, value: Any, holder: Any, key: Any, schema: Json, loc: Loc) -> Any:
        kind = schema.get("type")
        if _type_fits(kind, value):
            return value
        if self._decodes_to(value, kind):
            self.record("json-in-string", self.example_loc)
            return json.loads(value) if self.mutate else value
        if kind == "integer" and isinstance(value, float):
            if self.mutate:
                schema["type"] = "number"
            self.record("number", loc)
            return value
        if self.mutate:
            holder[key] = _union_of(schema, arm_for(value))
        self.record("type-union", loc, f"{kind} or {json_type(value)}")
        return value

    def _accepts_null(self, schema: Any, hops: int = 0) -> bool:
        if not isinstance(schema, dict) or hops > MAX_REF_HOPS:
            return True
        found = self._target(schema.get("$ref"))
        if found is not None:
            return self._accepts_null(found[0][found[1]], hops + 1)
        if isinstance(schema.get("type"), str):
            enum = schema.get("enum")
            return schema.get("nullable") is True and (not isinstance(enum, list) or None in enum)
        for member in ("oneOf", "anyOf"):
            if isinstance(schema.get(member), list):
                accepting = sum(self._accepts_null(arm, hops + 1) for arm in schema[member])
                return accepting == 1 if member == "oneOf" else accepting > 0
        members = schema.get("allOf")
        return not isinstance(members, list) or all(
            self._accepts_null(arm, hops + 1) for arm in members
        )

    def _null(self, holder: Any, key: Any, schema: Json, loc: Loc) -> None:
        if self._accepts_null(schema):
            return
        arms = schema.get("oneOf")
        if isinstance(arms, list) and sum(self._accepts_null(arm) for arm in arms) > 1:
            if self.mutate:
                schema["anyOf"] = schema.pop("oneOf")
            self.record("one-of-overlap", loc)
            return
        if self.mutate:
            if isinstance(schema.get("type"), str) and "$ref" not in schema:
                schema["nullable"] = True
                if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
                    schema["enum"].append(None)
            elif isinstance(schema.get("oneOf"), list):
                schema["oneOf"].append(dict(NULL_ARM))
            else:
                holder[key] = _union_of(schema, dict(NULL_ARM))
        self.record("nullable", loc)

    def _union(self, value: Any, schema: Json, member: str, loc: Loc, hops: int) -> Any:
        arms = schema[member]
        fitting = [index for index in range(len(arms)) if fits(self.spec, value, arms, index)]
        if len(fitting) > 1 and member == "oneOf":  # the example shows the arms overlap
            if self.mutate:
                schema["anyOf"] = schema.pop("oneOf")
            self.record("one-of-overlap", loc)
        if fitting:
            return value
        same_type = [
            index
            for index, arm in enumerate(arms)
            if isinstance(arm, dict) and _type_fits(self._arm_type(arm), value)
        ]
        if len(same_type) == 1:
            index = same_type[0]
            return self.walk(value, arms, index, (*loc, member, str(index)), hops)
        if self.mutate:
            arms.append(arm_for(value))
        self.record("type-union", loc, f"another arm: {json_type(value)}")
        return value

    def _arm_type(self, arm: Json) -> Any:
        found = self._target(arm.get("$ref"))
        return found[0][found[1]].get("type") if found else arm.get("type")

    def _enum(self, value: Any, schema: Json, loc: Loc) -> None:
        allowed = schema.get("enum")
        if isinstance(allowed, list) and not any(_same(value, a) for a in allowed):
            if self.mutate:
                allowed.append(value)
            self.record("enum", loc, json.dumps(value, ensure_ascii=False))

    def _format(self, value: Any, schema: Json, loc: Loc) -> None:
        parse = FORMAT_PARSERS.get(schema.get("format", ""))
        if parse is None or not isinstance(value, str):
            return
        try:
            parse(value)
        except (ValueError, OverflowError):
            if self.mutate:
                _keep_dropped(schema, "format")
            self.record("format", loc, str(schema.get("format", "")))

    def _constraints(self, value: Any, schema: Json, loc: Loc) -> None:
        for keyword in CONSTRAINTS:
            if keyword in schema and not _meets(keyword, schema[keyword], value):
                if self.mutate:
                    _keep_dropped(schema, keyword)
                self.record("constraint", loc, keyword)

    def _object(self, value: Json, schema: Json, loc: Loc, hops: int) -> None:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = schema.get("required")
        if isinstance(required, list):
            absent = [name for name in required if name in properties and name not in value]
            if absent:
                if self.mutate:
                    kept = [name for name in required if name not in absent]
                    if kept:
                        schema["required"] = kept
                    else:
                        del schema["required"]
                self.record("required", loc, ", ".join(absent))
        extra = schema.get("additionalProperties")
        if extra is False and any(name not in properties for name in value):
            if self.mutate:
                _keep_dropped(schema, "additionalProperties")
            self.record("constraint", loc, "additionalProperties")
        for name in list(value):
            if name in properties:
                value[name] = self.walk(
                    value[name], properties, name, (*loc, "properties", name), hops
                )
            elif isinstance(extra, dict):
                value[name] = self.walk(
                    value[name],
                    schema,
                    "additionalProperties",
                    (*loc, "additionalProperties"),
                    hops,
                )


def _union_of(schema: Json, arm: Json) -> Json:
    """``oneOf`` the schema and ``arm``, its title and description kept outside."""
    inner = {k: v for k, v in schema.items() if k not in ANNOTATIONS or "$ref" in schema}
    outer = {k: schema[k] for k in ANNOTATIONS if k in schema and "$ref" not in schema}
    return {**outer, "oneOf": [inner, arm]}


def _is_union(schema: Json) -> bool:
    return any(isinstance(schema.get(k), list) for k in ("oneOf", "anyOf"))


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


SIZED: dict[str, type | tuple[type, ...]] = {"Length": str, "Items": list, "Properties": dict}


def _meets(keyword: str, bound: Any, value: Any) -> bool:
    """Whether ``value`` meets one constraint (one that does not apply is met)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    sized = isinstance(value, SIZED.get(keyword[3:], ()))  # minLength: str, minItems: list
    try:
        if keyword.startswith("min") and sized:
            return bool(len(value) >= bound)
        if keyword.startswith("max") and sized:
            return bool(len(value) <= bound)
        if keyword == "pattern" and isinstance(value, str):
            return re.search(bound, value) is not None
        if keyword == "minimum" and number:
            return bool(value >= bound)
        if keyword == "maximum" and number:
            return bool(value <= bound)
        if keyword == "multipleOf" and number and bound:
            return bool((value / bound) == int(value / bound))
        if keyword == "uniqueItems" and isinstance(value, list) and bound is True:
            seen = [json.dumps(item, sort_keys=True) for item in value]
            return len(seen) == len(set(seen))
    except (TypeError, re.error, OverflowError, ZeroDivisionError):
        return True  # a keyword the validator reports; not the example's to fix
    return True


def _keep_dropped(node: Json, key: str) -> None:
    dropped = node.get("x-vendored-dropped")
    if not isinstance(dropped, dict):
        dropped = node["x-vendored-dropped"] = {}
    dropped[key] = node.pop(key)


def fits(spec: Json, value: Any, holder: Any, key: Any) -> bool:
    """Whether ``value`` fits ``holder[key]`` as the widening reads a schema."""
    walker = Walker(spec, mutate=False)
    walker.walk(copy.deepcopy(value), holder, key, ())
    return not walker.misfit


class Judge:
    """openapi-schema-validator's OpenAPI 3.0 validator over one document: the last word
    on whether an example fits, whatever keywords the widening does not read (``not``)."""

    def __init__(self, spec: Json) -> None:
        resource = referencing.Resource.from_contents(
            spec, default_specification=referencing.jsonschema.DRAFT4
        )
        self.registry: referencing.Registry[Any] = referencing.Registry().with_resource(
            "urn:spec", resource
        )

    def errors(self, value: Any, schema_loc: Loc) -> list[str]:
        validator = OAS30Validator(
            {"$ref": "urn:spec#/" + pointer(schema_loc)},
            registry=self.registry,
            format_checker=oas30_format_checker,
        )
        try:
            return [error.message for error in validator.iter_errors(value)]
        except Exception as exc:
            return [f"the schema cannot be applied: {type(exc).__name__}"]


MAX_PASSES = 5
"""Widening for one example can make an earlier one fit two arms of a ``oneOf``: the
examples are walked again until nothing changes."""


def widen(spec: Json, sites: Iterable[Site]) -> list[Json]:
    """Widen the schemas of ``spec`` to fit every example of ``sites``; return what changed."""
    walker = Walker(spec, mutate=True)
    fitted_sites = [(site, site.value) for site in sites]
    for _ in range(MAX_PASSES):
        seen = len(walker.touched)
        for index, (site, current) in enumerate(fitted_sites):
            walker.example_loc = site.example_loc
            value = current
            if site.array_parameter and not isinstance(value, list):
                value = [value]
                walker.record("array-parameter", site.schema_loc)
            fitted = walker.walk(copy.deepcopy(value), site.holder, site.key, site.schema_loc)
            if not _same(fitted, current):
                site.write(fitted)
            fitted_sites[index] = (site, fitted)
        if len(walker.touched) == seen:
            break
    judge = Judge(spec)  # after every widening: a later example may widen a shared schema
    for site, fitted in fitted_sites:
        errors = judge.errors(fitted, site.schema_loc)
        if errors:
            site.drop()
            walker.touched.append(
                {
                    "class": "dropped",
                    "schema": pointer(site.schema_loc),
                    "example": pointer((*site.example_loc,)),
                    "detail": errors[0][:200],
                }
            )
    return walker.touched
