"""Standalone token servers for the auth flow: failing, slow, odd ``exp``, counting, recording.

``token_server(route)`` makes a handler class for ``serving.serve`` that records
every request (path and headers), answers both carriers' token routes as
``route`` says and any other path with 200. The tests read the counts from ``route``,
so that they count requests rather than measure time.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field

from .serving import QuietHandler

__all__ = [
    "NP_TOKEN_PATH",
    "SH_TOKEN_PATH",
    "TokenRoute",
    "odd_jwt",
    "token_server",
]

NP_TOKEN_PATH = "/v.1.0/clients/authorization"
SH_TOKEN_PATH = "/api/Token/generate-from-apikey"
_TOKEN_PATHS = (NP_TOKEN_PATH, SH_TOKEN_PATH)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def odd_jwt(exp: bytes) -> str:
    """A JWT whose payload has ``exp`` as the raw JSON text given (``1e308``, ``NaN``...)."""
    header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    payload = _b64(
        b'{"sub":"hostile","ref":"' + secrets.token_hex(8).encode() + b'","exp":' + exp + b"}"
    )
    return f"{header}.{payload}.{_b64(secrets.token_bytes(32))}"


@dataclass
class TokenRoute:
    """How the token route behaves, and what the server saw.

    ``status``: the token route's answer (200 issues a token). ``exp``: the raw JSON
    ``exp`` of issued tokens (None: a plain opaque token). ``hold``: when given, the
    token route answers only once it is set. ``overlap``: seconds an answer waits for
    another mint request to arrive, so that two flights in parallel are both seen.
    ``refusal``: the size of a 401 body sent to the first other request (0: none);
    ``refusal_sent`` counts the bytes of it that the client let through.
    """

    status: int = 200
    exp: bytes | None = None
    hold: threading.Event | None = None
    overlap: float = 0.0
    refusal: int = 0
    refusal_sent: int = 0
    mints: int = 0
    issued: list[str] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_mints(self, count: int, timeout: float = 30.0) -> bool:
        """Block until ``count`` mint requests have arrived (False on timeout)."""
        with self.condition:
            return self.condition.wait_for(lambda: self.mints >= count, timeout=timeout)

    def headers_seen(self, path: str) -> list[dict[str, str]]:
        """The headers (lower-case names) of the requests to ``path``, in order."""
        with self.condition:
            return [headers for seen, headers in self.seen if seen == path]


def token_server(route: TokenRoute) -> type[QuietHandler]:
    """A handler class serving ``route`` (one class per server: its state is ``route``)."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            with route.condition:
                route.seen.append((path, {k.lower(): v for k, v in self.headers.items()}))
            if path in _TOKEN_PATHS:
                self._mint(shipyo=path == SH_TOKEN_PATH)
                return
            if route.refusal and not route.refusal_sent:
                self._refuse()
                return
            self.send_body(200, json.dumps({"ok": True, "path": path}).encode())

        def _refuse(self) -> None:
            """A 401 whose body is written until the client hangs up."""
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(route.refusal))
            self.end_headers()
            block = b" " * (64 * 1024)
            try:
                while route.refusal_sent < route.refusal:
                    self.wfile.write(block)
                    route.refusal_sent += len(block)
            except OSError:
                pass
            self.close_connection = True

        def _mint(self, *, shipyo: bool) -> None:
            with route.condition:
                route.mints += 1
                route.condition.notify_all()
                if route.overlap:
                    route.condition.wait_for(lambda: route.mints >= 2, timeout=route.overlap)
            if route.hold is not None:
                route.hold.wait(timeout=20)
            if route.status != 200:
                error = {"errors": {"": "token service unavailable"}}
                self.send_body(route.status, json.dumps(error).encode())
                return
            token = (
                "opaque-" + secrets.token_urlsafe(24) if route.exp is None else odd_jwt(route.exp)
            )
            with route.condition:
                route.issued.append(token)
            body = {"success": True, "data": token, "message": "ok"} if shipyo else {"jwt": token}
            self.send_body(200, json.dumps(body).encode())

    return Handler
