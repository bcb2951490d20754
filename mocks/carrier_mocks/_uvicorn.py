"""uvicorn's HTTP protocols, hardened for the clients a mock meets: broken, slow or hostile.

- Drop: ASGI has no message for "close the connection now"; an app that raises
  gets a 500 from uvicorn instead. Each request gets a callable (the
  :data:`~carrier_mocks.middleware.DROP_EXTENSION` scope extension) that closes
  the transport, which is what a ``drop`` fault needs.
- Protocol errors: a request the server cannot parse gets the API's JSON error
  body, not uvicorn's ``text/plain`` one, so clients see one error shape.
- Header deadline: request headers must be complete within ``header_timeout``
  of the connection opening or of the previous response. uvicorn's keep-alive
  timeout stops at the first byte received, so a client sending one header byte
  now and then (slowloris) would otherwise hold its connection forever.

Two protocols give these guarantees: one on httptools (llhttp, in C), run on
uvloop, which is the fast one; and one on h11 (pure Python), run on asyncio, for
where httptools or uvloop cannot be imported. :data:`STACK` says which serve; it
is worked out once, here, and :func:`mock_protocol` and :func:`event_loop` follow it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import h11
from starlette.responses import Response
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from carrier_mocks.appkit import ErrorResponse
from carrier_mocks.middleware import DROP_EXTENSION

__all__ = [
    "MAX_HEAD_BYTES",
    "STACK",
    "DroppableH11Protocol",
    "Stack",
    "event_loop",
    "loop_factory",
    "mock_protocol",
]

MAX_HEAD_BYTES = 16 * 1024
"""The largest request head (request line and headers) the httptools protocol reads.

h11's own limit (its ``max_incomplete_event_size``); llhttp has none, so without it
a client could make the server buffer one endless header.
"""


@dataclass(frozen=True)
class Stack:
    """What serves the mocks: an HTTP parser and an event loop."""

    http: Literal["httptools", "h11"]
    loop: Literal["uvloop", "asyncio"]


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def available_stack() -> Stack:
    """The fastest stack this interpreter can import: each part falls back on its own."""
    return Stack(
        http="httptools" if _importable("httptools") else "h11",
        loop="uvloop" if _importable("uvloop") else "asyncio",
    )


STACK = available_stack()
"""The stack ``serve()`` uses; tests may replace it to exercise the fallback."""


def event_loop() -> Literal["uvloop", "asyncio"]:
    """The ``loop`` setting of uvicorn's ``Config`` for :data:`STACK`."""
    return STACK.loop


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """New event loops of :data:`STACK`'s kind, for ``asyncio.Runner``.

    Each server gets its loop from here rather than from ``uvicorn.Server.run``:
    uvicorn releases before 0.36 install uvloop's policy for the whole process, so
    every later loop, an h11 server's included, would be a uvloop.
    """
    if STACK.loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def mock_protocol(error_response: ErrorResponse, header_timeout: float) -> type[asyncio.Protocol]:
    """The protocol for one served mock: its API's error shape and its header deadline."""
    base: type[_MockProtocol]
    if STACK.http == "httptools":
        base = DroppableHttpToolsProtocol
    else:
        base = DroppableH11Protocol

    class MockProtocol(base):  # type: ignore[valid-type,misc]
        def error_response(self, status: int, message: str) -> Response:
            return error_response(status, message)

    MockProtocol.header_timeout = header_timeout
    protocol: type[asyncio.Protocol] = MockProtocol
    return protocol


class _MockProtocol(asyncio.Protocol):
    """What both protocols add: the API's error shape and the deadline, set per mock."""

    header_timeout: ClassVar[float]

    def error_response(self, status: int, message: str) -> Response:
        """The API's error body; :func:`mock_protocol` supplies it."""
        raise NotImplementedError


class DroppableH11Protocol(H11Protocol, _MockProtocol):
    """uvicorn's h11 protocol plus the drop extension, JSON protocol errors, a header deadline.

    Use :func:`mock_protocol`, which sets the error shape and the deadline.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self._drop
            await inner(scope, receive, send)

        self.app = app
        self._waiting_since = 0.0
        self._header_timer: asyncio.TimerHandle | None = None

    def _drop(self) -> None:
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_since = self.loop.time()
        self._header_timer = self.loop.call_later(self.header_timeout, self._check_headers)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        # Only a timestamp per request: the timer is per connection and re-armed lazily.
        self._waiting_since = self.loop.time()
        super().on_response_complete()

    def _check_headers(self) -> None:
        """Close a connection still short of request headers at its deadline; else look again."""
        self._header_timer = None
        if self.transport.is_closing():
            return
        delay = self.header_timeout
        if self.conn.their_state is h11.IDLE:  # no request in flight: waiting for headers
            delay -= self.loop.time() - self._waiting_since
            if delay <= 0:
                if self.conn.trailing_data[0]:  # part of a request came: say why it ends
                    self._send_error(408, "Request headers not received in time")
                else:  # an idle connection: close it quietly, as keep-alive expiry does
                    self.timeout_keep_alive_handler()
                return
        self._header_timer = self.loop.call_later(delay, self._check_headers)

    def send_400_response(self, msg: str) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # A broken body of a request the app is handling: the app must not answer too.
            cycle.disconnected = True
            cycle.message_event.set()
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._send_error(400, "Invalid HTTP request")
        else:  # our answer has begun or ended already: nothing sensible left to send
            self.transport.close()

    def _send_error(self, status: int, message: str) -> None:
        """Answer in the API's error shape and close; for requests no app ever sees."""
        response = self.error_response(status, message)
        headers = [*response.raw_headers, (b"connection", b"close")]
        events = (
            h11.Response(status_code=status, headers=headers, reason=STATUS_PHRASES[status]),
            h11.Data(data=bytes(response.body)),
            h11.EndOfMessage(),
        )
        self.transport.write(b"".join(self.conn.send(event) or b"" for event in events))
        self.transport.close()


if STACK.http == "httptools":
    import httptools
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

    class DroppableHttpToolsProtocol(HttpToolsProtocol, _MockProtocol):
        """uvicorn's httptools protocol with the guarantees of :class:`DroppableH11Protocol`.

        llhttp is more lenient than h11 in two ways the mock must not be, so this
        protocol also refuses what h11 refuses there: an HTTP/1.1 request without
        exactly one Host header, and a request head over :data:`MAX_HEAD_BYTES`.
        Requests pipelined before a broken one are answered first, then the 400.
        Use :func:`mock_protocol`, which sets the error shape and the deadline.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._waiting_since = 0.0
            self._header_timer: asyncio.TimerHandle | None = None
            self._in_head = False  # a request head has begun and is not complete
            self._in_body = False  # a head is complete, the rest of its message is not
            self._head_bytes = 0  # bytes read since that head began (see data_received)
            self._fresh_head = False  # a head began in the current read
            self._body_bytes = 0  # body bytes of the current read
            self._broken = False  # a protocol error ended the request stream
            self._owed_error = False  # its 400 waits for the answers owed before it

        def _drop(self) -> None:
            self.transport.close()

        # -- per request: as little as possible -------------------------------------------

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.scope["extensions"] = {DROP_EXTENSION: self._drop}  # type: ignore[dict-item]
            self._in_head = True
            self._fresh_head = True
            self._head_bytes = 0

        def on_headers_complete(self) -> None:
            hosts = 0
            for name, _ in self.headers:
                if name == b"host":
                    hosts += 1
            if hosts > 1 or (hosts == 0 and self.parser.get_http_version() == "1.1"):
                # as h11 (RFC 9112 section 3.2): raised here, it ends in send_400_response
                raise httptools.HttpParserError("one Host header is needed")
            self._in_head = False
            self._in_body = True
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            self._body_bytes += len(body)
            super().on_body(body)

        def on_message_complete(self) -> None:
            self._in_body = False
            super().on_message_complete()

        def on_response_complete(self) -> None:
            # Only a timestamp per request: the timer is per connection and re-armed lazily.
            self._waiting_since = self.loop.time()
            if self._owed_error and not self.pipeline:  # the last answer owed before the 400
                self._owed_error = False
                super().on_response_complete()
                if not self.transport.is_closing():
                    self._send_error(400, "Invalid HTTP request")
                return
            super().on_response_complete()

        def data_received(self, data: bytes) -> None:
            if self._broken:  # the stream is unusable past a protocol error: ignore the rest
                return
            self._fresh_head = False
            self._body_bytes = 0
            super().data_received(data)
            if self._in_head and not self._broken:
                # A head that began in an earlier read counts whole reads; one that began in
                # this read counts this read less the bodies in it, which may overstate it by
                # the head of a request pipelined before it: never by more than one read.
                self._head_bytes += len(data) - self._body_bytes if self._fresh_head else len(data)
                if self._head_bytes > MAX_HEAD_BYTES:
                    self.send_400_response("Request head too large")

        # -- per connection ---------------------------------------------------------------

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._waiting_since = self.loop.time()
            self._header_timer = self.loop.call_later(self.header_timeout, self._check_headers)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

        def _answering(self) -> bool:
            """Whether a request of this connection still awaits its answer.

            uvicorn answers one request at a time: with none queued, the latest is the one
            being answered, unless a protocol error disconnected it.
            """
            cycle = self.cycle
            if self.pipeline:
                return True
            return cycle is not None and not cycle.response_complete and not cycle.disconnected

        def _check_headers(self) -> None:
            """Close a connection still short of request headers at its deadline; else look."""
            self._header_timer = None
            if self.transport.is_closing() or self._broken:
                return
            delay = self.header_timeout
            if not self._in_body and not self._answering():  # waiting for a request's headers
                delay -= self.loop.time() - self._waiting_since
                if delay <= 0:
                    if self._in_head:  # part of a request came: say why it ends
                        self._broken = True
                        self._send_error(408, "Request headers not received in time")
                    else:  # an idle connection: close it quietly, as keep-alive expiry does
                        self.timeout_keep_alive_handler()
                    return
            self._header_timer = self.loop.call_later(delay, self._check_headers)

        def send_400_response(self, msg: str) -> None:
            self._broken = True
            # The request the bad bytes belong to: the latest one while its body is read,
            # otherwise a new one no app has seen.
            cycle = self.cycle if self._in_body else None
            queued = False
            if cycle is not None and not cycle.response_complete:
                # A broken body of a request the app is handling: the app must not answer too.
                cycle.disconnected = True
                cycle.message_event.set()
                for entry in [entry for entry in self.pipeline if entry[0] is cycle]:
                    self.pipeline.remove(entry)  # not started yet: never start it
                    queued = True  # so an earlier request is being answered
            if cycle is not None and cycle.response_started:
                # Our answer has begun or ended already: nothing sensible left to send.
                self.transport.close()
            elif queued or self._answering():
                self._owed_error = True  # after the answers to the requests before it
            else:
                self._send_error(400, "Invalid HTTP request")

        def _send_error(self, status: int, message: str) -> None:
            """Answer in the API's error shape and close; for requests no app ever sees."""
            response = self.error_response(status, message)
            head = [STATUS_LINE[status]]
            for name, value in response.raw_headers:
                head += [name, b": ", value, b"\r\n"]
            head.append(b"connection: close\r\n\r\n")
            self.transport.write(b"".join(head) + bytes(response.body))
            self.transport.close()
