"""Defensive reading of requests: bounded bodies, strict JSON, checked parameters.

Every helper raises :class:`BadInput` with a short message instead of letting a
malformed request reach the business rules; each app turns that into the 4xx
its spec documents.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from typing import Any

from starlette.requests import ClientDisconnect, Request

__all__ = [
    "MAX_BODY_BYTES",
    "BadInput",
    "BodyTooLarge",
    "as_float",
    "printable",
    "query_params",
    "read_body",
    "read_json_object",
    "single_header",
]

#: Far above any valid body of these APIs, low enough that a huge upload is refused early.
MAX_BODY_BYTES = 64 * 1024


class BadInput(Exception):
    """The request is malformed; ``message`` says how, without echoing secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BodyTooLarge(BadInput):
    """The body is past the limit: a 413 where an operation documents one."""

    def __init__(self) -> None:
        super().__init__("Request body too large")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadInput("Invalid Content-Length header")
        if int(declared) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
    except ClientDisconnect:  # the client's fault: an answer nobody reads, not a traceback
        raise BadInput("Incomplete request body") from None
    return b"".join(chunks)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadInput(f"Repeated parameter: {printable(key)}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise BadInput("Malformed JSON body")


async def read_json_object(request: Request) -> dict[str, Any] | None:
    """The body as a JSON object, or ``None`` when there is no body at all."""
    body = await read_body(request)
    if not body.strip():
        return None
    if not _is_json(request.headers.get("content-type", "")):
        raise BadInput("Content-Type must be application/json")
    try:
        text = body.decode("utf-8")
        data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadInput("Malformed JSON body") from None
    if not isinstance(data, dict):
        raise BadInput("Request body must be a JSON object")
    return data


def query_params(
    request: Request, allowed: Collection[str]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The query's parameters, and ``(name, message)`` for each unknown or repeated name."""
    values: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    reported: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name in allowed and name not in values:
            values[name] = value
            continue
        if name in reported:
            continue
        reported.add(name)
        shown = printable(name)
        if name in allowed:
            errors.append((shown, f"Repeated parameter: {shown}"))
        else:
            errors.append((shown, f"Unknown parameter: {shown}"))
    return values, errors


def as_float(value: object) -> float | None:
    """A JSON number as a float, ±inf past a float's range (a 400-digit integer); else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def single_header(request: Request, name: str) -> str | None:
    """A header sent at most once; a repeated header is malformed."""
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise BadInput(f"Repeated header: {name}")
    return values[0] if values else None


def printable(name: str, limit: int = 64) -> str:
    """A parameter name fit to quote in an error: bounded and free of control characters."""
    cleaned = "".join(char if char.isprintable() else "?" for char in name)
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."
