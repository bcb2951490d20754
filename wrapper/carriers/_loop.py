"""The request loop: one call from a built request to a 2xx response or a typed error.

It runs above a stock ``httpx.Client`` / ``httpx.AsyncClient`` (the auth flow is
the client's ``auth``), in the shape of anthropic-sdk-python's ``_base_client``:
``for`` each attempt, ``client.send()``, then return, retry or raise. What it adds:

- **retries** per the ``Retrier`` (connection errors, 408, 429, 5xx; replayable
  requests only), never past the deadline: a wait that would end after it is not
  made, and the last failure is raised with a note saying so;
- **the deadline**: the call's scope (``_deadline``) is opened around everything,
  the mint included, and each hop's timeouts are cut to the time left;
- **the origin rule**: redirects are followed here, hop by hop (``follow_redirects``
  is never handed to httpx), and a hop to any other scheme, host or port is sent
  without the auth flow and without its ``credential_headers``;
- **the size limit**: every body is read through ``_limits``, at most
  ``max_response_bytes`` once decoded and no longer than the deadline;
- **typed errors**: a non-2xx status or a transport failure becomes a
  ``carriers.errors`` exception, redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import httpx

from . import _deadline
from ._limits import aread_capped, read_capped
from .auth import Origin, origin_of
from .errors import APIConnectionError, connection_error, status_error
from .redaction import sanitized
from .retries import Retrier

__all__ = ["RequestArgs", "Sending", "asend", "send"]

_SLACK = 0.01
"""A timeout this close to the deadline is the deadline's doing."""


class RequestArgs(TypedDict, total=False):
    """The keyword arguments of ``httpx.Client.request`` a raw request may carry."""

    params: httpx.QueryParams | Mapping[str, Any] | None
    headers: httpx.Headers | Mapping[str, str] | None
    cookies: httpx.Cookies | Mapping[str, str] | None
    content: str | bytes | None
    data: Mapping[str, Any] | None
    files: Any
    json: Any
    timeout: float | httpx.Timeout | None
    extensions: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Sending:
    """How a facade's calls are sent: its options, worked out once."""

    retrier: Retrier
    deadline: float | None
    max_response_bytes: int
    timeout: httpx.Timeout
    home: Origin | None
    """The base URL's origin: the only one credentials go to (None: any)."""


def _prepare_hop(
    http: httpx.Client | httpx.AsyncClient, how: Sending, request: httpx.Request
) -> Any:
    """The hop's auth: the client's at home; elsewhere none, and the credential headers
    the request carries are dropped. Its timeouts are cut to the time left."""
    _deadline.cut_timeouts(request)
    if how.home is None or origin_of(request.url) == how.home:
        return httpx.USE_CLIENT_DEFAULT
    names = getattr(http.auth, "credential_headers", ("Authorization",))
    for name in {"authorization", *(name.lower() for name in names)}:
        request.headers.pop(name, None)
    return None


def _not_retried(error: Exception, delay: float | None) -> Exception:
    if delay is not None:
        error.add_note(f"not retried: waiting {delay:.2f} s would pass the call's deadline")
    return error


def _failure(exc: httpx.HTTPError, request: httpx.Request, delay: float | None) -> Exception:
    """The typed error for a transport failure, chained to a redacted copy of it.

    Raised outside the ``except`` block, so that the raw exception (whose request
    carries the key or the JWT) is not kept as its ``__context__`` either.
    """
    left = _deadline.remaining()
    error: APIConnectionError
    if isinstance(exc, httpx.TimeoutException) and left is not None and left <= _SLACK:
        error = _deadline.reached(request)
        delay = None
    else:
        error = connection_error(exc, request)
    error.__cause__ = sanitized(exc)
    return _not_retried(error, delay)


def _too_many_redirects(request: httpx.Request) -> httpx.TooManyRedirects:
    return httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=request)


def _hops(
    http: httpx.Client, how: Sending, request: httpx.Request, follow: bool, stream: bool
) -> httpx.Response:
    """One attempt: the request, then each redirect it leads to when ``follow``."""
    for _ in range(http.max_redirects + 1):
        auth = _prepare_hop(http, how, request)
        response = http.send(request, auth=auth, stream=True, follow_redirects=False)
        following = follow and response.next_request is not None
        if not (stream and response.is_success and not following):
            read_capped(response, how.max_response_bytes)
        if not following:
            return response
        assert response.next_request is not None
        request = response.next_request
    raise _too_many_redirects(request)


async def _ahops(
    http: httpx.AsyncClient, how: Sending, request: httpx.Request, follow: bool, stream: bool
) -> httpx.Response:
    for _ in range(http.max_redirects + 1):
        auth = _prepare_hop(http, how, request)
        response = await http.send(request, auth=auth, stream=True, follow_redirects=False)
        following = follow and response.next_request is not None
        if not (stream and response.is_success and not following):
            await aread_capped(response, how.max_response_bytes)
        if not following:
            return response
        assert response.next_request is not None
        request = response.next_request
    raise _too_many_redirects(request)


def _after_error(
    retrier: Retrier, request: httpx.Request, exc: httpx.HTTPError, attempt: int
) -> float | Exception:
    """The wait before the next attempt after a transport failure, or the typed error."""
    delay = retrier.delay_after_error(request, exc, attempt)
    if delay is None or retrier.past_deadline(delay):
        return _failure(exc, request, delay)
    retrier.log_retry(request, type(exc).__name__, delay, attempt)
    return delay


def _after_response(
    retrier: Retrier, request: httpx.Request, response: httpx.Response, attempt: int
) -> float | httpx.Response | Exception:
    """The 2xx response, the wait before the next attempt, or the typed error."""
    if response.is_success:
        return response
    delay = retrier.delay_after_response(request, response, attempt)
    if delay is None or retrier.past_deadline(delay):
        return _not_retried(status_error(response), delay)
    retrier.log_retry(request, f"HTTP {response.status_code}", delay, attempt)
    return delay


def _start(
    http: httpx.Client | httpx.AsyncClient, how: Sending, args: Any, follow: bool | None
) -> tuple[httpx.Request, bool]:
    request = http.build_request(**{"timeout": how.timeout, **args})
    _deadline.keep_timeouts(request)
    return request, http.follow_redirects if follow is None else follow


def send(
    http: httpx.Client,
    how: Sending,
    args: dict[str, Any],
    *,
    follow_redirects: bool | None = None,
    stream: bool = False,
) -> httpx.Response:
    """Send ``args`` (``httpx.Client.request``'s keyword arguments): a 2xx response,
    its body read (``stream``: a 2xx body left unread), or a typed error."""
    request, follow = _start(http, how, args, follow_redirects)
    retrier = how.retrier
    scope = _deadline.enter(how.deadline)
    try:
        for attempt in range(retrier.max_retries + 1):
            outcome: float | httpx.Response | Exception
            try:
                response = _hops(http, how, request, follow, stream)
            except httpx.HTTPError as exc:
                outcome = _after_error(retrier, request, exc, attempt)
            else:
                outcome = _after_response(retrier, request, response, attempt)
            if isinstance(outcome, httpx.Response):
                return outcome
            if isinstance(outcome, Exception):
                raise outcome  # outside the except block: no raw exception as context
            retrier.sleep(outcome)
        raise AssertionError("unreachable: the last attempt returns or raises")
    finally:
        _deadline.leave(scope)


async def asend(
    http: httpx.AsyncClient,
    how: Sending,
    args: dict[str, Any],
    *,
    follow_redirects: bool | None = None,
    stream: bool = False,
) -> httpx.Response:
    """``send`` for asyncio."""
    request, follow = _start(http, how, args, follow_redirects)
    retrier = how.retrier
    scope = _deadline.enter(how.deadline)
    try:
        for attempt in range(retrier.max_retries + 1):
            outcome: float | httpx.Response | Exception
            try:
                response = await _ahops(http, how, request, follow, stream)
            except httpx.HTTPError as exc:
                outcome = _after_error(retrier, request, exc, attempt)
            else:
                outcome = _after_response(retrier, request, response, attempt)
            if isinstance(outcome, httpx.Response):
                return outcome
            if isinstance(outcome, Exception):
                raise outcome
            await retrier.async_sleep(outcome)
        raise AssertionError("unreachable: the last attempt returns or raises")
    finally:
        _deadline.leave(scope)
