"""Keeping API keys and JWTs out of logs, reprs and exception texts.

Two layers: patterns that catch the places secrets travel (the ``Authorization``
and ``x-api-key`` headers, the ``apiKey`` query parameter, anything shaped like a
JWT), and a registry of the exact secret values in use, so that an opaque token or
a key echoed back by a server in an odd place is caught too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "hide_secrets",
    "install_redaction",
    "logger",
    "redact",
    "redact_headers",
    "redact_url",
    "register_secret",
    "safe_request",
    "sanitized",
    "unregister_secret",
]

REDACTED = "[REDACTED]"
"""What a secret is replaced with in text."""

_URL_REDACTED = "REDACTED"  # brackets would be percent-encoded inside a URL

logger = logging.getLogger("carriers")
"""The package logger; every record the package emits goes through it."""

SENSITIVE_HEADERS = frozenset({"authorization", "x-api-key", "proxy-authorization", "cookie"})
SENSITIVE_QUERY = frozenset({"apikey", "api_key", "token", "jwt"})

_HEADERS = r"authorization|proxy-authorization|x-api-key"
_FIELDS = r"api[-_]?key|jwt|access[-_]?token|token"
_VALUE = r"(?!\[REDACTED\])(?:bearer\s+)?[^\s'\",;&}\])>#]+"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # a header as text: "Authorization: Bearer ...", "x-api-key=..." (not a path's last segment)
    (
        re.compile(rf"(?i)((?<![/\w-])(?:{_HEADERS})\b['\"]?\s*[:=]\s*(?:b?['\"])?){_VALUE}"),
        rf"\1{REDACTED}",
    ),
    # a query or form parameter: apiKey=..., token=...
    (re.compile(rf"(?i)(\b(?:{_FIELDS})=){_VALUE}"), rf"\1{REDACTED}"),
    # a quoted field in JSON or a repr: "apiKey": "...", 'jwt': '...'
    (
        re.compile(rf"(?i)(['\"](?:{_FIELDS}|{_HEADERS})['\"]\s*:\s*b?['\"])[^'\"]*"),
        rf"\1{REDACTED}",
    ),
    # header tuples as httpcore prints them: (b'Authorization', b'...')
    (re.compile(rf"(?i)(\b(?:{_HEADERS})['\"]\s*,\s*b?['\"])[^'\"]*"), rf"\1{REDACTED}"),
    # anything shaped like a JWT: base64url of '{"', then two dots
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
)

_secrets_lock = threading.Lock()
_secrets: dict[str, int] = {}
_snapshot: tuple[str, ...] = ()


def register_secret(value: str) -> None:
    """Remember an exact secret value so that text containing it is redacted."""
    global _snapshot
    if not value or len(value) < 4:  # too short to replace without mangling text
        return
    with _secrets_lock:
        _secrets[value] = _secrets.get(value, 0) + 1
        _snapshot = tuple(sorted(_secrets, key=len, reverse=True))


def unregister_secret(value: str) -> None:
    """Forget a secret registered once (registrations are counted)."""
    global _snapshot
    with _secrets_lock:
        count = _secrets.get(value, 0)
        if count <= 1:
            _secrets.pop(value, None)
        else:
            _secrets[value] = count - 1
        _snapshot = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """Return ``text`` with every known secret and secret-shaped value replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in _snapshot:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


_SECRET_NAME = re.compile(r"(?i)api[-_]?key|secret|passw(or)?d|token|jwt")
"""Field names whose values are hidden whatever they look like."""


def hide_secrets(name: str, value: Any) -> Any:
    """``value`` with secret-looking fields (by name or by shape) redacted, recursively.

    For showing decoded data whose secrets are not registered, such as the claims
    of a JWT: a field named like a secret is hidden whole, any other string goes
    through :func:`redact`, and lists and objects are walked.
    """
    if _SECRET_NAME.search(name):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): hide_secrets(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(name, item) for item in value]
    return value


def redact_url(url: httpx.URL | str) -> httpx.URL:
    """Return the URL with sensitive query parameters and userinfo replaced."""
    url = httpx.URL(str(url))
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    params = url.params
    if any(name.lower() in SENSITIVE_QUERY for name in params):
        items = [
            (name, _URL_REDACTED if name.lower() in SENSITIVE_QUERY else value)
            for name, value in params.multi_items()
        ]
        url = url.copy_with(params=items)
    text = str(url)
    cleaned = redact(text)
    return url if cleaned == text else httpx.URL(cleaned.replace(REDACTED, _URL_REDACTED))


def redact_headers(headers: Mapping[str, str] | httpx.Headers) -> httpx.Headers:
    """Return a copy of the headers with sensitive values replaced."""
    items: Iterable[tuple[str, str]]
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
    return httpx.Headers(
        [
            (name, REDACTED if name.lower() in SENSITIVE_HEADERS else redact(value))
            for name, value in items
        ]
    )


def safe_request(request: httpx.Request) -> httpx.Request:
    """A bodiless copy of a request that is safe to keep on an exception or print."""
    return httpx.Request(
        request.method,
        redact_url(request.url),
        headers=redact_headers(request.headers),
    )


def sanitized(exc: BaseException) -> BaseException | None:
    """A copy of ``exc`` fit to chain as a cause: redacted text, a redacted request.

    The original may carry an httpx request (URL with ``apiKey``, headers with the
    JWT) or a message quoting a value from the body. None when no copy can be made.
    """
    message = redact(str(exc))
    if not isinstance(exc, httpx.HTTPError) and message == str(exc):
        return exc
    try:
        clean = type(exc)(message)
    except Exception:
        return None
    if isinstance(exc, httpx.RequestError) and isinstance(clean, httpx.RequestError):
        try:
            clean.request = safe_request(exc.request)
        except RuntimeError:  # the original had no request
            pass
    return clean


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from a record's message and traceback.

    It never drops a record. Attach it to loggers (``install_redaction`` does this
    for ``carriers``, ``httpx`` and ``httpcore``) or to a handler, which then also
    covers records from loggers this package does not know about.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the handler's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True

    def __repr__(self) -> str:
        return "RedactingFilter()"


DEFAULT_LOGGERS = (
    "carriers",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
"""Loggers that see our requests. httpcore logs through child loggers, and a filter
on a parent logger does not apply to records created by its children, so they are
listed one by one."""

_installed_lock = threading.Lock()


def install_redaction(loggers: Iterable[str] = DEFAULT_LOGGERS) -> None:
    """Attach one ``RedactingFilter`` to each named logger (idempotent).

    httpx logs every request URL at INFO, which for Nova Post's token call
    includes the ``apiKey`` query parameter; this makes that line safe.
    """
    with _installed_lock:
        for name in loggers:
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())
