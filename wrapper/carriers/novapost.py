"""The Nova Post (API v.1.0) facade."""

from __future__ import annotations

import os
from typing import Unpack

import novapost_client
from novapost_client.api.authorization import get_clients_authorization, post_test_api_keys
from novapost_client.models import JwtResponse, PostTestApiKeysBody, TestApiKeyResponse

from . import _config, _hooks
from ._base import Carrier, clients, sending
from ._calls import acall_endpoint, call_endpoint
from .auth import NovaPostAuth
from .errors import ResponseValidationError
from .keystore import KeyStore, StoredKey
from .options import OptionArgs, Options
from .redaction import install_redaction, logger
from .registry import NOVAPOST
from .retries import RetryPolicy

__all__ = ["NovaPost"]

_TEST_API_KEYS = ("POST", "/test-api-keys")


def _key_store(key_store: KeyStore | str | os.PathLike[str] | None) -> KeyStore:
    return key_store if isinstance(key_store, KeyStore) else KeyStore(key_store)


def _checked_key(result: object) -> TestApiKeyResponse:
    if not isinstance(result, TestApiKeyResponse) or not result.api_key:
        raise ResponseValidationError("POST /test-api-keys returned no apiKey")
    return result


class NovaPost(Carrier[novapost_client.AuthenticatedClient]):
    """Nova Post with the JWT handled: API key in, ``Authorization: <jwt>`` on every call.

    ``api_key`` falls back to ``NOVAPOST_API_KEY``. ``environment`` is "sandbox" or
    "production"; ``base_url`` (with the ``/v.1.0`` prefix) overrides its server,
    e.g. for a mock server. The other keyword arguments are ``carriers.Options``.
    """

    INFO = NOVAPOST
    RETRY_POLICY = RetryPolicy(
        # creating or renewing a test key the same day returns the same key ...
        idempotent_routes=frozenset({_TEST_API_KEYS}),
        # ... but the route allows one call per day: a 429 will not clear by waiting
        no_retry_on_429=frozenset({_TEST_API_KEYS}),
    )

    def __init__(
        self,
        api_key: str | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        **options: Unpack[OptionArgs],
    ) -> None:
        super().__init__(api_key, environment=environment, base_url=base_url, **options)

    def _make_auth(self) -> NovaPostAuth:
        return NovaPostAuth(mint=self._mint, amint=self._amint, **self._flow_args())

    # --- minting: GET /clients/authorization?apiKey=..., without a JWT ---------------------

    @staticmethod
    def _jwt_of(result: JwtResponse) -> str:
        if not result.jwt:
            raise ResponseValidationError("GET /clients/authorization returned no JWT")
        return result.jwt

    def _mint(self) -> str:
        return self._jwt_of(self.call(get_clients_authorization, api_key=self._api_key))

    async def _amint(self) -> str:
        return self._jwt_of(await self.acall(get_clients_authorization, api_key=self._api_key))

    # --- sandbox keys ------------------------------------------------------------------

    @classmethod
    def _create_key(cls, base_url: str, options: Options, phone: str) -> object:
        """``POST /test-api-keys`` (the one public call that creates a key), without auth."""
        how = sending(options, _hooks.current(), cls.RETRY_POLICY, base_url)
        with clients(base_url, options, None).sync() as http:
            return call_endpoint(
                http,
                how,
                post_test_api_keys,
                cls.INFO.package,
                {"body": PostTestApiKeysBody(phone=phone)},
                strict=True,  # a key worth storing, whatever the options say
            ).parsed

    @classmethod
    async def _acreate_key(cls, base_url: str, options: Options, phone: str) -> object:
        how = sending(options, _hooks.current(), cls.RETRY_POLICY, base_url)
        async with clients(base_url, options, None).unbound() as http:
            created = await acall_endpoint(
                http,
                how,
                post_test_api_keys,
                cls.INFO.package,
                {"body": PostTestApiKeysBody(phone=phone)},
                strict=True,
            )
        return created.parsed

    @classmethod
    def _stored(cls, store: KeyStore, phone: str, base_url: str, created: object) -> StoredKey:
        result = _checked_key(created)
        stored = store.put(phone, base_url, result.api_key, result.exp_date)
        logger.info("created a sandbox API key, valid until %s", stored.exp_date.isoformat())
        return stored

    @classmethod
    def sandbox(
        cls,
        phone: str = "498213437654",
        *,
        key_store: KeyStore | str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        **options: Unpack[OptionArgs],
    ) -> NovaPost:
        """A sandbox client for ``phone``, reusing its stored test key or creating one.

        The phone (``49XXXXXXXXX``) and the options are checked before anything else.
        ``POST /test-api-keys`` is only called when the key store (default
        ``KeyStore()``; a path or a ``KeyStore``) has no unexpired key for this
        phone and server, because the route allows one call per day.
        """
        install_redaction()
        phone = _config.check_phone(phone)
        checked = Options.of(options)
        _, url = cls.resolve_url("sandbox", base_url)
        store = _key_store(key_store)
        store.check_usable()  # before the day's one creation is spent
        stored = store.get(phone, url)
        if stored is None:
            stored = cls._stored(store, phone, url, cls._create_key(url, checked, phone))
        else:
            logger.debug("reusing the stored sandbox API key from %s", store.path)
        return cls(stored.api_key, environment="sandbox", base_url=base_url, **options)

    @classmethod
    async def asandbox(
        cls,
        phone: str = "498213437654",
        *,
        key_store: KeyStore | str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        **options: Unpack[OptionArgs],
    ) -> NovaPost:
        """``sandbox()`` for asyncio code (the key store is a small local file)."""
        install_redaction()
        phone = _config.check_phone(phone)
        checked = Options.of(options)
        _, url = cls.resolve_url("sandbox", base_url)
        store = _key_store(key_store)
        store.check_usable()  # before the day's one creation is spent
        stored = store.get(phone, url)
        if stored is None:
            created = await cls._acreate_key(url, checked, phone)
            stored = cls._stored(store, phone, url, created)
        else:
            logger.debug("reusing the stored sandbox API key from %s", store.path)
        return cls(stored.api_key, environment="sandbox", base_url=base_url, **options)
