"""A small file store for Nova Post sandbox API keys.

A sandbox key can be created once a day per user (``POST /test-api-keys`` answers
429 after that), so a key once obtained is kept and reused until it expires. The
store is a JSON file, readable by its owner only (0600), written atomically,
keyed by base URL and phone. JWTs are never stored here.

Every access holds a lock file next to the store (``<name>.lock``), so that
processes sharing the store never lose each other's keys. A symlinked store is
followed: the file it points to is read, locked and replaced.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import filelock
import platformdirs

from . import _config
from .errors import ConfigurationError
from .redaction import logger

__all__ = ["ENV_VAR", "KeyStore", "KeyStoreError", "StoredKey", "default_path"]

ENV_VAR = "CARRIERS_KEY_STORE"
"""Environment variable overriding the store's path."""

FILE_NAME = "novapost-sandbox-keys.json"
_FORMAT_VERSION = 1
_LOCK_TIMEOUT = 30.0
_LOCK_POLL = 0.005  # the lock is held for one small read and write


class KeyStoreError(ConfigurationError):
    """The key store cannot be used as it is; the text names the file, never a key."""


def default_path() -> Path:
    """``$CARRIERS_KEY_STORE``, else ``<user cache dir>/carriers/novapost-sandbox-keys.json``."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_cache_path("carriers", appauthor=False) / FILE_NAME


def _utc(value: datetime.datetime) -> datetime.datetime:
    """``value`` in UTC; naive means UTC.

    An instant beyond what ``datetime`` holds in UTC (year 9999 at -14:00) is
    clamped to the largest (or smallest) one: far future stays far future.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        behind = (value.utcoffset() or datetime.timedelta()) < datetime.timedelta()
        edge = datetime.datetime.max if behind else datetime.datetime.min
        return edge.replace(tzinfo=datetime.UTC)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _is_valid_key(value: object) -> TypeGuard[str]:
    """The rule of ``NovaPost(api_key=...)``, so that a stored key is never refused later."""
    if not isinstance(value, str):
        return False
    try:
        _config.check_api_key(value, ENV_VAR, "Nova Post")
    except ConfigurationError:
        return False
    return True


def _lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


@dataclass(frozen=True)
class StoredKey:
    """A stored sandbox key; the key itself is left out of the repr."""

    phone: str
    base_url: str
    api_key: str = field(repr=False)
    exp_date: datetime.datetime


def _stored_key(phone: str, base_url: str, entry: object) -> StoredKey | None:
    """The entry as a ``StoredKey``, or None when it is not a usable one."""
    if not isinstance(entry, dict):
        return None
    api_key, exp_date = entry.get("apiKey"), entry.get("expDate")
    if not _is_valid_key(api_key) or not isinstance(exp_date, str):
        return None
    try:
        parsed = _utc(datetime.datetime.fromisoformat(exp_date))
    except ValueError:
        return None
    return StoredKey(phone=phone, base_url=base_url, api_key=api_key, exp_date=parsed)


class KeyStore:
    """Sandbox API keys by (base URL, phone), in a 0600 JSON file.

    ``path`` defaults to ``default_path()``; ``margin`` is how long before its
    ``expDate`` a key stops being reused; ``clock`` returns an aware datetime.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        margin: datetime.timedelta = datetime.timedelta(minutes=10),
        clock: Callable[[], datetime.datetime] | None = None,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.margin = margin
        self._clock = clock or _now
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyStore(path={str(self.path)!r})"

    # --- file access -----------------------------------------------------------------

    def _target(self) -> Path:
        """The file really read and replaced: ``path`` with symlinks followed."""
        return Path(os.path.realpath(self.path))

    def check_usable(self) -> None:
        """Raise ``KeyStoreError`` unless a key could be stored here.

        Called before a key is created, since a key that cannot be stored is a day's
        only creation spent for nothing.
        """
        target = self._target()
        try:
            if target.is_dir():
                raise KeyStoreError(f"key store {self.path} is a directory; it must name a file")
            if target.exists():
                if not target.is_file():
                    raise KeyStoreError(f"key store {self.path} is not a regular file")
                if not os.access(target, os.R_OK | os.W_OK):
                    raise KeyStoreError(f"key store {self.path} is not readable and writable")
            lock = _lock_path(target)
            if lock.exists() and not os.access(lock, os.W_OK):
                raise KeyStoreError(
                    f"key store {self.path} cannot be locked: {lock} is not writable"
                )
            ancestor = target.parent
            while not ancestor.exists() and ancestor != ancestor.parent:
                ancestor = ancestor.parent
            if not ancestor.is_dir():
                raise KeyStoreError(
                    f"key store {self.path} cannot be created: {ancestor} is not a directory"
                )
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise KeyStoreError(
                    f"key store {self.path} cannot be written: directory {ancestor} is not writable"
                )
        except OSError as exc:
            raise KeyStoreError(f"key store {self.path} cannot be used: {exc.strerror}") from None

    @contextmanager
    def _locked(self, target: Path) -> Iterator[None]:
        """Hold this process's and every other process's lock on ``target``."""
        if target.is_dir():
            raise KeyStoreError(f"key store {self.path} is a directory; it must name a file")
        lock = filelock.FileLock(_lock_path(target), mode=0o600)
        with self._lock:
            try:
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                lock.acquire(timeout=_LOCK_TIMEOUT, poll_interval=_LOCK_POLL)
            except filelock.Timeout:
                raise KeyStoreError(
                    f"key store {self.path} stayed locked by another process "
                    f"for {_LOCK_TIMEOUT:g} s"
                ) from None
            except OSError as exc:
                raise KeyStoreError(
                    f"key store {self.path} cannot be locked: {exc.strerror}"
                ) from None
            try:
                yield
            finally:
                lock.release()

    def _read(self, target: Path) -> dict[str, Any]:
        """The servers' entries; a corrupt file is set aside, a non-object server entry raises."""
        try:
            mode = target.stat().st_mode
        except FileNotFoundError:
            return {}
        if not stat.S_ISREG(mode):
            raise KeyStoreError(f"key store {self.path} is not a regular file")
        if mode & 0o077:
            logger.warning("key store %s was readable by others; restricting it to 0600", self.path)
            os.chmod(target, 0o600)
        try:
            raw = target.read_bytes()
        except OSError as exc:
            raise KeyStoreError(f"key store {self.path} cannot be read: {exc.strerror}") from None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
            self._set_aside(target)
            return {}
        keys: dict[str, Any] = data["keys"]
        if not all(isinstance(server, dict) for server in keys.values()):
            raise KeyStoreError(
                f"key store {self.path} has a server entry that is not a JSON object; "
                "fix or delete the file"
            )
        return keys

    def _set_aside(self, target: Path) -> None:
        """Keep a corrupt store as ``<name>.corrupt-<UTC time>``: it may hold other keys."""
        backup = target.with_name(f"{target.name}.corrupt-{_now():%Y%m%dT%H%M%S%fZ}")
        try:
            os.replace(target, backup)
        except OSError as exc:
            raise KeyStoreError(
                f"key store {self.path} is corrupt and cannot be set aside: {exc.strerror}"
            ) from None
        logger.warning(
            "key store %s is not a valid key store; kept it as %s and started an empty one",
            self.path,
            backup,
        )

    def _write(self, target: Path, keys: dict[str, Any]) -> None:
        payload = json.dumps({"version": _FORMAT_VERSION, "keys": keys}, indent=2, sort_keys=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(payload + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise

    # --- the API -----------------------------------------------------------------------

    def get(self, phone: str, base_url: str) -> StoredKey | None:
        """The stored key for this phone and server, if it is valid and not (nearly) expired."""
        base_url = base_url.rstrip("/")
        target = self._target()
        if not target.exists():
            return None
        with self._locked(target):
            entry = self._read(target).get(base_url, {}).get(phone)
        if entry is None:
            return None
        stored = _stored_key(phone, base_url, entry)
        if stored is None:
            logger.warning(
                "ignoring an invalid sandbox key entry for %s in %s", base_url, self.path
            )
            return None
        if stored.exp_date <= self._clock() + self.margin:
            logger.debug("stored sandbox key for %s has expired", base_url)
            return None
        return stored

    def put(
        self, phone: str, base_url: str, api_key: str, exp_date: datetime.datetime
    ) -> StoredKey:
        """Store (or replace) the key for this phone and server."""
        if not _is_valid_key(api_key):
            raise KeyStoreError(
                f"not storing a sandbox API key in {self.path}: it is empty or contains "
                "whitespace or control characters"
            )
        base_url = base_url.rstrip("/")
        exp_date = _utc(exp_date)
        target = self._target()
        with self._locked(target):
            keys = self._read(target)
            keys.setdefault(base_url, {})[phone] = {
                "apiKey": api_key,
                "expDate": exp_date.isoformat(),
                "storedAt": self._clock().isoformat(),
            }
            self._write(target, keys)
        return StoredKey(phone=phone, base_url=base_url, api_key=api_key, exp_date=exp_date)

    def delete(self, phone: str, base_url: str) -> bool:
        """Forget the key for this phone and server; True if there was one."""
        base_url = base_url.rstrip("/")
        target = self._target()
        if not target.exists():
            return False
        with self._locked(target):
            keys = self._read(target)
            server = keys.get(base_url)
            if server is None or phone not in server:
                return False
            del server[phone]
            if not server:
                del keys[base_url]
            self._write(target, keys)
        return True
