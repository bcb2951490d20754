"""Nova Post's EBC phone registry and test API keys, with the documented business rules.

Rules of ``POST /test-api-keys`` (upstream ``x-business-rules``):

- the phone is looked up by exact match: no client -> 404, several -> 409;
- one key per phone; an Active key requested again the same day is returned as
  is, on another day its expDate is prolonged by one year;
- an Expired key is set Active with expDate + 1 year;
- a key more than 90 days past its expDate has been deleted by cleanup, so a
  new key is created;
- each user (EBC client) gets one creating request per day: creating,
  prolonging or reactivating a key; a second one the same day -> 429.

"Day" is the UTC calendar day of the mock clock. Times are whole seconds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from carrier_mocks.clock import Clock
from carrier_mocks.fixtures import NovaPostClient, NovaPostFixtures

__all__ = ["CLEANUP_AFTER", "ApiKey", "KeyRegistry", "RuleError"]

#: Keys expired longer than this are gone, as after the sandbox's cleanup job.
CLEANUP_AFTER = timedelta(days=90)


class RuleError(Exception):
    """A business rule refuses the request; the texts are the API's own."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ApiKey:
    """A phone's key; its status follows from ``exp_date`` and the clock."""

    phone: str
    value: str
    client: NovaPostClient
    created_at: datetime
    exp_date: datetime
    last_request_day: date | None

    def __repr__(self) -> str:  # never echo the key itself
        return f"ApiKey(phone={self.phone!r}, exp_date={self.exp_date.isoformat()})"

    def is_active(self, now: datetime) -> bool:
        return now < self.exp_date

    def is_cleaned_up(self, now: datetime) -> bool:
        return now - self.exp_date > CLEANUP_AFTER


def add_year(moment: datetime) -> datetime:
    """The same date and time one year later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


class KeyRegistry:
    """Clients and keys of the Nova Post sandbox, seeded from fixtures."""

    def __init__(self, fixtures: NovaPostFixtures, clock: Clock) -> None:
        self._fixtures = fixtures
        self._clock = clock
        self._clients: tuple[NovaPostClient, ...] = ()
        self._keys: dict[str, ApiKey] = {}  # by phone
        self._by_value: dict[str, ApiKey] = {}
        self._last_creation: dict[str, date] = {}  # by cid
        self.reset()

    def _now(self) -> datetime:
        return self._clock.utcnow().replace(microsecond=0)

    def reset(self) -> None:
        """Rebuild the state the fixtures describe, relative to the clock's now."""
        now = self._now()
        today = now.date()
        self._clients = self._fixtures.clients
        self._keys = {}
        self._by_value = {}
        self._last_creation = {
            client.cid: today - timedelta(days=client.last_creation_days_ago)
            for client in self._clients
            if client.last_creation_days_ago is not None
        }
        for seed in self._fixtures.keys:
            (owner,) = self.clients_with_phone(seed.phone)
            last = seed.last_request_days_ago
            self._store(
                ApiKey(
                    phone=seed.phone,
                    value=seed.api_key,
                    client=owner,
                    created_at=now - timedelta(days=seed.created_days_ago),
                    exp_date=now + timedelta(days=seed.expires_in_days),
                    last_request_day=None if last is None else today - timedelta(days=last),
                )
            )
        self._clean_up(now)

    def clients_with_phone(self, phone: str) -> list[NovaPostClient]:
        """Exact-match search, as EBC does it."""
        return [client for client in self._clients if phone in client.phones]

    def _store(self, key: ApiKey) -> None:
        previous = self._keys.get(key.phone)
        if previous is not None:
            del self._by_value[previous.value]
        self._keys[key.phone] = key
        self._by_value[key.value] = key

    def _clean_up(self, now: datetime) -> None:
        for key in [key for key in self._keys.values() if key.is_cleaned_up(now)]:
            del self._keys[key.phone]
            del self._by_value[key.value]

    def _new_value(self) -> str:
        while True:
            value = f"np_test_{secrets.token_hex(8)}"
            if value not in self._by_value:
                return value

    def request_key(self, phone: str) -> ApiKey:
        """Create, return, prolong or reactivate the key of ``phone``, per the rules."""
        now = self._now()
        today = now.date()
        self._clean_up(now)
        clients = self.clients_with_phone(phone)
        if not clients:
            raise RuleError(404, "Client not found")
        if len(clients) > 1:
            raise RuleError(409, "Multiple matching clients found")
        client = clients[0]
        key = self._keys.get(phone)
        if key is not None and key.is_active(now) and key.last_request_day == today:
            return key
        if self._last_creation.get(client.cid) == today:
            raise RuleError(429, "Daily limit reached")
        if key is None:
            key = ApiKey(
                phone=phone,
                value=self._new_value(),
                client=client,
                created_at=now,
                exp_date=add_year(now),
                last_request_day=today,
            )
            self._store(key)
        else:
            # Active on another day: prolonged; Expired: reactivated. Both add a year.
            key.exp_date = add_year(key.exp_date)
            key.last_request_day = today
        self._last_creation[client.cid] = today
        return key

    def authorize(self, value: str) -> NovaPostClient:
        """The client owning an active key; :class:`RuleError` 401 otherwise."""
        now = self._now()
        self._clean_up(now)
        key = self._by_value.get(value)
        if key is None:
            raise RuleError(401, "Invalid API key")
        if not key.is_active(now):
            raise RuleError(401, "API key expired")
        return key.client

    def client(self, cid: str) -> NovaPostClient | None:
        return next((client for client in self._clients if client.cid == cid), None)
