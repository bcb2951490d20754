"""Schemathesis auth backed by the ``carriers`` wrapper (live and URL targets).

Operations that declare Nova Post's ``JWT`` scheme or Shipyo's ``BearerJWT`` get a
JWT minted by the wrapper, exactly as a user's code would get it. Schemathesis
caches it for 50 minutes and asks again after a 401; asking again drops the token
that was refused (only if it is still the wrapper's current one), so the next call
mints a fresh one instead of replaying the refused token.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import schemathesis
from carriers import NovaPost, Shipyo
from schemathesis import Case
from schemathesis.auths import AuthContext

REFRESH_SECONDS = 50 * 60


def declares(scheme: str) -> Any:
    """A schemathesis matcher: the operation's security names ``scheme``."""

    def match(ctx: Any) -> bool:
        operation = ctx.operation
        security = operation.definition.raw.get(
            "security", operation.schema.raw_schema.get("security", [])
        )
        return any(scheme in requirement for requirement in security)

    return match


class _WrapperJWT:
    """Shared part: one facade per run, created on first need."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._carrier: NovaPost | Shipyo | None = None
        self._last: str | None = None

    def make(self) -> NovaPost | Shipyo:
        raise NotImplementedError

    def get(self, case: Case[Any], ctx: AuthContext) -> str:
        with self._lock:
            if self._carrier is None:
                self._carrier = self.make()
            if self._last is not None:
                self._carrier.auth.invalidate(self._last)
            self._last = self._carrier.jwt()
            return self._last


class NovaPostJWT(_WrapperJWT):
    def make(self) -> NovaPost:
        return NovaPost(
            api_key=os.environ["CONTRACT_NOVAPOST_API_KEY"],
            base_url=os.environ["CONTRACT_BASE_URL"],
        )

    def set(self, case: Case[Any], data: str, ctx: AuthContext) -> None:
        case.headers["Authorization"] = data


class ShipyoJWT(_WrapperJWT):
    def make(self) -> Shipyo:
        return Shipyo(
            api_key=os.environ["CONTRACT_SHIPYO_API_KEY"], base_url=os.environ["CONTRACT_BASE_URL"]
        )

    def set(self, case: Case[Any], data: str, ctx: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"
        case.headers["x-api-key"] = os.environ["CONTRACT_SHIPYO_API_KEY"]


def register() -> None:
    """Register the providers for the API under test (called from the hooks module)."""
    if os.environ.get("CONTRACT_NOVAPOST_API_KEY"):
        schemathesis.auth(refresh_interval=REFRESH_SECONDS, retry_on=[401]).apply_to(
            declares("JWT")
        )(NovaPostJWT)
    if os.environ.get("CONTRACT_SHIPYO_API_KEY"):
        schemathesis.auth(refresh_interval=REFRESH_SECONDS, retry_on=[401, 403]).apply_to(
            declares("BearerJWT")
        )(ShipyoJWT)
