"""The Shipyo facade."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import ClassVar

import httpx
from shipyo_client.api.token import generate_token_from_api_key
from shipyo_client.models import TokenEnvelope

from . import _config
from ._base import Carrier
from ._generated import ShipyoClient
from .auth import ShipyoAuth
from .errors import ResponseValidationError
from .retries import RetryPolicy

__all__ = ["Shipyo"]


class Shipyo(Carrier[ShipyoClient]):
    """Shipyo with the JWT handled: ``x-api-key`` plus ``Authorization: Bearer <jwt>``.

    ``api_key`` falls back to ``SHIPYO_API_KEY``; ``tenant_id``, when given, is sent
    as ``X-Tenant-Id`` on every call. The other arguments are those of ``NovaPost``.
    """

    SERVICE = "Shipyo"
    ENV_VAR = "SHIPYO_API_KEY"
    PRODUCTION_URL = "https://shipyo.it"
    STAGING_URL = "https://staging.shipyo.it"
    URLS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"production": PRODUCTION_URL, "staging": STAGING_URL}
    )
    PACKAGE = "shipyo_client"

    def __init__(
        self,
        api_key: str | None = None,
        environment: str = "production",
        base_url: str | None = None,
        tenant_id: str | None = None,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 2,
        *,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
        jitter: Callable[[float, float], float] | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._setup(
            api_key=api_key,
            environment=environment,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            clock=clock,
            sleep=sleep,
            async_sleep=async_sleep,
            jitter=jitter,
            transport=transport,
            async_transport=async_transport,
        )
        self._tenant_id = _config.check_tenant_id(tenant_id)
        self._auth = ShipyoAuth(
            api_key=self._api_key,
            tenant_id=self._tenant_id,
            mint=self._mint,
            amint=self._amint,
            clock=clock,
        )
        self._client = self._settings.build(ShipyoClient, self._auth)

    @property
    def tenant_id(self) -> str | None:
        """The tenant sent as ``X-Tenant-Id``, if any."""
        return self._tenant_id

    # --- minting: GET /api/Token/generate-from-apikey with x-api-key only -------------

    @staticmethod
    def _jwt_of(result: object) -> str:
        if not isinstance(result, TokenEnvelope) or not result.data:
            raise ResponseValidationError("GET /api/Token/generate-from-apikey returned no JWT")
        return result.data

    def _mint(self) -> str:
        return self._jwt_of(self.call(generate_token_from_api_key))

    async def _amint(self) -> str:
        return self._jwt_of(await self.acall(generate_token_from_api_key))
