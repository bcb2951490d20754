"""Checking a request against its operation: parameters by location, then the body.

Parameters arrive as text and are read as their schema's type first (``"7"`` is
an integer for ``type: integer``; a repeated query name is an array), then
checked against the schema. The first problem found is reported as an
:class:`InputProblem` naming the part of the request and what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from carrier_mocks.openapi.document import MediaType, Operation, Parameter
from carrier_mocks.openapi.prefer import CONTROL_QUERY
from carrier_mocks.openapi.schemas import SchemaSet, ValidationFailure
from carrier_mocks.parsing import BadInput, BodyTooLarge, printable, read_body

__all__ = [
    "MAX_BODY_BYTES",
    "InputProblem",
    "RequestValues",
    "check_request",
    "is_json",
    "read_request",
]

#: Bodies past this are refused before they are parsed.
MAX_BODY_BYTES = 1024 * 1024

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", re.ASCII)


@dataclass(frozen=True)
class InputProblem:
    location: str  # path | query | header | cookie | body
    name: str  # the parameter, or "body"
    message: str
    kind: str = "invalid"  # invalid | unsupported-media-type | too-large


@dataclass
class RequestValues:
    """A valid request's parameters read as their schemas' types, and its JSON body."""

    params: dict[tuple[str, str], Any] = field(default_factory=dict)
    """``(location, name) -> value`` of every parameter sent."""
    body: Any = None
    has_body: bool = False

    def get(self, location: str, name: str) -> Any:
        return self.params.get((location, name))


def is_json(media_type: str) -> bool:
    media_type = media_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class _Unreadable(ValueError):
    pass


def _scalar(text: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in kinds and _NUMBER.fullmatch(text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    if "boolean" in kinds and text in ("true", "false"):
        return text == "true"
    if "null" in kinds and text == "null":
        return None
    if kinds == [None] or "string" in kinds:
        return text
    raise _Unreadable(f"must be of type {kind}")


def _read(values: list[str], param: Parameter, schemas: SchemaSet) -> Any:
    schema = schemas.resolve(param.schema)
    schema = schema if isinstance(schema, dict) else {}
    kind = schema.get("type")
    if kind == "array" or (isinstance(kind, list) and "array" in kind):
        if not (param.location == "query" and param.explode):
            values = [part for value in values for part in value.split(",")]
        items = schemas.resolve(schema.get("items", {}))
        return [_scalar(value, items if isinstance(items, dict) else {}) for value in values]
    if len(values) > 1:
        raise _Unreadable("is repeated")
    if kind == "object" or (kind is None and "properties" in schema):
        try:
            return json.loads(values[0])
        except ValueError:
            raise _Unreadable("must be a JSON object") from None
    return _scalar(values[0], schema)


def _is_array(schema: Any) -> bool:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def query_values(request: Request, name: str, array: bool) -> list[str]:
    """A query parameter's values; an array's in every form PHP and common clients send.

    ``ids[]=1&ids[]=2``, ``ids[0]=1&ids[1]=2`` (PHP's ``http_build_query``, in index
    order) and ``ids=1&ids=2`` are one array, whichever of the names the spec uses.
    """
    values = request.query_params.getlist(name)
    if not array:
        return values
    base = name.removesuffix("[]")
    if name != base + "[]":
        values = values + request.query_params.getlist(base + "[]")
    elif base:
        values = values + request.query_params.getlist(base)
    indexed = re.compile(re.escape(base) + r"\[([0-9]{1,6})\]")
    numbered = []
    for key, value in request.query_params.multi_items():
        match = indexed.fullmatch(key)
        if match:
            numbered.append((int(match.group(1)), value))
    return values + [value for _, value in sorted(numbered, key=lambda pair: pair[0])]


#: Headers HTTP itself defines as preference lists (RFC 9110, section 12.5).
NEGOTIATED = frozenset({"accept-language", "accept-charset", "accept-encoding"})
#: Header parameters OpenAPI 3 says to ignore: the media types and security say these.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})


def negotiate(values: list[str], schema: Any) -> list[str]:
    """A preference header read as HTTP does: the best listed value the schema takes.

    ``*``, and a list naming nothing the schema allows, fall back to the schema's
    default (else the first of its enum): a server picks what it can serve rather
    than refuse the request. ``uk-UA`` is served by ``uk``.
    """
    schema = schema if isinstance(schema, dict) else {}
    ranked: list[tuple[float, int, str]] = []
    for value in values:
        for index, part in enumerate(value.split(",")):
            token, *params = (piece.strip() for piece in part.split(";"))
            weight = 1.0
            for param in params:
                name, _, number = param.partition("=")
                if name.strip().lower() == "q":
                    try:
                        weight = float(number)
                    except ValueError:
                        weight = 0.0
            if token and weight > 0:
                ranked.append((-weight, len(ranked) + index, token))
    enum = schema.get("enum") if isinstance(schema.get("enum"), list) else None
    for _, _, token in sorted(ranked):
        if token == "*" or token.endswith("/*"):
            continue
        if enum is None:
            return [token]
        for allowed in enum:
            text = str(allowed)
            if text.lower() in (token.lower(), token.lower().split("-")[0]):
                return [text]
    if "default" in schema:
        return [str(schema["default"])]
    if enum:
        return [str(enum[0])]
    return []


def _raw(
    request: Request, param: Parameter, aliases: Mapping[str, str], schemas: SchemaSet
) -> list[str]:
    if param.location == "path":
        value = request.path_params.get(aliases.get(param.name, param.name))
        return [] if value is None else [str(value)]
    if param.location == "query":
        schema = schemas.resolve(param.schema)
        return query_values(request, param.name, _is_array(schema) or param.name.endswith("[]"))
    if param.location == "header":
        values = request.headers.getlist(param.name)
        if values and param.name.lower() in NEGOTIATED:
            return negotiate(values, schemas.resolve(param.schema))
        return values
    value = request.cookies.get(param.name)
    return [] if value is None else [value]


def _check_parameter(
    request: Request,
    param: Parameter,
    schemas: SchemaSet,
    aliases: Mapping[str, str],
    into: RequestValues,
) -> InputProblem | None:
    shown = printable(param.name)
    values = _raw(request, param, aliases, schemas)
    where = f"{param.location} parameter '{shown}'"
    if not values:
        if param.required:
            return InputProblem(param.location, shown, f"Missing required {where}")
        return None
    try:
        value = _read(values, param, schemas)
        schemas.check(value, param.schema, where)
    except _Unreadable as exc:
        return InputProblem(param.location, shown, f"The {where} {exc}")
    except ValidationFailure as exc:
        return InputProblem(param.location, shown, f"The {exc.message}")
    into.params[(param.location, param.name)] = value
    return None


def _media_type_of(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _declared(body: tuple[MediaType, ...], sent: str) -> MediaType | None:
    for media in body:
        name = media.name.split(";", 1)[0].strip()
        if name in (sent, "*/*") or (name.endswith("/*") and sent.startswith(name[:-1])):
            return media
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


async def _check_body(
    op: Operation, request: Request, schemas: SchemaSet, into: RequestValues
) -> InputProblem | None:
    headers = request.headers
    if "content-length" not in headers and "transfer-encoding" not in headers:
        raw = b""  # HTTP/1.1: no length and no chunks means no body; nothing to read
    else:
        try:
            raw = await read_body(request, MAX_BODY_BYTES)
        except BadInput as exc:
            kind = "too-large" if isinstance(exc, BodyTooLarge) else "invalid"
            return InputProblem("body", "body", exc.message, kind)
    if not raw:
        if op.body_required:
            return InputProblem("body", "body", "The request body is required")
        return None
    if not op.body:
        return None  # a body the operation does not describe is ignored, as servers do
    sent = _media_type_of(request)
    media = _declared(op.body, sent)
    if media is None:
        declared = ", ".join(m.name for m in op.body)
        return InputProblem(
            "body",
            "Content-Type",
            f"Content-Type must be {declared}",
            "unsupported-media-type",
        )
    if not is_json(media.name if media.name != "*/*" else sent) or media.schema is None:
        return None
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return InputProblem("body", "body", "The request body is not valid JSON")
    try:
        schemas.check(value, media.schema, "request body")
    except ValidationFailure as exc:
        return InputProblem("body", "body", f"The {exc.message}")
    into.body, into.has_body = value, True
    return None


async def read_request(
    op: Operation, request: Request, schemas: SchemaSet, aliases: Mapping[str, str]
) -> InputProblem | RequestValues:
    """The first problem of ``request`` against ``op``, or its values when it is valid.

    Query names that select a response (``__code``...) are not the API's and are
    skipped; parameters the operation does not describe are ignored.
    """
    values = RequestValues()
    for param in op.parameters:
        if param.location == "query" and param.name in CONTROL_QUERY:
            continue
        if param.location == "header" and param.name.lower() in IGNORED_HEADERS:
            continue
        problem = _check_parameter(request, param, schemas, aliases, values)
        if problem is not None:
            return problem
    problem = await _check_body(op, request, schemas, values)
    return values if problem is None else problem


async def check_request(
    op: Operation, request: Request, schemas: SchemaSet, aliases: Mapping[str, str]
) -> InputProblem | None:
    """The first problem of ``request`` against ``op``, or ``None`` when it is valid."""
    outcome = await read_request(op, request, schemas, aliases)
    return outcome if isinstance(outcome, InputProblem) else None
