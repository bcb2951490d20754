"""Values made from a schema: a fixed one per schema (Prism's static mode) or a random one.

The fixed value prefers what the spec itself offers (``example``, ``default``, the
first ``enum`` entry) and otherwise the smallest value that meets every constraint;
``rng`` switches to random values within the same constraints (``dynamic=true``).
Callers check the result against the schema (:class:`~.schemas.SchemaSet`); what
this module cannot meet (a regex it cannot read, contradictory bounds) then shows.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import random
import string
import uuid
from typing import Any

from carrier_mocks.openapi.patterns import from_pattern
from carrier_mocks.openapi.schemas import SchemaSet

__all__ = ["BINARY_SAMPLES", "binary_sample", "sample"]

_MAX_DEPTH = 12
_FIXED_UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
_FIXED_MOMENT = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)

# The smallest files their readers open: a one-page PDF and a 1x1 PNG.
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 298 420]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
BINARY_SAMPLES = {"application/pdf": _PDF, "image/png": _PNG}


def binary_sample(media_type: str) -> bytes:
    """A body of ``media_type`` its readers accept where we know one, else a few bytes."""
    return BINARY_SAMPLES.get(media_type, b"mock binary content\n")


def sample(schema: Any, schemas: SchemaSet, rng: random.Random | None = None) -> Any:
    """A value for ``schema``; fixed when ``rng`` is None, else drawn from ``rng``."""
    return _Sampler(schemas, rng).value(schema, 0, use_examples=rng is None)


def sample_without_examples(schema: Any, schemas: SchemaSet) -> Any:
    """A fixed value built from the constraints alone (for when a spec's example is wrong)."""
    return _Sampler(schemas, None).value(schema, 0, use_examples=False)


class _Sampler:
    def __init__(self, schemas: SchemaSet, rng: random.Random | None) -> None:
        self.schemas = schemas
        self.rng = rng

    def value(self, schema: Any, depth: int, *, use_examples: bool) -> Any:
        schema = self.schemas.resolve(schema)
        if not isinstance(schema, dict):
            return "string" if schema is not False else None
        rng = self.rng
        if use_examples:
            for key in ("example", "default"):
                if key in schema:
                    return schema[key]
            if isinstance(schema.get("examples"), list) and schema["examples"]:
                return schema["examples"][0]
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            choices = [item for item in enum if item is not None] or enum
            return rng.choice(choices) if rng else choices[0]
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            return self._all_of(schema, depth, use_examples)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                chosen = rng.choice(options) if rng else options[0]
                return self.value(chosen, depth + 1, use_examples=use_examples)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or kind
            kind = rng.choice(kinds) if rng else kinds[0]
        if kind is None:
            if "properties" in schema or "required" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
        maker = {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
            "boolean": self._boolean,
            "null": _null,
        }.get(kind if isinstance(kind, str) else "")
        if maker is None:
            return "string"
        return maker(schema, depth, use_examples)

    def _all_of(self, schema: dict[str, Any], depth: int, use_examples: bool) -> Any:
        parts = [self.schemas.resolve(part) for part in schema["allOf"]]
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        if any(k not in _ANNOTATIONS and not k.startswith("x-") for k in rest):
            parts.append(rest)
        if not all(isinstance(part, dict) for part in parts):
            return self.value(parts[0], depth + 1, use_examples=use_examples)
        if not all(_is_object(part) for part in parts):
            # Not all objects: the first part's value, which the caller checks.
            return self.value(parts[0], depth + 1, use_examples=use_examples)
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in parts:
            for name, prop in (part.get("properties") or {}).items():
                known = merged["properties"].get(name)
                merged["properties"][name] = prop if known is None else {"allOf": [known, prop]}
            merged["required"] += [
                r for r in part.get("required", []) if r not in merged["required"]
            ]
            extra = part.get("additionalProperties")
            if extra is False or (isinstance(extra, dict) and "additionalProperties" not in merged):
                merged["additionalProperties"] = extra
            wanted = _int_keyword(part, "minProperties", 0)
            merged["minProperties"] = max(merged.get("minProperties", 0), wanted)
        return self._object(merged, depth, use_examples)

    def _object(self, schema: dict[str, Any], depth: int, use_examples: bool) -> Any:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = [r for r in schema.get("required", []) if isinstance(r, str)]
        out: dict[str, Any] = {}
        for name, prop in properties.items():
            optional = name not in required
            if optional and (depth >= _MAX_DEPTH // 2 or (self.rng and self.rng.random() < 0.25)):
                continue
            value = self.value(prop, depth + 1, use_examples=use_examples)
            if optional and not self.schemas.is_valid(value, prop):
                continue  # an optional property it cannot fill is better left out
            out[name] = value
        extra = schema.get("additionalProperties")
        for name in required:  # required but not described: any value will do
            if name not in out:
                out[name] = (
                    self.value(extra, depth + 1, use_examples=use_examples)
                    if isinstance(extra, dict)
                    else "string"
                )
        wanted = schema.get("minProperties")
        index = 0
        while isinstance(wanted, int) and len(out) < wanted and extra is not False:
            index += 1
            key = f"property{index}"
            if key not in out:
                item = extra if isinstance(extra, dict) else {}
                out[key] = self.value(item, depth + 1, use_examples=use_examples)
        return out

    def _array(self, schema: dict[str, Any], depth: int, use_examples: bool) -> Any:
        low, high = _int_keyword(schema, "minItems", 0), _int_keyword(schema, "maxItems", None)
        if self.rng:
            count = self.rng.randint(low, low + 3 if high is None else min(high, low + 3))
        else:
            count = max(low, 1 if depth < _MAX_DEPTH else 0)
        if high is not None:
            count = min(count, high)
        items = schema.get("items", {})
        unique = schema.get("uniqueItems") is True
        out: list[Any] = []
        attempt = 0
        while len(out) < count and attempt < count * 8 + 8:
            sampler = self if attempt == 0 else _Sampler(self.schemas, random.Random(attempt))
            value = sampler.value(items, depth + 1, use_examples=use_examples and attempt == 0)
            attempt += 1
            if unique and value in out:
                continue
            out.append(value)
        return out

    def _string(self, schema: dict[str, Any], depth: int, use_examples: bool) -> Any:
        rng = self.rng
        fmt = schema.get("format")
        if fmt == "date-time":
            moment = _FIXED_MOMENT
            if rng:
                moment += dt.timedelta(seconds=rng.randint(-(10**8), 10**8))
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "date":
            day = _FIXED_MOMENT.date()
            return (day + dt.timedelta(days=rng.randint(-3000, 3000) if rng else 0)).isoformat()
        if fmt == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4)) if rng else _FIXED_UUID
        fixed = {
            "email": "user@example.com",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "hostname": "example.com",
            "ipv4": "192.0.2.1",
            "ipv6": "2001:db8::1",
            "byte": "c3RyaW5n",
        }
        if isinstance(fmt, str) and fmt in fixed:
            return fixed[fmt]
        low, high = _int_keyword(schema, "minLength", 0), _int_keyword(schema, "maxLength", None)
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            made = from_pattern(pattern, rng, low, high)
            if made is not None:
                return made
        if rng:
            length = rng.randint(low, low + 12 if high is None else min(high, low + 12))
            return "".join(rng.choice(string.ascii_letters) for _ in range(length))
        text = "string"
        if len(text) < low:
            text = text + "s" * (low - len(text))
        return text if high is None else text[:high]

    def _integer(self, schema: dict[str, Any], depth: int, use_examples: bool) -> Any:
        low, high = _bounds(schema, 1)
        step = schema.get("multipleOf")
        value = self._pick(low, high, integer=True)
        if isinstance(step, (int, float)) and step > 0 and not isinstance(step, bool):
            value = math.ceil(value / step) * step
            if high is not None and value > high:
                value -= math.ceil(step)
        return int(value)

    def _number(self, schema: dict[str, Any], depth: int, use_examples: bool) -> Any:
        low, high = _bounds(schema, 0.5)
        value = self._pick(low, high, integer=False)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0 and not isinstance(step, bool):
            value = math.ceil(value / step) * step
        return value

    def _pick(self, low: float | None, high: float | None, *, integer: bool) -> float:
        if self.rng:
            lo = low if low is not None else (high - 1000 if high is not None else -1000)
            hi = high if high is not None else lo + 2000
            if integer:
                return self.rng.randint(math.ceil(lo), math.floor(hi))
            return round(self.rng.uniform(lo, hi), 2) if lo < hi else lo
        if low is not None and (high is None or low <= high):
            return math.ceil(low) if integer else low
        if high is not None and high < 0:
            return math.floor(high) if integer else high
        return 0

    def _boolean(self, schema: dict[str, Any], depth: int, use_examples: bool) -> Any:
        return self.rng.random() < 0.5 if self.rng else True


_ANNOTATIONS = frozenset(
    {"nullable", "description", "title", "example", "examples", "default", "deprecated"}
    | {"readOnly", "writeOnly", "externalDocs", "xml"}
)
"""Keywords beside an ``allOf`` that constrain nothing a sample must meet: such a rest
is not a part of its own (a lone ``nullable`` would make the parts look mixed)."""


def _is_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or (
        "type" not in schema and ("properties" in schema or "required" in schema)
    )


def _null(schema: dict[str, Any], depth: int, use_examples: bool) -> None:
    return None


def _int_keyword(schema: dict[str, Any], key: str, default: Any) -> Any:
    value = schema.get(key)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
    )


def _bounds(schema: dict[str, Any], nudge: float) -> tuple[float | None, float | None]:
    """Inclusive bounds from ``minimum``/``maximum`` and either form of ``exclusive*``."""
    low = schema.get("minimum")
    high = schema.get("maximum")
    low = low if isinstance(low, (int, float)) and not isinstance(low, bool) else None
    high = high if isinstance(high, (int, float)) and not isinstance(high, bool) else None
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if ex_low is True and low is not None:
        low += nudge
    elif isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool):
        low = ex_low + nudge
    if ex_high is True and high is not None:
        high -= nudge
    elif isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool):
        high = ex_high - nudge
    return low, high
