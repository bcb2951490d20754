"""A valid request for any operation of a spec, made from its schemas.

The contract suite sends one per documented status of each operation (with
``Prefer: code=...``) so that a run against the mock reaches every response the
spec documents, whatever the operation and without a hand-written input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carrier_mocks.openapi.document import Operation, operations
from carrier_mocks.openapi.inputs import is_json
from carrier_mocks.openapi.samples import sample
from carrier_mocks.openapi.schemas import SchemaSet

__all__ = ["valid_requests"]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _request(op: Operation, schemas: SchemaSet) -> dict[str, Any]:
    parts: dict[str, dict[str, Any]] = {"path_parameters": {}, "query": {}, "headers": {}}
    for param in op.parameters:
        if not param.required or param.location == "cookie":
            continue
        value = sample(param.schema, schemas)
        if param.location == "path":
            parts["path_parameters"][param.name] = _text(value)
        elif param.location == "query":
            parts["query"][param.name] = (
                [_text(v) for v in value] if isinstance(value, list) else _text(value)
            )
        else:
            parts["headers"][param.name] = _text(value)
    request: dict[str, Any] = {key: value for key, value in parts.items() if value}
    for media in op.body:
        if is_json(media.name) and media.schema is not None:
            request["body"] = sample(media.schema, schemas)
            request["media_type"] = media.name
            break
    return request


def valid_requests(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``"METHOD /path"`` -> the parts of a valid request (``operation.Case`` arguments)."""
    schemas = SchemaSet(spec)
    return {op.key: _request(op, schemas) for op in operations(spec)}
