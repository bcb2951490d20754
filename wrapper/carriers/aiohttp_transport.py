"""An httpx transport over aiohttp, for many concurrent async calls on one facade.

httpx's pool serves a crowd of queued requests slowly (1,000 concurrent calls on
100 connections take seconds); aiohttp's keeps up. This transport lets the
facade's ``httpx.AsyncClient`` (auth, retries, deadline, origin rule, size limit,
typed errors: all unchanged) send through aiohttp::

    NovaPost(api_key=..., async_transport=carriers.AiohttpTransport())

It uses the public APIs of both libraries only. aiohttp hands the body over as
it arrives, undecoded, so httpx decodes it and the wrapper's size limit counts
the decoded bytes as with httpx's own transport. An aiohttp session belongs to
the event loop that made it: the transport keeps one per loop, as the facade
keeps one async client per loop.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx

from .extras import require
from .redaction import redact

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpTransport"]


@functools.lru_cache(maxsize=64)
def _timeout(
    connect: float | None, read: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """httpx's timeout phases as aiohttp's: pool wait, connect, each read (the same few
    settings serve nearly every request, so each is made once)."""
    import aiohttp

    wait = None if pool is None or connect is None else pool + connect
    return aiohttp.ClientTimeout(total=None, connect=wait, sock_connect=connect, sock_read=read)


def _transport_error(exc: BaseException, request: httpx.Request, *, reading: bool) -> Exception:
    """The httpx exception httpx's own transport raises for the same failure.

    The message is redacted and carries no aiohttp object, so nothing of the request
    (its URL's query, its headers) travels with it.
    """
    import aiohttp

    message = redact(f"{type(exc).__name__}: {exc}")
    connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", None)  # aiohttp 3.10+
    if connect_timeout is not None and isinstance(exc, connect_timeout):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    if reading:
        return httpx.ReadError(message, request=request)
    return httpx.NetworkError(message, request=request)


class _Body(httpx.AsyncByteStream):
    """aiohttp's response body as httpx reads it; closing gives the connection back."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import aiohttp

        failure: Exception | None = None
        content = self._response.content
        try:
            while chunk := await content.readany():
                yield chunk
            self._finished = True
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = _transport_error(exc, self._request, reading=True)
        if failure is not None:
            raise failure

    async def aclose(self) -> None:
        if self._finished:
            self._response.release()  # read to the end: the connection can be reused
        else:
            self._response.close()  # unread bytes would corrupt the next response


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` sending through an ``aiohttp.ClientSession``.

    ``limit`` is the most connections open at once (per event loop), like httpx's
    ``max_connections``. Needs ``pip install 'carriers[aiohttp]'``.
    """

    def __init__(self, *, limit: int = 100) -> None:
        require("aiohttp", "carriers.AiohttpTransport")
        if not (isinstance(limit, int) and limit > 0):
            raise ValueError(f"limit must be a positive number of connections, not {limit!r}")
        self.limit = limit
        self._lock = threading.Lock()
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"AiohttpTransport(limit={self.limit})"

    def _session(self) -> aiohttp.ClientSession:
        import aiohttp

        loop = asyncio.get_running_loop()
        with self._lock:
            session = self._sessions.get(loop)
            if session is None or session.closed:
                session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=self.limit),
                    cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
                    auto_decompress=False,  # httpx decodes, the size limit counts
                    skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                )
                self._sessions[loop] = session
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        import yarl

        headers = request.headers
        code = headers.encoding  # what multi_items() decodes with, worked out once
        bodiless = "content-length" not in headers and "transfer-encoding" not in headers
        body = None if bodiless else await request.aread()
        phases = request.extensions.get("timeout") or {}
        timeout = _timeout(phases.get("connect"), phases.get("read"), phases.get("pool"))
        failure: Exception | None = None
        try:
            response = await self._session().request(
                request.method,
                yarl.URL(str(request.url), encoded=True),  # httpx encoded it already
                headers=[(key.decode(code), value.decode(code)) for key, value in headers.raw],
                data=body or None,
                allow_redirects=False,  # httpx follows them, through its guards
                timeout=timeout,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = _transport_error(exc, request, reading=False)
        if failure is not None:
            raise failure
        version = response.version
        extensions = {} if version is None else {"http_version": b"HTTP/%d.%d" % version}
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close the running loop's session (the others belong to their own loops)."""
        with self._lock:
            session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()
