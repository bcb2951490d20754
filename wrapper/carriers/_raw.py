"""Raw access to a call: the HTTP response beside the value ``call()`` would return.

``np.with_raw_response.call(endpoint, **arguments)`` runs the same call as
``np.call`` (auth, retries, deadline, parsing as the options say) and returns a
:class:`RawResponse`: status, headers, body bytes, the ``httpx.Response`` and the
parsed value, typed from the endpoint like ``call()``'s result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

import httpx

if TYPE_CHECKING:
    from ._base import Endpoint
    from ._calls import Parsed

__all__ = ["RawCalls", "RawResponse"]

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class RawResponse(Generic[T_co]):
    """One 2xx response and what was parsed from it (as ``call()`` would return it)."""

    __slots__ = ("http_response", "parsed")

    def __init__(self, http_response: httpx.Response, parsed: T_co) -> None:
        self.http_response = http_response
        """The ``httpx.Response``, body already read."""
        self.parsed: T_co = parsed
        """The typed value; under lenient parsing, what could be parsed (see ``call``)."""

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def content(self) -> bytes:
        return self.http_response.content

    def __repr__(self) -> str:  # the body may hold a token: its type only
        return f"RawResponse(status_code={self.status_code}, parsed={type(self.parsed).__name__})"


SyncRawCall = Callable[[object, dict[str, Any]], "RawResponse[Any]"]
AsyncRawCall = Callable[[object, dict[str, Any]], Awaitable["RawResponse[Any]"]]


class RawCalls:
    """``facade.with_raw_response``: ``call`` and ``acall`` returning ``RawResponse``.

    Given the facade's own raw-call functions, not the facade, so that it reaches
    into no other object's private attributes.
    """

    __slots__ = ("_acall", "_call")

    def __init__(self, call: SyncRawCall, acall: AsyncRawCall) -> None:
        self._call = call
        self._acall = acall

    @overload
    def call(
        self, endpoint: Endpoint[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> RawResponse[T]: ...
    @overload
    def call(self, endpoint: Callable[..., Parsed[T]], /, **kwargs: Any) -> RawResponse[T]: ...
    def call(self, endpoint: object, /, *args: Any, **kwargs: Any) -> RawResponse[Any]:
        """``facade.call(endpoint, **kwargs)``, with the HTTP response beside the result."""
        if args:
            raise TypeError("endpoint arguments are keyword-only")
        return self._call(endpoint, kwargs)

    @overload
    async def acall(
        self, endpoint: Endpoint[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> RawResponse[T]: ...
    @overload
    async def acall(
        self, endpoint: Callable[..., Awaitable[Parsed[T]]], /, **kwargs: Any
    ) -> RawResponse[T]: ...
    async def acall(self, endpoint: object, /, *args: Any, **kwargs: Any) -> RawResponse[Any]:
        """``facade.acall(endpoint, **kwargs)``, with the HTTP response beside the result."""
        if args:
            raise TypeError("endpoint arguments are keyword-only")
        return await self._acall(endpoint, kwargs)
