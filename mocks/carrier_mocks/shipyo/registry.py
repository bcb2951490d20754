"""Shipyo API keys and the checks the token route applies to them, in the docs' order.

Missing key -> 401; unknown key or another tenant's -> 403; inactive or expired
-> 400; IP outside the key's allow-list or the key's own rate limit exceeded ->
422. Rate limits use fixed windows that open with a key's first request.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from carrier_mocks.clock import Clock
from carrier_mocks.fixtures import ShipyoFixtures, ShipyoKey

__all__ = ["KeyCheckError", "KeyState", "RateLimitStatus", "ShipyoKeys"]


@dataclass(frozen=True)
class RateLimitStatus:
    """What the ``X-RateLimit-*`` headers report."""

    limit: int
    remaining: int
    reset: int  # Unix seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class KeyCheckError(Exception):
    """A documented refusal: status, the envelope's ``message`` and ``errors``."""

    def __init__(
        self, status: int, message: str, error: str, rate: RateLimitStatus | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error
        self.rate = rate


@dataclass
class KeyState:
    """One key and its moving parts."""

    seed: ShipyoKey
    expires_at: datetime | None
    window_start: float = -math.inf
    window_count: int = 0

    def __repr__(self) -> str:  # never echo the key itself
        return f"KeyState(name={self.seed.name!r})"


def _ip_allowed(client_host: str | None, allowed: tuple[str, ...]) -> bool:
    if client_host is None:
        return False
    try:
        address = ipaddress.ip_address(client_host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowed)


class ShipyoKeys:
    """The key store of the Shipyo mock, seeded from fixtures."""

    def __init__(self, fixtures: ShipyoFixtures, clock: Clock) -> None:
        self._fixtures = fixtures
        self._clock = clock
        self._keys: dict[str, KeyState] = {}
        self.reset()

    def reset(self) -> None:
        now = self._clock.utcnow()
        self._keys = {
            seed.api_key: KeyState(
                seed=seed,
                expires_at=None
                if seed.expires_in_days is None
                else now + timedelta(days=seed.expires_in_days),
            )
            for seed in self._fixtures.keys
        }

    def identify(self, api_key: str | None, tenant_id: str | None = None) -> KeyState:
        """The key named by ``x-api-key``: 401 when absent, 403 when not valid here."""
        if api_key is None or not api_key.strip():
            raise KeyCheckError(401, "API Key is missing.", "Missing x-api-key header")
        state = self._keys.get(api_key.strip())
        if state is None:
            raise KeyCheckError(403, "Invalid API Key.", "API key validation failed")
        if tenant_id is not None and state.seed.tenant_id not in (None, tenant_id):
            raise KeyCheckError(403, "Invalid API Key.", "API key belongs to a different tenant")
        return state

    def check_for_token(
        self, api_key: str | None, *, client_host: str | None, tenant_id: str | None
    ) -> tuple[KeyState, RateLimitStatus | None]:
        """Every check of the token route, in order; the rate limit counts this request."""
        state = self.identify(api_key, tenant_id)
        seed = state.seed
        if not seed.active:
            raise KeyCheckError(400, "API Key is not active or expired", "API key is inactive")
        if state.expires_at is not None and self._clock.utcnow() >= state.expires_at:
            raise KeyCheckError(400, "API Key is not active or expired", "API key has expired")
        if seed.allowed_ips is not None and not _ip_allowed(client_host, seed.allowed_ips):
            raise KeyCheckError(
                422, "API key restrictions", "IP address not allowed for this API key"
            )
        rate = self._count(state)
        if rate is not None and state.window_count > rate.limit:
            raise KeyCheckError(
                422, "API key restrictions", "Rate limit exceeded for this API key", rate
            )
        return state, rate

    def _count(self, state: KeyState) -> RateLimitStatus | None:
        limit = state.seed.rate_limit
        if limit is None:
            return None
        now = self._clock.now()
        if now >= state.window_start + limit.window_seconds:
            state.window_start = now
            state.window_count = 0
        state.window_count += 1
        return RateLimitStatus(
            limit=limit.limit,
            remaining=max(limit.limit - state.window_count, 0),
            reset=math.ceil(state.window_start + limit.window_seconds),
        )
