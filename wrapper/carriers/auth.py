"""JWT auth flows for httpx: one token per client, minted once, replaced when refused.

The token is held in memory only (Nova Post: "do not store jwt beyond its TTL").
It is minted on first need under a lock, with the cache checked again after the
lock is taken, so that any number of threads (``sync_auth_flow``) or asyncio tasks
(``async_auth_flow``) waiting at once cause exactly one mint. When a request is
refused for its token, the token is dropped only if it is still the current one
(another request may already have replaced it), and the request is replayed once
with a fresh token; a second refusal is returned as is and becomes an
``AuthenticationError`` (or ``PermissionDeniedError``) in the client. Once means
once per request: the client's retries (after a 5xx, say) send the same request
through the flow again, and a refusal on a retry is not replayed a second time.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, field

import httpx
import jwt as pyjwt

from .redaction import logger, register_secret, safe_request, unregister_secret

__all__ = [
    "EXPIRY_MARGIN",
    "FALLBACK_LIFETIME",
    "JWTAuth",
    "NovaPostAuth",
    "ShipyoAuth",
    "token_expiry",
]

EXPIRY_MARGIN = 30.0
"""A token is treated as expired this many seconds before its ``exp`` (as the
official Nova Post SDK does), so that it does not expire in flight."""

FALLBACK_LIFETIME = 55 * 60.0
"""Lifetime assumed for a token without a readable ``exp`` (Nova Post documents
about one hour; five minutes are kept in hand)."""

_REPLAYED = "carriers.replayed"
"""Request extension set when the flow has replayed the request after a refusal."""

Mint = Callable[[], str]
AsyncMint = Callable[[], Awaitable[str]]


def token_expiry(
    token: str,
    now: float,
    *,
    margin: float = EXPIRY_MARGIN,
    fallback: float = FALLBACK_LIFETIME,
) -> float:
    """The time (epoch seconds) from which ``token`` must no longer be used.

    ``exp`` is read without checking the signature: the client cannot check it
    and only needs to know when the server will stop accepting the token.
    """
    try:
        claims = pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError:
        return now + fallback
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
        return now + fallback
    return float(exp) - margin


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


class JWTAuth(httpx.Auth):
    """Base flow: obtains, caches, applies and replaces one JWT.

    Subclasses say which requests are public (no JWT: the token routes themselves),
    how headers are set, and which statuses mean "token refused".
    """

    public_paths: tuple[str, ...] = ()
    token_failure_statuses: frozenset[int] = frozenset({401})

    def __init__(
        self,
        *,
        mint: Mint,
        amint: AsyncMint,
        clock: Callable[[], float] | None = None,
        margin: float = EXPIRY_MARGIN,
        fallback_lifetime: float = FALLBACK_LIFETIME,
    ) -> None:
        self._mint = mint
        self._amint = amint
        self._clock = clock or time.time
        self._margin = margin
        self._fallback = fallback_lifetime
        self._token: _Token | None = None
        self._state_lock = threading.Lock()
        self._mint_lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.mint_count = 0
        """How many tokens this flow has minted (for monitoring and tests)."""

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
        return any(request.url.path.endswith(suffix) for suffix in self.public_paths)

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

    def _store(self, value: str) -> str:
        if not isinstance(value, str) or not value:
            raise TypeError("a minted token must be a non-empty string")
        now = self._clock()
        expires_at = token_expiry(value, now, margin=self._margin, fallback=self._fallback)
        register_secret(value)
        with self._state_lock:
            previous, self._token = self._token, _Token(value, expires_at)
            self.mint_count += 1
        if previous is not None:
            unregister_secret(previous.value)
        logger.debug("minted a JWT, usable for %.0f s", expires_at - now)
        if expires_at <= now:
            logger.warning(
                "the minted JWT is already within %.0f s of its exp; check the clock", self._margin
            )
        return value

    def invalidate(self, failed: str | None = None) -> None:
        """Drop the cached token, or only ``failed`` if it is still the current one."""
        with self._state_lock:
            current = self._token
            if current is None or (failed is not None and current.value != failed):
                return
            self._token = None
        unregister_secret(current.value)

    def get_token(self) -> str:
        """A valid token, minting one (once, whatever the number of threads) if needed."""
        token = self._valid()
        if token is not None:
            return token
        with self._mint_lock:
            token = self._valid()
            if token is not None:
                return token
            return self._store(self._mint())

    def _async_lock(self) -> asyncio.Lock:
        # One lock per event loop: an asyncio.Lock is bound to the loop that first waits on it.
        loop = asyncio.get_running_loop()
        with self._state_lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
        return lock

    async def aget_token(self) -> str:
        """A valid token, minting one (once, whatever the number of tasks) if needed."""
        token = self._valid()
        if token is not None:
            return token
        async with self._async_lock():
            token = self._valid()
            if token is not None:
                return token
            return self._store(await self._amint())

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
        if self.is_public(request):
            self.apply_public(request)
            yield request
            return
        request.read()  # the body must be replayable
        token = self.get_token()
        self.apply_token(request, token)
        response = yield request
        if self.is_token_failure(response) and not request.extensions.get(_REPLAYED):
            response.read()  # release the connection before minting
            self._log_replay(request, response)
            self.invalidate(token)
            request.extensions[_REPLAYED] = True
            self.apply_token(request, self.get_token())
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.is_public(request):
            self.apply_public(request)
            yield request
            return
        await request.aread()
        token = await self.aget_token()
        self.apply_token(request, token)
        response = yield request
        if self.is_token_failure(response) and not request.extensions.get(_REPLAYED):
            await response.aread()
            self._log_replay(request, response)
            self.invalidate(token)
            request.extensions[_REPLAYED] = True
            self.apply_token(request, await self.aget_token())
            yield request


class NovaPostAuth(JWTAuth):
    """Nova Post: ``Authorization: <jwt>``, the raw token (a ``Bearer`` prefix is refused)."""

    public_paths = ("/clients/authorization", "/test-api-keys")

    def apply_token(self, request: httpx.Request, token: str) -> None:
        request.headers["Authorization"] = token


class ShipyoAuth(JWTAuth):
    """Shipyo: ``x-api-key`` on every call, ``Authorization: Bearer <jwt>`` after the token call.

    An expired token is documented both as 401 and as 403, so both trigger one fresh
    token and one replay on an authorized call.
    """

    public_paths = ("/api/Token/generate-from-apikey",)
    token_failure_statuses = frozenset({401, 403})

    def __init__(
        self,
        *,
        api_key: str,
        tenant_id: str | None = None,
        mint: Mint,
        amint: AsyncMint,
        clock: Callable[[], float] | None = None,
        margin: float = EXPIRY_MARGIN,
        fallback_lifetime: float = FALLBACK_LIFETIME,
    ) -> None:
        super().__init__(
            mint=mint, amint=amint, clock=clock, margin=margin, fallback_lifetime=fallback_lifetime
        )
        self._api_key = api_key
        self._tenant_id = tenant_id

    def apply_public(self, request: httpx.Request) -> None:
        request.headers["x-api-key"] = self._api_key
        if self._tenant_id is not None:
            request.headers["X-Tenant-Id"] = self._tenant_id

    def apply_token(self, request: httpx.Request, token: str) -> None:
        self.apply_public(request)
        request.headers["Authorization"] = f"Bearer {token}"
