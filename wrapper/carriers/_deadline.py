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
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx

from .errors import APITimeoutError
from .redaction import safe_request

__all__ = ["expired", "reached", "remaining", "scope"]

_deadline: ContextVar[float | None] = ContextVar("carriers_deadline", default=None)


@contextmanager
def scope(seconds: float | None) -> Iterator[None]:
    """Run the block under a deadline ``seconds`` from now (None: no new limit)."""
    current = _deadline.get()
    if seconds is None:
        yield
        return
    candidate = time.monotonic() + seconds
    token = _deadline.set(candidate if current is None else min(current, candidate))
    try:
        yield
    finally:
        _deadline.reset(token)


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
