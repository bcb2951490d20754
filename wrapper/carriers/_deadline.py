"""The total deadline of a call: one clock for the mint, the waits, the retries and the body.

httpx's timeouts bound each phase (connect, write, each read, pool); a call can
still last far longer (a mint behind others, retries, a body trickling one byte
per read). The request loop (``_loop``) opens a scope with the call's ``deadline``
option; everything below it (the auth flow waiting for a mint, the mint's own
requests, retry sleeps, reading the body) asks :func:`remaining` and stops with
``APITimeoutError`` when nothing is left, and each hop's timeouts are cut to the
time left (:func:`cut_timeouts`). Scopes nest: an inner one
never extends the outer deadline. Monotonic time, so wall clock jumps do not count.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar, Token

import httpx

from .errors import APITimeoutError
from .redaction import safe_request

__all__ = [
    "current",
    "cut_timeouts",
    "enter",
    "expired",
    "keep_timeouts",
    "leave",
    "reached",
    "remaining",
    "scope",
]

_deadline: ContextVar[float | None] = ContextVar("carriers_deadline", default=None)

current = _deadline.get
"""The current call's deadline (a ``time.monotonic()`` instant); None: no deadline.

Read it once before a loop that checks it at each step: it cannot change meanwhile."""


def enter(seconds: float | None) -> Token[float | None] | None:
    """Start a deadline ``seconds`` from now, never later than the current one (None:
    no new limit); give the result to :func:`leave`. What ``scope`` does, without the
    context manager object: every call enters one."""
    if seconds is None:
        return None
    now = _deadline.get()
    candidate = time.monotonic() + seconds
    return _deadline.set(candidate if now is None or candidate < now else now)


def leave(token: Token[float | None] | None) -> None:
    """End the deadline :func:`enter` started."""
    if token is not None:
        _deadline.reset(token)


class scope:
    """Run the block under a deadline ``seconds`` from now (None: no new limit)."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        self._token = enter(self._seconds)

    def __exit__(self, *exc: object) -> None:
        leave(self._token)
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


_ASKED = "carriers.timeout"
"""Request extension: the timeouts asked for, before any cut to the deadline, and the
time left from which they need no cut."""


def keep_timeouts(request: httpx.Request) -> None:
    """Remember the timeouts ``request`` asks for, before any hop cuts them."""
    timeouts: dict[str, float | None] = dict(request.extensions.get("timeout", {}))
    values = timeouts.values()
    bound = math.inf if None in values else max(values, default=0.0)  # type: ignore[type-var]
    request.extensions[_ASKED] = (timeouts, bound)


def cut_timeouts(request: httpx.Request) -> None:
    """Before a hop (a retry, a redirect, a replay): each timeout phase at most the time
    left before the deadline, or ``APITimeoutError`` when none is left.

    The timeouts asked for are kept as they are (not copied) while the time left is
    at least the longest of them, as on nearly every hop. A request whose timeouts
    were not kept (sent by another client through the auth flow) is left alone.
    """
    asked: tuple[dict[str, float | None], float] | None = request.extensions.get(_ASKED)
    deadline = _deadline.get()
    if asked is None or deadline is None:
        return
    timeouts, bound = asked
    left = deadline - time.monotonic()
    if left <= 0:
        raise reached(request)
    if left >= bound:
        request.extensions["timeout"] = timeouts
        return
    request.extensions["timeout"] = {
        phase: left if value is None else min(value, left) for phase, value in timeouts.items()
    }
