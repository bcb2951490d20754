"""What each hop of a call carries through the request loop: timeouts cut to the
deadline, and credentials for the base URL's origin only.

The hot path keeps the timeouts asked for as they are while the deadline is further
away than the longest of them, and cuts them otherwise; it remembers the origin of the
last URL checked. These tests pin the behaviour around those shortcuts, for hops that
are retries and redirects too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from carriers import errors
from carriers._loop import Sending, asend, send
from carriers.auth import NovaPostAuth, ShipyoAuth, origin_of
from carriers.retries import Retrier

ORIGIN = "https://api.example.test"
PHASES = ("connect", "read", "write", "pool")

Timeouts = dict[str, float | None]


class Hops:
    """A transport that answers with ``statuses`` in turn (then 200) and records what
    each hop's request carried."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.timeouts: list[Timeouts] = []
        self.urls: list[str] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        self.urls.append(str(request.url))
        status = self.statuses.pop(0) if self.statuses else 200
        headers = {"Location": f"{ORIGIN}/next"} if status == 302 else {}
        return httpx.Response(status, headers=headers, json={})


def _no_wait(seconds: float) -> None:
    pass


async def _no_await(seconds: float) -> None:
    pass


class Looped:
    """A stock ``httpx.Client`` driven by the request loop, as a facade drives it."""

    def __init__(
        self,
        *,
        base_url: str = ORIGIN,
        retrier: Retrier | None = None,
        deadline: float | None = 120.0,
        max_response_bytes: int = 10 * 1024 * 1024,
        timeout: Any = 30.0,
        **client: Any,
    ) -> None:
        self.http = self.open(base_url=base_url, timeout=timeout, **client)
        self.how = Sending(
            retrier=retrier or Retrier(),
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            timeout=httpx.Timeout(timeout),
            home=origin_of(base_url),
        )

    def open(self, **client: Any) -> Any:
        return httpx.Client(**client)

    def args(self, url: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        loop = {key: kwargs.pop(key) for key in ("follow_redirects", "stream") if key in kwargs}
        return {"method": "GET", "url": url, **kwargs}, loop

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        args, loop = self.args(url, kwargs)
        return send(self.http, self.how, args, **loop)

    def __enter__(self) -> Looped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()


class ALooped(Looped):
    def open(self, **client: Any) -> Any:
        return httpx.AsyncClient(**client)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        args, loop = self.args(url, kwargs)
        return await asend(self.http, self.how, args, **loop)

    async def __aenter__(self) -> ALooped:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()


def _client(hops: Hops, **options: Any) -> Looped:
    retrier = Retrier(max_retries=2, sleep=_no_wait, uniform=lambda low, high: 0.0)
    return Looped(transport=httpx.MockTransport(hops.answer), retrier=retrier, **options)


def _async_client(hops: Hops, **options: Any) -> ALooped:
    retrier = Retrier(max_retries=2, async_sleep=_no_await, uniform=lambda low, high: 0.0)
    return ALooped(transport=httpx.MockTransport(hops.answer), retrier=retrier, **options)


def _all(value: float | None) -> Timeouts:
    return dict.fromkeys(PHASES, value)


def test_timeouts_within_the_deadline_reach_every_hop_as_asked() -> None:
    hops = Hops(503, 302)
    with _client(hops, timeout=httpx.Timeout(5, read=7), deadline=60) as http:
        assert http.get("/start", follow_redirects=True).status_code == 200
    asked = {"connect": 5.0, "read": 7.0, "write": 5.0, "pool": 5.0}
    assert hops.timeouts == [asked, asked, asked]  # first try, retry, redirect
    assert hops.urls == [f"{ORIGIN}/start", f"{ORIGIN}/start", f"{ORIGIN}/next"]


def test_a_timeout_per_request_is_the_one_cut_and_kept() -> None:
    hops = Hops(503)
    with _client(hops, timeout=30, deadline=60) as http:
        http.get("/start", timeout=2)
        http.get("/again")
    assert hops.timeouts == [_all(2.0), _all(2.0), _all(30.0)]


@pytest.mark.parametrize(
    "timeout", [httpx.Timeout(30), httpx.Timeout(None), httpx.Timeout(0.1, read=None)]
)
def test_each_phase_longer_than_the_deadline_is_cut_to_the_time_left(
    timeout: httpx.Timeout,
) -> None:
    hops = Hops(503, 302)
    with _client(hops, timeout=timeout, deadline=1) as http:
        http.get("/start", follow_redirects=True)
    asked = timeout.as_dict()
    assert len(hops.timeouts) == 3
    for hop in hops.timeouts:
        for phase, value in hop.items():
            assert value is not None and 0 < value <= 1.0
            limit = asked[phase]
            if limit is not None and limit < 0.9:
                assert value == limit


def test_without_a_deadline_every_hop_has_the_timeouts_asked_for() -> None:
    hops = Hops(503, 302)
    with _client(hops, timeout=httpx.Timeout(5, read=None), deadline=None) as http:
        http.get("/start", follow_redirects=True)
    asked = {"connect": 5.0, "read": None, "write": 5.0, "pool": 5.0}
    assert hops.timeouts == [asked, asked, asked]


async def test_the_async_client_cuts_and_keeps_timeouts_alike() -> None:
    hops = Hops(503)
    async with _async_client(hops, timeout=5, deadline=60) as http:
        await http.get("/start")
    assert hops.timeouts == [_all(5.0), _all(5.0)]
    hops = Hops()
    async with _async_client(hops, timeout=None, deadline=1) as http:
        await http.get("/start")
    assert all(value is not None and 0 < value <= 1.0 for value in hops.timeouts[0].values())


def test_a_hop_after_the_deadline_is_not_sent() -> None:
    urls: list[str] = []

    def slow_redirect(request: httpx.Request) -> httpx.Response:
        urls.append(request.url.path)
        time.sleep(0.05)
        return httpx.Response(302, headers={"Location": f"{ORIGIN}/next"})

    transport = httpx.MockTransport(slow_redirect)
    with Looped(transport=transport, deadline=0.03) as http:
        with pytest.raises(errors.APITimeoutError, match="Deadline reached"):
            http.get("/start", follow_redirects=True)
    assert urls == ["/start"]


# --- origins ---------------------------------------------------------------------------


def test_the_origin_of_each_url_object_is_its_own() -> None:
    """The origin last worked out is kept for that URL object, never for its value."""
    home, evil = httpx.URL(f"{ORIGIN}/v1/x"), httpx.URL("https://evil.test/v1/x")
    same_text = httpx.URL(f"{ORIGIN}/v1/x")
    port = httpx.URL("https://api.example.test:8443/v1/x")
    expected = {
        id(home): ("https", "api.example.test", 443),
        id(same_text): ("https", "api.example.test", 443),
        id(evil): ("https", "evil.test", 443),
        id(port): ("https", "api.example.test", 8443),
    }
    for url in (home, home, evil, home, same_text, port, port, evil, same_text):
        assert origin_of(url) == expected[id(url)]
    assert origin_of(str(evil)) == expected[id(evil)]
    assert origin_of(home) == expected[id(home)]


def test_a_redirect_elsewhere_carries_no_credentials_of_the_client() -> None:
    """The credential headers set on the client itself are stripped from a hop to
    another origin, even right after a hop home with the same path."""
    sent: list[tuple[str, dict[str, str]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.host, dict(request.headers)))
        if request.url.host == "api.example.test" and request.url.path == "/start":
            return httpx.Response(302, headers={"Location": "https://evil.test/start"})
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(answer)
    headers = {"Authorization": "secret-jwt", "X-Other": "kept"}
    with Looped(base_url=ORIGIN, transport=transport, headers=headers) as http:
        http.get("/start", follow_redirects=True)
        http.get("https://evil.test/direct")
        http.get("/home")
    assert [host for host, _ in sent] == [
        "api.example.test",
        "evil.test",
        "evil.test",
        "api.example.test",
    ]
    assert [headers.get("authorization") for _, headers in sent] == [
        "secret-jwt",
        None,
        None,
        "secret-jwt",
    ]
    assert all(headers["x-other"] == "kept" for _, headers in sent)


async def test_the_async_client_keeps_credentials_home_too() -> None:
    """Every credential header of the auth flow is dropped on a redirect elsewhere."""
    sent: list[tuple[str, str | None, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        headers = request.headers
        sent.append((request.url.host, headers.get("x-api-key"), headers.get("authorization")))
        if request.url.path == "/start":
            return httpx.Response(302, headers={"Location": "https://evil.test/y"})
        return httpx.Response(200, json={})

    async def amint() -> str:
        return "jwt-0123"

    auth = ShipyoAuth(api_key="key-0123", mint=lambda: "jwt-0123", amint=amint, origin=ORIGIN)
    transport = httpx.MockTransport(answer)
    async with ALooped(base_url=ORIGIN, transport=transport, auth=auth) as http:
        await http.get("/start", follow_redirects=True)
        await http.get("/home")
    assert sent == [
        ("api.example.test", "key-0123", "Bearer jwt-0123"),
        ("evil.test", None, None),
        ("api.example.test", "key-0123", "Bearer jwt-0123"),
    ]


# --- bodies ----------------------------------------------------------------------------


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed body in ``chunks``, as a network read gives it; records its closing."""

    def __init__(self, *chunks: bytes, pause: float = 0.0) -> None:
        self.chunks = chunks
        self.pause = pause
        self.sent = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            time.sleep(self.pause)
            self.sent += 1
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await asyncio.sleep(self.pause)
            self.sent += 1
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def _streaming(body: Chunks, **headers: str) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, headers=headers, stream=body))


@pytest.mark.parametrize("encoding", [None, "identity", "x-unknown"])
def test_a_streamed_body_is_read_whole_within_the_limit(encoding: str | None) -> None:
    body = Chunks(b'{"a": ', b"[1, 2, ", b"3]}")
    headers = {} if encoding is None else {"Content-Encoding": encoding}
    transport = _streaming(body, **headers)
    with Looped(base_url=ORIGIN, transport=transport, max_response_bytes=17) as http:
        response = http.get("/body")
    assert response.content == b'{"a": [1, 2, 3]}' and response.json() == {"a": [1, 2, 3]}
    assert response.is_closed and body.closed


async def test_a_streamed_body_is_read_whole_by_the_async_client() -> None:
    body = Chunks(b"ab", b"", b"cd")
    transport = _streaming(body)
    async with ALooped(base_url=ORIGIN, transport=transport) as http:
        response = await http.get("/body")
    assert response.content == b"abcd" and body.closed


def test_a_streamed_body_stops_at_the_chunk_past_the_limit() -> None:
    body = Chunks(b"x" * 10, b"x" * 10, b"x" * 10, b"x" * 10)
    transport = _streaming(body)
    with Looped(base_url=ORIGIN, transport=transport, max_response_bytes=25) as http:
        with pytest.raises(errors.ResponseTooLargeError) as caught:
            http.get("/body")
    assert caught.value.limit == 25
    assert body.sent == 3 and body.closed


async def test_the_async_client_stops_a_body_at_the_limit_too() -> None:
    body = Chunks(b"x" * 10, b"x" * 10, b"x" * 10)
    transport = _streaming(body)
    async with ALooped(base_url=ORIGIN, transport=transport, max_response_bytes=15) as http:
        with pytest.raises(errors.ResponseTooLargeError):
            await http.get("/body")
    assert body.sent == 2 and body.closed


def test_a_streamed_body_stops_at_the_deadline_between_chunks() -> None:
    body = Chunks(*[b"x"] * 50, pause=0.01)
    with Looped(base_url=ORIGIN, transport=_streaming(body), deadline=0.1) as http:
        with pytest.raises(errors.APITimeoutError, match="Deadline reached"):
            http.get("/body")
    assert body.sent < 50 and body.closed


async def test_the_async_client_stops_a_body_at_the_deadline_too() -> None:
    body = Chunks(*[b"x"] * 50, pause=0.01)
    async with ALooped(base_url=ORIGIN, transport=_streaming(body), deadline=0.1) as http:
        with pytest.raises(errors.APITimeoutError, match="Deadline reached"):
            await http.get("/body")
    assert body.sent < 50 and body.closed


def test_a_2xx_streamed_on_request_is_left_unread() -> None:
    body = Chunks(b"ab", b"cd")
    with Looped(transport=_streaming(body)) as http:
        response = http.get("/body", stream=True)
        assert body.sent == 0
        assert response.read() == b"abcd"


# --- credential headers ----------------------------------------------------------------

_PRESET: list[list[tuple[str, str]]] = [
    [],
    [("Accept", "*/*"), ("User-Agent", "x")],
    [("authorization", "old")],
    [("Authorization", "old"), ("Accept", "*/*"), ("AUTHORIZATION", "older")],
    [("X-API-KEY", "old"), ("x-api-key", "older")],
]


@pytest.mark.parametrize("preset", _PRESET)
@pytest.mark.parametrize("token", ["eyJ.a.b", "tok-é", ""])
def test_the_token_header_replaces_whatever_the_request_had(
    preset: list[tuple[str, str]], token: str
) -> None:
    ours = httpx.Request("GET", ORIGIN, headers=preset)
    theirs = httpx.Request("GET", ORIGIN, headers=preset)
    NovaPostAuth(mint=lambda: token, amint=_never, origin=ORIGIN).apply_token(ours, token)
    theirs.headers["Authorization"] = token
    assert ours.headers.raw == theirs.headers.raw
    assert ours.headers.get_list("authorization") == [token]


def test_the_flows_set_their_headers_once_whatever_the_request_had() -> None:
    auth = ShipyoAuth(
        api_key="key-0123", tenant_id="t-1", mint=lambda: "jwt-0123", amint=_never, origin=ORIGIN
    )
    request = httpx.Request(
        "GET", f"{ORIGIN}/x", headers=[("authorization", "stale"), ("X-Api-Key", "stale")]
    )
    auth.apply_token(request, "jwt-0123")
    auth.apply_token(request, "jwt-0456")
    assert sorted(request.headers.multi_items()) == [
        ("authorization", "Bearer jwt-0456"),
        ("host", "api.example.test"),
        ("x-api-key", "key-0123"),
        ("x-tenant-id", "t-1"),
    ]
    novapost = NovaPostAuth(mint=lambda: "jwt-0123", amint=_never, origin=ORIGIN)
    novapost.apply_token(request, "jwt-0789")
    assert request.headers.get_list("authorization") == ["jwt-0789"]


async def _never() -> str:
    raise AssertionError("no mint expected")


async def test_the_flows_ask_get_token_on_every_request() -> None:
    """A cached token still comes through ``get_token``/``aget_token``: code that wraps
    them (the fleet benchmark times them per call) sees every request."""
    auth = NovaPostAuth(mint=lambda: "jwt-0123", amint=_jwt, origin=ORIGIN)
    asked: list[str] = []
    fetch, afetch = auth.get_token, auth.aget_token

    def get_token() -> str:
        asked.append("sync")
        return fetch()

    async def aget_token() -> str:
        asked.append("async")
        return await afetch()

    auth.get_token = get_token  # type: ignore[method-assign]
    auth.aget_token = aget_token  # type: ignore[method-assign]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    with Looped(base_url=ORIGIN, transport=transport, auth=auth) as http:
        for _ in range(3):
            http.get("/x")
    async with ALooped(base_url=ORIGIN, transport=transport, auth=auth) as ahttp:
        for _ in range(2):
            await ahttp.get("/x")
    assert asked == ["sync"] * 3 + ["async"] * 2
    assert auth.mint_count == 1


async def _jwt() -> str:
    return "jwt-0123"
