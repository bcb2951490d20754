"""Where minted JWTs are shared: this process (default), a file on this machine, or Redis.

Each facade keeps its token in memory and mints under one in-process flight
(``auth.py``). A shared cache adds a second level for processes and machines
using the same API key: the flight first *claims* the token from the cache, which
either hands back a token another process minted, or makes this process the one
that mints (holding a lock), or waits for the process that holds the lock; then
the flight *settles* the claim with the new token (stored until its expiry) or
with the failure (remembered briefly as a shared back-off, so a fleet does not
hammer a failing token route). A holder that dies releases the lock when the
lock expires. The cache never stores a token past its usable life (Nova Post:
"do not store jwt beyond its TTL"), and its key is a hash of (base URL, API key),
never the key itself.

A cache that cannot be reached is no reason for a call to fail: the flight mints
for this process alone and one warning is logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import APIConnectionError, ConfigurationError
from .redaction import logger

__all__ = [
    "ENV_VAR",
    "CachedToken",
    "Claim",
    "FileTokenCache",
    "InProcessTokenCache",
    "RedisTokenCache",
    "TokenCache",
    "cache_key",
    "from_url",
    "resolve",
]

ENV_VAR = "CARRIERS_TOKEN_CACHE"
"""``redis://host:port/db``, ``rediss://...`` or ``file:///path``: the default cache."""

LOCK_SECONDS = 30.0
"""How long a mint lock lives if its holder never releases it (it died)."""
BACKOFF_SECONDS = 5.0
"""How long a failed mint is remembered fleet-wide."""
POLL_SECONDS = 0.05
"""How often a waiter looks for the holder's result."""
RETRY_SECONDS = 30.0
"""After Redis failed, how long this process mints alone before trying Redis again."""


@dataclass(frozen=True)
class CachedToken:
    """A token, the time (epoch seconds) from which it must no longer be used, and when
    it was minted (a process that takes it later refreshes it at the same moment)."""

    value: str = field(repr=False)
    expires_at: float
    minted_at: float | None = None


@dataclass
class Claim:
    """The outcome of a claim: a token to use, or the duty to mint (and settle)."""

    token: CachedToken | None = None
    release: Any = None
    """What ``settle`` needs to give the lock back (backend specific)."""


class TokenCache(Protocol):
    """The two steps a mint flight takes around the mint itself."""

    shared: bool
    """False for the in-process cache: nothing to claim, no thread hop for asyncio."""

    def claim(self, key: str, fresh_for: float, wait: float | None, now: float) -> Claim:
        """A stored token with more than ``fresh_for`` seconds left at ``now`` (epoch
        seconds), or the duty to mint.

        Blocks up to ``wait`` seconds (None: ``LOCK_SECONDS``) while another process
        mints; raises ``APIConnectionError`` during a shared back-off.
        """

    def settle(
        self, key: str, claim: Claim, token: CachedToken | None, failed: bool, now: float
    ) -> None:
        """Store the minted token, or record an outage failure (``failed``), and unlock."""

    def invalidate(self, key: str, value: str) -> None:
        """Drop the stored token if it is still ``value`` (a server refused it)."""


def cache_key(base_url: str, api_key: str) -> str:
    """The cache's name for a (server, key) pair: a hash, never the key itself."""
    digest = hashlib.sha256(f"{base_url}\0{api_key}".encode()).hexdigest()
    return f"carriers:token:{digest}"


class InProcessTokenCache:
    """Nothing shared: the process's own flight is the only one (the default)."""

    shared = False

    def claim(self, key: str, fresh_for: float, wait: float | None, now: float) -> Claim:
        return Claim()

    def settle(
        self, key: str, claim: Claim, token: CachedToken | None, failed: bool, now: float
    ) -> None:
        return None

    def invalidate(self, key: str, value: str) -> None:
        return None

    def __repr__(self) -> str:
        return "InProcessTokenCache()"


def _backoff_error(until: float, now: float) -> APIConnectionError:
    left = max(0.0, until - now)
    return APIConnectionError(
        f"the token route failed moments ago in another process (shared back-off); "
        f"try again in {left:.1f} s"
    )


# --- a file on this machine ---------------------------------------------------------------


class FileTokenCache:
    """Tokens in a 0600 JSON file, for processes on one machine.

    The mint lock is a file lock held across the mint: the other processes wait on
    it and then find the token the holder stored. An OS lock dies with its holder.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import filelock

        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise ConfigurationError(f"token cache {self.path} is a directory, not a file")
        # not thread-local: an async flight claims and settles in different worker threads
        self._lock = filelock.FileLock(str(self.path) + ".lock", mode=0o600, thread_local=False)
        self._thread_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileTokenCache({str(self.path)!r})"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            logger.warning("token cache %s is unreadable; starting it afresh", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, Any], now: float) -> None:
        live = {k: v for k, v in entries.items() if isinstance(v, dict) and v.get("until", 0) > now}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(live, out)
            os.replace(scratch, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
            raise

    shared = True

    def claim(self, key: str, fresh_for: float, wait: float | None, now: float) -> Claim:
        import filelock

        self._thread_lock.acquire()
        try:
            self._lock.acquire(timeout=LOCK_SECONDS if wait is None else max(0.0, wait))
        except filelock.Timeout:
            self._thread_lock.release()
            raise APIConnectionError(
                "another process is still minting a token (token cache lock busy)"
            ) from None
        except BaseException:
            self._thread_lock.release()
            raise
        try:
            entry = self._read().get(key)
            token = _usable(entry if isinstance(entry, dict) else None, fresh_for, now)
            if token is not None:
                self._unlock()
                return Claim(token)
        except BaseException:
            self._unlock()
            raise
        return Claim(release=True)

    def _unlock(self) -> None:
        self._lock.release()
        self._thread_lock.release()

    def settle(
        self, key: str, claim: Claim, token: CachedToken | None, failed: bool, now: float
    ) -> None:
        if not claim.release:
            return
        try:
            entries = self._read()
            if token is not None:
                entries[key] = {**_entry(token, now), "until": token.expires_at}
            elif failed:
                entries[key] = {"failed": True, "until": now + BACKOFF_SECONDS}
            else:
                return
            self._write(entries, now)
        finally:
            self._unlock()

    def invalidate(self, key: str, value: str) -> None:
        with self._thread_lock, self._lock:
            entries = self._read()
            entry = entries.get(key)
            if isinstance(entry, dict) and entry.get("token") == value:
                del entries[key]
                self._write(entries, time.time())


# --- Redis ------------------------------------------------------------------------------------

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
"""Delete the lock only if it is still ours (a holder past its lock's life must not
delete the next holder's)."""

_DROP_IF = """
local raw = redis.call('get', KEYS[1])
if raw and cjson.decode(raw)['token'] == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisTokenCache:
    """Tokens in Redis, for fleets: one mint per token lifetime across machines.

    The token is stored with a TTL ending at its usable life (``PX``); the mint
    lock is ``SET NX PX`` with a random owner and a guarded release; waiters poll
    for the holder's result. Redis unreachable: a warning once, then this process
    mints on its own until Redis answers again.
    """

    def __init__(self, url: str, *, lock_seconds: float = LOCK_SECONDS) -> None:
        try:
            import redis
        except ImportError:
            from .extras import MissingExtraError

            raise MissingExtraError("redis", "the Redis token cache", ["redis"]) from None
        self._redis = redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30
        )
        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        self._lock_ms = int(lock_seconds * 1000)
        self._shown = urllib.parse.urlsplit(url)._replace(netloc=_host_only(url)).geturl()
        self._warned = False
        self._skip_until = 0.0
        self._release = self._redis.register_script(_RELEASE)
        self._drop_if = self._redis.register_script(_DROP_IF)

    def __repr__(self) -> str:
        return f"RedisTokenCache({self._shown!r})"

    def _down(self, exc: BaseException) -> None:
        """Redis failed: skip it for ``RETRY_SECONDS`` (no call waits on a dead cache)."""
        self._skip_until = time.monotonic() + RETRY_SECONDS
        if not self._warned:
            self._warned = True
            logger.warning(
                "token cache %s unreachable (%s); minting in this process alone",
                self._shown,
                type(exc).__name__,
            )

    def _read(self, key: str) -> dict[str, Any] | None:
        raw = self._redis.get(key)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
        except ValueError:
            return None
        return entry if isinstance(entry, dict) else None

    shared = True

    def claim(self, key: str, fresh_for: float, wait: float | None, now: float) -> Claim:
        if time.monotonic() < self._skip_until:
            return Claim()  # down a moment ago: mint here, do not wait on it again
        deadline = time.monotonic() + (LOCK_SECONDS if wait is None else max(0.0, wait))
        owner = os.urandom(16).hex()
        try:
            started = time.monotonic()
            while True:
                at = now + (time.monotonic() - started)
                found = _usable(self._read(key), fresh_for, at)
                if found is not None:
                    return Claim(found)
                if self._redis.set(key + ":lock", owner, nx=True, px=self._lock_ms):
                    # the holder may have stored its outcome and unlocked between the read
                    # above and this lock: look again, or the fleet mints twice
                    try:
                        found = _usable(self._read(key), fresh_for, at)
                    except BaseException:
                        self._release(keys=[key + ":lock"], args=[owner])
                        raise
                    if found is None:
                        return Claim(release=owner)
                    self._release(keys=[key + ":lock"], args=[owner])
                    return Claim(found)
                if time.monotonic() >= deadline:
                    raise APIConnectionError(
                        "another process is still minting a token (token cache lock busy)"
                    )
                time.sleep(POLL_SECONDS)
        except self._errors as exc:
            self._down(exc)
            return Claim()

    def settle(
        self, key: str, claim: Claim, token: CachedToken | None, failed: bool, now: float
    ) -> None:
        if not claim.release:
            return
        try:
            if token is not None:
                ttl_ms = int((token.expires_at - now) * 1000)
                if ttl_ms > 0:
                    entry = _entry(token, now)
                    self._redis.set(key, json.dumps(entry), px=ttl_ms)
            elif failed:
                entry = {"failed": True, "until": now + BACKOFF_SECONDS}
                self._redis.set(key, json.dumps(entry), px=int(BACKOFF_SECONDS * 1000))
            self._release(keys=[key + ":lock"], args=[claim.release])
        except self._errors as exc:
            self._down(exc)

    def invalidate(self, key: str, value: str) -> None:
        if time.monotonic() < self._skip_until:
            return
        try:
            self._drop_if(keys=[key], args=[value])
        except self._errors as exc:
            self._down(exc)


def _entry(token: CachedToken, now: float) -> dict[str, Any]:
    minted_at = token.minted_at if token.minted_at is not None else now
    return {"token": token.value, "expires_at": token.expires_at, "minted_at": minted_at}


def _usable(entry: dict[str, Any] | None, fresh_for: float, at: float) -> CachedToken | None:
    """The stored token if it has more than ``fresh_for`` seconds left at ``at``; raises
    ``APIConnectionError`` during a shared back-off."""
    if entry is None:
        return None
    if entry.get("failed") and entry.get("until", 0) > at:
        raise _backoff_error(float(entry["until"]), at)
    value, expires_at = entry.get("token"), entry.get("expires_at")
    minted_at = entry.get("minted_at")
    if isinstance(value, str) and isinstance(expires_at, (int, float)):
        if expires_at - at > fresh_for:
            minted = float(minted_at) if isinstance(minted_at, (int, float)) else None
            return CachedToken(value, float(expires_at), minted)
    return None


def _host_only(url: str) -> str:
    """The URL's host and port, without a password (for messages and reprs)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


def resolve(cache: TokenCache | str | None) -> TokenCache:
    """The cache an option names: a cache, its URL, or None for ``$CARRIERS_TOKEN_CACHE``."""
    if cache is None:
        return from_url(os.environ.get(ENV_VAR) or None)
    if isinstance(cache, str):
        return from_url(cache)
    if not all(hasattr(cache, name) for name in ("claim", "settle", "invalidate", "shared")):
        raise ConfigurationError(
            "token_cache must be a URL (redis://, file:///path) or a carriers.token_cache cache"
        )
    return cache


def from_url(url: str | None) -> TokenCache:
    """The cache a URL names: ``redis://``/``rediss://``, ``file:///path``, or in-process."""
    if url is None or url in ("", "memory:", "memory://"):
        return InProcessTokenCache()
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return RedisTokenCache(url)
    if scheme == "file":
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
        if not path:
            raise ConfigurationError("a file:// token cache needs a path: file:///path/tokens.json")
        return FileTokenCache(path)
    raise ConfigurationError(
        f"token cache {_host_only(url) or scheme!r} has an unknown scheme; use redis://, "
        "rediss://, file:///path or memory:"
    )
