"""``carriers.AiohttpTransport``: the facade's async calls over aiohttp behave as over httpx.

Against the real mock (over loopback) and small raw asyncio servers: the same
answers, one mint for a crowd, the same typed errors for the same failures, bodies
streamed as they arrive and decoded by httpx under the size limit, no credential
in any error, and sessions closed with the facade.
"""

from __future__ import annotations

import asyncio
import gzip
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
import pytest
from carrier_mocks.server import MockServer
from carriers import AiohttpTransport, NovaPost, errors

KEY = "np_test_4f1c2b9e8a7d6c5b"
WHOAMI = "/__mock__/whoami"
MINT = "GET /clients/authorization"


@pytest.fixture(autouse=True)
def fake_hooks() -> None:
    """The real clock and sleeps: these tests talk to a real mock, which uses real time."""


class Counting(AiohttpTransport):
    """Counts the requests that went through aiohttp."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await super().handle_async_request(request)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[str]:
    """A one-purpose HTTP server on 127.0.0.1; yields its origin."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def chain(exc: BaseException) -> str:
    """Everything an error shows: its text, repr, notes, causes and traceback."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


async def test_a_crowd_of_calls_goes_through_aiohttp_with_one_mint(
    novapost_mock: MockServer,
) -> None:
    transport = Counting()
    async with NovaPost(
        api_key=KEY, base_url=novapost_mock.base_url, async_transport=transport
    ) as np:
        answers = await asyncio.gather(
            *(np.arequest("GET", novapost_mock.origin + WHOAMI) for _ in range(200))
        )
    assert {a.status_code for a in answers} == {200}
    assert novapost_mock.stats()[MINT] == 1
    assert transport.sent == 201  # the mint and the 200 calls


@pytest.mark.parametrize("transport", [None, AiohttpTransport], ids=["httpx", "aiohttp"])
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 503}, errors.ServiceUnavailableError),
        ({"drop": True}, errors.APIConnectionError),
        ({"delay": 3.0}, errors.APITimeoutError),
    ],
    ids=["503", "dropped", "slow"],
)
async def test_failures_are_the_same_typed_errors_as_over_httpx(
    novapost_mock: MockServer,
    transport: type[AiohttpTransport] | None,
    fault: dict[str, Any],
    error: type[Exception],
) -> None:
    novapost_mock.fault(MINT, count=10, **fault)
    async with NovaPost(
        api_key=KEY,
        base_url=novapost_mock.base_url,
        async_transport=None if transport is None else transport(),
        timeout=0.5,
        max_retries=1,
    ) as np:
        with pytest.raises(error) as caught:
            await np.ajwt()
    assert type(caught.value) is error or error is errors.APIConnectionError
    assert KEY not in chain(caught.value)


async def test_no_credential_in_a_connection_error() -> None:
    async with raw_server(lambda r, w: asyncio.sleep(0)) as origin:
        pass  # the port is closed again: nothing listens there
    async with NovaPost(
        api_key=KEY, base_url=origin + "/v.1.0", async_transport=AiohttpTransport(), max_retries=0
    ) as np:
        with pytest.raises(errors.APIConnectionError) as caught:
            await np.ajwt()
    assert KEY not in chain(caught.value)
    assert "aiohttp" not in type(caught.value).__module__


@pytest.mark.parametrize(
    ("path", "params", "header"),
    [
        ("/a%2Fb/c d", {"q": "x y&z=1", "ids[]": ["1", "2"]}, b"plain"),
        ("/файл/%E2%82%AC", {"name": "Zielińska €"}, "ключ".encode()),
    ],
)
async def test_the_request_reaches_the_server_as_httpx_sends_it(
    path: str, params: dict[str, Any], header: bytes
) -> None:
    """Target (escapes kept as they are) and headers (UTF-8 included): the same bytes
    over aiohttp as over httpx's own transport."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await read_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(handle) as origin:
        for transport in (None, AiohttpTransport()):
            async with httpx.AsyncClient(transport=transport) as client:
                await client.get(origin + path, params=params, headers={"X-Name": header})
    first_lines = [head.split(b"\r\n", 1)[0] for head in heads]
    names = [_header(head, b"x-name") for head in heads]
    assert first_lines[0] == first_lines[1] and names[0] == names[1] == header


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


async def test_the_body_streams_as_it_arrives() -> None:
    sent_first = asyncio.Event()
    go_on = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        sent_first.set()
        await go_on.wait()  # the rest only once the client has the first part
        writer.write(b"4\r\nrest\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()

    async with (
        raw_server(handle) as origin,
        httpx.AsyncClient(transport=AiohttpTransport()) as client,
    ):
        async with client.stream("GET", origin + "/file") as response:
            parts = response.aiter_raw()
            first = await asyncio.wait_for(anext(parts), 5)
            go_on.set()
            rest = b"".join([chunk async for chunk in parts])
    assert (first, rest) == (b"first", b"rest")


async def test_bodies_arrive_undecoded_and_the_size_limit_counts_decoded_bytes(
    novapost_mock: MockServer,
) -> None:
    big = b"0" * 2_000_000
    packed = gzip.compress(big)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n"
        writer.write(head.encode() + b"\r\n" + packed)
        await writer.drain()
        writer.close()

    async with raw_server(handle) as origin:
        async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
            response = await client.get(origin + "/")
        assert response.content == big  # httpx decoded what aiohttp left alone
        async with NovaPost(
            api_key=KEY,
            base_url=origin + "/v.1.0",
            async_transport=AiohttpTransport(),
            max_response_bytes=1_000_000,
        ) as np:
            with pytest.raises(errors.ResponseTooLargeError):
                await np.ajwt()


async def test_closing_the_facade_closes_the_session(
    novapost_mock: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[aiohttp.ClientSession] = []
    close = aiohttp.ClientSession.close

    async def recording(self: aiohttp.ClientSession) -> None:
        closed.append(self)
        await close(self)

    monkeypatch.setattr(aiohttp.ClientSession, "close", recording)
    np = NovaPost(api_key=KEY, base_url=novapost_mock.base_url, async_transport=AiohttpTransport())
    await np.ajwt()
    await np.aclose()
    assert len(closed) == 1 and closed[0].closed


def test_the_transport_serves_successive_event_loops(novapost_mock: MockServer) -> None:
    transport = Counting()
    np = NovaPost(api_key=KEY, base_url=novapost_mock.base_url, async_transport=transport)

    async def call() -> int:
        response = await np.arequest("GET", novapost_mock.origin + WHOAMI)
        await np.aclose()
        return response.status_code

    assert [asyncio.run(call()), asyncio.run(call())] == [200, 200]
    assert transport.sent == 3  # one mint, two calls


def test_limit_is_checked_and_the_repr_says_it() -> None:
    with pytest.raises(ValueError, match="limit must be a positive number"):
        AiohttpTransport(limit=0)
    assert repr(AiohttpTransport(limit=7)) == "AiohttpTransport(limit=7)"
