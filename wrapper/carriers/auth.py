"""JWT auth flows for httpx: one token per client, minted once, replaced when refused.

The token is held in memory only (Nova Post: "do not store jwt beyond its TTL").
A token is minted by one *flight* at a time: the first caller that needs one runs
the mint (sync or async), and every other caller meanwhile, in any thread or event
loop, waits for that flight's outcome instead of minting again. A flight that
failed for an outage (unreachable, 5xx, 408, 429) is kept for ``MINT_COOLDOWN``
seconds, during which callers get the same failure at once, so that an outage of
the token route costs ``max_retries + 1`` requests, not that many per caller.

When a request is refused for its token, the token is dropped only if it is still
the current one (another request may already have replaced it), and the request is
replayed once with a fresh token; a second refusal is returned as is and becomes
an ``AuthenticationError`` (or ``PermissionDeniedError``) in the client. Once means
once per request: the client's retries (after a 5xx, say) send the same request
through the flow again, and a refusal on a retry is not replayed a second time.

Credentials only go to the origin of the configured base URL: a request to any
other origin passes through the flow untouched, without minting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import random
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt as pyjwt

from . import _deadline
from ._limits import aread_capped, read_capped
from ._strictness import strict_amint, strict_mint
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ResponseTooLargeError,
    ResponseValidationError,
)
from .redaction import logger, register_secret, safe_request, unregister_secret
from .token_cache import CachedToken, InProcessTokenCache, TokenCache

__all__ = [
    "EXPIRY_MARGIN",
    "FALLBACK_LIFETIME",
    "MAX_EXP",
    "MINT_COOLDOWN",
    "REFRESH_AHEAD",
    "REFUSED_BODY_LIMIT",
    "JWTAuth",
    "NovaPostAuth",
    "ShipyoAuth",
    "origin_of",
    "token_expiry",
]

EXPIRY_MARGIN = 30.0
"""A token is treated as expired this many seconds before its ``exp`` (as the
official Nova Post SDK does), so that it does not expire in flight."""

FALLBACK_LIFETIME = 55 * 60.0
"""Lifetime assumed for a token without a usable ``exp`` (Nova Post documents
about one hour; five minutes are kept in hand)."""

MAX_EXP = 253_402_300_799
"""9999-12-31T23:59:59Z: a later (or negative) ``exp`` is not a usable one."""

MINT_COOLDOWN = 1.5
"""Seconds a mint failed for an outage is remembered: callers get its failure at once
instead of minting again (read at each check, so tests may replace it)."""

REFRESH_AHEAD = 600.0
"""A token with less than this left (at most a sixth of its life) is refreshed in the
background while callers keep using it: the advisory window. Within the expiry
margin callers wait for the new one: the mandatory window."""
REFRESH_RETRY = 30.0
"""Seconds before a failed background refresh is tried again."""

REFUSED_BODY_LIMIT = 64 * 1024
"""The most of a refused (401/403) body read before the replay; the rest is dropped."""

_REPLAYED = "carriers.replayed"
"""Request extension set when the flow has replayed the request after a refusal."""

_DEFAULT_PORTS = {"http": 80, "https": 443}

Mint = Callable[[], str]
AsyncMint = Callable[[], Awaitable[str]]
Origin = tuple[str, str, int | None]


def token_expiry(
    token: str,
    now: float,
    *,
    margin: float = EXPIRY_MARGIN,
    fallback: float = FALLBACK_LIFETIME,
) -> float:
    """The time (epoch seconds) from which ``token`` must no longer be used.

    ``exp`` is read without checking the signature: the client cannot check it
    and only needs to know when the server will stop accepting the token. An
    ``exp`` that is not a number between 0 and ``MAX_EXP`` (a string, NaN, 1e308,
    10**400) counts as missing: the fallback lifetime applies.
    """
    try:
        claims = pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError:
        return now + fallback
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not 0 <= exp <= MAX_EXP:
        return now + fallback  # int/float comparisons are exact: no overflow, NaN fails
    return float(exp) - margin


_last_origin: tuple[httpx.URL, Origin] | None = None
"""The last URL ``origin_of`` was given and its origin: a request's URL is checked by the
auth flow, then again by the client's hook on the same hop. URLs are immutable, and the
reference held here keeps the object's identity from being reused."""


def origin_of(url: httpx.URL | str) -> Origin:
    """(scheme, host, port) with the default port filled in, for comparing origins."""
    global _last_origin
    if isinstance(url, httpx.URL):
        last = _last_origin
        if last is not None and last[0] is url:
            return last[1]
    else:
        url = httpx.URL(url)
    scheme = url.scheme.lower()
    port = url.port
    origin = scheme, url.host.lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)
    _last_origin = (url, origin)
    return origin


def _discard(response: httpx.Response) -> None:
    """Read a refused body up to ``REFUSED_BODY_LIMIT``; past it, drop the body
    (``read_capped`` leaves the response an empty one, which httpx then reads)."""
    with contextlib.suppress(ResponseTooLargeError):
        read_capped(response, REFUSED_BODY_LIMIT)


async def _adiscard(response: httpx.Response) -> None:
    with contextlib.suppress(ResponseTooLargeError):
        await aread_capped(response, REFUSED_BODY_LIMIT)


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float
    stored_at: float = field(default_factory=time.time)
    lifetime: float = field(init=False)
    """Seconds from ``stored_at`` to ``expires_at`` (at least 0): read on every call."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "lifetime", max(0.0, self.expires_at - self.stored_at))


class _Abandoned(Exception):
    """The caller running a flight stopped (cancelled, interrupted, out of its own
    time) before an outcome: waiters start or join another flight."""


class _Flight:
    """One mint in progress or just failed; its outcome is shared by every waiter.

    The future is marked running at once so that a waiter giving up (an asyncio
    cancellation through ``wrap_future``) cannot cancel it for the others.
    """

    __slots__ = ("failed_at", "future", "thread")

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[str] = concurrent.futures.Future()
        self.future.set_running_or_notify_cancel()
        self.thread = threading.get_ident()  # where it runs: an async one blocks that loop
        self.failed_at: float | None = None

    def cooling(self) -> bool:
        """Failed less than ``MINT_COOLDOWN`` seconds ago."""
        return self.failed_at is not None and time.monotonic() - self.failed_at < MINT_COOLDOWN


def _outage(exc: Exception) -> bool:
    """A failure that only waiting may cure: worth a cool-down rather than a new mint."""
    if isinstance(exc, APIConnectionError):
        return True
    return isinstance(exc, APIStatusError) and (
        exc.status_code >= 500 or exc.status_code in (408, 429)
    )


def _late() -> APITimeoutError:
    return APITimeoutError("the call's deadline passed while waiting for a token")


class JWTAuth(httpx.Auth):
    """Base flow: obtains, caches, applies and replaces one JWT.

    Subclasses say which requests are public (no JWT: the token routes themselves),
    how headers are set, which headers carry credentials and which statuses mean
    "token refused". ``origin`` (a URL) limits the credentials to that origin;
    None sends them wherever the client sends requests.
    """

    public_paths: tuple[str, ...] = ()
    token_failure_statuses: frozenset[int] = frozenset({401})
    credential_headers: tuple[str, ...] = ("Authorization",)
    """Headers that carry credentials, never to be sent to another origin."""

    def __init__(
        self,
        *,
        mint: Mint,
        amint: AsyncMint,
        clock: Callable[[], float] | None = None,
        margin: float = EXPIRY_MARGIN,
        fallback_lifetime: float = FALLBACK_LIFETIME,
        origin: httpx.URL | str | None = None,
        cache: TokenCache | None = None,
        cache_key: str = "carriers:token:default",
        refresh_ahead: bool = True,
        jitter: Callable[[float, float], float] | None = None,
    ) -> None:
        # a token route's body is parsed strictly, whatever strict_responses says
        self._mint = strict_mint(mint)
        self._amint = strict_amint(amint)
        self._clock = clock or time.time
        self._margin = margin
        self._fallback = fallback_lifetime
        self.origin: Origin | None = None if origin is None else origin_of(origin)
        """(scheme, host, port) that may receive credentials; None: any."""
        self.cache: TokenCache = cache or InProcessTokenCache()
        """Where tokens are shared with other processes (``token_cache``)."""
        self._cache_key = cache_key
        self._refresh_ahead = refresh_ahead
        # each process starts its refresh at its own moment in the advisory window
        self._ahead_share = (jitter or random.uniform)(0.85, 1.0)
        self._refreshing = False
        self._refresh_after = 0.0
        self._token: _Token | None = None
        self._flight: _Flight | None = None
        self._state_lock = threading.Lock()
        self.mint_count = 0
        """How many tokens this flow has minted (for monitoring and tests)."""
        self.refresh_count = 0
        """How many tokens arrived by a background refresh (minted or from the cache)."""

    def __repr__(self) -> str:
        current = self._token
        if current is None:
            state = "no jwt"
        else:
            state = f"jwt valid for {current.expires_at - self._clock():.0f} s"
        return f"{type(self).__name__}({state}, mints={self.mint_count})"

    # --- what differs between the carriers -------------------------------------

    def is_public(self, request: httpx.Request) -> bool:
        """Token routes are called without a JWT."""
        return bool(self.public_paths) and request.url.path.endswith(self.public_paths)

    def is_foreign(self, request: httpx.Request) -> bool:
        """Whether the request goes to another origin than the credentials' one."""
        return self.origin is not None and origin_of(request.url) != self.origin

    def apply_public(self, request: httpx.Request) -> None:
        """Headers for a public request (none by default)."""

    def apply_token(self, request: httpx.Request, token: str) -> None:
        """Headers for an authorized request."""
        raise NotImplementedError

    def is_token_failure(self, response: httpx.Response) -> bool:
        """Whether the server refused the request because of its token."""
        return response.status_code in self.token_failure_statuses

    # --- the token cache ---------------------------------------------------------

    def _valid(self) -> str | None:
        current = self._token
        if current is not None and self._clock() < current.expires_at:
            return current.value
        return None

    def _checked(self, value: str) -> CachedToken:
        """A minted token, checked, with the time it stops being usable."""
        if not isinstance(value, str) or not value:
            raise TypeError("a minted token must be a non-empty string")
        if any(not "!" <= ch <= "~" for ch in value):  # printable ASCII, no space
            raise ResponseValidationError(
                "the token route returned a token with characters no HTTP header can carry"
            )
        now = self._clock()
        return CachedToken(
            value, token_expiry(value, now, margin=self._margin, fallback=self._fallback), now
        )

    def _store(
        self, value: str | CachedToken, flight: _Flight | None = None, *, minted: bool = True
    ) -> str:
        """Cache a token (minted here unless ``minted`` is False: another process's);
        ``flight`` ends in the same step, so that a caller who finds no valid token
        never joins a flight already landed."""
        checked = value if isinstance(value, CachedToken) else self._checked(value)
        value, expires_at = checked.value, checked.expires_at
        now = self._clock()
        register_secret(value)
        with self._state_lock:
            minted_at = checked.minted_at if checked.minted_at is not None else now
            previous, self._token = self._token, _Token(value, expires_at, minted_at)
            if minted:
                self.mint_count += 1
            if flight is not None and self._flight is flight:
                self._flight = None
        if previous is not None:
            unregister_secret(previous.value)
        logger.debug(
            "%s a JWT, usable for %.0f s", "minted" if minted else "took", expires_at - now
        )
        if expires_at <= now:
            logger.warning(
                "the minted JWT is already within %.0f s of its exp; check the clock", self._margin
            )
        return value

    def invalidate(self, failed: str | None = None) -> None:
        """Drop the cached token, or only ``failed`` if it is still the current one (in
        the shared cache too: a token a server refused is refused for every process)."""
        if failed is not None and self.cache.shared:
            self.cache.invalidate(self._cache_key, failed)
        with self._state_lock:
            current = self._token
            if current is None or (failed is not None and current.value != failed):
                return
            self._token = None
        unregister_secret(current.value)

    # --- single flight -------------------------------------------------------------

    def _join(self) -> tuple[_Flight | None, bool]:
        """The flight to wait for and whether this caller runs it; (None, False) when a
        valid token appeared meanwhile."""
        with self._state_lock:
            if self._valid() is not None:
                return None, False
            flight = self._flight
            if flight is not None and (not flight.future.done() or flight.cooling()):
                return flight, False
            self._flight = flight = _Flight()
            return flight, True

    def _landed(self, flight: _Flight, fetched: tuple[CachedToken, bool]) -> str:
        token = self._store(fetched[0], flight, minted=fetched[1])
        flight.future.set_result(token)
        return token

    def _fetch(self, fresh_for: float = 0.0) -> tuple[CachedToken, bool]:
        """A token from the shared cache, or minted here (and shared); True if minted."""
        cache, key = self.cache, self._cache_key
        claim = cache.claim(key, fresh_for, _deadline.remaining(), self._clock())
        if claim.token is not None:
            return claim.token, False
        try:
            token = self._checked(self._mint())
        except BaseException as exc:
            failed = isinstance(exc, Exception) and _outage(exc)
            cache.settle(key, claim, None, failed, self._clock())
            raise
        cache.settle(key, claim, token, False, self._clock())
        return token, True

    async def _afetch(self) -> tuple[CachedToken, bool]:
        """``_fetch`` for asyncio: the cache's blocking steps run in a worker thread."""
        cache, key = self.cache, self._cache_key
        if not cache.shared:
            return self._checked(await self._amint()), True
        claim = await asyncio.to_thread(cache.claim, key, 0.0, _deadline.remaining(), self._clock())
        if claim.token is not None:
            return claim.token, False
        try:
            token = self._checked(await self._amint())
        except BaseException as exc:
            failed = isinstance(exc, Exception) and _outage(exc)
            await asyncio.to_thread(cache.settle, key, claim, None, failed, self._clock())
            raise
        await asyncio.to_thread(cache.settle, key, claim, token, False, self._clock())
        return token, True

    def _crashed(self, flight: _Flight, exc: BaseException) -> None:
        """A failure is shared with the waiters (and kept a while if an outage); an
        interruption or the runner's own deadline hands the mint over to a waiter."""
        if flight.future.done():
            return
        shared = exc if isinstance(exc, Exception) and not _deadline.expired() else _Abandoned()
        with self._state_lock:
            if not isinstance(shared, _Abandoned) and _outage(shared):
                flight.failed_at = time.monotonic()
            elif self._flight is flight:
                self._flight = None
        flight.future.set_exception(shared)

    def _fly(self, flight: _Flight) -> str:
        try:
            return self._landed(flight, self._fetch())
        except BaseException as exc:
            self._crashed(flight, exc)
            raise

    async def _afly(self, flight: _Flight) -> str:
        try:
            return self._landed(flight, await self._afetch())
        except BaseException as exc:
            self._crashed(flight, exc)
            raise

    @staticmethod
    def _wait(flight: _Flight) -> str:
        done, _ = concurrent.futures.wait([flight.future], timeout=_deadline.remaining())
        if not done:
            raise _late()
        return flight.future.result()

    @staticmethod
    async def _await(flight: _Flight) -> str:
        waiting = asyncio.wrap_future(flight.future)
        try:
            done, _ = await asyncio.wait([waiting], timeout=_deadline.remaining())
        finally:
            # a waiter that leaves (deadline, cancellation) detaches itself only: the
            # flight's future is running, so it cannot be cancelled through this one
            if not waiting.done():
                waiting.cancel()
        if not done:
            raise _late()
        return waiting.result()

    # --- refreshing ahead of expiry ---------------------------------------------------

    def _ahead(self) -> None:
        """In the advisory window, start one background refresh; the caller goes on with
        the current token, which stays in use until the mandatory window. Outside the
        window (nearly every call) this is one comparison, without the lock."""
        current = self._token
        if current is None or not self._refresh_ahead:
            return
        window = min(REFRESH_AHEAD, current.lifetime / 6) * self._ahead_share
        if current.expires_at - self._clock() > window:
            return
        with self._state_lock:
            if self._token is not current or self._refreshing:
                return
            if self._clock() < self._refresh_after:
                return
            self._refreshing = True
        threading.Thread(
            target=self._refresh, args=(window,), name="carriers-refresh", daemon=True
        ).start()

    def _refresh(self, window: float) -> None:
        try:
            token, minted = self._fetch(fresh_for=window)
            self._store(token, minted=minted)
            with self._state_lock:
                self.refresh_count += 1
        except Exception as exc:
            self._refresh_after = self._clock() + REFRESH_RETRY
            logger.warning(
                "refreshing the JWT ahead of its expiry failed (%s); the current one stays "
                "in use, retrying in %.0f s",
                type(exc).__name__,
                REFRESH_RETRY,
            )
        finally:
            with self._state_lock:
                self._refreshing = False

    def _current(self) -> str | None:
        """The cached token while valid (refreshing it ahead if due), else None.

        ``_valid`` and ``_ahead`` in one reading of the clock: every call comes here.
        """
        current = self._token
        if current is None:
            return None
        left = current.expires_at - self._clock()
        if left <= 0:
            return None
        if self._refresh_ahead and left <= (
            min(REFRESH_AHEAD, current.lifetime / 6) * self._ahead_share
        ):
            self._ahead()  # in the advisory window: checks again, under the lock
        return current.value

    def get_token(self) -> str:
        """A valid token: the cached one, or the outcome of the one mint in flight."""
        token = self._current()
        if token is not None:
            return token
        while True:
            token = self._valid()
            if token is not None:
                self._ahead()
                return token
            flight, runs = self._join()
            if flight is None:
                continue
            if runs:
                return self._fly(flight)
            if flight.thread == threading.get_ident() and not flight.future.done():
                # an async flight of this thread's event loop, which this call blocks
                return self._store(self._mint())
            try:
                return self._wait(flight)
            except _Abandoned:
                continue

    async def aget_token(self) -> str:
        """``get_token`` for asyncio: waits without blocking the event loop."""
        token = self._current()
        if token is not None:
            return token
        while True:
            token = self._valid()
            if token is not None:
                self._ahead()
                return token
            flight, runs = self._join()
            if flight is None:
                continue
            if runs:
                return await self._afly(flight)
            try:
                return await self._await(flight)
            except _Abandoned:
                continue

    # --- the flows -----------------------------------------------------------------

    def _log_replay(self, request: httpx.Request, response: httpx.Response) -> None:
        logger.debug(
            "JWT refused with %d on %s %s; minting a new one and replaying once",
            response.status_code,
            request.method,
            safe_request(request).url.path,
        )

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        if self.is_foreign(request):
            yield request
            return
        if self.is_public(request):
            self.apply_public(request)
            yield request
            return
        request.read()  # the body must be replayable
        token = self.get_token()  # may be replaced or wrapped: called on every request
        self.apply_token(request, token)
        response = yield request
        if self.is_token_failure(response) and not request.extensions.get(_REPLAYED):
            _discard(response)  # release the connection before minting
            self._log_replay(request, response)
            self.invalidate(token)
            request.extensions[_REPLAYED] = True
            self.apply_token(request, self.get_token())
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.is_foreign(request):
            yield request
            return
        if self.is_public(request):
            self.apply_public(request)
            yield request
            return
        await request.aread()
        token = await self.aget_token()
        self.apply_token(request, token)
        response = yield request
        if self.is_token_failure(response) and not request.extensions.get(_REPLAYED):
            await _adiscard(response)
            self._log_replay(request, response)
            if self.cache.shared:  # a network call: off the event loop
                await asyncio.to_thread(self.invalidate, token)
            else:
                self.invalidate(token)
            request.extensions[_REPLAYED] = True
            self.apply_token(request, await self.aget_token())
            yield request


class NovaPostAuth(JWTAuth):
    """Nova Post: ``Authorization: <jwt>``, the raw token (a ``Bearer`` prefix is refused)."""

    public_paths = ("/clients/authorization", "/test-api-keys")
    credential_headers = ("Authorization",)

    def apply_token(self, request: httpx.Request, token: str) -> None:
        request.headers["Authorization"] = token


class ShipyoAuth(JWTAuth):
    """Shipyo: ``x-api-key`` on every call, ``Authorization: Bearer <jwt>`` after the token call.

    An expired token is documented both as 401 and as 403, so both trigger one fresh
    token and one replay on an authorized call.
    """

    public_paths = ("/api/Token/generate-from-apikey",)
    token_failure_statuses = frozenset({401, 403})
    credential_headers = ("Authorization", "x-api-key", "X-Tenant-Id")

    def __init__(
        self,
        *,
        api_key: str,
        tenant_id: str | None = None,
        mint: Mint,
        amint: AsyncMint,
        **flow: Any,
    ) -> None:
        """``flow``: the keyword arguments of ``JWTAuth``."""
        super().__init__(mint=mint, amint=amint, **flow)
        self._api_key = api_key
        self._tenant_id = tenant_id

    def apply_public(self, request: httpx.Request) -> None:
        request.headers["x-api-key"] = self._api_key
        if self._tenant_id is not None:
            request.headers["X-Tenant-Id"] = self._tenant_id

    def apply_token(self, request: httpx.Request, token: str) -> None:
        self.apply_public(request)
        request.headers["Authorization"] = f"Bearer {token}"
