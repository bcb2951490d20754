"""The Nova Post (API v.1.0) facade."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import httpx
from novapost_client.api.authorization import get_clients_authorization, post_test_api_keys
from novapost_client.models import JwtResponse, PostTestApiKeysBody, TestApiKeyResponse

from . import _config
from ._base import Carrier, Settings
from ._calls import acall_endpoint, call_endpoint
from ._generated import NovaPostClient
from .auth import NovaPostAuth
from .errors import ResponseValidationError
from .keystore import KeyStore
from .redaction import install_redaction, logger
from .retries import RetryPolicy

__all__ = ["NovaPost"]

_TEST_API_KEYS = ("POST", "/test-api-keys")


def _key_store(key_store: KeyStore | str | os.PathLike[str] | None) -> KeyStore:
    return key_store if isinstance(key_store, KeyStore) else KeyStore(key_store)


def _checked_key(result: object) -> TestApiKeyResponse:
    if not isinstance(result, TestApiKeyResponse) or not result.api_key:
        raise ResponseValidationError("POST /test-api-keys returned no apiKey")
    return result


class NovaPost(Carrier[NovaPostClient]):
    """Nova Post with the JWT handled: API key in, ``Authorization: <jwt>`` on every call.

    ``api_key`` falls back to ``NOVAPOST_API_KEY``. ``base_url`` (including the
    ``/v.1.0`` prefix) overrides the environment's server, e.g. for a mock server.
    ``clock``, ``sleep``, ``async_sleep`` and ``jitter`` replace ``time.time``, the
    sleeps between retries and the backoff's random draw (for tests); ``transport``
    and ``async_transport`` replace the HTTP transports (e.g. an in-process app).
    """

    SERVICE = "Nova Post"
    ENV_VAR = "NOVAPOST_API_KEY"
    SANDBOX_URL = "https://api-stage.novapost.pl/v.1.0"
    PRODUCTION_URL = "https://api.novapost.com/v.1.0"
    URLS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"sandbox": SANDBOX_URL, "production": PRODUCTION_URL}
    )
    PACKAGE = "novapost_client"
    RETRY_POLICY = RetryPolicy(
        # creating or renewing a test key the same day returns the same key ...
        idempotent_routes=frozenset({_TEST_API_KEYS}),
        # ... but the route allows one call per day: a 429 will not clear by waiting
        no_retry_on_429=frozenset({_TEST_API_KEYS}),
    )

    def __init__(
        self,
        api_key: str | None = None,
        environment: str = "sandbox",
        base_url: str | None = None,
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
        self._auth = NovaPostAuth(mint=self._mint, amint=self._amint, clock=clock)
        self._client = self._settings.build(NovaPostClient, self._auth)

    # --- minting: GET /clients/authorization?apiKey=..., without a JWT ---------------------

    @staticmethod
    def _jwt_of(result: object) -> str:
        if not isinstance(result, JwtResponse) or not result.jwt:
            raise ResponseValidationError("GET /clients/authorization returned no JWT")
        return result.jwt

    def _mint(self) -> str:
        return self._jwt_of(self.call(get_clients_authorization, api_key=self._api_key))

    async def _amint(self) -> str:
        return self._jwt_of(await self.acall(get_clients_authorization, api_key=self._api_key))

    # --- sandbox keys ------------------------------------------------------------------

    @classmethod
    def _sandbox_settings(
        cls, phone: str, base_url: str | None, options: dict[str, Any]
    ) -> tuple[str, Settings]:
        phone = _config.check_phone(phone)
        allowed = {
            "timeout",
            "max_retries",
            "retry_policy",
            "clock",
            "sleep",
            "async_sleep",
            "jitter",
            "transport",
            "async_transport",
        }
        unknown = set(options) - allowed
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
        _, settings = cls.settings(environment="sandbox", base_url=base_url, **options)
        return phone, settings

    @classmethod
    def sandbox(
        cls,
        phone: str = "498213437654",
        key_store: KeyStore | str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        **options: Any,
    ) -> NovaPost:
        """A sandbox client for ``phone``, reusing its stored test key or creating one.

        The phone (``49XXXXXXXXX``) is checked before anything else.
        ``POST /test-api-keys`` is only called when the key store (default
        ``KeyStore()``; a path or a ``KeyStore``) has no unexpired key for this
        phone and server, because the route allows one call per day. ``options``
        are the keyword arguments of ``NovaPost()``.
        """
        install_redaction()
        phone, settings = cls._sandbox_settings(phone, base_url, options)
        store = _key_store(key_store)
        stored = store.get(phone, settings.base_url)
        if stored is None:
            bootstrap = settings.build(NovaPostClient, auth=None)
            try:
                result = _checked_key(
                    call_endpoint(
                        bootstrap,
                        post_test_api_keys,
                        cls.PACKAGE,
                        {"body": PostTestApiKeysBody(phone=phone)},
                    )
                )
            finally:
                bootstrap.close()
            stored = store.put(phone, settings.base_url, result.api_key, result.exp_date)
            logger.info("created a sandbox API key, valid until %s", stored.exp_date.isoformat())
        else:
            logger.debug("reusing the stored sandbox API key from %s", store.path)
        return cls(stored.api_key, "sandbox", base_url, **options)

    @classmethod
    async def asandbox(
        cls,
        phone: str = "498213437654",
        key_store: KeyStore | str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        **options: Any,
    ) -> NovaPost:
        """``sandbox()`` for asyncio code (the key store is a small local file)."""
        install_redaction()
        phone, settings = cls._sandbox_settings(phone, base_url, options)
        store = _key_store(key_store)
        stored = store.get(phone, settings.base_url)
        if stored is None:
            bootstrap = settings.build(NovaPostClient, auth=None)
            try:
                result = _checked_key(
                    await acall_endpoint(
                        bootstrap,
                        post_test_api_keys,
                        cls.PACKAGE,
                        {"body": PostTestApiKeysBody(phone=phone)},
                    )
                )
            finally:
                await bootstrap.aclose()
            stored = store.put(phone, settings.base_url, result.api_key, result.exp_date)
            logger.info("created a sandbox API key, valid until %s", stored.exp_date.isoformat())
        else:
            logger.debug("reusing the stored sandbox API key from %s", store.path)
        return cls(stored.api_key, "sandbox", base_url, **options)
