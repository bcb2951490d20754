"""Run a mock over real HTTP: uvicorn in a background thread, controlled over HTTP.

``serve()`` binds the socket itself, so a taken port fails at once with
:class:`PortInUseError` instead of a log line from a thread, and port 0 picks a
free one. The handle drives the mock only through its ``/__mock__`` routes,
exactly as a test in another process would.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
from carriers import registry
from carriers.extras import require

if TYPE_CHECKING:
    import uvicorn

    from carrier_mocks.fixtures import Fixtures

__all__ = ["HEADER_TIMEOUT_SECONDS", "MockServer", "MockServerError", "PortInUseError", "serve"]

#: Default time a connection gets to send complete request headers (see ``serve``).
HEADER_TIMEOUT_SECONDS = 10.0
_START_TIMEOUT_SECONDS = 10.0
_STOP_TIMEOUT_SECONDS = 10.0


class MockServerError(RuntimeError):
    """The mock server could not start or a control request failed."""


class PortInUseError(MockServerError):
    """The requested port is already taken."""


class MockServer:
    """A running mock: its URLs and its controls (clock, faults, stats, reset, revoke).

    ``api`` is the carrier's registry name; ``base_url`` is the API root under the
    mock's ``origin`` (Nova Post's ends in ``/v.1.0``, like the real servers).
    """

    def __init__(self, api: str, origin: str) -> None:
        self.api = api
        self.info = registry.get(api)
        self.origin = origin
        self.base_url = origin + self.info.mock_path
        self._control = httpx.Client(base_url=f"{origin}/__mock__", timeout=10.0)

    def __repr__(self) -> str:
        return f"MockServer(api={self.api!r}, base_url={self.base_url!r})"

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        response = self._control.request(method, route, json=body)
        if response.status_code != 200:
            raise MockServerError(f"{method} /__mock__{route}: {response.text}")
        return response.json()

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward by ``seconds``."""
        self._call("POST", "/clock", {"advance_seconds": seconds})

    def fault(
        self,
        route: str,
        *,
        count: int = 1,
        status: int | None = None,
        delay: float | None = None,
        drop: bool = False,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``count`` requests of ``route`` (``"GET /path"``) fail as asked."""
        body: dict[str, Any] = {"route": route, "count": count, "drop": drop}
        optional = {"status": status, "delay": delay, "retry_after": retry_after}
        body.update({name: value for name, value in optional.items() if value is not None})
        self._call("POST", "/faults", body)

    def stats(self) -> dict[str, int]:
        """Requests per operation since start or the last reset."""
        counts: dict[str, int] = self._call("GET", "/stats")
        return counts

    def reset(self) -> None:
        """Back to the fixtures, the real time, no faults, no valid tokens."""
        self._call("POST", "/reset")

    def revoke_tokens(self) -> None:
        """Invalidate every JWT issued so far."""
        self._call("POST", "/revoke")

    def close(self) -> None:
        self._control.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio only sets TCP_NODELAY on accepted sockets
    # whose proto says TCP, and without it every response whose headers and body are
    # written separately waits for the client's delayed ACK (about 40 ms on Linux).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"port {port} on {host} is already in use") from None
        raise MockServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _run(
    server: uvicorn.Server, sock: socket.socket, new_loop: Callable[[], asyncio.AbstractEventLoop]
) -> None:
    """Serve on a loop of the chosen kind, made for this server alone."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(server.serve(sockets=[sock]))


@contextmanager
def serve(
    api: str,
    *,
    fixtures: Fixtures | None = None,
    spec: Mapping[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    wrap: Callable[[Any], Any] | None = None,
    header_timeout: float = HEADER_TIMEOUT_SECONDS,
) -> Iterator[MockServer]:
    """Serve the mock of carrier ``api`` on ``host:port`` (0: a free port) for the block.

    ``api`` is a name of the carrier registry (``carriers.registry.names()``).
    ``spec`` replaces the spec the mock serves (default: the one its client ships),
    e.g. a spec vendored from more docs pages; every operation in it is served.
    ``wrap`` takes the ASGI app and returns the one to serve: a middleware that
    changes one behaviour, e.g. to check that the contract suite notices it.
    A connection that has not sent complete request headers ``header_timeout``
    seconds after opening or after its previous response is closed (with a 408
    if it sent part of a request), so slow clients cannot pin the server.
    """
    if not header_timeout > 0:
        raise ValueError("header_timeout must be a positive number of seconds")
    info = registry.get(api)
    require("mock", "the mock servers")
    import uvicorn

    from carrier_mocks._uvicorn import MockHttp, event_loop, loop_factory
    from carrier_mocks.appkit import error_response_of

    factory = info.mock_factory()
    app = factory(fixtures=fixtures) if spec is None else factory(fixtures=fixtures, spec=spec)
    mock_http = MockHttp(error_response_of(app), header_timeout)
    if wrap is not None:
        app = wrap(app)
    sock = _bind(host, port)
    config = uvicorn.Config(
        mock_http.app(app),
        http=mock_http.protocol,
        ws="none",  # HTTP only: no upgrade takes a connection out of the mock's protocol
        loop=event_loop(),  # uvloop where it imports, else asyncio (see _uvicorn.STACK)
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,  # request lines carry ?apiKey=
        proxy_headers=False,  # the IP allow-list must see the real peer
        server_header=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=_run, args=(server, sock, loop_factory()), name=f"carrier-mock-{api}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise MockServerError(f"the {api} mock did not start")
        time.sleep(0.01)
    handle = MockServer(api, _origin(host, sock.getsockname()[1]))
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(_STOP_TIMEOUT_SECONDS)
        sock.close()
