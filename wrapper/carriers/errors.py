"""One exception hierarchy for both carriers.

Every failure of a call made through this package is one of these: a status error
chosen by the HTTP status (the status is authoritative; Shipyo's ``success`` flag only
decorates it), a connection error, or a validation error for a 2xx body that breaks
the spec. Texts and reprs are built from redacted data only.
"""

from __future__ import annotations

import datetime
import email.utils
import html
import json
import re
from collections.abc import Callable
from typing import Any

import httpx

from .redaction import redact, redact_bytes, redact_headers, safe_request

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CarrierError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
    "connection_error",
    "parse_messages",
    "parse_retry_after",
    "status_error",
]

_MAX_MESSAGE = 300
_MAX_MESSAGES = 20
_MAX_DEPTH = 16
"""Nesting of a JSON error body beyond which no message is looked for."""


class CarrierError(Exception):
    """Base of every exception this package raises on purpose."""


class ConfigurationError(CarrierError, ValueError):
    """Bad input detected before any network call (key, environment, URL, phone)."""


class APIError(CarrierError):
    """A call to a carrier API failed. ``request`` is a redacted, bodiless copy."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        self.message = redact(message)
        self.request: httpx.Request | None = safe_request(request) if request is not None else None
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class APIConnectionError(APIError):
    """The server could not be reached or the connection broke (after retries)."""


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout (after retries)."""


class ResponseValidationError(APIError):
    """A 2xx response whose body does not match what the spec (and the model) promise."""

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code


class ResponseTooLargeError(APIError):
    """A response body grew past ``max_response_bytes`` (counted after decompression)."""

    def __init__(self, message: str, *, limit: int, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)
        self.limit = limit


class APIStatusError(APIError):
    """A non-2xx response.

    ``messages`` holds what the server said, from either API's body shape;
    ``request_id`` the server's request id when it sent one; ``body`` and
    ``headers`` the response's. All of them are redacted: a server may echo a key
    or a token back anywhere.
    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None,
        status_code: int,
        messages: list[str],
        request_id: str | None = None,
        body: bytes = b"",
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.messages = [redact(m) for m in messages]
        self.request_id = redact(request_id) if request_id is not None else None
        self.body = redact_bytes(body)
        self.headers = redact_headers(headers) if headers is not None else httpx.Headers()


class BadRequestError(APIStatusError):
    """400: the request was malformed or a key is inactive (Shipyo)."""


class AuthenticationError(APIStatusError):
    """401: the API key or the JWT was refused, even after one fresh JWT."""


class PermissionDeniedError(APIStatusError):
    """403: refused (Shipyo: invalid API key, or a JWT still refused after a fresh one)."""


class NotFoundError(APIStatusError):
    """404: the resource (Nova Post: the client for a phone) does not exist."""


class ConflictError(APIStatusError):
    """409: conflicting state (Nova Post: several clients match a phone)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was understood but refused (validation, key restrictions)."""


class RateLimitError(APIStatusError):
    """429: too many requests.

    ``retry_after`` is the server's ``Retry-After`` in seconds when given; Shipyo's
    ``X-RateLimit-*`` headers are exposed as ``limit``, ``remaining`` and ``reset``.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = parse_retry_after(self.headers)
        self.limit = _int_header(self.headers, "x-ratelimit-limit")
        self.remaining = _int_header(self.headers, "x-ratelimit-remaining")
        self.reset = _int_header(self.headers, "x-ratelimit-reset")


class InternalServerError(APIStatusError):
    """5xx: the server failed (after retries)."""


class ServiceUnavailableError(InternalServerError):
    """503: the service is unavailable or timed out upstream (after retries)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def _class_for(status: int) -> type[APIStatusError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_retry_after(
    headers: httpx.Headers, now: Callable[[], float] | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        current = now() if now is not None else datetime.datetime.now(datetime.UTC).timestamp()
        seconds = when.timestamp() - current
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _strings(value: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Flatten a message value (string, list, field map) into readable strings."""
    out: list[str] = []
    if value is None or value == "" or isinstance(value, bool) or depth > _MAX_DEPTH:
        return out
    if isinstance(value, str):
        out.append(f"{prefix}{value}")
    elif isinstance(value, (int, float)):
        out.append(f"{prefix}{value}")
    elif isinstance(value, list):
        for item in value:
            out.extend(_strings(item, prefix, depth + 1))
    elif isinstance(value, dict):
        text = value.get("message") or value.get("description") or value.get("detail")
        if isinstance(text, str) and text:
            out.append(f"{prefix}{text}")
        else:
            for key, item in value.items():
                label = f"{key}: " if key else ""
                out.extend(_strings(item, prefix + label, depth + 1))
    return out


# No pattern here scans past the next "<": on a body of many unclosed tags a lazy
# ".*?" or a "[^>]*" would rescan the rest of it from each one, quadratic time.
_TAG = re.compile(r"<[^<>]+>")
_TITLE = re.compile(r"(?i)<title[^<>]*>([^<]*)</title>")
_SCRIPT_TAG = re.compile(r"(?i)<(/?)(script|style)\b[^<>]*>")


def _without_scripts(text: str) -> str:
    """``text`` without its script and style elements (an unclosed one runs to the end)."""
    kept: list[str] = []
    start, inside = 0, ""
    for tag in _SCRIPT_TAG.finditer(text):
        closing, name = tag.group(1), tag.group(2).lower()
        if not inside and not closing:
            kept.append(text[start : tag.start()])
            inside = name
        elif inside == name and closing:
            start, inside = tag.end(), ""
    if not inside:
        kept.append(text[start:])
    return " ".join(kept)


_NOT_JSON = object()


def _load_json(body: bytes | str) -> Any:
    """The JSON value of an error body, or ``_NOT_JSON``; never an exception.

    A server controls the body: deep nesting (``[[[[...``) makes ``json.loads``
    raise ``RecursionError``, which must not replace the status error.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NOT_JSON


def parse_messages(body: bytes, content_type: str | None = None) -> list[str]:
    """The server's messages from an error body of either API, or from any text.

    Nova Post: ``{"success": false, "errors": ["..."]}`` and ``{"errors": {"field":
    "msg"}}``; Shipyo: ``{success, data, message, errors}``, also with a singular
    ``error`` or no ``errors``; problem+json ``title``/``detail``; HTML or plain text.
    """
    if not body.strip():
        return []
    text = body.decode("utf-8", errors="replace")
    data = _load_json(text)
    messages: list[str] = []
    if data is not _NOT_JSON:
        if isinstance(data, dict):
            for key in ("message", "title", "detail", "error", "errors", "error_description"):
                messages.extend(_strings(data.get(key)))
        else:
            messages.extend(_strings(data))
    else:
        lowered = text.lower()
        if "html" in (content_type or "").lower() or "<html" in lowered or "<!doctype" in lowered:
            title = _TITLE.search(text)
            if title and title.group(1).strip():
                messages.append(html.unescape(title.group(1)))
            else:
                stripped = _TAG.sub(" ", _without_scripts(text))
                messages.append(html.unescape(stripped))
        else:
            messages.append(text)
    seen: set[str] = set()
    unique: list[str] = []
    for message in messages:
        clipped = _clip(message)
        if clipped and clipped not in seen:
            seen.add(clipped)
            unique.append(clipped)
    return unique[:_MAX_MESSAGES]


_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "x-trace-id")
_REQUEST_ID_FIELDS = ("requestId", "request_id", "traceId", "correlationId")


def _request_id(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        header: str | None = response.headers.get(name)
        if header:
            return header.strip()[:200]
    data = _load_json(response.content)
    if isinstance(data, dict):
        for name in _REQUEST_ID_FIELDS:
            value = data.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)[:200]
    return None


def _where(request: httpx.Request) -> str:
    """``METHOD /path`` without the query string: enough to identify the call."""
    return f"{request.method} {safe_request(request).url.path}"


def status_error(response: httpx.Response) -> APIStatusError:
    """The typed exception for a non-2xx response (whose body has been read)."""
    status = response.status_code
    request = response.request
    messages = parse_messages(response.content, response.headers.get("content-type"))
    request_id = _request_id(response)
    reason = response.reason_phrase or "Error"
    text = f"HTTP {status} {reason} from {_where(request)}"
    if messages:
        text += " -- " + "; ".join(messages)
    if request_id:
        text += f" (request id {request_id})"
    cls = _class_for(status)
    return cls(
        text,
        request=request,
        status_code=status,
        messages=messages,
        request_id=request_id,
        body=response.content,
        headers=response.headers,
    )


def connection_error(exc: httpx.HTTPError, request: httpx.Request) -> APIConnectionError:
    """The typed exception for a transport failure."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"Timed out ({type(exc).__name__}) on {_where(request)} -- {detail}", request=request
        )
    return APIConnectionError(
        f"Connection failed ({type(exc).__name__}) on {_where(request)} -- {detail}",
        request=request,
    )
