"""Hostile servers for the secrets tests: they hand out odd tokens and echo secrets back.

Each is a small ``http.server`` handler of its own (see ``serving.serve``), shaped
like Nova Post (``/v.1.0/clients/authorization?apiKey=...`` mints) or Shipyo
(``/api/Token/generate-from-apikey``), so that the real facades, httpx and
httpcore run end to end.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from typing import Any, ClassVar

from .serving import QuietHandler

__all__ = ["ECHO_SHAPES", "EchoHandler", "TokenHandler", "fixed_handler"]

MINT_NP = "/v.1.0/clients/authorization"
MINT_SH = "/api/Token/generate-from-apikey"


def _echo(shape: str, key: str, token: str) -> tuple[int, bytes, dict[str, str]]:
    """An error response (status, body, headers) carrying ``key`` or ``token`` in ``shape``."""
    headers: dict[str, str] = {}
    body: Any = {"success": False, "errors": ["refused"]}
    if shape == "body-upper":
        body = {"success": False, "message": f"unknown key {key.upper()}"}
    elif shape == "body-json-escaped":
        # the message holds the JSON text of the key: escaped twice in the body
        body = {"success": False, "errors": [f"key was {json.dumps(key)}"], "echo": key}
    elif shape == "body-percent":
        body = {"message": "see " + urllib.parse.quote(key, safe="")}
    elif shape == "body-repr":
        body = {"detail": f"Bearer {token!r} / {key.encode()!r}"}
    elif shape == "body-html":
        text = f"<html><title>denied {html.escape(key.lower())}</title></html>"
        return 403, text.encode(), {"Content-Type": "text/html"}
    elif shape == "header-upper":
        headers["X-Echo-Key"] = key.upper()
    elif shape == "header-token":
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token" token="{token}"'
    elif shape == "request-id-header":
        headers["X-Request-Id"] = f"req-{key}"
    elif shape == "request-id-body":
        body = {"errors": ["no"], "requestId": key.swapcase()}
    else:
        raise AssertionError(f"unknown shape {shape}")
    return 422, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}


ECHO_SHAPES = (
    "body-upper",
    "body-json-escaped",
    "body-percent",
    "body-repr",
    "body-html",
    "header-upper",
    "header-token",
    "request-id-header",
    "request-id-body",
)
"""Ways ``EchoHandler`` answers ``GET /v.1.0/echo/<shape>``."""


class EchoHandler(QuietHandler):
    """Nova Post-like: mints ``token`` for the right key; ``/echo/<shape>`` echoes both back."""

    key: ClassVar[str] = ""
    token: ClassVar[str] = ""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == MINT_NP:
            sent = urllib.parse.parse_qs(url.query).get("apiKey", [""])[0]
            if sent != self.key:
                self.send_body(401, b'{"errors": ["bad key"]}')
            else:
                self.send_body(200, json.dumps({"jwt": self.token}).encode())
            return
        shape = url.path.rsplit("/", 1)[-1]
        status, body, headers = _echo(shape, self.key, self.token)
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class TokenHandler(QuietHandler):
    """Mints ``token`` (whatever it holds) for either API, and refuses every other call.

    A refusal quotes the ``Authorization`` header it got back, ``repr``-escaped.
    """

    token: ClassVar[str] = ""

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == MINT_NP:
            self.send_body(200, json.dumps({"jwt": self.token}).encode())
        elif path == MINT_SH:
            body = {"success": True, "data": self.token, "message": "ok", "errors": None}
            self.send_body(200, json.dumps(body).encode())
        else:
            quoted = repr(self.headers.get("Authorization"))
            self.send_body(400, json.dumps({"errors": [f"refused {quoted}"]}).encode())


def fixed_handler(status: int, body: bytes) -> type[QuietHandler]:
    """A server whose every answer is ``status`` with ``body`` (say, ``[`` * 100000)."""

    class Fixed(QuietHandler):
        def do_GET(self) -> None:
            self.send_body(status, body)

    return Fixed
