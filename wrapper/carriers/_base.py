"""What every facade shares: options, the generated client, typed calls, copies, closing."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, ClassVar, Generic, ParamSpec, Protocol, Self, TypeVar, Unpack, overload

import httpx

from . import _config, _hooks, _pagination, token_cache
from ._calls import Parsed, acall_endpoint, call_endpoint
from ._generated import carrier_client_class
from ._pagination import PagedEndpoint
from ._raw import RawCalls, RawResponse
from .auth import JWTAuth
from .options import OptionArgs, Options
from .redaction import install_redaction, register_secret
from .registry import CarrierInfo
from .retries import Retrier, RetryPolicy

__all__ = ["Carrier", "Endpoint"]

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
ClientT = TypeVar("ClientT")


class Endpoint(Protocol[P, T_co]):
    """A generated endpoint module, as ``call()`` types it.

    The generated modules declare, for type checkers only, ``facade_call``: the
    endpoint's arguments without ``client``, returning its 2xx model. A misspelled
    or missing argument is then a type error, and the result is the 2xx model.
    """

    @property
    def facade_call(self) -> Callable[P, T_co]: ...


class _Shared(httpx.BaseTransport):
    """A transport lent to a ``with_options()`` copy: the owner closes it, not the copy."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)


class _Pool(httpx.BaseTransport):
    """httpx's default sync transport, opened on first use: the facade holds its own
    reference, so that ``with_options()`` copies share the pool without reaching into
    the httpx client for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opened: httpx.HTTPTransport | None = None

    def _open(self) -> httpx.HTTPTransport:
        with self._lock:
            if self._opened is None:
                self._opened = httpx.HTTPTransport()  # httpx.Client's own default
            return self._opened

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return (self._opened or self._open()).handle_request(request)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, None
        if opened is not None:
            opened.close()


class _AsyncShared(httpx.AsyncBaseTransport):
    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)


def build_client(
    package: str,
    *,
    base_url: str,
    hooks: _hooks.Hooks,
    options: Options,
    retry_policy: RetryPolicy,
    auth: httpx.Auth | None,
    transport: httpx.BaseTransport | None = None,
    async_transport: httpx.AsyncBaseTransport | None = None,
) -> Any:
    """A generated client whose HTTP clients carry ``auth``, retries, typed errors and
    the options' bounds (``deadline``, ``max_response_bytes``).

    ``raise_on_unexpected_status`` makes an undocumented 2xx status an error
    instead of a silent ``None``; non-2xx statuses never reach the generated code.
    """
    retrier = Retrier(
        options.max_retries,
        options.retry_policy or retry_policy,
        sleep=hooks.sleep,
        async_sleep=hooks.async_sleep,
        uniform=hooks.jitter,
        clock=hooks.clock,
    )
    args: dict[str, Any] = {
        "retrier": retrier,
        "max_response_bytes": options.max_response_bytes,
        "deadline": options.deadline,
    }
    if auth is not None:
        args["auth"] = auth
    transport = transport or options.transport
    async_transport = async_transport or options.async_transport
    if transport is not None:
        args["transport"] = transport
    if async_transport is not None:
        args["async_transport"] = async_transport
    return carrier_client_class(package)(
        base_url=base_url,
        token="",  # unused: the auth flow sets the header per request
        prefix="",
        timeout=options.httpx_timeout,
        raise_on_unexpected_status=True,
        httpx_args=args,
    )


class Carrier(Generic[ClientT]):
    """Base of the facades: an API key in, a JWT-authenticated generated client out.

    A subclass names its ``INFO`` (the registry entry) and builds its auth flow in
    ``_make_auth``; everything else comes from here.
    """

    INFO: ClassVar[CarrierInfo]
    RETRY_POLICY: ClassVar[RetryPolicy] = RetryPolicy()

    _auth: JWTAuth
    _client: ClientT

    def __init__(
        self,
        api_key: str | None = None,
        *,
        environment: str | None = None,
        base_url: str | None = None,
        **options: Unpack[OptionArgs],
    ) -> None:
        install_redaction()
        info = self.INFO
        self._environment, self._base_url = self.resolve_url(environment, base_url)
        self._options = Options.of(options)
        self._api_key = _config.check_api_key(api_key, info.api_key_env, info.title)
        register_secret(self._api_key)
        self._hooks = _hooks.current()
        self._token_cache = token_cache.resolve(self._options.token_cache)
        self._auth = self._make_auth()
        self._pool: httpx.BaseTransport = self._options.transport or _Pool()
        """The sync transport: this facade's (closed with it) or lent by the one it
        was copied from (``_lent``)."""
        self._lent: tuple[bool, httpx.AsyncBaseTransport | None] = (False, None)
        self._client = self._build()

    def _make_auth(self) -> JWTAuth:
        raise NotImplementedError

    def _flow_args(self) -> dict[str, Any]:
        """What every carrier's auth flow takes from the facade: the clock, the origin
        credentials may go to, the shared token cache and its key, refreshing ahead."""
        return {
            "clock": self._hooks.clock,
            "origin": self._base_url,
            "cache": self._token_cache,
            "cache_key": token_cache.cache_key(self._base_url, self._api_key),
            "refresh_ahead": self._options.refresh_ahead,
            "jitter": self._hooks.jitter,
        }

    @classmethod
    def resolve_url(cls, environment: str | None, base_url: str | None) -> tuple[str, str]:
        """The environment's name and the base URL to use; checked before any network call."""
        info = cls.INFO
        name = info.default_environment if environment is None else environment
        name = _config.check_environment(name, info.environments, info.title)
        example = info.environments[info.default_environment]
        url = _config.check_base_url(
            base_url if base_url is not None else info.environments[name], example
        )
        return name, url

    def _build(self) -> ClientT:
        lent, async_ = self._lent
        client: ClientT = build_client(
            self.INFO.package,
            base_url=self._base_url,
            hooks=self._hooks,
            options=self._options,
            retry_policy=self.RETRY_POLICY,
            auth=self._auth,
            transport=_Shared(self._pool) if lent else self._pool,
            async_transport=_AsyncShared(async_) if async_ is not None else None,
        )
        return client

    # --- public surface ------------------------------------------------------------------

    @property
    def environment(self) -> str:
        """The environment name (``base_url`` may point elsewhere, e.g. at a mock)."""
        return self._environment

    @property
    def base_url(self) -> str:
        """The API root every generated path is relative to."""
        return self._base_url

    @property
    def options(self) -> Options:
        """Timeout, retries and transports, as given (see ``with_options``)."""
        return self._options

    @property
    def client(self) -> ClientT:
        """The generated ``AuthenticatedClient``, auth, retries and typed errors installed."""
        return self._client

    @property
    def auth(self) -> JWTAuth:
        """The ``httpx.Auth`` flow, for use with another httpx client."""
        return self._auth

    def with_options(self, **changes: Unpack[OptionArgs]) -> Self:
        """A copy with other options that shares this facade's JWT and sync connections.

        ``np.with_options(timeout=120).call(...)``: nothing is minted again and, unless
        a transport is given, no sync connection pool is opened; closing the copy
        leaves this facade and its connections open. Async connections belong to an
        event loop, so the copy opens its own per loop (close it with ``aclose()``),
        except on an ``async_transport`` given in the options, which it shares.
        """
        options = self._options.replace(changes)
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._options = options
        if "transport" in changes:
            copy._pool = options.transport or _Pool()
        copy._lent = (
            "transport" not in changes,
            None if "async_transport" in changes else self._options.async_transport,
        )
        copy._client = copy._build()
        return copy

    def jwt(self) -> str:
        """A valid JWT: the cached one, or a freshly minted one."""
        return self._auth.get_token()

    async def ajwt(self) -> str:
        """A valid JWT, for asyncio code: the cached one, or a freshly minted one."""
        return await self._auth.aget_token()

    @overload
    def call(self, endpoint: Endpoint[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...
    @overload
    def call(self, endpoint: Callable[..., Parsed[T]], /, **kwargs: Any) -> T: ...
    def call(self, endpoint: object, /, *args: Any, **kwargs: Any) -> Any:
        """Call a generated endpoint; return its 2xx model or raise a ``carriers.errors`` error.

        ``endpoint`` is a generated api module (typed: its arguments are checked and
        the result is its 2xx model) or one of its ``sync_detailed``/``sync``
        functions; ``sync_detailed`` is called with ``client=self.client`` and
        ``kwargs``. A 2xx body that does not fit the spec raises
        ``ResponseValidationError`` under ``strict_responses=True``; by default one
        warning names its deepest mismatching path and the call returns the model as
        parsed, or the decoded JSON (dict or list) when the model could not be built.
        """
        if args:
            raise TypeError("endpoint arguments are keyword-only")
        return self._raw_call(endpoint, kwargs).parsed

    def _raw_call(self, endpoint: object, kwargs: dict[str, Any]) -> RawResponse[Any]:
        strict = self._options.strict_responses
        return call_endpoint(self._client, endpoint, self.INFO.package, kwargs, strict=strict)

    @overload
    async def acall(self, endpoint: Endpoint[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...
    @overload
    async def acall(self, endpoint: Callable[..., Awaitable[Parsed[T]]], /, **kwargs: Any) -> T: ...
    async def acall(self, endpoint: object, /, *args: Any, **kwargs: Any) -> Any:
        """``call`` for asyncio: runs the endpoint's ``asyncio_detailed``."""
        if args:
            raise TypeError("endpoint arguments are keyword-only")
        return (await self._raw_acall(endpoint, kwargs)).parsed

    async def _raw_acall(self, endpoint: object, kwargs: dict[str, Any]) -> RawResponse[Any]:
        strict = self._options.strict_responses
        return await acall_endpoint(
            self._client, endpoint, self.INFO.package, kwargs, strict=strict
        )

    @property
    def with_raw_response(self) -> RawCalls:
        """``call``/``acall`` that return a ``RawResponse``: status, headers, body, parsed."""
        return RawCalls(self._raw_call, self._raw_acall)

    def paginate(
        self, endpoint: PagedEndpoint[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Iterator[T]:
        """Every item of every page of a paged list operation (``page``, ``limit``).

        Starts at ``page`` (default 1), one ``call`` per page, each within the
        ``deadline``; stops after ``last_page`` or an empty page. A non-paged
        endpoint is a ``TypeError`` before any request.
        """
        if args:
            raise TypeError("endpoint arguments are keyword-only")
        strict = self._options.strict_responses
        return _pagination.paginate(self._call_parsed, endpoint, kwargs, strict=strict)

    def apaginate(
        self, endpoint: PagedEndpoint[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncIterator[T]:
        """``paginate`` for asyncio: ``async for item in np.apaginate(...)``."""
        if args:
            raise TypeError("endpoint arguments are keyword-only")
        strict = self._options.strict_responses
        return _pagination.apaginate(self._acall_parsed, endpoint, kwargs, strict=strict)

    def _call_parsed(self, endpoint: object, kwargs: dict[str, Any]) -> Any:
        return self._raw_call(endpoint, kwargs).parsed

    async def _acall_parsed(self, endpoint: object, kwargs: dict[str, Any]) -> Any:
        return (await self._raw_acall(endpoint, kwargs)).parsed

    def close(self) -> None:
        """Close the sync HTTP client (use ``aclose`` when the async one was used)."""
        client: Any = self._client
        client.close()

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        client: Any = self._client
        await client.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
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
