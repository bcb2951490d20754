"""Correct servers written from the docs' words alone, unlike the mock in every way the docs allow.

The contract suite must pass each of them in every run: a failure here is a false
alarm of the suite, not a bug of the server. They share no code with the mocks and
differ from them on purpose:

- ``NovaPostStdlib``: stdlib ``http.server``; ``Content-Type: application/json;
  charset=utf-8``; HS512 JWTs with claims the mock never sends (``sub``, ``scope``);
  keys like ``NPK-5F2A...`` (upper case, dashes); 422 for an empty ``apiKey``.
- ``NovaPostAsgi``: a bare ASGI callable (no Starlette) under uvicorn; HS384 JWTs
  with a ``kid`` header; ``application/json;charset=UTF-8``; a repeat of
  ``POST /test-api-keys`` the same day returns the same key; every phone of the
  docs' format belongs to a client, so 404 never happens.
- ``ShipyoStdlib``: the envelope with Italian messages, ``errors`` omitted on
  success (the spec allows it), JWTs with ``iss``/``tenant`` claims and a 20-minute
  lifetime, rate-limit headers on every 200, 401 for a missing or empty key and
  403 for any unknown one.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import jwt
import uvicorn

from tests.hostile.serving import QuietHandler, serve

__all__ = ["CORRECT_SERVERS", "RULE_BREAKERS", "CorrectServer", "run_suite"]

PHONE = re.compile(r"49[0-9]{9,10}")
DOCS_PHONE = "498213437654"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _NovaPostRules:
    """The documented rules of the Authorization section, kept in memory."""

    def __init__(
        self, make_key: Callable[[], str], every_phone_is_a_client: bool, breaks: str = ""
    ) -> None:
        self.make_key = make_key
        self.every_phone_is_a_client = every_phone_is_a_client
        self.breaks = breaks
        self.keys: dict[str, tuple[str, datetime, datetime]] = {}  # phone -> key, created, exp
        self.lock = threading.Lock()

    def create(self, body: Any) -> tuple[int, dict[str, Any]]:
        failed = self.breaks != "error-success-true"  # the ErrorResponse's success flag
        if not isinstance(body, dict) or set(body) != {"phone"}:
            return 400, {"success": not failed, "errors": ["Missing required parameter: phone"]}
        phone = body["phone"]
        if not isinstance(phone, str) or not PHONE.fullmatch(phone):
            return 400, {"success": not failed, "errors": ["Invalid phone format"]}
        if not self.every_phone_is_a_client and phone != DOCS_PHONE:
            return 404, {"success": not failed, "errors": ["Client not found"]}
        now = datetime.now(UTC).replace(microsecond=0)
        with self.lock:
            if phone not in self.keys or self.breaks == "new-key-each-call":
                self.keys[phone] = (self.make_key(), now, now + timedelta(days=365))
            key, created, expires = self.keys[phone]
        if self.breaks == "key-not-accepted":
            key = key.lower()  # a key the token route does not know
        if self.breaks == "active-but-expired":
            expires = now - timedelta(days=3)
        return 200, {
            "apiKey": key,
            "createdAt": _iso(created),
            "expDate": _iso(expires),
            "status": "Active",
        }

    def known(self, key: str) -> bool:
        with self.lock:
            return any(stored == key for stored, _, _ in self.keys.values())


# --- Nova Post on http.server -----------------------------------------------------------------


def _novapost_stdlib(breaks: str = "") -> type[BaseHTTPRequestHandler]:
    rules = _NovaPostRules(lambda: "NPK-" + secrets.token_hex(12).upper(), False, breaks)
    rules.create({"phone": DOCS_PHONE})
    docs_key = rules.keys[DOCS_PHONE][0]
    content_type = "application/json; charset=utf-8"

    class Handler(QuietHandler):
        def _json(self, status: int, body: Any, *, allow: str | None = None) -> None:
            data = b"" if self.command == "HEAD" else json.dumps(body).encode()
            extra = {"Allow": allow} if allow else {}
            self.send_body(status, data, content_type, **extra)

        def _route(self) -> tuple[str, dict[str, list[str]]]:
            url = urllib.parse.urlsplit(self.path)
            return url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)

        def _body(self) -> bytes:
            """Always read the body, so the next request on the connection starts clean."""
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            self._body()
            path, query = self._route()
            if path == "/v.1.0/clients/authorization":
                keys = query.get("apiKey", [])
                if set(query) - {"apiKey"}:
                    self._json(422, {"errors": {"query": "Unknown parameter"}})
                elif len(keys) != 1 or not keys[0]:
                    self._json(422, {"errors": {"apiKey": "The apiKey field is required."}})
                elif keys[0] != docs_key and not rules.known(keys[0]):
                    self._json(401, {"errors": {"apiKey": "Unauthorized"}})
                else:
                    self._json(200, {"jwt": self._token()})
            elif path == "/v.1.0/test-api-keys":
                self._json(405, {"success": False, "errors": ["Method Not Allowed"]}, allow="POST")
            else:
                self._json(404, {"errors": {"path": "Not found"}})

        do_HEAD = do_GET

        def _token(self) -> str:
            now = int(time.time())
            lifetime = {"jwt-day-long": 86400, "jwt-expired": -600}.get(breaks, 3600)
            claims = {"sub": "client-1", "scope": "api", "iat": now, "exp": now + lifetime}
            if breaks == "jwt-not-a-jwt":
                return "opaque-" + secrets.token_urlsafe(24)
            return jwt.encode(claims, "stdlib-secret-" + "0123456789abcdef" * 4, "HS512")

        def do_POST(self) -> None:
            raw = self._body()
            path, query = self._route()
            if path == "/v.1.0/clients/authorization":
                self._json(405, {"errors": {"method": "Method Not Allowed"}}, allow="GET, HEAD")
                return
            if path != "/v.1.0/test-api-keys":
                self._json(404, {"success": False, "errors": ["Not found"]})
                return
            media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            try:
                body = json.loads(raw) if media == "application/json" else None
            except ValueError:
                body = None
            if query:
                body = None
            status, answer = rules.create(body)
            self._json(status, answer)

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # any other method on a known path: 405, as frameworks do
                return self._not_allowed
            raise AttributeError(name)

        def _not_allowed(self) -> None:
            self._body()
            path, _ = self._route()
            allow = {
                "/v.1.0/clients/authorization": "GET, HEAD",
                "/v.1.0/test-api-keys": "POST",
            }.get(path)
            if allow is None:
                self._json(404, {"errors": {"path": "Not found"}})
            elif path.endswith("/test-api-keys"):
                self._json(405, {"success": False, "errors": ["Method Not Allowed"]}, allow=allow)
            else:
                self._json(405, {"errors": {"method": "Method Not Allowed"}}, allow=allow)

    Handler.docs_key = docs_key  # type: ignore[attr-defined]
    return Handler


# --- Nova Post as a bare ASGI app -------------------------------------------------------------

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _novapost_asgi() -> tuple[Callable[..., Awaitable[None]], str]:
    rules = _NovaPostRules(lambda: "np_live_" + secrets.token_urlsafe(18), True)
    rules.create({"phone": DOCS_PHONE})
    docs_key = rules.keys[DOCS_PHONE][0]

    async def answer(send: Send, status: int, body: Any, allow: str | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json;charset=UTF-8"),
            (b"content-length", str(len(data)).encode()),
        ]
        if allow:
            headers.append((b"allow", allow.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        query = urllib.parse.parse_qs(scope["query_string"].decode("latin-1"), True)
        if path == "/v.1.0/clients/authorization":
            if method not in ("GET", "HEAD"):
                await answer(send, 405, {"errors": {"method": "not allowed"}}, "GET, HEAD")
                return
            keys = query.get("apiKey", [])
            if set(query) != {"apiKey"} or len(keys) != 1 or not keys[0]:
                await answer(send, 422, {"errors": {"apiKey": "Validation error"}})
            elif not rules.known(keys[0]):
                await answer(send, 401, {"errors": {"apiKey": "Unknown key"}})
            else:
                now = int(time.time())
                token = jwt.encode(
                    {"iss": "np", "iat": now, "exp": now + 3540, "cid": "42", "ref": "x"},
                    "asgi-secret-" + "0123456789abcdef" * 3,
                    "HS384",
                    headers={"kid": "2026-11"},
                )
                await answer(send, 200, {"jwt": token})
        elif path == "/v.1.0/test-api-keys":
            if method != "POST":
                await answer(send, 405, {"success": False, "errors": ["not allowed"]}, "POST")
                return
            media = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip()
            try:
                data = json.loads(body) if media.lower() == b"application/json" else None
            except ValueError:
                data = None
            status, result = rules.create(data if not query else None)
            await answer(send, status, result)
        else:
            await answer(send, 404, {"errors": {"path": "not found"}})

    return app, docs_key


@contextmanager
def _serve_asgi(app: Callable[..., Awaitable[None]]) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the ASGI server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


# --- Shipyo on http.server --------------------------------------------------------------------


def _shipyo_stdlib(breaks: str = "") -> type[BaseHTTPRequestHandler]:
    docs_key = "sk-" + secrets.token_hex(16)
    route = "/api/Token/generate-from-apikey"

    class Handler(QuietHandler):
        def _envelope(
            self, status: int, message: str, *, data: str | None = None, allow: str | None = None
        ) -> None:
            if status == 200:
                ok = breaks != "success-false-on-200"
                body: dict[str, Any] = {"success": ok, "data": data, "message": message}
                extra = {
                    "X-RateLimit-Limit": "60",
                    "X-RateLimit-Remaining": "59",
                    "X-RateLimit-Reset": str(int(time.time()) + 60),
                }
            else:
                failed = breaks != "success-true-on-error"
                body = {
                    "success": not failed,
                    "data": None,
                    "message": message,
                    "errors": [message],
                }
                extra = {}
            if allow:
                extra["Allow"] = allow
            raw = b"" if self.command == "HEAD" else json.dumps(body).encode()
            self.send_body(status, raw, "application/json", **extra)

        def do_GET(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urllib.parse.urlsplit(self.path).path
            if path != route:
                self._envelope(404, "Risorsa non trovata")
                return
            key = self.headers.get("x-api-key")
            if not key:
                self._envelope(401, "Chiave API mancante.")
            elif key != docs_key:
                self._envelope(403, "Chiave API non valida.")
            else:
                now = int(time.time())
                exp = now - 600 if breaks == "expired-jwt" else now + 1200
                claims = {"iss": "shipyo", "tenant": "t-1", "iat": now, "exp": exp}
                token = jwt.encode(claims, "shipyo-secret-" + "0123456789abcdef" * 2, "HS256")
                self._envelope(200, "Token generato", data=token)

        do_HEAD = do_GET

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # any other method on a known path: 405, as frameworks do
                return self._not_allowed
            raise AttributeError(name)

        def _not_allowed(self) -> None:
            if self.headers.get("Content-Length"):
                self.rfile.read(int(self.headers["Content-Length"]))
            path = urllib.parse.urlsplit(self.path).path
            if path == route:
                self._envelope(405, "Metodo non consentito", allow="GET, HEAD")
            else:
                self._envelope(404, "Risorsa non trovata")

    Handler.docs_key = docs_key  # type: ignore[attr-defined]
    return Handler


class CorrectServer:
    """One correct server: which carrier it serves and how to start it."""

    def __init__(self, name: str, carrier: str, start: Callable[[], Any]) -> None:
        self.name, self.carrier, self._start = name, carrier, start
        self.last_key: str | None = None
        """The key the last started instance accepted (tests look for it in outputs)."""

    @contextmanager
    def running(self) -> Iterator[tuple[str, str]]:
        """Yield (base URL, the API key it accepts)."""
        made = self._start()
        if isinstance(made, tuple):  # an ASGI app and its key
            app, self.last_key = made
            with _serve_asgi(app) as origin:
                yield origin + "/v.1.0", self.last_key
            return
        self.last_key = made.docs_key
        with serve(made) as origin:
            prefix = "/v.1.0" if self.carrier == "novapost" else ""
            yield origin + prefix, made.docs_key

    def __repr__(self) -> str:
        return self.name


CORRECT_SERVERS = (
    CorrectServer("novapost-stdlib", "novapost", _novapost_stdlib),
    CorrectServer("novapost-asgi", "novapost", _novapost_asgi),
    CorrectServer("shipyo-stdlib", "shipyo", _shipyo_stdlib),
)

RULE_BREAKERS: tuple[tuple[CorrectServer, str], ...] = tuple(
    (CorrectServer(f"{carrier}-{breaks}", carrier, functools.partial(make, breaks)), rule)
    for carrier, make, breaks, rule in (
        ("novapost", _novapost_stdlib, "jwt-not-a-jwt", "novapost_jwt_is_a_jwt"),
        ("novapost", _novapost_stdlib, "jwt-expired", "novapost_jwt_lives_about_an_hour"),
        ("novapost", _novapost_stdlib, "jwt-day-long", "novapost_jwt_lives_about_an_hour"),
        ("novapost", _novapost_stdlib, "new-key-each-call", "novapost_same_day_same_key"),
        ("novapost", _novapost_stdlib, "key-not-accepted", "novapost_new_key_is_accepted"),
        ("novapost", _novapost_stdlib, "active-but-expired", "novapost_active_key_is_unexpired"),
        ("novapost", _novapost_stdlib, "error-success-true", "novapost_error_is_not_success"),
        ("shipyo", _shipyo_stdlib, "expired-jwt", "shipyo_token_is_a_live_jwt"),
        ("shipyo", _shipyo_stdlib, "success-false-on-200", "shipyo_success_mirrors_status"),
        ("shipyo", _shipyo_stdlib, "success-true-on-error", "shipyo_success_mirrors_status"),
    )
)
"""Servers that fit every schema but break one rule the docs state in words, and the
suite's check named in the failure: the correct servers with exactly one change."""


def run_suite(
    servers: Sequence[CorrectServer], cwd: Path, **settings: str
) -> subprocess.CompletedProcess[str]:
    """``python -m carriers_contract`` against ``servers`` (started for the run), as a user
    would point it at their servers: ``--<carrier>-url`` and ``<CARRIER>_API_KEY``."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_URL", "_API_KEY"))}
    env.update({"TARGET": "url", **settings})
    args: list[str] = []
    with ExitStack() as stack:
        for server in servers:
            url, key = stack.enter_context(server.running())
            env[f"{server.carrier.upper()}_API_KEY"] = key
            args += [f"--{server.carrier}-url", url]
        return subprocess.run(
            [sys.executable, "-m", "carriers_contract", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


if __name__ == "__main__":  # serve one by name: python -m tests.contract.correct_servers NAME
    chosen = next(s for s in CORRECT_SERVERS if s.name == sys.argv[1])
    with chosen.running() as (url, _):
        print(url, flush=True)
        asyncio.run(asyncio.Event().wait())
