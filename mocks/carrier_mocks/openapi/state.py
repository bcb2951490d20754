"""The records a mock keeps: per owner (the API key's client), per collection, under one lock.

A stored record is never changed in place (a change stores a new one), so what
:meth:`StateStore.select` returns can be copied outside the lock.

Every operation holds the lock for its whole read-modify-write, so concurrent
creates never lose a record or hand out one id twice, whichever thread or event
loop they come from. Ids are never reused, not even after a delete or a reset
of the records. Exported and imported as plain JSON (``/__mock__/state``).
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

from carrier_mocks.openapi.patterns import from_pattern

__all__ = ["DELETED", "StateError", "StateStore", "id_key"]

Record = dict[str, Any]
#: (collection path, parent id key or "") -> id key -> record
_Bucket = tuple[str, str]
DELETED = object()
"""What :meth:`StateStore.get` returns for an id deleted by its owner."""
_TRIES = 50


class StateError(ValueError):
    """A state document that cannot be imported; the message names the entry."""


def id_key(value: Any) -> str:
    """The text an id is stored under: ``7`` and ``"7"`` from a path are one id."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StateStore:
    """Records by owner; fresh ids and numbers; tombstones for deleted ids."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._records: dict[str, dict[_Bucket, dict[str, Record]]] = {}
        self._deleted: dict[str, dict[_Bucket, set[str]]] = {}
        self._counters: dict[str, int] = {}
        self._issued: dict[str, set[str]] = {}
        """Every id and number handed out per collection, never handed out again."""

    # ------------------------------------------------------------------ reading

    def get(self, owner: str, collection: str, parent: str, key: str) -> Record | object | None:
        """The record, :data:`DELETED`, or ``None`` when this owner never had it."""
        with self.lock:
            bucket = (collection, parent)
            found = self._records.get(owner, {}).get(bucket, {}).get(key)
            if found is not None:
                return copy.deepcopy(found)
            if key in self._deleted.get(owner, {}).get(bucket, set()):
                return DELETED
            return None

    def held_by_other(self, owner: str, collection: str, parent: str, key: str) -> bool:
        """Whether another owner has (or deleted) this id: not this owner's to see."""
        with self.lock:
            bucket = (collection, parent)
            for other, buckets in self._records.items():
                if other != owner and key in buckets.get(bucket, {}):
                    return True
            for other, deleted in self._deleted.items():
                if other != owner and key in deleted.get(bucket, set()):
                    return True
            return False

    def select(
        self,
        owner: str,
        collection: str,
        parent: str,
        ids: set[str] | None,
        keep: Callable[[Record], bool],
    ) -> list[Record]:
        """The records (in creation order) whose id is in ``ids`` (any when None) and that
        ``keep`` takes. Not copies: the caller copies what it sends, under no lock."""
        with self.lock:
            found = self._records.get(owner, {}).get((collection, parent), {})
            if ids is not None and not any(key in found for key in ids):
                return []
            return [
                record
                for key, record in found.items()
                if (ids is None or key in ids) and keep(record)
            ]

    # ------------------------------------------------------------------ writing

    def fresh_value(self, collection: str, schema: Any) -> Any:
        """An id or number of ``schema``'s type no record of ``collection`` ever had."""
        schema = schema if isinstance(schema, dict) else {}
        with self.lock:
            issued = self._issued.setdefault(collection, set())
            kind = schema.get("type")
            value: Any = None
            if kind in ("integer", "number"):
                low = schema.get("minimum")
                start = int(low) if isinstance(low, (int, float)) and low > 0 else 1
                count = max(self._counters.get(collection, 0), start - 1)
                while True:
                    count += 1
                    if id_key(count) not in issued:
                        break
                self._counters[collection] = count
                value = count
            elif schema.get("format") == "uuid":
                value = str(uuid.uuid4())
            elif isinstance(schema.get("pattern"), str):
                rng = random.Random()
                for _ in range(_TRIES):
                    made = from_pattern(
                        schema["pattern"], rng, schema.get("minLength", 0), schema.get("maxLength")
                    )
                    if made is not None and made not in issued:
                        value = made
                        break
            if value is None:
                count = self._counters.get(collection, 0) + 1
                while id_key(count) in issued:
                    count += 1
                self._counters[collection] = count
                value = str(count)
            issued.add(id_key(value))
            return value

    def put(self, owner: str, collection: str, parent: str, key: str, record: Record) -> None:
        with self.lock:
            bucket = (collection, parent)
            self._records.setdefault(owner, {}).setdefault(bucket, {})[key] = copy.deepcopy(record)
            self._deleted.get(owner, {}).get(bucket, set()).discard(key)
            self._issued.setdefault(collection, set()).add(key)

    def change(
        self,
        owner: str,
        collection: str,
        parent: str,
        key: str,
        update: Callable[[Record], Record],
    ) -> Record | None:
        """Apply ``update`` to a stored record under the lock; ``None`` when not stored."""
        with self.lock:
            bucket = self._records.get(owner, {}).get((collection, parent), {})
            if key not in bucket:
                return None
            bucket[key] = update(copy.deepcopy(bucket[key]))
            return copy.deepcopy(bucket[key])

    def delete(self, owner: str, collection: str, parent: str, key: str) -> None:
        """Remove the record (stored or not): later reads of it are 404."""
        with self.lock:
            bucket = (collection, parent)
            self._records.get(owner, {}).get(bucket, {}).pop(key, None)
            self._deleted.setdefault(owner, {}).setdefault(bucket, set()).add(key)

    def clear(self) -> None:
        """Forget every record and tombstone (ids already issued stay issued)."""
        with self.lock:
            self._records.clear()
            self._deleted.clear()

    # ------------------------------------------------------------------ JSON

    def export(self) -> dict[str, Any]:
        """``{"records": [...], "deleted": [...]}``, each entry naming owner and collection."""
        with self.lock:
            records = [
                {"owner": owner, "collection": collection, "parent": parent or None, "record": r}
                for owner, buckets in self._records.items()
                for (collection, parent), bucket in buckets.items()
                for r in bucket.values()
            ]
            deleted = [
                {"owner": owner, "collection": collection, "parent": parent or None, "id": key}
                for owner, buckets in self._deleted.items()
                for (collection, parent), keys in buckets.items()
                for key in sorted(keys)
            ]
            return copy.deepcopy({"records": records, "deleted": deleted})

    def load(self, document: Any, check: Callable[[str, Record], str | None]) -> tuple[int, int]:
        """Replace every record with ``document``'s; ``check(collection, record)`` returns
        the record's id key or raises :class:`StateError`. All or nothing."""
        if not isinstance(document, dict) or set(document) - {"records", "deleted"}:
            raise StateError('expected {"records": [...], "deleted": [...]}')
        records = document.get("records", [])
        deleted = document.get("deleted", [])
        if not isinstance(records, list) or not isinstance(deleted, list):
            raise StateError("'records' and 'deleted' must be lists")
        staged: list[tuple[str, _Bucket, str, Record]] = []
        for index, entry in enumerate(records):
            owner, bucket = _place(entry, f"records[{index}]", {"record"})
            record = entry.get("record")
            if not isinstance(record, dict):
                raise StateError(f"records[{index}].record must be an object")
            key = check(bucket[0], record)
            if key is None:
                raise StateError(f"records[{index}]: {bucket[0]!r} is not a stored collection")
            staged.append((owner, bucket, key, record))
        tombstones: list[tuple[str, _Bucket, str]] = []
        for index, entry in enumerate(deleted):
            owner, bucket = _place(entry, f"deleted[{index}]", {"id"})
            if not isinstance(entry.get("id"), (str, int)) or isinstance(entry.get("id"), bool):
                raise StateError(f"deleted[{index}].id must be a string or an integer")
            tombstones.append((owner, bucket, id_key(entry["id"])))
        with self.lock:
            self.clear()
            for owner, bucket, key, record in staged:
                self.put(owner, bucket[0], bucket[1], key, record)
            for owner, bucket, key in tombstones:
                self._deleted.setdefault(owner, {}).setdefault(bucket, set()).add(key)
                self._issued.setdefault(bucket[0], set()).add(key)
        return len(staged), len(tombstones)


def _place(entry: Any, where: str, extra: set[str]) -> tuple[str, _Bucket]:
    if not isinstance(entry, dict):
        raise StateError(f"{where} must be an object")
    unknown = sorted(set(entry) - {"owner", "collection", "parent"} - extra)
    if unknown:
        raise StateError(f"{where}: unknown field {unknown[0]!r}")
    owner, collection, parent = entry.get("owner"), entry.get("collection"), entry.get("parent")
    if not isinstance(owner, str):
        raise StateError(f"{where}.owner must be a string")
    if not isinstance(collection, str):
        raise StateError(f"{where}.collection must be a string")
    if parent is not None and (not isinstance(parent, (str, int)) or isinstance(parent, bool)):
        raise StateError(f"{where}.parent must be a string, an integer or null")
    return owner, (collection, "" if parent is None else id_key(parent))
