"""The total deadline of a call: one clock for the mint, the waits, the retries and the body.

httpx's timeouts bound each phase (connect, write, each read, pool); a call can
still last far longer (a mint behind others, retries, a body trickling one byte
per read). ``CarrierClient.send()`` opens a :func:`scope` with the call's
``deadline`` option; everything below it (the auth flow waiting for a mint, the
mint's own requests, retry sleeps, reading the body) asks :func:`remaining` and
stops with ``APITimeoutError`` when nothing is left. Scopes nest: an inner one
never extends the outer deadline. Monotonic time, so wall clock jumps do not count.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

import httpx

from .errors import APITimeoutError
from .redaction import safe_request

__all__ = ["expired", "reached", "remaining", "scope"]

_deadline: ContextVar[float | None] = ContextVar("carriers_deadline", default=None)


class scope:
    """Run the block under a deadline ``seconds`` from now (None: no new limit).

    A small class rather than a generator context manager: every call enters one.
    """

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        if self._seconds is not None:
            current = _deadline.get()
            candidate = time.monotonic() + self._seconds
            self._token = _deadline.set(
                candidate if current is None or candidate < current else current
            )

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _deadline.reset(self._token)
            self._token = None


def remaining() -> float | None:
    """Seconds left before the current call's deadline (never negative); None: no deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0.0


def reached(request: httpx.Request) -> APITimeoutError:
    """The error that ends a call whose deadline has passed."""
    safe = safe_request(request)
    return APITimeoutError(
        f"Deadline reached on {safe.method} {safe.url.path}: the call took longer than "
        "its deadline allows (mint, retries and body included)",
        request=safe,
    )
