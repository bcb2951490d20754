"""Keeping API keys and JWTs out of logs, reprs and exception texts.

Two layers: patterns that catch the places secrets travel (the ``Authorization``
and ``x-api-key`` headers, the ``apiKey`` query parameter, anything shaped like a
JWT), and a registry of the secret values in use, so that an opaque token or a key
echoed back by a server in an odd place is caught too: in any letter case, and
escaped or encoded the ways text travels (repr, JSON, percent-encoding, HTML).
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
    "redact_bytes",
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
_HEADER_CLUES = ("authorization", "x-api-key")
_FIELD_CLUES = ("key", "jwt", "token")
# Each: words one of which the lower-cased text holds wherever the pattern matches
# (a cheap test that skips it on long bodies), the pattern, its replacement.
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    # a header as text: "Authorization: Bearer ...", "x-api-key=..." (not a path's last segment)
    (
        _HEADER_CLUES,
        re.compile(rf"(?i)((?<![/\w-])(?:{_HEADERS})\b['\"]?\s*[:=]\s*(?:b?['\"])?){_VALUE}"),
        rf"\1{REDACTED}",
    ),
    # a query or form parameter: apiKey=..., token=...
    (_FIELD_CLUES, re.compile(rf"(?i)(\b(?:{_FIELDS})=){_VALUE}"), rf"\1{REDACTED}"),
    # a quoted field in JSON or a repr: "apiKey": "...", 'jwt': '...'
    (
        (*_FIELD_CLUES, "authorization"),
        re.compile(rf"(?i)(['\"](?:{_FIELDS}|{_HEADERS})['\"]\s*:\s*b?['\"])[^'\"]*"),
        rf"\1{REDACTED}",
    ),
    # header tuples as httpcore prints them: (b'Authorization', b'...')
    (
        _HEADER_CLUES,
        re.compile(rf"(?i)(\b(?:{_HEADERS})['\"]\s*,\s*b?['\"])[^'\"]*"),
        rf"\1{REDACTED}",
    ),
    # anything shaped like a JWT: base64url of '{"', then two dots
    (("eyj",), re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
)

_SLASHES = r"\\+"
"""An escape's backslash: more than one when escaped text was escaped again."""
_NAMED_ESCAPES = {
    "\n": "n",
    "\r": "r",
    "\t": "t",
    "\b": "b",
    "\f": "f",
    "\v": "v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "/": "/",
}
_HTML_NAMES = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}
_PLAIN = re.compile(r"[A-Za-z0-9]+")


def _forms(ch: str) -> list[str]:
    """Patterns for one character as escaping and encoding write it."""
    code = ord(ch)
    utf8 = ch.encode("utf-8", "surrogatepass")
    forms = [
        "".join(f"%{byte:02x}" for byte in utf8),  # percent-encoding
        # byte by byte: a bytes repr, or UTF-8 read as Latin-1 (raw, in a repr, in JSON)
        "".join(
            f"(?:{re.escape(chr(byte))}|{_SLASHES}x{byte:02x}|{_SLASHES}u00{byte:02x})"
            for byte in utf8
        ),
        f"&#0*{code};",
        f"&#x0*{code:x};",
    ]
    if code >= 0x80:
        forms.append(re.escape(ch))
        if code < 0x100:
            forms.append(f"{_SLASHES}x{code:02x}")  # a str repr
        if code < 0x10000:
            forms.append(f"{_SLASHES}u{code:04x}")  # JSON, ascii()
        else:
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            forms += [f"{_SLASHES}U{code:08x}", f"{_SLASHES}u{high:04x}{_SLASHES}u{low:04x}"]
    if ch in _NAMED_ESCAPES:
        forms.append(_SLASHES + re.escape(_NAMED_ESCAPES[ch]))
    if ch in _HTML_NAMES:
        forms.append(f"&{_HTML_NAMES[ch]};")
    if ch == " ":
        forms.append(r"\+")  # form encoding
    return forms


def _char_pattern(ch: str) -> str:
    """One character of a secret: literal, escaped or encoded, in either case.

    ASCII letters and digits are left as they are by every escaping in use, so they
    only need the case-insensitive match the whole pattern gets; other characters
    change code point with their case, so the escapes of each case are listed.
    """
    if _PLAIN.fullmatch(ch):
        return ch
    cases = [case for case in dict.fromkeys((ch, ch.lower(), ch.upper())) if len(case) == 1]
    return "(?:" + "|".join(form for case in cases for form in _forms(case)) + ")"


def _compile_uncached(pattern: str, flags: int) -> re.Pattern[str]:
    """Compile, then empty ``re``'s module cache: one long pattern per minted token
    would otherwise keep up to 512 of them alive (about 2 MB over a day of tokens).
    Patterns are made once per token, so the others the cache held are soon back."""
    compiled = re.compile(pattern, flags)
    re.purge()
    return compiled


class _Secret:
    """A registered secret as a pattern for all its forms, and a cheap test to skip it."""

    __slots__ = ("clue", "pattern")

    def __init__(self, value: str) -> None:
        self.pattern = _compile_uncached("".join(map(_char_pattern, value)), re.IGNORECASE)
        # a part every form keeps as it is, bar the case: where it is absent, so is the secret
        longest = max(_PLAIN.findall(value), key=len, default="")
        self.clue = longest.lower() if len(longest) >= 4 else None

    def sub(self, text: str, lowered: str | None) -> str:
        if self.clue is not None and lowered is not None and self.clue not in lowered:
            return text
        return self.pattern.sub(REDACTED, text)


_secrets_lock = threading.Lock()
_secrets: dict[str, tuple[int, _Secret]] = {}
_snapshot: tuple[_Secret, ...] = ()


def _publish() -> None:
    global _snapshot
    ordered = sorted(_secrets, key=len, reverse=True)  # a secret inside another goes last
    _snapshot = tuple(_secrets[value][1] for value in ordered)


def register_secret(value: str) -> None:
    """Remember a secret value so that text containing it, in any form, is redacted."""
    if not value or len(value) < 4:  # too short to replace without mangling text
        return
    with _secrets_lock:
        count, secret = _secrets.get(value, (0, None))
        _secrets[value] = (count + 1, secret or _Secret(value))
        _publish()


def unregister_secret(value: str) -> None:
    """Forget a secret registered once (registrations are counted)."""
    with _secrets_lock:
        count, secret = _secrets.get(value, (0, None))
        if secret is None:
            return
        if count <= 1:
            del _secrets[value]
        else:
            _secrets[value] = (count - 1, secret)
        _publish()


def redact(text: str) -> str:
    """Return ``text`` with every known secret and secret-shaped value replaced.

    Registered secrets go first: a pattern replacing part of one would leave the
    rest of it unrecognizable.
    """
    # lower() matches the patterns' case folding on ASCII only; other text skips the clues
    lowered = text.lower() if text.isascii() else None
    for secret in _snapshot:
        text = secret.sub(text, lowered)
    for clues, pattern, replacement in _PATTERNS:
        if lowered is None or any(clue in lowered for clue in clues):
            text = pattern.sub(replacement, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    """``data`` with secrets redacted as in :func:`redact`; bytes that are not UTF-8 kept."""
    text = data.decode("utf-8", "surrogateescape")
    cleaned = redact(text)
    return data if cleaned == text else cleaned.encode("utf-8", "surrogateescape")


_SECRET_NAME = re.compile(r"(?i)api[-_]?key|secret|passw(or)?d|token|jwt")
"""Field names whose values are hidden whatever they look like."""


_MAX_DEPTH = 32
"""Nesting beyond which :func:`hide_secrets` hides a value whole instead of walking it."""


def hide_secrets(name: str, value: Any, _depth: int = 0) -> Any:
    """``value`` with secret-looking fields (by name or by shape) redacted, recursively.

    For showing decoded data whose secrets are not registered, such as the claims
    of a JWT: a field named like a secret is hidden whole, any other string goes
    through :func:`redact`, and lists and objects are walked, to a bounded depth so
    that hostile nesting cannot exhaust the stack.
    """
    if _SECRET_NAME.search(name) or _depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): hide_secrets(str(k), v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(name, item, _depth + 1) for item in value]
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
    """Return a copy of the headers with sensitive values replaced.

    The copy keeps the original's encoding, so that a non-ASCII value survives.
    """
    items: Iterable[tuple[str, str]]
    if isinstance(headers, httpx.Headers):
        items, encoding = headers.multi_items(), headers.encoding
    else:
        items, encoding = headers.items(), "utf-8"
    return httpx.Headers(
        [
            (name, REDACTED if name.lower() in SENSITIVE_HEADERS else redact(value))
            for name, value in items
        ],
        encoding=encoding,
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
