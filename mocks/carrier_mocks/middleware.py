"""The outer layer of every mock: counts requests per operation and applies faults.

It sits in front of routing so a faulted request never reaches the business
rules (a 503 must not consume a daily key request). Besides the faults queued
through ``/__mock__/faults``, a request may ask for an outage itself with Prism's
header, ``Prefer: code=503`` (any 5xx): that one request is answered like an
injected fault of that status, so a test run reaches the documented 5xx bodies.
Routes served from the spec (``reads_prefer``) read ``Prefer`` themselves, after
checking the request, as Prism does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import anyio
import anyio.abc
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carrier_mocks.faults import Fault, FaultBook
from carrier_mocks.stats import Stats

__all__ = ["DROP_EXTENSION", "ConnectionDropped", "MockMiddleware"]

#: Scope extension a server sets to a callable that closes the request's connection.
DROP_EXTENSION = "carrier_mocks.drop"
#: How long to wait for the server to notice a dropped connection.
_DROP_GRACE_SECONDS = 5.0

RouteOf = Callable[[str, str], "str | None"]
FaultResponse = Callable[[str, Fault], Response]


class ConnectionDropped(ConnectionError):
    """Raised in-process, where there is no connection to drop, for a ``drop`` fault."""


class MockMiddleware:
    """Counts each request of a known route, then applies that route's next fault."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        route_of: RouteOf,
        stats: Stats,
        faults: FaultBook,
        fault_response: FaultResponse,
        reads_prefer: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.reads_prefer = reads_prefer
        self.route_of = route_of
        self.stats = stats
        self.faults = faults
        self.fault_response = fault_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        self.stats.hit(route)
        fault = self.faults.take(route)
        if fault is None and route not in self.reads_prefer:
            fault = _preferred_outage(scope)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay:
            receive, disconnected = await _wait(fault.delay, receive)
            if disconnected:
                return  # the client gave up waiting; nobody is left to answer
        if fault.drop:
            await _drop(scope, receive)
        elif fault.status is not None:
            await self.fault_response(route, fault)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


_PREFER_CODE = re.compile(rb"(?:^|[;,\s])code=(5[0-9][0-9])(?:$|[;,\s])")


def _preferred_outage(scope: Scope) -> Fault | None:
    """The 5xx a ``Prefer: code=5xx`` header asks for, as a one-off fault."""
    for name, value in scope["headers"]:
        if name == b"prefer":
            match = _PREFER_CODE.search(value)
            if match:
                return Fault(status=int(match.group(1)))
    return None


async def _wait(seconds: float, receive: Receive) -> tuple[Receive, bool]:
    """Sleep, but stop early if the client disconnects; True when it did.

    Watching for the disconnect reads the request's messages, so they are kept
    and replayed by the returned ``receive`` to whatever handles the request next.
    """
    buffered: list[Message] = []
    disconnected = False

    async def watch(group: anyio.abc.TaskGroup) -> None:
        nonlocal disconnected
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] == "http.disconnect":
                disconnected = True
                group.cancel_scope.cancel()
                return

    async def replay() -> Message:
        return buffered.pop(0) if buffered else await receive()

    async with anyio.create_task_group() as group:
        group.start_soon(watch, group)
        await anyio.sleep(seconds)
        group.cancel_scope.cancel()
    return replay, disconnected


async def _drop(scope: Scope, receive: Receive) -> None:
    close = scope.get("extensions", {}).get(DROP_EXTENSION)
    if close is None:
        raise ConnectionDropped("the mock dropped the connection (injected fault)")
    close()
    # Wait until the server has seen the connection go, so it does not answer instead.
    with anyio.move_on_after(_DROP_GRACE_SECONDS):
        while (await receive())["type"] != "http.disconnect":
            pass
