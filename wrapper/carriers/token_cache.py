"""Where minted JWTs are shared: this process (default), a file on this machine, or Redis.

A shared cache lets processes and machines using one API key mint once per token
lifetime. It is plain storage: ``get``, ``put`` with a TTL, a ``lock`` held across
a mint (expiring by itself, after ``LOCK_SECONDS``, if its holder dies) and
``delete_if``; the token provider (``tokens.py``) does the rest, the same way for
every cache. Tokens are stored until their usable life ends, never past it (Nova
Post: "do not store jwt beyond its TTL"), under a hash of (base URL, API key).

A cache that cannot be reached is no reason for a call to fail: the Redis cache then
behaves as an empty one whose lock is always free (each process mints alone), logs
one warning and tries Redis again after ``RETRY_SECONDS``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeAlias, TypeVar

from .errors import ConfigurationError
from .redaction import logger

__all__ = [
    "ENV_VAR",
    "CachedToken",
    "Entry",
    "Failed",
    "FileTokenCache",
    "InProcessTokenCache",
    "RedisTokenCache",
    "Release",
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

T = TypeVar("T")


@dataclass(frozen=True)
class CachedToken:
    """A token, the time (epoch seconds) from which it must no longer be used, and when
    it was minted (a process that takes it later refreshes it at the same moment)."""

    value: str = field(repr=False)
    expires_at: float
    minted_at: float | None = None


@dataclass(frozen=True)
class Failed:
    """A mint that failed for an outage: the others get a shared back-off until ``until``."""

    until: float


Entry: TypeAlias = CachedToken | Failed
Release: TypeAlias = Callable[[], None]
"""What ``TokenCache.lock`` returns: the function that gives the lock back."""


class TokenCache(Protocol):
    """Storage for shared tokens; ``tokens.TokenProvider`` does the rest."""

    shared: bool
    """False for the in-process cache: nothing to share, no thread hop for asyncio."""

    def get(self, key: str) -> Entry | None:
        """The stored entry, or None."""

    def put(self, key: str, entry: Entry, ttl_seconds: float) -> None:
        """Store ``entry`` for ``ttl_seconds`` (called by the lock's holder only)."""

    def lock(self, key: str, timeout: float) -> Release | None:
        """Take the mint lock for ``key`` within ``timeout`` seconds (one try is enough:
        the caller polls), or None. It must expire by itself if its holder dies."""

    def delete_if(self, key: str, value: str) -> None:
        """Drop the stored token if it is still ``value`` (a server refused it)."""


def cache_key(base_url: str, api_key: str) -> str:
    """The cache's name for a (server, key) pair: a hash, never the key itself."""
    digest = hashlib.sha256(f"{base_url}\0{api_key}".encode()).hexdigest()
    return f"carriers:token:{digest}"


def _unlocked() -> None:
    """The release of a lock never taken (nothing is shared)."""


class InProcessTokenCache:
    """Nothing shared: the process's own flight is the only one (the default)."""

    shared = False

    def get(self, key: str) -> Entry | None: ...

    def put(self, key: str, entry: Entry, ttl_seconds: float) -> None: ...

    def lock(self, key: str, timeout: float) -> Release | None:
        return _unlocked

    def delete_if(self, key: str, value: str) -> None: ...

    def __repr__(self) -> str:
        return "InProcessTokenCache()"


def _dump(entry: Entry) -> dict[str, Any]:
    if isinstance(entry, Failed):
        return {"failed": True, "until": entry.until}
    return {"token": entry.value, "expires_at": entry.expires_at, "minted_at": entry.minted_at}


def _load(data: Any) -> Entry | None:
    """The entry ``_dump`` made, or None for anything else."""
    try:
        if data.get("failed"):
            return Failed(float(data["until"]))
        token, minted_at = data["token"], data.get("minted_at")
        if isinstance(token, str):
            return CachedToken(token, float(data["expires_at"]), minted_at and float(minted_at))
    except (AttributeError, KeyError, TypeError, ValueError):
        pass
    return None


# --- a file on this machine ---------------------------------------------------------------


class FileTokenCache:
    """Tokens in a 0600 JSON file, for processes on one machine.

    The file is replaced atomically, so it is read without a lock. The mint lock is
    one file lock (``<path>.lock``) for all keys; an OS lock dies with its holder.
    """

    shared = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise ConfigurationError(f"token cache {self.path} is a directory, not a file")

    def __repr__(self) -> str:
        return f"FileTokenCache({str(self.path)!r})"

    def _read(self) -> dict[str, Any]:
        """The entries whose TTL has not run out (``kept``: until when, in epoch seconds)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            logger.warning("token cache %s is unreadable; starting it afresh", self.path)
            return {}
        now = time.time()
        return {k: v for k, v in data.items() if isinstance(v, dict) and v.get("kept", 0) > now}

    def _write(self, entries: dict[str, Any]) -> None:
        handle, scratch = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entries, out)
            os.replace(scratch, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
            raise

    def get(self, key: str) -> Entry | None:
        return _load(self._read().get(key))

    def put(self, key: str, entry: Entry, ttl_seconds: float) -> None:
        self._write({**self._read(), key: {**_dump(entry), "kept": time.time() + ttl_seconds}})

    def lock(self, key: str, timeout: float) -> Release | None:
        import filelock

        # one object per holder: not thread-local (an async flight locks and releases in
        # different worker threads), and two holders in one process exclude each other
        lock = filelock.FileLock(str(self.path) + ".lock", mode=0o600, thread_local=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)  # older filelocks do not
        try:
            lock.acquire(timeout=timeout)
        except filelock.Timeout:
            return None
        return lock.release

    def delete_if(self, key: str, value: str) -> None:
        release = self.lock(key, LOCK_SECONDS)
        if release is None:
            return
        try:
            entries = self._read()
            if entries.get(key, {}).get("token") == value:
                del entries[key]
                self._write(entries)
        finally:
            release()


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

    The token is stored with a TTL (``PX``); the mint lock is ``SET NX PX`` with a
    random owner and a guarded release. Redis unreachable: a warning once, then for
    ``RETRY_SECONDS`` an empty cache whose lock is always free (this process mints
    on its own, no call waits on a dead server), then Redis again.
    """

    shared = True

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

    def _try(self, step: Callable[[], T], down: T) -> T:
        """``step``'s result, or ``down`` while Redis is failing (one warning)."""
        if time.monotonic() < self._skip_until:
            return down
        try:
            return step()
        except self._errors as exc:
            self._skip_until = time.monotonic() + RETRY_SECONDS
            if not self._warned:
                self._warned = True
                logger.warning(
                    "token cache %s unreachable (%s); minting in this process alone",
                    self._shown,
                    type(exc).__name__,
                )
            return down

    def get(self, key: str) -> Entry | None:
        raw = self._try(lambda: self._redis.get(key), None)
        with contextlib.suppress(ValueError):
            return _load(json.loads(raw or "null"))
        return None

    def put(self, key: str, entry: Entry, ttl_seconds: float) -> None:
        text = json.dumps(_dump(entry))
        self._try(lambda: self._redis.set(key, text, px=max(1, int(ttl_seconds * 1000))), None)

    def lock(self, key: str, timeout: float) -> Release | None:
        name, owner = key + ":lock", os.urandom(16).hex()

        def take() -> Release | None:
            if self._redis.set(name, owner, nx=True, px=self._lock_ms):
                return functools.partial(self._unlock, name, owner)
            return None

        free: Release | None = _unlocked  # Redis down: a free lock, this process mints alone
        return self._try(take, free)

    def _unlock(self, name: str, owner: str) -> None:
        self._try(lambda: self._release(keys=[name], args=[owner]), None)

    def delete_if(self, key: str, value: str) -> None:
        self._try(lambda: self._drop_if(keys=[key], args=[value]), None)


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
    if not all(hasattr(cache, name) for name in ("get", "put", "lock", "delete_if", "shared")):
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
