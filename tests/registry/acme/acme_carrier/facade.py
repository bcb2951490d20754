"""The Acme facade: only what differs from the other carriers, the token flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import acme_client
import httpx
from acme_client.api.auth import get_auth_token
from acme_client.models import Token
from carriers import Carrier
from carriers.auth import JWTAuth
from carriers.errors import ResponseValidationError

from acme_carrier import CARRIER

__all__ = ["Acme", "AcmeAuth"]


class AcmeAuth(JWTAuth):
    """``X-Acme-Key`` on the token route; ``Authorization: Bearer <jwt>`` and the key elsewhere."""

    public_paths = (CARRIER.token_path,)

    def __init__(
        self,
        *,
        api_key: str,
        mint: Callable[[], str],
        amint: Callable[[], Awaitable[str]],
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(mint=mint, amint=amint, clock=clock)
        self._api_key = api_key

    def apply_public(self, request: httpx.Request) -> None:
        request.headers["X-Acme-Key"] = self._api_key

    def apply_token(self, request: httpx.Request, token: str) -> None:
        self.apply_public(request)
        request.headers["Authorization"] = f"Bearer {token}"


class Acme(Carrier[acme_client.AuthenticatedClient]):
    """Acme with the JWT handled; ``api_key`` falls back to ``ACME_API_KEY``."""

    INFO = CARRIER

    def _make_auth(self) -> AcmeAuth:
        return AcmeAuth(
            api_key=self._api_key, mint=self._mint, amint=self._amint, clock=self._hooks.clock
        )

    @staticmethod
    def _jwt_of(result: Token) -> str:
        if not result.token:
            raise ResponseValidationError("GET /auth/token returned no JWT")
        return result.token

    def _mint(self) -> str:
        return self._jwt_of(self.call(get_auth_token))

    async def _amint(self) -> str:
        return self._jwt_of(await self.acall(get_auth_token))
