"""The seed data of both mocks: who is registered, which keys exist and in which state.

A fixtures file is JSON with two sections, ``novapost`` and ``shipyo``, and one
per other registered carrier (kept as JSON for that carrier's mock). Times are
given in days relative to the moment the mock starts (or is reset), so one file
describes the same situation on any date. The file is checked completely when it
is loaded: a mistake stops the mock at start with a message naming the entry,
instead of surfacing later as a puzzling status code. Messages never quote an API
key.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from carriers import registry

__all__ = [
    "DEFAULT_FIXTURES_NAME",
    "Fixtures",
    "FixturesError",
    "NovaPostClient",
    "NovaPostFixtures",
    "NovaPostKey",
    "RateLimit",
    "ShipyoFixtures",
    "ShipyoKey",
    "default_fixtures",
    "load_fixtures",
    "parse_fixtures",
]

DEFAULT_FIXTURES_NAME = "default_fixtures.json"

_PHONE = re.compile(r"[0-9]{9,15}")
_API_KEY = re.compile(r"[!-~]{1,128}")  # printable ASCII, no spaces: it travels in headers
_MAX_DAYS = 36500

T = TypeVar("T")


class FixturesError(ValueError):
    """The fixtures file is unreadable or an entry in it is invalid."""


@dataclass(frozen=True)
class NovaPostClient:
    """A client registered in EBC, found by an exact match on one of its phones."""

    cid: str
    name: str
    phones: tuple[str, ...]
    #: Days since this client's last key-creating request; 0 means the daily limit is used up.
    last_creation_days_ago: int | None = None
    note: str = ""


@dataclass(frozen=True)
class NovaPostKey:
    """The test API key of one phone (one key per phone)."""

    phone: str
    api_key: str = field(repr=False)  # never echoed
    created_days_ago: int
    #: Negative: expired that many days ago; more than 90 days ago means deleted by cleanup.
    expires_in_days: int
    #: Days since the key was last requested; 0 means today (a repeat returns it as is).
    last_request_days_ago: int | None = None
    note: str = ""


@dataclass(frozen=True)
class NovaPostFixtures:
    clients: tuple[NovaPostClient, ...]
    keys: tuple[NovaPostKey, ...]


@dataclass(frozen=True)
class RateLimit:
    """A key's own limit: at most ``limit`` token requests per ``window_seconds``."""

    limit: int
    window_seconds: int


@dataclass(frozen=True)
class ShipyoKey:
    """A Shipyo API key and the restrictions that decide its token requests."""

    api_key: str = field(repr=False)  # never echoed
    name: str
    active: bool = True
    expires_in_days: int | None = None
    allowed_ips: tuple[str, ...] | None = None
    rate_limit: RateLimit | None = None
    tenant_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class ShipyoFixtures:
    keys: tuple[ShipyoKey, ...]


@dataclass(frozen=True)
class Fixtures:
    """Everything the mocks are seeded with.

    ``others`` holds the sections of other registered carriers, by name, as parsed
    JSON: their mock apps check and read their own section.
    """

    novapost: NovaPostFixtures
    shipyo: ShipyoFixtures
    others: Mapping[str, Any] = field(default_factory=dict)


def load_fixtures(path: str | Path) -> Fixtures:
    """Read and check a fixtures file; :class:`FixturesError` names the bad entry."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixturesError(f"{source}: cannot read the fixtures file: {exc}") from exc
    return parse_fixtures(text, source=str(source))


def default_fixtures() -> Fixtures:
    """The documented defaults shipped with the package."""
    # Next to this module rather than importlib.resources: that also works when an
    # editable install maps the package as a namespace.
    text = Path(__file__).with_name(DEFAULT_FIXTURES_NAME).read_text(encoding="utf-8")
    return parse_fixtures(text, source=DEFAULT_FIXTURES_NAME)


def parse_fixtures(text: str, *, source: str = "<fixtures>") -> Fixtures:
    """Parse fixtures from JSON text; ``source`` prefixes every error message."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as exc:
        raise FixturesError(f"{source}: not valid JSON: {exc}") from exc
    try:
        return _parse_root(data)
    except _EntryError as exc:
        raise FixturesError(f"{source}: {exc}") from None


class _EntryError(Exception):
    """An error located at a path inside the document."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate field {key!r}")
        result[key] = value
    return result


class _Entry:
    """Typed access to one JSON object, with errors that name where it sits."""

    def __init__(self, value: object, label: str, allowed: set[str]) -> None:
        if not isinstance(value, dict):
            raise _EntryError(f"{label}: must be an object")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise _EntryError(f"{label}: unknown field {unknown[0]!r}")
        self.data: dict[str, Any] = value
        self.label = label

    def fail(self, message: str) -> _EntryError:
        return _EntryError(f"{self.label}: {message}")

    def _value(self, name: str, kind: type[Any], *, required: bool) -> Any:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(f"missing required field {name!r}")
            return None
        # bool is an int in Python, but a JSON true is never a number of days.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.fail(f"field {name!r} must be of type {_json_type(kind)}")
        return value

    def text(self, name: str) -> str:
        value: str = self._value(name, str, required=True)
        if not value.strip():
            raise self.fail(f"field {name!r} must not be empty")
        return value

    def optional_text(self, name: str) -> str | None:
        value: str | None = self._value(name, str, required=False)
        return value

    def optional_integer(
        self, name: str, *, minimum: int = -_MAX_DAYS, maximum: int = _MAX_DAYS
    ) -> int | None:
        value: int | None = self._value(name, int, required=False)
        if value is not None and not minimum <= value <= maximum:
            raise self.fail(f"field {name!r} must be between {minimum} and {maximum}")
        return value

    def integer(self, name: str, *, minimum: int = -_MAX_DAYS, maximum: int = _MAX_DAYS) -> int:
        value = self.optional_integer(name, minimum=minimum, maximum=maximum)
        if value is None:
            raise self.fail(f"missing required field {name!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value: bool | None = self._value(name, bool, required=False)
        return default if value is None else value

    def array(self, name: str, *, required: bool = False) -> list[Any] | None:
        value: list[Any] | None = self._value(name, list, required=required)
        return value

    def mapping(self, name: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._value(name, dict, required=False)
        return value

    def api_key(self) -> str:
        value: str = self._value("api_key", str, required=True)
        if not _API_KEY.fullmatch(value):
            raise self.fail("field 'api_key' must be 1 to 128 printable ASCII characters")
        return value


def _json_type(kind: type[Any]) -> str:
    names: dict[type[Any], str] = {
        str: "string",
        int: "integer",
        bool: "boolean",
        list: "array",
        dict: "object",
    }
    return names.get(kind, kind.__name__)


def _parse_root(data: object) -> Fixtures:
    others = {name for name in registry.names() if name not in ("novapost", "shipyo")}
    root = _Entry(data, "top level", {"description", "novapost", "shipyo", *others})
    root.optional_text("description")
    sections = {name: root.mapping(name) for name in sorted(others)}
    novapost = _Entry(root.mapping("novapost") or {}, "novapost", {"clients", "keys"})
    shipyo = _Entry(root.mapping("shipyo") or {}, "shipyo", {"keys"})
    clients = _items(novapost, "clients", _parse_client)
    keys = _items(novapost, "keys", _parse_novapost_key)
    _check_novapost(clients, keys)
    shipyo_keys = _items(shipyo, "keys", _parse_shipyo_key)
    _check_shipyo(shipyo_keys)
    return Fixtures(
        NovaPostFixtures(clients, keys),
        ShipyoFixtures(shipyo_keys),
        {name: section for name, section in sections.items() if section is not None},
    )


def _items(parent: _Entry, name: str, parse: Callable[[object, str], T]) -> tuple[T, ...]:
    values = parent.array(name) or []
    return tuple(
        parse(value, f"{parent.label}.{name}[{index}]") for index, value in enumerate(values)
    )


def _parse_client(value: object, label: str) -> NovaPostClient:
    allowed = {"cid", "name", "phones", "last_creation_days_ago", "note"}
    entry = _Entry(value, label, allowed)
    cid = entry.text("cid")
    entry.label = f"{label} (cid {cid!r})"
    phones = entry.array("phones", required=True) or []
    if not phones:
        raise entry.fail("field 'phones' must list at least one phone")
    for index, phone in enumerate(phones):
        if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
            raise entry.fail(f"phones[{index}] must be 9 to 15 digits, without '+' or spaces")
    if len(set(phones)) != len(phones):
        raise entry.fail("field 'phones' lists a phone twice")
    return NovaPostClient(
        cid=cid,
        name=entry.text("name"),
        phones=tuple(phones),
        last_creation_days_ago=entry.optional_integer("last_creation_days_ago", minimum=0),
        note=entry.optional_text("note") or "",
    )


def _parse_novapost_key(value: object, label: str) -> NovaPostKey:
    allowed = {
        "phone",
        "api_key",
        "created_days_ago",
        "expires_in_days",
        "last_request_days_ago",
        "note",
    }
    entry = _Entry(value, label, allowed)
    phone = entry.text("phone")
    entry.label = f"{label} (phone {phone!r})"
    key = NovaPostKey(
        phone=phone,
        api_key=entry.api_key(),
        created_days_ago=entry.integer("created_days_ago", minimum=0),
        expires_in_days=entry.integer("expires_in_days"),
        last_request_days_ago=entry.optional_integer("last_request_days_ago", minimum=0),
        note=entry.optional_text("note") or "",
    )
    if -key.created_days_ago >= key.expires_in_days:
        raise entry.fail("the key must expire after it was created")
    if key.last_request_days_ago is not None and key.last_request_days_ago > key.created_days_ago:
        raise entry.fail("the key cannot have been requested before it was created")
    return key


def _parse_shipyo_key(value: object, label: str) -> ShipyoKey:
    allowed = {
        "api_key",
        "name",
        "active",
        "expires_in_days",
        "allowed_ips",
        "rate_limit",
        "tenant_id",
        "note",
    }
    entry = _Entry(value, label, allowed)
    name = entry.text("name")
    entry.label = f"{label} (name {name!r})"
    ips = entry.array("allowed_ips")
    if ips is not None:
        for index, ip in enumerate(ips):
            try:
                ipaddress.ip_network(ip, strict=False)
            except (TypeError, ValueError):
                raise entry.fail(f"allowed_ips[{index}] is not an IP address or network") from None
    return ShipyoKey(
        api_key=entry.api_key(),
        name=name,
        active=entry.flag("active", True),
        expires_in_days=entry.optional_integer("expires_in_days"),
        allowed_ips=None if ips is None else tuple(ips),
        rate_limit=_parse_rate_limit(entry),
        tenant_id=entry.optional_text("tenant_id") or None,
        note=entry.optional_text("note") or "",
    )


def _parse_rate_limit(parent: _Entry) -> RateLimit | None:
    raw = parent.mapping("rate_limit")
    if raw is None:
        return None
    entry = _Entry(raw, f"{parent.label}.rate_limit", {"limit", "window_seconds"})
    return RateLimit(
        limit=entry.integer("limit", minimum=1, maximum=1_000_000),
        window_seconds=entry.integer("window_seconds", minimum=1, maximum=86400),
    )


def _check_novapost(clients: tuple[NovaPostClient, ...], keys: tuple[NovaPostKey, ...]) -> None:
    cids: dict[str, int] = {}
    owners: dict[str, list[str]] = {}
    for index, client in enumerate(clients):
        if client.cid in cids:
            raise _EntryError(
                f"novapost.clients[{index}] (cid {client.cid!r}): "
                f"repeats the cid of novapost.clients[{cids[client.cid]}]"
            )
        cids[client.cid] = index
        for phone in client.phones:
            owners.setdefault(phone, []).append(client.cid)
    phones: dict[str, int] = {}
    api_keys: dict[str, int] = {}
    for index, key in enumerate(keys):
        label = f"novapost.keys[{index}] (phone {key.phone!r})"
        matches = owners.get(key.phone, [])
        if len(matches) != 1:
            why = "no client" if not matches else "several clients"
            raise _EntryError(f"{label}: the phone belongs to {why}; a key needs exactly one")
        if key.phone in phones:
            raise _EntryError(f"{label}: novapost.keys[{phones[key.phone]}] is its key already")
        if key.api_key in api_keys:
            raise _EntryError(
                f"{label}: repeats the api_key of novapost.keys[{api_keys[key.api_key]}]"
            )
        phones[key.phone] = index
        api_keys[key.api_key] = index


def _check_shipyo(keys: tuple[ShipyoKey, ...]) -> None:
    names: dict[str, int] = {}
    api_keys: dict[str, int] = {}
    for index, key in enumerate(keys):
        label = f"shipyo.keys[{index}] (name {key.name!r})"
        if key.name in names:
            raise _EntryError(f"{label}: repeats the name of shipyo.keys[{names[key.name]}]")
        if key.api_key in api_keys:
            raise _EntryError(
                f"{label}: repeats the api_key of shipyo.keys[{api_keys[key.api_key]}]"
            )
        names[key.name] = index
        api_keys[key.api_key] = index
