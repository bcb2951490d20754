"""When to retry a request, and how long to wait: the only place that decides.

A retry is only made when replaying cannot cause a second effect on the server:
the request never reached it (connect errors), or the method is idempotent, or the
route is one of the carrier's idempotent token routes. ``POST /test-api-keys`` is
replayable after a failure but never after a 429: its limit is one call per day.

Retries and the call's deadline (``_deadline``) compose, and the deadline wins: a
retry whose wait would end at or after the deadline is not made, whatever
``max_retries`` allows (see ``Retrier.past_deadline``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from . import _deadline
from .errors import parse_retry_after
from .redaction import logger, safe_request

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "Retrier", "RetryPolicy"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({408, 429})
"""Besides every 5xx except 501 (not implemented will not start working)."""

_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""The request never left: safe to retry whatever the method."""

_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
"""The server may have acted on the request: retried only when replayable."""

Route = tuple[str, str]
"""(method, path suffix), e.g. ("POST", "/test-api-keys")."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between attempts and which extra routes may be replayed.

    Backoff is exponential with full jitter: attempt ``n`` (0-based) waits a uniform
    random time in ``[0, min(max_delay, base_delay * 2**n)]``. A ``Retry-After`` up to
    ``max_retry_after`` seconds is waited exactly; a longer one is not waited at all:
    the error is raised at once with ``retry_after`` set, for the caller to decide.
    """

    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    idempotent_routes: frozenset[Route] = field(default_factory=frozenset)
    no_retry_on_429: frozenset[Route] = field(default_factory=frozenset)

    def backoff_cap(self, attempt: int) -> float:
        """Upper bound of the jittered wait before retry ``attempt`` (0-based)."""
        return float(min(self.max_delay, self.base_delay * (2**attempt)))


def _matches(request: httpx.Request, routes: frozenset[Route]) -> bool:
    method = request.method.upper()
    path = request.url.path
    return any(method == m and path.endswith(suffix) for m, suffix in routes)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


async def _async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class Retrier:
    """Applies a ``RetryPolicy`` with ``max_retries``; clock, sleep and jitter injectable."""

    def __init__(
        self,
        max_retries: int = 2,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
        uniform: Callable[[float, float], float] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.policy = policy or RetryPolicy()
        self.sleep = sleep or _sleep
        self.async_sleep = async_sleep or _async_sleep
        self._uniform = uniform or random.SystemRandom().uniform
        self._clock = clock or time.time

    def __repr__(self) -> str:
        return f"Retrier(max_retries={self.max_retries}, policy={self.policy!r})"

    def replayable(self, request: httpx.Request) -> bool:
        """Whether sending the request twice has the same effect as sending it once."""
        return request.method.upper() in IDEMPOTENT_METHODS or _matches(
            request, self.policy.idempotent_routes
        )

    def backoff(self, attempt: int) -> float:
        """A full-jitter wait before retry ``attempt`` (0-based)."""
        cap = self.policy.backoff_cap(attempt)
        return min(cap, max(0.0, self._uniform(0.0, cap)))

    def delay_after_response(
        self, request: httpx.Request, response: httpx.Response, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying after this response, or None for no retry."""
        status = response.status_code
        if attempt >= self.max_retries:
            return None
        if status not in RETRY_STATUSES and (status < 500 or status == 501):
            return None
        if status == 429 and _matches(request, self.policy.no_retry_on_429):
            return None
        if not self.replayable(request):
            return None
        retry_after = parse_retry_after(response.headers, self._clock)
        if retry_after is not None:
            if retry_after > self.policy.max_retry_after:
                return None
            return retry_after
        return self.backoff(attempt)

    def delay_after_error(
        self, request: httpx.Request, error: httpx.HTTPError, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying after a transport error, or None."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, _UNSENT):
            return self.backoff(attempt)
        if isinstance(error, _MAYBE_SENT) and self.replayable(request):
            return self.backoff(attempt)
        return None

    def past_deadline(self, delay: float) -> bool:
        """Whether waiting ``delay`` seconds would end at or after the call's deadline.

        Waiting and then failing at the deadline anyway would only hide the real
        failure behind a timeout, so such a retry is not made.
        """
        left = _deadline.remaining()
        return left is not None and delay >= left

    def log_retry(self, request: httpx.Request, reason: str, delay: float, attempt: int) -> None:
        """One DEBUG line per retry, with the redacted path only."""
        logger.debug(
            "retrying %s %s in %.2f s after %s (retry %d of %d)",
            request.method,
            safe_request(request).url.path,
            delay,
            reason,
            attempt + 1,
            self.max_retries,
        )
