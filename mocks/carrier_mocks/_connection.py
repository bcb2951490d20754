"""One client connection of a mock: uvicorn's HTTP protocol inside, the mock's guarantees around.

:class:`Connection` is the ``asyncio.Protocol`` uvicorn is given as its ``http``
protocol class. It builds the protocol uvicorn would have run itself (``H11Protocol``
or ``HttpToolsProtocol``) from the same arguments, passes the transport's events on
to it, and hands it a :class:`ProxyTransport` of its own, through which everything
uvicorn writes goes. Only public interfaces are involved: asyncio's ``Protocol``
and ``Transport``, and ASGI, since every request's app is started by
:meth:`Connection.begin` and its end reported to :meth:`Connection.end` (see
:class:`~carrier_mocks._uvicorn.MockHttp`, which finds a request's connection by its
scope's ``server`` and ``client`` addresses). uvicorn's protocol objects are never
looked into. From there:

- Drop: a request's scope gets :meth:`Connection.drop` as the
  :data:`~carrier_mocks.middleware.DROP_EXTENSION`; it closes the real transport.
- Protocol errors: uvicorn answers bytes it cannot parse with a ``400 text/plain``
  it writes itself. The proxy recognises it, keeps it from the client, and the
  connection answers in the API's error shape instead, once the answers owed to
  the requests before the broken one are out.
- Header deadline: a timer per connection, from the stream as its
  :class:`~carrier_mocks._framing.Framing` follows it.

Requests are numbered from 1 in the order their apps start, which is the order
uvicorn reads them and answers them in.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import h11
from starlette.types import ASGIApp, Receive, Scope, Send

from carrier_mocks._framing import Framing
from carrier_mocks.appkit import ErrorResponse
from carrier_mocks.middleware import DROP_EXTENSION

__all__ = ["Address", "Connection", "ProxyTransport", "Settings", "address"]

Address = tuple[str, int]

_UVICORN_400 = b"HTTP/1.1 400 "
"""How uvicorn's own answer to an unparsable request begins (both protocols): 13 bytes."""
_INTERIM = b"HTTP/1.1 1"
"""How an interim answer (``100 Continue``) begins: it comes before an answer's head."""


def address(info: object) -> Address | None:
    """``(host, port)`` of a socket address, as ASGI's ``server`` and ``client`` give it."""
    if isinstance(info, tuple | list) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None


@dataclass(frozen=True)
class Settings:
    """What the connections of one served mock share."""

    protocol: Callable[..., asyncio.Protocol]
    """uvicorn's protocol class for the stack: what uvicorn would run for its ``http``."""
    framing: Callable[[], Framing]
    error_response: ErrorResponse
    header_timeout: float
    check_host: bool
    """Whether to refuse a request without exactly one Host header (llhttp does not)."""
    by_address: dict[tuple[Address | None, Address | None], Connection] = field(
        default_factory=dict
    )
    """The open connections, by (server, client) address: how a request finds its own."""


class Connection(asyncio.Protocol):
    """uvicorn's protocol for one connection, wrapped: drop, JSON protocol errors, a deadline.

    Give uvicorn a subclass whose :attr:`settings` are set
    (:class:`~carrier_mocks._uvicorn.MockHttp` does).
    """

    settings: ClassVar[Settings]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = self.settings
        self.protocol = settings.protocol(*args, **kwargs)  # uvicorn's, with uvicorn's arguments
        self.framing = settings.framing()
        self.loop = asyncio.get_running_loop()
        self.now = self.loop.time
        self.dropper = self.drop  # one bound method for all the connection's requests
        self.transport: asyncio.Transport | None = None  # the real one, once connected
        self.key: tuple[Address | None, Address | None] = (None, None)
        self.started = 0  # requests whose app has started
        self.finished = 0  # requests whose app has ended (its answer, if any, is out)
        self.head_due = False  # the latest started app has not written its answer's head
        self.receiving = False  # uvicorn's protocol is handling received bytes
        self.closed = False  # the real transport is closing, or closed
        self.broken_at: int | None = None  # the request the stream broke in, if it broke
        self.waiting_since = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # -- the transport's events, passed on -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        real = cast(asyncio.Transport, transport)
        self.transport = real
        server, client = real.get_extra_info("sockname"), real.get_extra_info("peername")
        self.key = (address(server), address(client))
        self.settings.by_address[self.key] = self
        self.protocol.connection_made(ProxyTransport(self, real))
        self.waiting_since = self.loop.time()
        self.timer = self.loop.call_later(self.settings.header_timeout, self.check_headers)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.settings.by_address.get(self.key) is self:
            del self.settings.by_address[self.key]
        self.protocol.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.broken_at is not None:  # the stream is unusable past a protocol error
            return
        breaks = self.framing.feed(data)
        self.receiving = True
        try:
            self.protocol.data_received(data)
        except h11.LocalProtocolError:
            # uvicorn's h11 protocol, answering a request broken after its answer began,
            # has h11 refuse a second answer: nothing sensible is left to send.
            self.protocol_error(answer=False)
        finally:
            self.receiving = False
        if breaks:  # what uvicorn does not refuse itself (httptools: a head too large)
            self.protocol_error()

    def eof_received(self) -> bool | None:
        return self.protocol.eof_received()

    def pause_writing(self) -> None:
        self.protocol.pause_writing()

    def resume_writing(self) -> None:
        self.protocol.resume_writing()

    # -- requests --------------------------------------------------------------------------

    def drop(self) -> None:
        """Close the connection without an answer: the ``drop`` fault."""
        self.close()

    def close(self) -> None:
        """Close the real transport: uvicorn's protocol learns it from ``connection_lost``."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def begin(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """What to run for the next request of this connection: ``app``, as a rule.

        Its end goes to :meth:`end`, whether it answered or not: when it did not,
        uvicorn closes the connection (after its 500, or at once).
        """
        self.started += 1
        self.head_due = True
        extensions = scope.get("extensions")
        if extensions is None:
            scope["extensions"] = {DROP_EXTENSION: self.dropper}
        else:
            extensions[DROP_EXTENSION] = self.dropper
        if self.broken_at is not None and self.started >= self.broken_at:
            return _disconnected(receive)  # the stream broke in it: the connection answers
        if self.settings.check_host:
            hosts = 0
            for name, _ in scope["headers"]:
                if name == b"host":
                    hosts += 1
            if hosts != 1 and (hosts or scope["http_version"] == "1.1"):  # RFC 9112 3.2
                return self._refuse(send)
        return app(scope, receive, send)

    def end(self) -> None:
        """A request's app ended: the deadline restarts, an answer owed may follow."""
        self.finished += 1
        self.waiting_since = self.now()
        if self.finished == self.started:
            self.framing.idle()
        if self.broken_at is not None:
            self._settle()

    async def _refuse(self, send: Send) -> None:
        response = self.settings.error_response(400, "Invalid HTTP request")
        headers = [*response.raw_headers, (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(response.body)})

    # -- protocol errors -------------------------------------------------------------------

    def protocol_error(self, *, answer: bool = True) -> None:
        """The request stream broke: answer the broken request, then close; or just close.

        Just close when the broken request's answer has begun or ended (a second one
        would corrupt it); otherwise its 400 follows the answers owed before it.
        """
        if self.broken_at is not None:
            return
        running = self.started > self.finished
        began = running and not self.head_due  # the latest started app has begun its answer
        broken = self.framing.broken_request(self.started, running, began)
        self.broken_at = broken
        if not answer or broken <= self.finished or (broken == self.started and began):
            self.close()
        else:
            self._settle()

    def _settle(self) -> None:
        """Once the apps of the requests before the broken one ended: its 400, and close."""
        assert self.broken_at is not None
        if self.finished >= self.broken_at - 1 and not self.closed:
            self._answer(400, "Invalid HTTP request")

    def _answer(self, status: int, message: str) -> None:
        """Answer in the API's error shape and close; for requests no app answers."""
        assert self.transport is not None
        if self.transport.is_closing():
            return
        response = self.settings.error_response(status, message)
        head = [b"HTTP/1.1 %d %s\r\n" % (status, http.HTTPStatus(status).phrase.encode())]
        for name, value in response.raw_headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + bytes(response.body))
        self.close()

    # -- the header deadline ---------------------------------------------------------------

    def check_headers(self) -> None:
        """Close a connection still short of request headers at its deadline; else look again."""
        self.timer = None
        if self.transport is None or self.transport.is_closing() or self.broken_at is not None:
            return
        delay = self.settings.header_timeout
        if self.framing.waiting(self.started, self.finished):
            delay -= self.loop.time() - self.waiting_since
            if delay <= 0:
                if self.framing.partial():  # part of a request came: say why it ends
                    self.broken_at = self.finished + 1
                    self._answer(408, "Request headers not received in time")
                else:  # an idle connection: close it quietly, as keep-alive expiry does
                    self.close()
                return
        self.timer = self.loop.call_later(delay, self.check_headers)


async def _disconnected(receive: Receive) -> None:
    """Wait until the server sees the connection go."""
    while (await receive())["type"] != "http.disconnect":
        pass


class ProxyTransport(asyncio.Transport):
    """The transport uvicorn's protocol writes to: the real one, less uvicorn's own 400.

    An app's answer head is the first write after the app starts (an interim
    ``100 Continue`` aside). uvicorn's 400 is a head written otherwise: while it
    handles received bytes, or (h11, for a request read once the one before is
    answered) after the answer of the latest app. uvicorn closes after it; the proxy
    passes the error to its :class:`Connection` instead, and leaves the closing to
    it (which may first let earlier requests be answered).
    """

    def __init__(self, connection: Connection, real: asyncio.Transport) -> None:
        super().__init__()
        self.connection = connection
        self.real = real
        self.swallowing = False  # uvicorn's 400 is being written

    def write(self, data: bytes | bytearray | memoryview) -> None:
        connection = self.connection
        if self.swallowing or connection.closed:
            return
        if connection.head_due and not connection.receiving:
            if data[:10] != _INTERIM:
                connection.head_due = False
        elif data[:13] == _UVICORN_400:
            self.swallowing = True
            connection.protocol_error()
            return
        self.real.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        if self.swallowing:  # the close after uvicorn's 400: the connection decides when
            self.swallowing = False
            return
        self.connection.close()

    def is_closing(self) -> bool:
        return self.real.is_closing()

    def abort(self) -> None:
        self.connection.closed = True
        self.real.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.real.get_extra_info(name, default)

    def pause_reading(self) -> None:
        if not self.real.is_closing():
            self.real.pause_reading()

    def resume_reading(self) -> None:
        if not self.real.is_closing():
            self.real.resume_reading()

    def is_reading(self) -> bool:
        return self.real.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.real.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self.real.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.real.get_write_buffer_limits()

    def can_write_eof(self) -> bool:
        return self.real.can_write_eof()

    def write_eof(self) -> None:
        self.real.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.real.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.real.get_protocol()
