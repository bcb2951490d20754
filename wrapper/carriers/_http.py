"""httpx clients that retry, raise typed errors, bound each call and keep credentials home.

httpx runs the auth flow, transports and response hooks once per attempt, inside
``send()``. Mapping a 401 to an exception there would cut the flow's
refresh-and-replay short, so retries and typed errors live here, in ``send()``,
around ``super().send()``: the auth flow sees raw responses, callers see only 2xx
responses or ``carriers.errors`` exceptions.

Each call is bounded. ``send()`` opens the call's ``deadline`` scope (``_deadline``)
around everything, the auth flow included, so a mint's own ``send()`` nests in it
and spends the same time; each hop's timeouts are cut to the time left; bodies are
read through ``_limits``: at most ``max_response_bytes`` once decoded, and no
longer than the deadline. Retries and the deadline compose and the deadline wins:
a retry whose wait would end past it is not made, and the last failure is raised
with a note saying so, even if ``max_retries`` allowed more.

Credentials stay with the base URL's origin: on every hop, redirects included, a
request hook strips the auth flow's ``credential_headers`` (and ``Authorization``)
from a request to any other scheme, host or port.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Mapping
from contextvars import Token
from typing import Any

import httpx

from . import _deadline
from ._limits import aread_capped, read_capped
from .auth import Origin, origin_of
from .errors import APIConnectionError, APIStatusError, connection_error, status_error
from .options import DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES
from .redaction import sanitized
from .retries import Retrier

__all__ = ["AsyncCarrierClient", "CarrierClient"]

Hook = Callable[..., Any]
AnyClient = httpx.Client | httpx.AsyncClient

_CONFIGURED = "carriers.timeout"
"""Request extension: the timeouts asked for, before any cut to the deadline, and the
time left from which they need no cut."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
"""The statuses httpx may follow (``Response.has_redirect_location``)."""


_SLACK = 0.01
"""A timeout this close to the deadline is the deadline's doing."""


def _hooks_property(
    cls: type[AnyClient],
) -> tuple[Callable[[Any], Any], Callable[[Any, Any], None]]:
    """The getter and setter of httpx's public ``event_hooks`` property of ``cls``: our
    override stores the guarded hooks through them, wherever httpx keeps hooks."""
    prop = inspect.getattr_static(cls, "event_hooks")
    if not isinstance(prop, property) or prop.fget is None or prop.fset is None:
        raise TypeError(f"{cls.__name__}.event_hooks is not a read-write property")
    return prop.fget, prop.fset


_GET_HOOKS, _SET_HOOKS = _hooks_property(httpx.Client)
_AGET_HOOKS, _ASET_HOOKS = _hooks_property(httpx.AsyncClient)

Home = tuple[httpx.URL, Origin | None] | None
"""A client's base URL and its origin, worked out once per base URL."""

Deadline = Token[float | None] | None
"""What ``_deadline.enter`` gives ``_deadline.leave``."""


def _strip_credentials(client: AnyClient, request: httpx.Request) -> None:
    names: tuple[str, ...] = getattr(client.auth, "credential_headers", ("Authorization",))
    for name in {"authorization", *(name.lower() for name in names)}:
        request.headers.pop(name, None)


def _bound(timeouts: Mapping[str, float | None]) -> float:
    """The time left from which cutting ``timeouts`` to it changes none of them."""
    bound = 0.0
    for value in timeouts.values():
        if value is None:
            return math.inf
        if value > bound:
            bound = value
    return bound


def _guard_hop(client: CarrierClient | AsyncCarrierClient, request: httpx.Request) -> None:
    """Before each hop: credentials only for the base URL's origin, and every timeout
    phase at most the time left before the deadline.

    A request to another origin loses the credential headers. The timeouts asked for
    are kept as they are (not copied) while the time left is at least the longest of
    them, as on nearly every hop; else each phase is cut to the time left. One
    function rather than several: it runs on every hop of every call.
    """
    base = client.base_url
    home = client.home_cache
    if home is None or home[0] is not base:  # first hop, or the base URL changed
        home = client.home_cache = (base, origin_of(base) if base.host else None)
    if home[1] is not None and origin_of(request.url) != home[1]:
        _strip_credentials(client, request)
    extensions = request.extensions
    remembered: tuple[dict[str, float | None], float] | None = extensions.get(_CONFIGURED)
    if remembered is None:  # sent without our send(): from what this hop has
        timeouts = dict(extensions.get("timeout", {}))
        remembered = (timeouts, _bound(timeouts))
    configured, bound = remembered
    deadline = _deadline.current()
    if deadline is None:
        extensions["timeout"] = configured
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise _deadline.reached(request)
    if left >= bound:
        extensions["timeout"] = configured
        return
    extensions["timeout"] = {
        phase: left if value is None else min(value, left) for phase, value in configured.items()
    }


def _with_guards(
    hooks: Mapping[str, list[Hook]], on_request: Hook, on_response: Hook
) -> dict[str, list[Hook]]:
    """The given event hooks with ours added once: last on requests, first on responses."""
    requests = [hook for hook in hooks.get("request", []) if hook != on_request]
    responses = [hook for hook in hooks.get("response", []) if hook != on_response]
    return {"request": [*requests, on_request], "response": [on_response, *responses]}


def _start(client: CarrierClient | AsyncCarrierClient, request: httpx.Request) -> Deadline:
    """What a call does first: keep the timeouts asked for (once per request, before
    any hop cuts them) and start the call's deadline (for ``_deadline.leave``)."""
    extensions = request.extensions
    if _CONFIGURED not in extensions:
        timeout: dict[str, float | None] = extensions.get("timeout") or client.timeout.as_dict()
        extensions[_CONFIGURED] = (timeout, _bound(timeout))
    return _deadline.enter(client.deadline)


def _not_retried(error: Exception, delay: float | None) -> Exception:
    if delay is not None:
        error.add_note(f"not retried: waiting {delay:.2f} s would pass the call's deadline")
    return error


def _failure(exc: httpx.HTTPError, request: httpx.Request, delay: float | None) -> Exception:
    """The typed error for a transport failure, chained to a redacted copy of it.

    It is raised outside the ``except`` block so that the raw exception (whose
    request carries the key or the JWT) is not kept as its ``__context__`` either.
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


def _status_failure(response: httpx.Response, delay: float | None) -> Exception:
    error: APIStatusError = status_error(response)
    return _not_retried(error, delay)


class CarrierClient(httpx.Client):
    """``httpx.Client`` whose ``send()`` retries per ``Retrier``, raises typed errors and
    bounds the call (``deadline`` seconds, ``max_response_bytes`` per body)."""

    def __init__(
        self,
        *,
        retrier: Retrier | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        deadline: float | None = DEFAULT_DEADLINE,
        **kwargs: Any,
    ) -> None:
        self.home_cache: Home = None
        super().__init__(**kwargs)
        self.retrier = retrier or Retrier()
        self.max_response_bytes = max_response_bytes
        self.deadline = deadline
        self.event_hooks = _GET_HOOKS(self)

    def __repr__(self) -> str:
        return f"<CarrierClient base_url={str(self.base_url)!r}>"

    @property
    def event_hooks(self) -> dict[str, list[Hook]]:
        hooks: dict[str, list[Hook]] = _GET_HOOKS(self)
        return hooks

    @event_hooks.setter
    def event_hooks(self, event_hooks: Mapping[str, list[Hook]]) -> None:
        """Replacing the hooks keeps the guards: they are not optional. Stored through
        httpx's own (public) property, wherever httpx keeps them."""
        guarded = _with_guards(event_hooks, self._on_request, self._on_response)
        _SET_HOOKS(self, guarded)

    _on_request = _guard_hop

    def _on_response(self, response: httpx.Response) -> None:
        # httpx reads a redirect in full to follow it
        if response.status_code in _REDIRECTS and response.has_redirect_location:
            read_capped(response, self.max_response_bytes)

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """A 2xx response or a typed error, within the deadline.

        The body is read here, capped, except a 2xx body with ``stream=True``: it is
        returned unread, and bounding its size and reading time is the caller's job.
        """
        deadline = _start(self, request)
        retrier = self.retrier
        attempt = 0
        try:
            while True:
                failure: Exception | None = None
                try:
                    response = super().send(
                        request, stream=True, auth=auth, follow_redirects=follow_redirects
                    )
                    success = 200 <= response.status_code < 300  # Response.is_success
                    if not (stream and success):
                        read_capped(response, self.max_response_bytes)
                except httpx.HTTPError as exc:
                    delay = retrier.delay_after_error(request, exc, attempt)
                    if delay is None or retrier.past_deadline(delay):
                        failure = _failure(exc, request, delay)
                    else:
                        retrier.log_retry(request, type(exc).__name__, delay, attempt)
                        retrier.sleep(delay)
                        attempt += 1
                        continue
                if failure is not None:
                    raise failure
                if success:
                    return response
                delay = retrier.delay_after_response(request, response, attempt)
                if delay is None or retrier.past_deadline(delay):
                    raise _status_failure(response, delay)
                retrier.log_retry(request, f"HTTP {response.status_code}", delay, attempt)
                retrier.sleep(delay)
                attempt += 1
        finally:
            _deadline.leave(deadline)


class AsyncCarrierClient(httpx.AsyncClient):
    """``CarrierClient`` for asyncio: the same retries, errors, bounds and guards."""

    def __init__(
        self,
        *,
        retrier: Retrier | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        deadline: float | None = DEFAULT_DEADLINE,
        **kwargs: Any,
    ) -> None:
        self.home_cache: Home = None
        super().__init__(**kwargs)
        self.retrier = retrier or Retrier()
        self.max_response_bytes = max_response_bytes
        self.deadline = deadline
        self.event_hooks = _AGET_HOOKS(self)

    def __repr__(self) -> str:
        return f"<AsyncCarrierClient base_url={str(self.base_url)!r}>"

    @property
    def event_hooks(self) -> dict[str, list[Hook]]:
        hooks: dict[str, list[Hook]] = _AGET_HOOKS(self)
        return hooks

    @event_hooks.setter
    def event_hooks(self, event_hooks: Mapping[str, list[Hook]]) -> None:
        """Replacing the hooks keeps the guards (see ``CarrierClient.event_hooks``)."""
        guarded = _with_guards(event_hooks, self._on_request, self._on_response)
        _ASET_HOOKS(self, guarded)

    async def _on_request(self, request: httpx.Request) -> None:
        _guard_hop(self, request)

    async def _on_response(self, response: httpx.Response) -> None:
        # httpx reads a redirect in full to follow it
        if response.status_code in _REDIRECTS and response.has_redirect_location:
            await aread_capped(response, self.max_response_bytes)

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """A 2xx response or a typed error, within the deadline (see ``CarrierClient.send``)."""
        deadline = _start(self, request)
        retrier = self.retrier
        attempt = 0
        try:
            while True:
                failure: Exception | None = None
                try:
                    response = await super().send(
                        request, stream=True, auth=auth, follow_redirects=follow_redirects
                    )
                    success = 200 <= response.status_code < 300  # Response.is_success
                    if not (stream and success):
                        await aread_capped(response, self.max_response_bytes)
                except httpx.HTTPError as exc:
                    delay = retrier.delay_after_error(request, exc, attempt)
                    if delay is None or retrier.past_deadline(delay):
                        failure = _failure(exc, request, delay)
                    else:
                        retrier.log_retry(request, type(exc).__name__, delay, attempt)
                        await retrier.async_sleep(delay)
                        attempt += 1
                        continue
                if failure is not None:
                    raise failure
                if success:
                    return response
                delay = retrier.delay_after_response(request, response, attempt)
                if delay is None or retrier.past_deadline(delay):
                    raise _status_failure(response, delay)
                retrier.log_retry(request, f"HTTP {response.status_code}", delay, attempt)
                await retrier.async_sleep(delay)
                attempt += 1
        finally:
            _deadline.leave(deadline)
