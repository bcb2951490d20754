"""Standalone servers that attack the transport: bombs, trickles, deep JSON, foreign origins.

Each ``*_server()`` function makes a fresh handler class (its own state) for
``serving.serve``. Every server issues tokens on both carriers' token routes, so a
facade pointed at it can mint, unless the test makes the token route the weapon.
"""

from __future__ import annotations

import functools
import gzip
import json
import secrets
import threading
import time
import zlib
from dataclasses import dataclass, field

from .serving import QuietHandler

__all__ = [
    "BOMB_INFLATED",
    "DEEP_JSON",
    "NP_TOKEN_PATH",
    "SH_TOKEN_PATH",
    "CarrierHandler",
    "Record",
    "bomb_server",
    "deep_json_server",
    "encode",
    "encoded_server",
    "gzip_bomb",
    "nested_bomb",
    "recording_server",
    "slow_server",
    "trickle_server",
]

NP_TOKEN_PATH = "/v.1.0/clients/authorization"
SH_TOKEN_PATH = "/api/Token/generate-from-apikey"
DEEP_JSON = b"[" * 100_000
"""Nested deeper than any recursive JSON parser allows."""
BOMB_INFLATED = 300 * 1024 * 1024


@functools.cache
def gzip_bomb() -> bytes:
    """About 300 KB of gzip that inflates to ``BOMB_INFLATED`` zero bytes (built in 1 MB steps)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(BOMB_INFLATED // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@functools.cache
def nested_bomb() -> bytes:
    """``gzip_bomb()`` gzipped again (``Content-Encoding: gzip, gzip``): about 1 KB."""
    return gzip.compress(gzip_bomb(), 9)


def encode(body: bytes, codings: tuple[str, ...]) -> tuple[bytes, str]:
    """``body`` with each coding applied in turn, and its ``Content-Encoding``.

    ``deflate-raw`` is deflate without the zlib framing, as some servers send it.
    """
    for coding in codings:
        if coding == "gzip":
            body = gzip.compress(body)
        elif coding == "deflate":
            body = zlib.compress(body)
        elif coding == "deflate-raw":
            raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            body = raw.compress(body) + raw.flush()
    names = ["deflate" if coding == "deflate-raw" else coding for coding in codings]
    return body, ", ".join(names)


@dataclass
class Record:
    """What a server saw: one (path, headers) pair per request, in order."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, headers: dict[str, str]) -> None:
        with self.lock:
            self.requests.append((path, headers))

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.requests]

    def headers_of(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [headers for seen, headers in self.requests if seen == path]


class CarrierHandler(QuietHandler):
    """Records every request, mints on the token routes, leaves the rest to ``answer()``."""

    record: Record

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # the client hung up between requests
            pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        self.record.add(path, {k.lower(): v for k, v in self.headers.items()})
        try:
            self.answer(path)
        except OSError:  # the client gave up: nothing to tell it
            self.close_connection = True

    def answer(self, path: str) -> None:
        if not self.mint(path):
            self.send_body(200, b"{}")

    def mint(self, path: str) -> bool:
        """Answer a token route with a fresh opaque token; False for any other path."""
        token = "tok-" + secrets.token_urlsafe(16)
        if path.endswith(NP_TOKEN_PATH):
            self.send_body(200, json.dumps({"jwt": token}).encode())
        elif path.endswith(SH_TOKEN_PATH):
            body = {"success": True, "data": token, "message": "ok", "errors": None}
            self.send_body(200, json.dumps(body).encode())
        else:
            return False
        return True


def _handler(base: type[CarrierHandler], **attributes: object) -> type[CarrierHandler]:
    return type(base.__name__, (base,), {"record": Record(), **attributes})


class _Recording(CarrierHandler):
    def answer(self, path: str) -> None:
        if path.endswith("/redirect"):
            target = self.path.split("to=", 1)[1]
            self.send_body(302, b"", Location=target)
        elif not self.mint(path):
            self.send_body(200, b"{}")


def recording_server() -> type[CarrierHandler]:
    """200 ``{}`` everywhere; ``/redirect?to=URL`` answers 302 to URL (unescaped)."""
    return _handler(_Recording)


class _DeepJSON(CarrierHandler):
    status: int
    on_token_route: bool

    def answer(self, path: str) -> None:
        if self.on_token_route or not self.mint(path):
            self.send_body(self.status, DEEP_JSON)


def deep_json_server(status: int, *, on_token_route: bool) -> type[CarrierHandler]:
    """``"[" * 100000`` with ``status``, on the token routes too when ``on_token_route``."""
    return _handler(_DeepJSON, status=status, on_token_route=on_token_route)


class _Bomb(CarrierHandler):
    status: int
    on_token_route: bool

    def answer(self, path: str) -> None:
        if self.on_token_route or not self.mint(path):
            extra = {"Location": "/elsewhere"} if 300 <= self.status < 400 else {}
            self.send_body(self.status, gzip_bomb(), Content_Encoding="gzip", **extra)


def bomb_server(status: int = 200, *, on_token_route: bool = False) -> type[CarrierHandler]:
    """A gzip body inflating to 300 MB, with ``status``, on every path but the token routes.

    A 3xx also points ``Location`` at ``/elsewhere`` (which is a bomb too).
    """
    return _handler(_Bomb, status=status, on_token_route=on_token_route)


class _Encoded(CarrierHandler):
    body: bytes
    encoding: str

    def answer(self, path: str) -> None:
        if not self.mint(path):
            extra = {"Content_Encoding": self.encoding} if self.encoding else {}
            self.send_body(200, self.body, **extra)


def encoded_server(body: bytes, encoding: str) -> type[CarrierHandler]:
    """A 200 with ``body`` as is and ``Content-Encoding: encoding`` (see ``encode``)."""
    return _handler(_Encoded, body=body, encoding=encoding)


class _Trickle(CarrierHandler):
    interval: float
    size: int

    def answer(self, path: str) -> None:
        if self.mint(path):
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(self.size))
        self.end_headers()
        for _ in range(self.size):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(self.interval)


def trickle_server(interval: float = 0.5, size: int = 40) -> type[CarrierHandler]:
    """A 200 whose ``size``-byte body comes one byte every ``interval`` seconds."""
    return _handler(_Trickle, interval=interval, size=size)


class _Slow(CarrierHandler):
    mint_delay: float
    delay: float
    status: int
    headers_out: dict[str, str]

    def answer(self, path: str) -> None:
        is_token_route = path.endswith((NP_TOKEN_PATH, SH_TOKEN_PATH))
        time.sleep(self.mint_delay if is_token_route else self.delay)
        if not self.mint(path):
            self.send_body(self.status, b"{}", **self.headers_out)


def slow_server(
    *, mint_delay: float = 0.0, delay: float = 0.0, status: int = 200, **headers: str
) -> type[CarrierHandler]:
    """Waits ``mint_delay`` before a token, ``delay`` before any other answer (``status``)."""
    return _handler(_Slow, mint_delay=mint_delay, delay=delay, status=status, headers_out=headers)
