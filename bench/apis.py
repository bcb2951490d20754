"""What the benchmarks need to know about each carrier: keys, routes, headers, bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import httpx
from carrier_mocks.server import Api
from carriers import NovaPost, RetryPolicy, Shipyo

from bench.servers import NOVAPOST_KEY, SHIPYO_KEY

__all__ = ["CARRIERS", "NOVAPOST", "SHIPYO", "WHOAMI", "WHOAMI_ROUTE", "Carrier", "Facade"]

Facade = NovaPost | Shipyo

WHOAMI = "/__mock__/whoami"
"""The mocks' JWT-protected probe, at the root of each origin."""
WHOAMI_ROUTE = f"GET {WHOAMI}"
"""Its key in ``/__mock__/stats`` and the route faults target."""


@dataclass(frozen=True)
class Carrier:
    """One carrier as the benchmarks see it."""

    api: Api
    title: str
    key: str
    token_path: str
    """The token route, relative to the base URL."""
    token_route: str
    """The token route's key in ``/__mock__/stats``: its count is the number of mints."""

    def facade(self, base_url: str, **options: Any) -> Facade:
        """The wrapper's facade for this carrier; ``options`` are its keyword arguments."""
        if self.api == "novapost":
            return NovaPost(api_key=self.key, base_url=base_url, **options)
        return Shipyo(api_key=self.key, base_url=base_url, **options)

    def retry_policy(self, **changes: Any) -> RetryPolicy:
        """The facade's own retry policy (its replayable routes kept) with ``changes``."""
        facade = NovaPost if self.api == "novapost" else Shipyo
        return replace(facade.RETRY_POLICY, **changes)

    def static_headers(self, jwt: str) -> dict[str, str]:
        """The headers an authorized call carries, set once by hand on a plain client."""
        if self.api == "novapost":
            return {"Authorization": jwt}
        return {"x-api-key": self.key, "Authorization": f"Bearer {jwt}"}

    def token_response(self, jwt: str) -> httpx.Response:
        """A token route's 200, as the mock answers it."""
        if self.api == "novapost":
            return httpx.Response(200, json={"jwt": jwt})
        body = {"success": True, "data": jwt, "message": "Token generated", "errors": None}
        return httpx.Response(200, json=body)

    def whoami_body(self) -> bytes:
        """A whoami 200 body, as the mock answers it."""
        if self.api == "novapost":
            data: dict[str, Any] = {
                "cid": "1",
                "name": "Bench",
                "expiresAt": "2030-01-01T00:00:00Z",
            }
        else:
            data = {
                "success": True,
                "data": {"key": "bench", "tenantId": None, "exp": 1_900_000_000},
                "message": "Authenticated",
                "errors": None,
            }
        return json.dumps(data).encode()


NOVAPOST = Carrier(
    api="novapost",
    title="Nova Post",
    key=NOVAPOST_KEY,
    token_path="/clients/authorization",
    token_route="GET /clients/authorization",
)
SHIPYO = Carrier(
    api="shipyo",
    title="Shipyo",
    key=SHIPYO_KEY,
    token_path="/api/Token/generate-from-apikey",
    token_route="GET /api/Token/generate-from-apikey",
)
CARRIERS = (NOVAPOST, SHIPYO)
