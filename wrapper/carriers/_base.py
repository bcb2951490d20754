"""What every facade shares: options, typed calls, raw requests, copies, closing.

A call reads in one screen: ``call()`` builds the request with the generated
module (``build_request``), ``_loop.send`` sends it through the facade's stock httpx
client (auth, retries, deadline, origin rule, size limit, typed errors), and the
generated parser reads the 2xx response (``_calls``).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, ClassVar, Generic, ParamSpec, Protocol, Self, TypeVar, Unpack, overload

import httpx

from . import _config, _hooks, _pagination, token_cache
from ._calls import Parsed, acall_endpoint, call_endpoint
from ._clients import Clients
from ._loop import RequestArgs, Sending, asend, send
from ._pagination import PagedEndpoint
from ._raw import RawCalls, RawResponse
from .auth import JWTAuth, origin_of
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


def sending(options: Options, hooks: _hooks.Hooks, policy: RetryPolicy, base_url: str) -> Sending:
    """How calls with ``options`` are sent (``_loop``): retries, deadline, size limit."""
    retrier = Retrier(
        options.max_retries,
        options.retry_policy or policy,
        sleep=hooks.sleep,
        async_sleep=hooks.async_sleep,
        uniform=hooks.jitter,
        clock=hooks.clock,
    )
    return Sending(
        retrier=retrier,
        deadline=options.deadline,
        max_response_bytes=options.max_response_bytes,
        timeout=options.httpx_timeout,
        home=origin_of(base_url),
    )


def clients(base_url: str, options: Options, auth: httpx.Auth | None) -> Clients:
    return Clients(
        base_url=base_url,
        auth=auth,
        timeout=options.httpx_timeout,
        transport=options.transport,
        async_transport=options.async_transport,
    )


class Carrier(Generic[ClientT]):
    """Base of the facades: an API key in, a JWT-authenticated generated client out.

    A subclass names its ``INFO`` (the registry entry) and builds its auth flow in
    ``_make_auth``; everything else comes from here.
    """

    INFO: ClassVar[CarrierInfo]
    RETRY_POLICY: ClassVar[RetryPolicy] = RetryPolicy()

    _auth: JWTAuth

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
        self._sending = sending(self._options, self._hooks, self.RETRY_POLICY, self._base_url)
        self._clients = clients(self._base_url, self._options, self._auth)
        self._owns_clients = True
        """False in a ``with_options()`` copy that shares its original's clients."""
        self._generated: tuple[ClientT, Clients] | None = None

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
        """The generated ``AuthenticatedClient``, whose httpx clients send the JWT: for
        the generated functions as they are (a documented error status is returned as
        its model). Retries, the deadline and typed errors are ``call()``'s and
        ``request()``'s. Its httpx clients are its own, opened on first use: the
        generated ``with_headers()`` changes them in place, never ``call()``'s. Its
        copies (``with_headers()``...) open theirs with the auth flow and httpx's
        default transports."""
        if self._generated is None:
            http = clients(self._base_url, self._options, self._auth)
            generated = importlib.import_module(self.INFO.package).AuthenticatedClient(
                base_url=self._base_url,
                token="",  # unused: the auth flow sets the header per request
                prefix="",
                timeout=self._options.httpx_timeout,
                raise_on_unexpected_status=True,
                httpx_args={"auth": self._auth},  # for its copies (``with_headers()``...)
            )
            generated.set_httpx_client(http.sync())
            generated.set_async_httpx_client(http.unbound())
            self._generated = (generated, http)
        return self._generated[0]

    @property
    def auth(self) -> JWTAuth:
        """The ``httpx.Auth`` flow, for use with another httpx client."""
        return self._auth

    def with_options(self, **changes: Unpack[OptionArgs]) -> Self:
        """A copy with other options that shares this facade's JWT and connections.

        ``np.with_options(timeout=120).call(...)``: nothing is minted again and, unless
        a transport is given, no connection pool is opened; closing the copy leaves
        this facade and its connections open.
        """
        options = self._options.replace(changes)
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._options = options
        copy._sending = sending(options, self._hooks, self.RETRY_POLICY, self._base_url)
        copy._generated = None
        if "transport" in changes or "async_transport" in changes:
            copy._clients = clients(self._base_url, options, self._auth)
            copy._owns_clients = True
        else:
            copy._owns_clients = False
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
        return call_endpoint(
            self._clients.sync(),
            self._sending,
            endpoint,
            self.INFO.package,
            kwargs,
            strict=self._options.strict_responses,
        )

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
        return await acall_endpoint(
            self._clients.for_loop(),
            self._sending,
            endpoint,
            self.INFO.package,
            kwargs,
            strict=self._options.strict_responses,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        follow_redirects: bool | None = None,
        stream: bool = False,
        **args: Unpack[RequestArgs],
    ) -> httpx.Response:
        """Send any request of the API (a path relative to ``base_url``, or a URL) as
        ``call()`` sends an endpoint's: the JWT, retries, deadline, origin rule, size
        limit. Returns the 2xx response, body read; raises a ``carriers.errors`` error.

        ``args`` are ``httpx.Client.request``'s (``params``, ``headers``, ``json``,
        ``content``, ``timeout``...). ``follow_redirects`` (default: not followed)
        follows them here, each hop to another origin without credentials.
        ``stream=True`` leaves a 2xx body unread: bounding it is then the caller's job.
        """
        return send(
            self._clients.sync(),
            self._sending,
            {"method": method, "url": url, **args},
            follow_redirects=follow_redirects,
            stream=stream,
        )

    async def arequest(
        self,
        method: str,
        url: str,
        *,
        follow_redirects: bool | None = None,
        stream: bool = False,
        **args: Unpack[RequestArgs],
    ) -> httpx.Response:
        """``request`` for asyncio."""
        return await asend(
            self._clients.for_loop(),
            self._sending,
            {"method": method, "url": url, **args},
            follow_redirects=follow_redirects,
            stream=stream,
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
        if self._owns_clients:
            self._clients.close()
        if self._generated is not None:
            self._generated[1].close()

    async def aclose(self) -> None:
        """Close the running loop's HTTP client and the sync one."""
        if self._owns_clients:
            await self._clients.aclose()
        if self._generated is not None:
            await self._generated[1].aclose()

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
