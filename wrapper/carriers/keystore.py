"""A small file store for Nova Post sandbox API keys.

A sandbox key can be created once a day per user (``POST /test-api-keys`` answers
429 after that), so a key once obtained is kept and reused until it expires. The
store is a JSON file, readable by its owner only (0600), written atomically,
keyed by base URL and phone. JWTs are never stored here.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .redaction import logger

__all__ = ["ENV_VAR", "KeyStore", "StoredKey", "default_path"]

ENV_VAR = "CARRIERS_KEY_STORE"
"""Environment variable overriding the store's path."""

FILE_NAME = "novapost-sandbox-keys.json"
_FORMAT_VERSION = 1


def default_path() -> Path:
    """``$CARRIERS_KEY_STORE``, else ``<user cache dir>/carriers/novapost-sandbox-keys.json``."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_cache_path("carriers", appauthor=False) / FILE_NAME


def _utc(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class StoredKey:
    """A stored sandbox key; the key itself is left out of the repr."""

    phone: str
    base_url: str
    api_key: str = field(repr=False)
    exp_date: datetime.datetime


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

    def _read(self) -> dict[str, Any]:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return {}
        if mode & 0o077:
            logger.warning("key store %s was readable by others; restricting it to 0600", self.path)
            os.chmod(self.path, 0o600)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("key store %s is unreadable; starting from an empty store", self.path)
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
            logger.warning("key store %s has an unknown layout; ignoring it", self.path)
            return {}
        keys: dict[str, Any] = data["keys"]
        return keys

    def _write(self, keys: dict[str, Any]) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = json.dumps({"version": _FORMAT_VERSION, "keys": keys}, indent=2, sort_keys=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise
        os.chmod(self.path, 0o600)

    # --- the API -----------------------------------------------------------------------

    def get(self, phone: str, base_url: str) -> StoredKey | None:
        """The stored key for this phone and server, if it is not (nearly) expired."""
        base_url = base_url.rstrip("/")
        with self._lock:
            entry = self._read().get(base_url, {}).get(phone)
        if not isinstance(entry, dict):
            return None
        api_key = entry.get("apiKey")
        try:
            exp_date = _utc(datetime.datetime.fromisoformat(str(entry.get("expDate"))))
        except ValueError:
            return None
        if not isinstance(api_key, str) or not api_key:
            return None
        if exp_date - self.margin <= self._clock():
            logger.debug("stored sandbox key for %s has expired", base_url)
            return None
        return StoredKey(phone=phone, base_url=base_url, api_key=api_key, exp_date=exp_date)

    def put(
        self, phone: str, base_url: str, api_key: str, exp_date: datetime.datetime
    ) -> StoredKey:
        """Store (or replace) the key for this phone and server."""
        base_url = base_url.rstrip("/")
        exp_date = _utc(exp_date)
        with self._lock:
            keys = self._read()
            server = keys.get(base_url)
            if not isinstance(server, dict):
                server = keys[base_url] = {}
            server[phone] = {
                "apiKey": api_key,
                "expDate": exp_date.isoformat(),
                "storedAt": self._clock().isoformat(),
            }
            self._write(keys)
        return StoredKey(phone=phone, base_url=base_url, api_key=api_key, exp_date=exp_date)

    def delete(self, phone: str, base_url: str) -> bool:
        """Forget the key for this phone and server; True if there was one."""
        base_url = base_url.rstrip("/")
        with self._lock:
            keys = self._read()
            server = keys.get(base_url)
            if not isinstance(server, dict) or phone not in server:
                return False
            del server[phone]
            if not server:
                del keys[base_url]
            self._write(keys)
        return True
