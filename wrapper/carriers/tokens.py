"""A JWT provider: minted once, kept while fresh, refreshed ahead, shared.

Botocore's refreshable credentials in shape (``credentials.py``, ``_refresh``): a
token is in one of three states (google-auth's ``TokenState``):

- **fresh**: used as it is, one comparison per call;
- **advisory** (refresh ahead): the last part of its life; one background refresh
  starts, every caller keeps using the current token meanwhile;
- **mandatory** (expired, or within ``EXPIRY_MARGIN`` of its ``exp``): callers wait
  for the one mint in flight.

A token is minted by one *flight* at a time: the first caller that needs one runs
the mint (sync or async), and every other caller meanwhile, in any thread or event
loop, waits for that flight's outcome instead of minting again. A flight that
failed for an outage (unreachable, 5xx, 408, 429) is kept for ``MINT_COOLDOWN``
seconds, during which callers get the same failure at once, so that an outage of
the token route costs ``max_retries + 1`` requests, not that many per caller.

A shared cache (``token_cache``: get, put, lock) makes that one flight per fleet,
the same way for every cache (``_claim``, ``_settle``): use a token another process
stored; during a shared back-off fail at once; otherwise take the mint lock (polling
the cache meanwhile, until the call's deadline), read again, mint, store the token
until its usable life ends (or a back-off after an outage), release.

The token is held in memory only (Nova Post: "do not store jwt beyond its TTL").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import jwt as pyjwt

from . import _deadline, token_cache
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ResponseValidationError,
)
from .redaction import logger, register_secret, unregister_secret
from .token_cache import CachedToken, Failed, InProcessTokenCache, Release, TokenCache

__all__ = [
    "EXPIRY_MARGIN",
    "FALLBACK_LIFETIME",
    "MAX_EXP",
    "MINT_COOLDOWN",
    "REFRESH_AHEAD",
    "REFRESH_RETRY",
    "TokenProvider",
    "TokenState",
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

Mint = Callable[[], str]
AsyncMint = Callable[[], Awaitable[str]]


class TokenState(enum.Enum):
    """Where the current token stands (``TokenProvider.state``)."""

    FRESH = "fresh"
    """Used as it is."""
    ADVISORY = "advisory"
    """Still used, while one background refresh replaces it."""
    MANDATORY = "mandatory"
    """Missing or expired: the next caller mints, the others wait for that mint."""


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


class TokenProvider:
    """One JWT for one (server, API key): fresh, refreshed ahead, or minted once.

    ``mint``/``amint`` fetch a new token (already strict about the route's body);
    ``cache`` shares tokens with other processes under ``cache_key``.
    """

    def __init__(
        self,
        *,
        mint: Mint,
        amint: AsyncMint,
        clock: Callable[[], float] | None = None,
        margin: float = EXPIRY_MARGIN,
        fallback_lifetime: float = FALLBACK_LIFETIME,
        cache: TokenCache | None = None,
        cache_key: str = "carriers:token:default",
        refresh_ahead: bool = True,
        jitter: Callable[[float, float], float] | None = None,
    ) -> None:
        self._mint = mint
        self._amint = amint
        self._clock = clock or time.time
        self._margin = margin
        self._fallback = fallback_lifetime
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
        """How many tokens this provider has minted (for monitoring and tests)."""
        self.refresh_count = 0
        """How many tokens arrived by a background refresh (minted or from the cache)."""

    def __repr__(self) -> str:
        current = self._token
        if current is None:
            return f"no jwt, mints={self.mint_count}"
        left = current.expires_at - self._clock()
        return f"jwt valid for {left:.0f} s, mints={self.mint_count}"

    def _window(self, current: _Token) -> float:
        """Seconds before expiry at which the advisory window opens for ``current``."""
        if not self._refresh_ahead:
            return 0.0
        return min(REFRESH_AHEAD, current.lifetime / 6) * self._ahead_share

    def state(self) -> TokenState:
        """Fresh, advisory (refreshed ahead while in use) or mandatory (must be minted)."""
        current = self._token
        if current is None:
            return TokenState.MANDATORY
        left = current.expires_at - self._clock()
        if left <= 0:
            return TokenState.MANDATORY
        return TokenState.ADVISORY if left <= self._window(current) else TokenState.FRESH

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
            self.cache.delete_if(self._cache_key, failed)
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

    def _claim(self, fresh_for: float) -> CachedToken | Release:
        """A shared token with more than ``fresh_for`` seconds left, or the mint lock.

        While another process holds the lock, polls for its token until the call's
        deadline (``LOCK_SECONDS`` without one), then raises ``APIConnectionError``, as
        during a shared back-off.
        """
        cache, key = self.cache, self._cache_key

        def look() -> CachedToken | None:
            entry, now = cache.get(key), self._clock()
            if isinstance(entry, Failed) and entry.until > now:
                raise APIConnectionError(
                    "the token route failed moments ago in another process (shared "
                    f"back-off); try again in {entry.until - now:.1f} s"
                )
            if isinstance(entry, CachedToken) and entry.expires_at - now > fresh_for:
                return entry
            return None

        wait = _deadline.remaining()
        give_up = time.monotonic() + (token_cache.LOCK_SECONDS if wait is None else wait)
        while (found := look()) is None:
            tried = time.monotonic()
            release = cache.lock(key, max(0.0, min(token_cache.POLL_SECONDS, give_up - tried)))
            if release is not None:
                # the holder may have stored its outcome and unlocked between the read
                # above and this lock: look again, or the fleet mints twice
                try:
                    found = look()
                except BaseException:
                    release()
                    raise
                if found is None:
                    return release
                release()
                return found
            if time.monotonic() >= give_up:
                raise APIConnectionError(
                    "another process is still minting a token (token cache lock busy)"
                )
            time.sleep(max(0.0, tried + token_cache.POLL_SECONDS - time.monotonic()))
        return found

    def _settle(self, release: Release, outcome: CachedToken | BaseException) -> None:
        """Store the minted token until its usable life ends (never past it), or after an
        outage the shared back-off; then release the lock."""
        try:
            now, backoff = self._clock(), token_cache.BACKOFF_SECONDS
            if isinstance(outcome, CachedToken) and outcome.expires_at > now:
                self.cache.put(self._cache_key, outcome, outcome.expires_at - now)
            elif isinstance(outcome, Exception) and _outage(outcome):
                self.cache.put(self._cache_key, Failed(now + backoff), backoff)
        finally:
            release()

    def _fetch(self, fresh_for: float = 0.0) -> tuple[CachedToken, bool]:
        """A token from the shared cache, or minted here (and shared); True if minted."""
        if not self.cache.shared:
            return self._checked(self._mint()), True
        found = self._claim(fresh_for)
        if isinstance(found, CachedToken):
            return found, False
        try:
            token = self._checked(self._mint())
        except BaseException as exc:
            self._settle(found, exc)
            raise
        self._settle(found, token)
        return token, True

    async def _afetch(self) -> tuple[CachedToken, bool]:
        """``_fetch`` for asyncio: the cache's blocking steps run in a worker thread."""
        if not self.cache.shared:
            return self._checked(await self._amint()), True
        found = await asyncio.to_thread(self._claim, 0.0)
        if isinstance(found, CachedToken):
            return found, False
        try:
            token = self._checked(await self._amint())
        except BaseException as exc:
            await asyncio.to_thread(self._settle, found, exc)
            raise
        await asyncio.to_thread(self._settle, found, token)
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
        window = self._window(current)
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
        if left <= self._window(current):
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
