"""What the two facades share: settings, the generated client, calls, closing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType, TracebackType
from typing import Any, ClassVar, Generic, TypeVar, overload

import httpx
from novapost_client.types import Response as NovaPostResponse
from shipyo_client.types import Response as ShipyoResponse

from . import _config
from ._calls import acall_endpoint, call_endpoint
from ._generated import NovaPostClient, ShipyoClient
from .auth import JWTAuth
from .redaction import install_redaction, register_secret
from .retries import Retrier, RetryPolicy

__all__ = ["Carrier", "Settings"]

T = TypeVar("T")
ClientT = TypeVar("ClientT", NovaPostClient, ShipyoClient)
SelfT = TypeVar("SelfT", bound="Carrier[Any]")


class Settings:
    """Validated transport settings shared by a facade and its bootstrap clients."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float | httpx.Timeout,
        max_retries: int,
        retry_policy: RetryPolicy,
        clock: Callable[[], float] | None,
        sleep: Callable[[float], None] | None,
        async_sleep: Callable[[float], Awaitable[None]] | None,
        jitter: Callable[[float, float], float] | None,
        transport: httpx.BaseTransport | None,
        async_transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.base_url = base_url
        self.timeout = _config.check_timeout(timeout)
        self.retrier = Retrier(
            _config.check_max_retries(max_retries),
            retry_policy,
            sleep=sleep,
            async_sleep=async_sleep,
            uniform=jitter,
            clock=clock,
        )
        self.clock = clock
        self.transport = transport
        self.async_transport = async_transport

    def httpx_args(self, auth: httpx.Auth | None) -> dict[str, Any]:
        """What the generated client passes on to ``CarrierClient``/``AsyncCarrierClient``."""
        args: dict[str, Any] = {"retrier": self.retrier}
        if auth is not None:
            args["auth"] = auth
        if self.transport is not None:
            args["transport"] = self.transport
        if self.async_transport is not None:
            args["async_transport"] = self.async_transport
        return args

    def build(self, client_class: type[ClientT], auth: httpx.Auth | None) -> ClientT:
        """A generated client whose HTTP clients carry ``auth``, retries and typed errors.

        ``raise_on_unexpected_status`` makes an undocumented 2xx status an error
        instead of a silent ``None``; non-2xx statuses never reach the generated code.
        """
        return client_class(
            base_url=self.base_url,
            token="",  # unused: the auth flow sets the header per request
            prefix="",
            timeout=self.timeout,
            raise_on_unexpected_status=True,
            httpx_args=self.httpx_args(auth),
        )


class Carrier(Generic[ClientT]):
    """Base of the facades: an API key in, a JWT-authenticated generated client out."""

    SERVICE: ClassVar[str]
    ENV_VAR: ClassVar[str]
    URLS: ClassVar[Mapping[str, str]]
    PACKAGE: ClassVar[str]
    RETRY_POLICY: ClassVar[RetryPolicy] = RetryPolicy()

    _client: ClientT
    _auth: JWTAuth

    def _setup(
        self,
        *,
        api_key: str | None,
        environment: str,
        base_url: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float] | None,
        sleep: Callable[[float], None] | None,
        async_sleep: Callable[[float], Awaitable[None]] | None,
        jitter: Callable[[float, float], float] | None,
        transport: httpx.BaseTransport | None,
        async_transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        install_redaction()
        self._environment, self._settings = self.settings(
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
        self._api_key = _config.check_api_key(api_key, self.ENV_VAR, self.SERVICE)
        register_secret(self._api_key)

    @classmethod
    def settings(
        cls,
        *,
        environment: str,
        base_url: str | None,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
        jitter: Callable[[float, float], float] | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> tuple[str, Settings]:
        """Validate everything but the key; used before any network call."""
        environment = _config.check_environment(environment, cls.URLS, cls.SERVICE)
        example = next(iter(cls.URLS.values()))
        url = _config.check_base_url(
            base_url if base_url is not None else cls.URLS[environment], example
        )
        return environment, Settings(
            base_url=url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy or cls.RETRY_POLICY,
            clock=clock,
            sleep=sleep,
            async_sleep=async_sleep,
            jitter=jitter,
            transport=transport,
            async_transport=async_transport,
        )

    # --- public surface ------------------------------------------------------------------

    @property
    def environment(self) -> str:
        """The environment name (``base_url`` may point elsewhere, e.g. at a mock)."""
        return self._environment

    @property
    def base_url(self) -> str:
        """The API root every generated path is relative to."""
        return self._settings.base_url

    @property
    def client(self) -> ClientT:
        """The generated ``AuthenticatedClient``, auth, retries and typed errors installed."""
        return self._client

    @property
    def auth(self) -> JWTAuth:
        """The ``httpx.Auth`` flow, for use with another httpx client."""
        return self._auth

    def jwt(self) -> str:
        """A valid JWT: the cached one, or a freshly minted one."""
        return self._auth.get_token()

    async def ajwt(self) -> str:
        """A valid JWT, for asyncio code: the cached one, or a freshly minted one."""
        return await self._auth.aget_token()

    @overload
    def call(self, endpoint: Callable[..., NovaPostResponse[T]], /, **kwargs: Any) -> T: ...
    @overload
    def call(self, endpoint: Callable[..., ShipyoResponse[T]], /, **kwargs: Any) -> T: ...
    @overload
    def call(
        self, endpoint: Callable[..., Awaitable[NovaPostResponse[T]]], /, **kwargs: Any
    ) -> T: ...
    @overload
    def call(
        self, endpoint: Callable[..., Awaitable[ShipyoResponse[T]]], /, **kwargs: Any
    ) -> T: ...
    @overload
    def call(self, endpoint: ModuleType, /, **kwargs: Any) -> Any: ...
    def call(self, endpoint: object, /, **kwargs: Any) -> Any:
        """Call a generated endpoint; return its 2xx model or raise a ``carriers.errors`` error.

        ``endpoint`` is a generated api module or one of its functions; its
        ``sync_detailed`` is called with ``client=self.client`` and ``kwargs``.
        The result is typed as the endpoint's union of models (the generated
        signature lists the error models too); at run time it is the 2xx model.
        """
        return call_endpoint(self._client, endpoint, self.PACKAGE, kwargs)

    @overload
    async def acall(self, endpoint: Callable[..., NovaPostResponse[T]], /, **kwargs: Any) -> T: ...
    @overload
    async def acall(self, endpoint: Callable[..., ShipyoResponse[T]], /, **kwargs: Any) -> T: ...
    @overload
    async def acall(
        self, endpoint: Callable[..., Awaitable[NovaPostResponse[T]]], /, **kwargs: Any
    ) -> T: ...
    @overload
    async def acall(
        self, endpoint: Callable[..., Awaitable[ShipyoResponse[T]]], /, **kwargs: Any
    ) -> T: ...
    @overload
    async def acall(self, endpoint: ModuleType, /, **kwargs: Any) -> Any: ...
    async def acall(self, endpoint: object, /, **kwargs: Any) -> Any:
        """``call`` for asyncio: runs the endpoint's ``asyncio_detailed``."""
        return await acall_endpoint(self._client, endpoint, self.PACKAGE, kwargs)

    def close(self) -> None:
        """Close the sync HTTP client (use ``aclose`` when the async one was used)."""
        self._client.close()

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        await self._client.aclose()

    def __enter__(self: SelfT) -> SelfT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: SelfT) -> SelfT:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(environment={self._environment!r}, "
            f"base_url={self.base_url!r}, auth={self._auth!r})"
        )
