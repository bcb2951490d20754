"""httpx clients that retry and raise typed errors, around the auth flow.

httpx runs the auth flow, transports and response hooks once per attempt, inside
``send()``. Mapping a 401 to an exception there would cut the flow's
refresh-and-replay short, so retries and typed errors live here, in ``send()``,
around ``super().send()``: the auth flow sees raw responses, callers see only 2xx
responses or ``carriers.errors`` exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx

from .errors import APIConnectionError, connection_error, status_error
from .redaction import sanitized
from .retries import Retrier

__all__ = ["AsyncCarrierClient", "Capture", "CarrierClient", "capturing"]


class Capture:
    """The last response a carrier client returned within a ``capturing()`` block.

    Lets a caller tell a failure to parse a received body apart from a failure
    that happened before any response (bad arguments).
    """

    __slots__ = ("response",)

    def __init__(self) -> None:
        self.response: httpx.Response | None = None


_capture: ContextVar[Capture | None] = ContextVar("carriers_capture", default=None)


@contextmanager
def capturing() -> Iterator[Capture]:
    """Record the responses returned in this context (thread and task local)."""
    capture = Capture()
    token = _capture.set(capture)
    try:
        yield capture
    finally:
        _capture.reset(token)


def _record(response: httpx.Response) -> None:
    capture = _capture.get()
    if capture is not None:
        capture.response = response


def _failure(exc: httpx.HTTPError, request: httpx.Request) -> APIConnectionError:
    """The typed error for a transport failure, chained to a redacted copy of it.

    It is raised outside the ``except`` block so that the raw exception (whose
    request carries the key or the JWT) is not kept as its ``__context__`` either.
    """
    error = connection_error(exc, request)
    error.__cause__ = sanitized(exc)
    return error


class CarrierClient(httpx.Client):
    """``httpx.Client`` whose ``send()`` retries per ``Retrier`` and raises typed errors."""

    def __init__(self, *, retrier: Retrier | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retrier = retrier or Retrier()

    def __repr__(self) -> str:
        return f"<CarrierClient base_url={str(self.base_url)!r}>"

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        retrier = self.retrier
        attempt = 0
        failure: APIConnectionError | None = None
        while True:
            try:
                response = super().send(
                    request, stream=stream, auth=auth, follow_redirects=follow_redirects
                )
            except httpx.HTTPError as exc:
                delay = retrier.delay_after_error(request, exc, attempt)
                if delay is None:
                    failure = _failure(exc, request)
                else:
                    retrier.log_retry(request, type(exc).__name__, delay, attempt)
                    retrier.sleep(delay)
                    attempt += 1
                    continue
            if failure is not None:
                raise failure
            if response.is_success:
                _record(response)
                return response
            delay = retrier.delay_after_response(request, response, attempt)
            if delay is None:
                try:
                    response.read()
                finally:
                    response.close()
                raise status_error(response)
            response.close()
            retrier.log_retry(request, f"HTTP {response.status_code}", delay, attempt)
            retrier.sleep(delay)
            attempt += 1


class AsyncCarrierClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose ``send()`` retries per ``Retrier`` and raises typed errors."""

    def __init__(self, *, retrier: Retrier | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retrier = retrier or Retrier()

    def __repr__(self) -> str:
        return f"<AsyncCarrierClient base_url={str(self.base_url)!r}>"

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        retrier = self.retrier
        attempt = 0
        failure: APIConnectionError | None = None
        while True:
            try:
                response = await super().send(
                    request, stream=stream, auth=auth, follow_redirects=follow_redirects
                )
            except httpx.HTTPError as exc:
                delay = retrier.delay_after_error(request, exc, attempt)
                if delay is None:
                    failure = _failure(exc, request)
                else:
                    retrier.log_retry(request, type(exc).__name__, delay, attempt)
                    await retrier.async_sleep(delay)
                    attempt += 1
                    continue
            if failure is not None:
                raise failure
            if response.is_success:
                _record(response)
                return response
            delay = retrier.delay_after_response(request, response, attempt)
            if delay is None:
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                raise status_error(response)
            await response.aclose()
            retrier.log_retry(request, f"HTTP {response.status_code}", delay, attempt)
            await retrier.async_sleep(delay)
            attempt += 1
