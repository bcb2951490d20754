"""JWT auth flows for httpx: apply the token, send, replace it once when refused.

The token comes from a ``tokens.TokenProvider`` (fresh, refreshed ahead, or minted
once for every caller). When a request is refused for its token (401; Shipyo also
403), the token is dropped only if it is still the current one (another request may
already have replaced it), and the request is replayed once with a fresh token; a
second refusal is returned as is and becomes an ``AuthenticationError`` (or
``PermissionDeniedError``) in the client. Once means once per request: the client's
retries (after a 5xx, say) send the same request through the flow again, and a
refusal on a retry is not replayed a second time.

Credentials only go to the origin of the configured base URL: a request to any
other origin passes through the flow untouched, without minting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx

from . import _deadline
from ._limits import aread_capped, read_capped
from ._strictness import strict_amint, strict_mint
from .errors import ResponseTooLargeError
from .redaction import logger, safe_request
from .token_cache import TokenCache
from .tokens import (
    EXPIRY_MARGIN,
    FALLBACK_LIFETIME,
    MAX_EXP,
    MINT_COOLDOWN,
    REFRESH_AHEAD,
    AsyncMint,
    Mint,
    TokenProvider,
    token_expiry,
)

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

REFUSED_BODY_LIMIT = 64 * 1024
"""The most of a refused (401/403) body read before the replay; the rest is dropped."""

_REPLAYED = "carriers.replayed"
"""Request extension set when the flow has replayed the request after a refusal."""

_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int | None]


_last_origin: tuple[httpx.URL, Origin] | None = None
"""The last URL ``origin_of`` was given and its origin: a request's URL is checked by the
request loop, then again by the auth flow on the same hop. URLs are immutable, and the
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
        self.tokens = TokenProvider(
            # a token route's body is parsed strictly, whatever strict_responses says
            mint=strict_mint(mint),
            amint=strict_amint(amint),
            clock=clock,
            margin=margin,
            fallback_lifetime=fallback_lifetime,
            cache=cache,
            cache_key=cache_key,
            refresh_ahead=refresh_ahead,
            jitter=jitter,
        )
        """Where the JWT comes from (``tokens.TokenProvider``)."""
        self.origin: Origin | None = None if origin is None else origin_of(origin)
        """(scheme, host, port) that may receive credentials; None: any."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tokens!r})"

    @property
    def cache(self) -> TokenCache:
        """Where tokens are shared with other processes (``token_cache``)."""
        return self.tokens.cache

    @property
    def mint_count(self) -> int:
        """How many tokens this flow has minted (for monitoring and tests)."""
        return self.tokens.mint_count

    @property
    def refresh_count(self) -> int:
        """How many tokens arrived by a background refresh (minted or from the cache)."""
        return self.tokens.refresh_count

    def get_token(self) -> str:
        """A valid token (may be replaced or wrapped: the flow calls it on every request)."""
        return self.tokens.get_token()

    async def aget_token(self) -> str:
        """``get_token`` for asyncio."""
        return await self.tokens.aget_token()

    def invalidate(self, failed: str | None = None) -> None:
        """Drop the cached token, or only ``failed`` if it is still the current one."""
        self.tokens.invalidate(failed)

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
            _deadline.cut_timeouts(request)  # the mint took some of the time left
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
            if self.tokens.cache.shared:  # a network call: off the event loop
                await asyncio.to_thread(self.invalidate, token)
            else:
                self.invalidate(token)
            request.extensions[_REPLAYED] = True
            self.apply_token(request, await self.aget_token())
            _deadline.cut_timeouts(request)
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
