"""uvicorn's h11 protocol, hardened for the clients a mock meets: broken, slow or hostile.

- Drop: ASGI has no message for "close the connection now"; an app that raises
  gets a 500 from uvicorn instead. Each request gets a callable (the
  :data:`~carrier_mocks.middleware.DROP_EXTENSION` scope extension) that closes
  the transport, which is what a ``drop`` fault needs.
- Protocol errors: a request h11 cannot parse gets the API's JSON error body,
  not uvicorn's ``text/plain`` one, so clients see one error shape.
- Header deadline: request headers must be complete within ``header_timeout``
  of the connection opening or of the previous response. uvicorn's keep-alive
  timeout stops at the first byte received, so a client sending one header byte
  now and then (slowloris) would otherwise hold its connection forever.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import h11
from starlette.responses import Response
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from carrier_mocks.appkit import ErrorResponse
from carrier_mocks.middleware import DROP_EXTENSION

__all__ = ["DroppableH11Protocol", "mock_protocol"]


class DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the drop extension, JSON protocol errors, a header deadline.

    Use :func:`mock_protocol`, which sets the error shape and the deadline.
    """

    header_timeout: ClassVar[float]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self._drop
            await inner(scope, receive, send)

        self.app = app
        self._waiting_since = 0.0
        self._header_timer: asyncio.TimerHandle | None = None

    def error_response(self, status: int, message: str) -> Response:
        """The API's error body; :func:`mock_protocol` supplies it."""
        raise NotImplementedError

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


def mock_protocol(error_response: ErrorResponse, header_timeout: float) -> type[H11Protocol]:
    """The protocol for one served mock: its API's error shape and its header deadline."""

    class MockProtocol(DroppableH11Protocol):
        def error_response(self, status: int, message: str) -> Response:
            return error_response(status, message)

    MockProtocol.header_timeout = header_timeout
    return MockProtocol
