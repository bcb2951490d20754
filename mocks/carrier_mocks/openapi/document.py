"""The operations of an OpenAPI document, with every reference outside schemas resolved.

Parameters, request bodies, responses, headers and examples may be ``$ref``s to
``components``; they are followed here (cycles and dangling references end as
empty objects), so the request handler reads plain objects. Schemas keep their
references: :class:`~.schemas.SchemaSet` resolves those.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["HTTP_METHODS", "MediaType", "Operation", "Parameter", "ResponseDoc", "operations"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Json = dict[str, Any]


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: Any
    explode: bool
    style: str


@dataclass(frozen=True)
class MediaType:
    name: str
    schema: Any
    example: Any
    has_example: bool
    examples: Mapping[str, Any]
    """Named examples, each resolved to its ``value`` (missing values are omitted)."""


@dataclass(frozen=True)
class ResponseDoc:
    status: str  # "200", "4XX" or "default"
    content: tuple[MediaType, ...]
    headers: Mapping[str, Any]
    """Header name -> schema."""


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # as the spec writes it
    parameters: tuple[Parameter, ...]
    body_required: bool
    body: tuple[MediaType, ...]
    responses: Mapping[str, ResponseDoc]
    security: tuple[Mapping[str, Any], ...]
    """Alternatives, each a set of schemes that must all be satisfied; () is open."""

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def documents(self, status: int | str) -> ResponseDoc | None:
        """The response documented for ``status``: exact code, then ``NXX``, then ``default``."""
        code = str(status)
        return (
            self.responses.get(code)
            or self.responses.get(f"{code[0]}XX")
            or self.responses.get(f"{code[0]}xx")
            or self.responses.get("default")
        )

    def documents_exactly(self, status: int | str) -> bool:
        code = str(status)
        return code in self.responses or f"{code[0]}XX" in self.responses


def _deref(spec: Mapping[str, Any], node: Any) -> Any:
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref: str = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            return {}
        seen.add(ref)
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node = target if target is not None else {}
    return node


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _media_types(spec: Mapping[str, Any], content: Any) -> tuple[MediaType, ...]:
    out = []
    for name, media in _dict(content).items():
        media = _dict(_deref(spec, media))
        examples = {}
        for label, example in _dict(media.get("examples")).items():
            example = _dict(_deref(spec, example))
            if "value" in example:
                examples[label] = example["value"]
        out.append(
            MediaType(
                name=str(name).lower(),
                schema=media.get("schema"),
                example=media.get("example"),
                has_example="example" in media,
                examples=examples,
            )
        )
    return tuple(out)


def _parameter(spec: Mapping[str, Any], raw: Any) -> Parameter | None:
    param = _dict(_deref(spec, raw))
    name, location = param.get("name"), param.get("in")
    if not isinstance(name, str) or location not in ("path", "query", "header", "cookie"):
        return None
    style = param.get("style") or ("form" if location in ("query", "cookie") else "simple")
    explode = param.get("explode")
    schema = param.get("schema")
    if schema is None and isinstance(param.get("content"), dict) and param["content"]:
        schema = _dict(next(iter(param["content"].values()))).get("schema")
    return Parameter(
        name=name,
        location=location,
        required=bool(param.get("required")) or location == "path",
        schema=schema if schema is not None else {},
        explode=explode if isinstance(explode, bool) else style == "form",
        style=str(style),
    )


def _responses(spec: Mapping[str, Any], raw: Any) -> dict[str, ResponseDoc]:
    out = {}
    for status, response in _dict(raw).items():
        response = _dict(_deref(spec, response))
        headers = {
            str(name): _dict(_deref(spec, header)).get("schema", {})
            for name, header in _dict(response.get("headers")).items()
            if str(name).lower() not in ("content-type", "content-length")
        }
        out[str(status)] = ResponseDoc(
            str(status), _media_types(spec, response.get("content")), headers
        )
    return out


def operations(spec: Mapping[str, Any]) -> Iterator[Operation]:
    """Every operation of ``spec``, path by path, in the document's order."""
    default_security: list[Any] = spec["security"] if isinstance(spec.get("security"), list) else []
    for path, item in _dict(spec.get("paths")).items():
        item = _dict(_deref(spec, item))
        shared = [_parameter(spec, p) for p in item.get("parameters") or []]
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            own = [_parameter(spec, p) for p in op.get("parameters") or []]
            merged: dict[tuple[str, str], Parameter] = {}
            for param in [*shared, *own]:  # the operation's own win
                if param is not None:
                    merged[(param.location, param.name)] = param
            body = _dict(_deref(spec, op.get("requestBody")))
            security: list[Any] = (
                op["security"] if isinstance(op.get("security"), list) else default_security
            )
            yield Operation(
                method=method.upper(),
                path=str(path),
                parameters=tuple(merged.values()),
                body_required=bool(body.get("required")),
                body=_media_types(spec, body.get("content")),
                responses=_responses(spec, op.get("responses")),
                security=tuple(_dict(requirement) for requirement in security),
            )
