"""The Shipyo facade."""

from __future__ import annotations

from typing import Unpack

import shipyo_client
from shipyo_client.api.token import generate_token_from_api_key
from shipyo_client.models import TokenEnvelope

from . import _config
from ._base import Carrier
from .auth import ShipyoAuth
from .errors import ResponseValidationError
from .options import OptionArgs
from .registry import SHIPYO

__all__ = ["Shipyo"]


class Shipyo(Carrier[shipyo_client.AuthenticatedClient]):
    """Shipyo with the JWT handled: ``x-api-key`` plus ``Authorization: Bearer <jwt>``.

    ``api_key`` falls back to ``SHIPYO_API_KEY``; ``environment`` is "production" or
    "staging"; ``tenant_id``, when given, is sent as ``X-Tenant-Id`` on every call.
    The other keyword arguments are ``carriers.Options``.
    """

    INFO = SHIPYO

    def __init__(
        self,
        api_key: str | None = None,
        *,
        environment: str = "production",
        base_url: str | None = None,
        tenant_id: str | None = None,
        **options: Unpack[OptionArgs],
    ) -> None:
        self._tenant_id = _config.check_tenant_id(tenant_id)
        super().__init__(api_key, environment=environment, base_url=base_url, **options)

    def _make_auth(self) -> ShipyoAuth:
        return ShipyoAuth(
            api_key=self._api_key,
            tenant_id=self._tenant_id,
            mint=self._mint,
            amint=self._amint,
            **self._flow_args(),
        )

    @property
    def tenant_id(self) -> str | None:
        """The tenant sent as ``X-Tenant-Id``, if any."""
        return self._tenant_id

    # --- minting: GET /api/Token/generate-from-apikey with x-api-key only -------------

    @staticmethod
    def _jwt_of(result: TokenEnvelope) -> str:
        if not result.data:
            raise ResponseValidationError("GET /api/Token/generate-from-apikey returned no JWT")
        return result.data

    def _mint(self) -> str:
        return self._jwt_of(self.call(generate_token_from_api_key))

    async def _amint(self) -> str:
        return self._jwt_of(await self.acall(generate_token_from_api_key))
