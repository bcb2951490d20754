"""The HTTP side of the mock servers: which stack serves, and what it guarantees.

uvicorn serves the mocks; :class:`MockHttp` gives it, for one mock, the protocol
class to run (``Config(http=...)``) and the app to call, and with them the
guarantees a mock needs against clients that are broken, slow or hostile:

- Drop: ASGI has no message for "close the connection now"; an app that raises
  gets a 500 from uvicorn instead. Each request gets a callable (the
  :data:`~carrier_mocks.middleware.DROP_EXTENSION` scope extension) that closes
  the connection, which is what a ``drop`` fault needs.
- Protocol errors: a request the server cannot parse gets the API's JSON error
  body, not uvicorn's ``text/plain`` one, so clients see one error shape.
- Header deadline: request headers must be complete within ``header_timeout``
  of the connection opening or of the previous response. uvicorn's keep-alive
  timeout stops at the first byte received, so a client sending one header byte
  now and then (slowloris) would otherwise hold its connection forever.

They hold on both stacks: httptools (llhttp, in C) on uvloop, which is the fast
one; and h11 (pure Python) on asyncio, for where httptools or uvloop cannot be
imported. :data:`STACK` says which serves; it is worked out once, here, and
:class:`MockHttp` and :func:`event_loop` follow it. uvicorn's protocols are used
through public interfaces only: the connection (:mod:`carrier_mocks._connection`)
wraps the one uvicorn would run, rather than subclassing it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

from carrier_mocks._connection import Connection, Settings, address
from carrier_mocks._framing import CountingFraming, Framing
from carrier_mocks.appkit import ErrorResponse
from carrier_mocks.middleware import DROP_EXTENSION

__all__ = ["STACK", "MockHttp", "Stack", "event_loop", "loop_factory"]


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


class MockHttp:
    """The HTTP side of one served mock: the protocol class uvicorn runs, the app it calls.

    ``protocol`` is a :class:`~carrier_mocks._connection.Connection` wrapping the
    protocol uvicorn itself would run for ``http="httptools"`` or ``http="h11"`` (as
    :data:`STACK` says), with the API's error shape and the header deadline;
    :meth:`app` wraps the mock's app so that each request finds its connection.
    """

    def __init__(self, error_response: ErrorResponse, header_timeout: float) -> None:
        protocol: Callable[..., asyncio.Protocol]
        framing: Callable[[], Framing]
        if STACK.http == "httptools":
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

            from carrier_mocks._llhttp import LlhttpFraming

            protocol, framing = HttpToolsProtocol, LlhttpFraming
        else:
            from uvicorn.protocols.http.h11_impl import H11Protocol

            protocol, framing = H11Protocol, CountingFraming
        check_host = STACK.http == "httptools"  # h11 refuses a missing or second Host itself
        self.settings = Settings(protocol, framing, error_response, header_timeout, check_host)
        self.protocol: type[asyncio.Protocol] = type(
            "MockConnection", (Connection,), {"settings": self.settings}
        )

    def app(self, app: ASGIApp) -> ASGIApp:
        """``app``, each request begun and ended by its connection.

        The connection gives the request its drop extension, counts it, and may
        answer it itself (a stream broken in it, two Host headers).
        """
        by_address = self.settings.by_address

        async def served(scope: Scope, receive: Receive, send: Send) -> None:
            # uvicorn gives both addresses as tuples, as the connection's key holds them
            key = (scope.get("server"), scope.get("client"))
            try:
                connection = by_address.get(key)
            except TypeError:  # lists, from another server: not hashable as they are
                connection = by_address.get((address(key[0]), address(key[1])))
            if connection is not None:
                try:
                    await connection.begin(app, scope, receive, send)
                finally:
                    connection.end()
                return
            if scope["type"] == "http":
                # gone already (the client left before its request was run): nothing to drop
                scope.setdefault("extensions", {})[DROP_EXTENSION] = _gone
            await app(scope, receive, send)

        return served


def _gone() -> None:
    """The drop of a request whose connection is closed already."""
