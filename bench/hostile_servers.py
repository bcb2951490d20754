"""A small standalone server that misbehaves on purpose, for the hostile section.

The mocks never send a gzip bomb or a JWT with ``exp: 10**400``, so this one is
written from scratch on stdlib ``http.server``, served from a thread. It issues
tokens on every registered carrier's token route (the body is the one the
carrier's mock sends, with this server's JWT in it) unless told to answer them
otherwise, answers other paths as its ``Script`` says, and records every request.
"""

from __future__ import annotations

import base64
import functools
import secrets
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.apis import CARRIERS, BenchCarrier

__all__ = [
    "BOMB_INFLATED",
    "DEEP_JSON",
    "Answer",
    "Script",
    "Served",
    "gzip_bomb",
    "jwt_with_exp",
    "serve",
]

DEEP_JSON = b"[" * 100_000
"""Nested deeper than any recursive JSON parser allows."""
BOMB_INFLATED = 300 * 1024 * 1024
_MIB = 1024 * 1024
_STOP_SECONDS = 5.0


@functools.cache
def gzip_bomb(inflated: int = BOMB_INFLATED) -> bytes:
    """About a thousandth of ``inflated`` in gzip that inflates to ``inflated`` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(_MIB)
    parts = [compressor.compress(block) for _ in range(inflated // _MIB)]
    return b"".join([*parts, compressor.flush()])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_with_exp(exp: bytes) -> str:
    """A JWT whose ``exp`` is the raw JSON text given (``10**400`` written out, ``1e308``)."""
    header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    claims = b'{"sub":"hostile","jti":"' + secrets.token_hex(8).encode() + b'","exp":' + exp + b"}"
    return f"{header}.{_b64(claims)}.{_b64(secrets.token_bytes(32))}"


@dataclass(frozen=True)
class Answer:
    """A canned answer: status, body and extra headers (``Content-Length`` is added)."""

    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Script:
    """How the server behaves.

    ``token``: the answer of every token route (None: a fresh JWT whose ``exp`` is
    ``exp``, the raw JSON text). ``token_delay``: seconds a mint waits before its
    answer. ``overlap``: seconds a mint waits for a second one to arrive, so that two
    flights in parallel are both counted. ``answers``: by path; ``default`` otherwise.
    """

    token: Answer | None = None
    exp: bytes | None = None
    token_delay: float = 0.0
    overlap: float = 0.0
    answers: dict[str, Answer] = field(default_factory=dict)
    default: Answer = Answer()


class Served:
    """A running server: its origin, its script, and what it saw."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.origin = ""
        self.mints = 0
        self.issued: list[str] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.condition = threading.Condition()
        self.stopping = threading.Event()
        self._carriers: dict[str, BenchCarrier] = {c.token_path: c for c in CARRIERS}

    def base_url(self, carrier: BenchCarrier) -> str:
        """The base URL a facade of ``carrier`` uses to reach this server."""
        return self.origin + carrier.info.mock_path

    def headers_of(self, path: str) -> list[dict[str, str]]:
        """The headers (lower-case names) of each request to ``path``, in order."""
        with self.condition:
            return [headers for seen, headers in self.requests if seen == path]

    def paths(self) -> list[str]:
        with self.condition:
            return [path for path, _ in self.requests]

    def answer(self, path: str, headers: dict[str, str]) -> Answer:
        """Record the request; the answer to send, after any scripted wait."""
        with self.condition:
            self.requests.append((path, headers))
        carrier = self._carriers.get(path)
        if carrier is None:
            return self.script.answers.get(path, self.script.default)
        return self._mint(carrier)

    def _mint(self, carrier: BenchCarrier) -> Answer:
        script = self.script
        with self.condition:
            self.mints += 1
            self.condition.notify_all()
            if script.overlap:
                self.condition.wait_for(lambda: self.mints >= 2, timeout=script.overlap)
        if script.token_delay:
            self.stopping.wait(script.token_delay)
        if script.token is not None:
            return script.token
        exp = script.exp if script.exp is not None else str(int(time.time()) + 3600).encode()
        token = jwt_with_exp(exp)
        with self.condition:
            self.issued.append(token)
        response = carrier.token_response(token)
        kept = tuple((k, v) for k, v in response.headers.items() if k.lower() == "content-type")
        return Answer(response.status_code, response.content, kept)


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Silent: request lines may carry keys."""

        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionError:  # the client hung up between requests
                pass

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            answer = served.answer(path, {k.lower(): v for k, v in self.headers.items()})
            try:
                self.send_response(answer.status)
                names = {name.lower() for name, _ in answer.headers}
                if "content-type" not in names:
                    self.send_header("Content-Type", "application/json")
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:  # the client gave up: nothing to tell it
                self.close_connection = True

    return Handler


@contextmanager
def serve(script: Script) -> Iterator[Served]:
    """Serve ``script`` on a free loopback port for the block."""
    for carrier in CARRIERS:
        carrier.recording  # noqa: B018 -- the mock's token answer, recorded before serving
    served = Served(script)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield served
    finally:
        served.stopping.set()  # wakes the mints still waiting
        server.shutdown()
        server.server_close()
        thread.join(_STOP_SECONDS)
