"""OpenAPI schemas as JSON Schema validators, for checking requests and generated answers.

OpenAPI 3.0 schemas are a dialect of JSON Schema draft 4 (``nullable``, boolean
``exclusiveMinimum``, keywords that validate nothing such as ``example``); they
are converted once, structurally, so a property named ``type`` or ``example``
stays a name. ``#/components/schemas/X`` references become ``#/definitions/X``,
which keeps recursive schemas recursive. OpenAPI 3.1 schemas are JSON Schema
2020-12 already and only have their references moved.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import referencing.exceptions
from jsonschema.protocols import Validator

__all__ = ["FORMATS", "SchemaSet", "ValidationFailure"]

Json = dict[str, Any]

_REF_PREFIX = "#/components/schemas/"
# Keywords whose value is a schema, a list of schemas, or a map of name -> schema.
_ONE = ("items", "additionalProperties", "not", "additionalItems", "contains", "propertyNames")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
# OpenAPI 3.0 keywords that annotate and validate nothing.
_ANNOTATIONS = frozenset(
    {"nullable", "example", "discriminator", "xml", "externalDocs", "deprecated"}
)


_log = logging.getLogger(__name__)
#: What applying a broken schema raises: a bad regex, a keyword value of the wrong type.
_UNUSABLE_SCHEMA = (
    re.error,
    jsonschema.exceptions.SchemaError,
    referencing.exceptions.Unresolvable,
    TypeError,
    ValueError,
)


class ValidationFailure(Exception):
    """A value does not match its schema; ``message`` says where and why, briefly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", re.ASCII)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+", re.ASCII)


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    text = value.replace("z", "Z").replace("t", "T").replace(" ", "T").replace("Z", "+00:00")
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _ip(version: int) -> Any:
    def check(value: object) -> bool:
        if not isinstance(value, str):
            return True
        try:
            return ipaddress.ip_address(value).version == version
        except ValueError:
            return False

    return check


def _int_range(bits: int) -> Any:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: object) -> bool:
        return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high

    return check


def _matches(pattern: re.Pattern[str]) -> Any:
    return lambda value: not isinstance(value, str) or bool(pattern.fullmatch(value))


FORMATS = jsonschema.FormatChecker(formats=())
"""The formats the mock checks; any other format name is an annotation, as JSON Schema says."""
for _name, _check in {
    "date-time": _date_time,
    "date": _date,
    "uuid": _matches(_UUID),
    "uri": _matches(_URI),
    "email": _matches(_EMAIL),
    "ipv4": _ip(4),
    "ipv6": _ip(6),
    "int32": _int_range(32),
    "int64": _int_range(64),
}.items():
    FORMATS.checks(_name)(_check)


_NUMBERS = ("minimum", "maximum", "multipleOf")
_COUNTS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")
_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
#: Unicode classes of other regex dialects that Python's ``re`` lacks, as ranges it reads
#: (letters of the Latin, Greek and Cyrillic scripts; decimal digits; spaces).
_REGEX_CLASSES = {
    "L": "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u052f",
    "N": "0-9",
    "Nd": "0-9",
    "Zs": " \u00a0",
}
_UNICODE_CLASS = re.compile(r"\\([pP])\{([A-Za-z]+)\}")
_DROP = object()
#: Named schemas inlined into one another at most this deep; deeper ones stay references.
_INLINE_DEPTH = 8
#: Keywords whose values are data, not schemas: never walked for references.
_NOT_SCHEMAS = frozenset({"example", "examples", "pattern", "format", "type"})


def _python_regex(pattern: str) -> str:
    """``pattern`` with ``\\p{L}``-style classes as ranges, inside a set or not."""
    out: list[str] = []
    depth = 0
    index = 0
    while index < len(pattern):
        match = _UNICODE_CLASS.match(pattern, index)
        if match and match.group(2) in _REGEX_CLASSES:
            ranges = _REGEX_CLASSES[match.group(2)]
            negated = match.group(1) == "P"
            if depth:
                if negated:
                    raise re.error("a negated class inside a set")
                out.append(ranges)
            else:
                out.append(f"[{'^' if negated else ''}{ranges}]")
            index = match.end()
            continue
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not depth:
            depth = 1
        elif char == "]" and depth:
            depth = 0
        out.append(char)
        index += 1
    return "".join(out)


def _pattern(value: Any) -> Any:
    if not isinstance(value, str):
        return _DROP
    try:
        value = _python_regex(value)
        re.compile(value)
    except (re.error, RecursionError, OverflowError):
        return _DROP
    return value


def _number(value: Any, *, count: bool) -> Any:
    if isinstance(value, str):  # "30" for 30: the docs' quirk, meant as the number
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return _DROP
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _DROP
    if count and (not float(value).is_integer() or value < 0):
        return _DROP
    return int(value) if count else value


def _usable(key: str, value: Any, openapi_30: bool) -> Any:
    """A keyword's value as a validator can apply it, or ``_DROP``.

    One unusable keyword (a regex in another dialect, ``maximum: "30"``) would
    otherwise stop the check of the whole document, nested array items included:
    it is repaired where its meaning is plain, else only that keyword is left out.
    """
    if key == "pattern":
        return _pattern(value)
    if key in _NUMBERS or key in _COUNTS:
        return _number(value, count=key in _COUNTS)
    if key in ("exclusiveMinimum", "exclusiveMaximum"):
        if openapi_30:
            return value if isinstance(value, bool) else _DROP
        return _number(value, count=False)
    if key == "required":
        names = [n for n in value if isinstance(n, str)] if isinstance(value, list) else []
        return names if names else _DROP
    if key == "enum":
        return value if isinstance(value, list) and value else _DROP
    if key == "type":
        if isinstance(value, str):
            return value if value in _TYPES else _DROP
        if isinstance(value, list):
            kinds = [k for k in value if k in _TYPES]
            return kinds if kinds else _DROP
        return _DROP
    if key == "uniqueItems":
        return value if isinstance(value, bool) else _DROP
    return value


def _schema_value(key: str, value: Any, convert: Any) -> Any:
    """The converted value of a keyword that holds schemas, or ``_DROP`` when malformed."""
    if key in _ONE:
        if isinstance(value, (dict, bool)) or (key == "items" and isinstance(value, list)):
            return [convert(v) for v in value] if isinstance(value, list) else convert(value)
        return _DROP
    if key in _MANY:
        return [convert(item) for item in value] if isinstance(value, list) else _DROP
    return (
        {name: convert(item) for name, item in value.items()} if isinstance(value, dict) else _DROP
    )


def _convert_30(schema: Any) -> Any:
    """One OpenAPI 3.0 schema as draft 4, walked by structure."""
    if not isinstance(schema, dict):
        return schema
    out: Json = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or (isinstance(key, str) and key.startswith("x-")):
            continue
        if key == "$ref" and isinstance(value, str):
            converted: Any = value.replace(_REF_PREFIX, "#/definitions/", 1)
        elif key in _ONE or key in _MANY or key in _MAP:
            converted = _schema_value(key, value, _convert_30)
        else:
            converted = _usable(key, value, openapi_30=True)
        if converted is not _DROP:
            out[key] = converted
    if schema.get("nullable") is True and "$ref" not in out:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if kind is None and any(k in out for k in _MANY):
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def _convert_31(schema: Any) -> Any:
    """One OpenAPI 3.1 schema (JSON Schema 2020-12): references moved, keywords made usable."""
    if not isinstance(schema, dict):
        return schema
    out: Json = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            converted: Any = value.replace(_REF_PREFIX, "#/$defs/", 1)
        elif key in _ONE or key in _MANY or key in _MAP:
            converted = _schema_value(key, value, _convert_31)
        else:
            converted = _usable(key, value, openapi_30=False)
        if converted is not _DROP:
            out[key] = converted
    return out


def _reason(error: jsonschema.ValidationError) -> str:
    """Why a value failed, from the schema's side only: the value may be a secret."""
    keyword, expected = error.validator, error.validator_value
    if keyword == "required":
        return str(error.message).replace(" is a required property", " is required")[:200]
    if keyword == "type":
        return f"must be of type {expected}"
    if keyword == "enum":
        shown = repr(expected)
        return f"must be one of {shown if len(shown) <= 120 else shown[:120] + '...'}"
    if keyword == "format":
        return f"must be a valid {expected}"
    if keyword == "additionalProperties":
        return "has properties the schema does not allow"
    shown = repr(expected) if not isinstance(expected, (dict, list)) else "its schema"
    return f"fails {keyword} {shown[:120]}"


def _where(path: Iterator[Any] | Any) -> str:
    parts = [str(part) for part in path]
    return "/".join(parts) if parts else "(root)"


class SchemaSet:
    """The validators of one spec's schemas, built once per schema object and cached."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        components = spec.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        self.openapi_31 = str(spec.get("openapi", "")).startswith("3.1")
        self._convert = _convert_31 if self.openapi_31 else _convert_30
        named = schemas if isinstance(schemas, dict) else {}
        self._raw_named: Json = named
        self.definitions: Json = {name: self._convert(value) for name, value in named.items()}
        self._cls = (
            jsonschema.Draft202012Validator if self.openapi_31 else jsonschema.Draft4Validator
        )
        self._cache: dict[int, tuple[Any, Validator]] = {}

    def converted(self, schema: Any) -> Any:
        """``schema`` as JSON Schema, its references resolved against this set."""
        return self._convert(schema)

    def validator(self, schema: Any) -> Validator:
        hit = self._cache.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        converted = self._convert(schema) if isinstance(schema, dict) else {}
        key = "$defs" if self.openapi_31 else "definitions"
        if not self.openapi_31:  # draft 4: a $ref replaces its node, so it can be inlined
            converted = self._inline(converted, ())
        root = {**converted, key: self.definitions}
        validator: Validator = self._cls(root, format_checker=FORMATS)
        self._cache[id(schema)] = (schema, validator)
        return validator

    def _inline(self, node: Any, stack: tuple[str, ...]) -> Any:
        """``node`` with references to named schemas replaced by their content, which
        spares the validator a lookup per reference per value (most of its time);
        a reference back into a schema being inlined (recursion) stays a reference."""
        if isinstance(node, list):
            return [self._inline(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref[len("#/definitions/") :]
            target = self.definitions.get(name)
            if target is None or name in stack or len(stack) >= _INLINE_DEPTH:
                return node
            return self._inline(target, (*stack, name))
        return {
            key: value
            if key in ("enum", "const", "required", "default") or key in _NOT_SCHEMAS
            else self._inline(value, stack)
            for key, value in node.items()
        }

    def resolve(self, schema: Any) -> Any:
        """The schema a reference points to (one level at a time, cycles stop)."""
        seen: set[str] = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref: str = schema["$ref"]
            if ref in seen or not ref.startswith(_REF_PREFIX):
                return {}
            seen.add(ref)
            schema = self._raw_named.get(ref[len(_REF_PREFIX) :], {})
        return schema

    def check(self, value: Any, schema: Any, what: str) -> None:
        """Raise :class:`ValidationFailure` naming ``what`` when ``value`` does not fit.

        A schema that cannot be applied (a ``pattern`` that is no regular expression,
        a keyword of the wrong type) checks nothing: the mock answers rather than fail.
        """
        validator = self.validator(schema)
        try:
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        except RecursionError:
            raise ValidationFailure(f"{what} is nested too deeply") from None
        except _UNUSABLE_SCHEMA:
            _log.warning("%s: its schema cannot be applied; not checked", what)
            return
        if error is not None:
            where = _where(error.absolute_path)
            suffix = "" if where == "(root)" else f" at {where}"
            raise ValidationFailure(f"{what}{suffix} {_reason(error)}")

    def first_problem(self, value: Any, schema: Any, what: str) -> str | None:
        """What :meth:`check` would raise, as text, or ``None`` when ``value`` fits."""
        try:
            self.check(value, schema, what)
        except ValidationFailure as exc:
            return exc.message
        return None

    def is_valid(self, value: Any, schema: Any) -> bool:
        """Whether ``value`` fits; a schema that cannot be applied accepts anything."""
        try:
            return bool(self.validator(schema).is_valid(value))
        except RecursionError:
            return False
        except _UNUSABLE_SCHEMA:
            return True
