"""What the benchmarks need to know about each carrier, read from the carrier registry.

Nothing here is written per carrier: the facade, its retry policy and its key come
from the ``CarrierInfo``; the headers of an authorized call from the facade's own
auth flow; and the token and whoami answers the in-memory benchmarks replay are
recorded once from the carrier's real mock, so that they stay what the mock says.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeAlias

import httpx
from carrier_mocks.server import serve
from carriers import Carrier, RetryPolicy
from carriers.registry import CarrierInfo, all_carriers, get

__all__ = [
    "CARRIERS",
    "WHOAMI",
    "WHOAMI_ROUTE",
    "AsyncGetter",
    "BenchCarrier",
    "Exchange",
    "Facade",
    "Getter",
    "Recording",
    "arequests",
    "carrier",
    "requests",
]

Facade: TypeAlias = Carrier[Any]


class Getter(Protocol):
    """What the comparisons call on either side: ``get(url)`` of ``httpx.Client`` (the
    plain side) or of a facade's raw requests (``requests``)."""

    def get(self, url: str, /) -> httpx.Response: ...


class AsyncGetter(Protocol):
    async def get(self, url: str, /) -> httpx.Response: ...


class requests:
    """A facade's ``request("GET", ...)`` in ``httpx.Client.get``'s shape."""

    def __init__(self, facade: Facade) -> None:
        self.facade = facade

    def get(self, url: str, /) -> httpx.Response:
        return self.facade.request("GET", url)


class arequests:
    """A facade's ``arequest("GET", ...)`` in ``httpx.AsyncClient.get``'s shape."""

    def __init__(self, facade: Facade) -> None:
        self.facade = facade

    async def get(self, url: str, /) -> httpx.Response:
        return await self.facade.arequest("GET", url)


WHOAMI = "/__mock__/whoami"
"""The mocks' JWT-protected probe, at the root of each origin."""
WHOAMI_ROUTE = f"GET {WHOAMI}"
"""Its key in ``/__mock__/stats`` and the route faults target."""

_NOWHERE = "http://127.0.0.1:9"
"""An origin for facades that never send anything (port 9 is discard)."""
_RECOMPUTED = frozenset({"content-length", "transfer-encoding"})


@dataclass(frozen=True)
class Exchange:
    """One request the facade sent to the mock, and the mock's answer, as plain data."""

    method: str
    target: str
    """Path and query, as on the request line."""
    request_headers: tuple[tuple[str, str], ...]
    """What the facade added for this request: no Host, none of its client's defaults."""
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def response(self, body: bytes | None = None) -> httpx.Response:
        """The answer again, with another ``body`` if given (its length recomputed)."""
        headers = [(name, value) for name, value in self.headers if name not in _RECOMPUTED]
        return httpx.Response(
            self.status, headers=headers, content=self.body if body is None else body
        )


@dataclass(frozen=True)
class Recording:
    """A carrier's mint, an authorized whoami and a refused one, against its real mock."""

    token: str
    """The JWT the mint handed out (it appears once in ``mint.body``)."""
    mint: Exchange
    whoami: Exchange
    refusal: Exchange
    """Whoami without credentials: what the mock answers a call it does not accept."""


class _Recorder(httpx.BaseTransport):
    """Passes requests on and keeps each one with its (read) response."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response

    def close(self) -> None:
        self.inner.close()


def _exchange(
    request: httpx.Request, response: httpx.Response, defaults: httpx.Headers
) -> Exchange:
    added = tuple(
        (name, value)
        for name, value in request.headers.items()
        if name != "host" and defaults.get(name) != value
    )
    return Exchange(
        method=request.method,
        target=request.url.raw_path.decode("ascii"),
        request_headers=added,
        status=response.status_code,
        headers=tuple(response.headers.items()),
        body=response.content,
    )


@dataclass(frozen=True)
class BenchCarrier:
    """One registry carrier as the benchmarks see it (compared and hashed by name)."""

    name: str
    info: CarrierInfo = field(compare=False, repr=False)

    @classmethod
    def of(cls, info: CarrierInfo) -> BenchCarrier:
        return cls(info.name, info)

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def key(self) -> str:
        """An API key the mock's default fixtures accept."""
        return self.info.docs_api_key

    @property
    def token_path(self) -> str:
        """The token route's path under the mock's origin (the API root included)."""
        return self.info.mock_path + self.info.token_path

    @property
    def token_route(self) -> str:
        """The token route's key in ``/__mock__/stats``: its count is the number of mints."""
        return self.info.token_operation

    @property
    def facade_class(self) -> type[Facade]:
        cls: type[Facade] = self.info.facade_class()
        return cls

    def facade(self, base_url: str, **options: Any) -> Facade:
        """The wrapper's facade for this carrier; ``options`` are its keyword arguments."""
        return self.facade_class(self.key, base_url=base_url, **options)

    def retry_policy(self, **changes: Any) -> RetryPolicy:
        """The facade's own retry policy (its replayable routes kept) with ``changes``."""
        return replace(self.facade_class.RETRY_POLICY, **changes)

    def static_headers(self, jwt: str) -> dict[str, str]:
        """The headers an authorized call carries, to set once by hand on a plain client.

        The facade's auth flow applies them to a bare request, so they are exactly
        what it sends, whatever the carrier's scheme.
        """
        request = httpx.Request("GET", _NOWHERE + WHOAMI)
        with self.facade(_NOWHERE + self.info.mock_path) as facade:
            facade.auth.apply_token(request, jwt)
        return {name: value for name, value in request.headers.items() if name != "host"}

    @property
    def recording(self) -> Recording:
        """The mock's own answers, recorded on first use (once per process)."""
        return _record(self.name)

    def token_response(self, jwt: str) -> httpx.Response:
        """The mock's answer to a mint, handing out ``jwt`` instead of its own token."""
        recording = self.recording
        body = recording.mint.body.replace(recording.token.encode(), jwt.encode())
        return recording.mint.response(body)

    def whoami_response(self) -> httpx.Response:
        """The mock's answer to an authorized whoami."""
        return self.recording.whoami.response()

    def refusal_response(self) -> httpx.Response:
        """The mock's answer to a whoami without credentials."""
        return self.recording.refusal.response()


@functools.cache
def _record(name: str) -> Recording:
    """Mint and call whoami through the facade against a mock served for the purpose."""
    carrier = BenchCarrier.of(get(name))
    with serve(name, host="127.0.0.1") as server:
        recorder = _Recorder(httpx.HTTPTransport())
        with carrier.facade(server.base_url, transport=recorder, max_retries=0) as facade:
            token = facade.jwt()
            facade.request("GET", server.origin + WHOAMI)
            defaults = facade.client.get_httpx_client().headers
        with httpx.Client() as plain:
            refusal = plain.get(server.origin + WHOAMI)
    if len(recorder.exchanges) != 2:
        raise RuntimeError(f"{name}: expected a mint and a whoami, saw {len(recorder.exchanges)}")
    mint, whoami = (
        _exchange(request, response, defaults) for request, response in recorder.exchanges
    )
    path = mint.target.partition("?")[0]  # the query may hold the key: never shown
    if path != carrier.token_path:
        raise RuntimeError(f"{name}: the facade minted at {path}, not {carrier.token_path}")
    if mint.status != 200 or whoami.status != 200:
        raise RuntimeError(f"{name}: the mock answered {mint.status}, then {whoami.status}")
    if mint.body.count(token.encode()) != 1:
        raise RuntimeError(f"{name}: the token does not appear once in the mint's body")
    return Recording(
        token=token,
        mint=mint,
        whoami=whoami,
        refusal=_exchange(refusal.request, refusal, httpx.Headers()),
    )


CARRIERS = tuple(BenchCarrier.of(info) for info in all_carriers())
"""Every registered carrier, in the registry's order."""


def carrier(name: str) -> BenchCarrier:
    """The benchmarks' view of the carrier called ``name``."""
    return BenchCarrier.of(get(name))
