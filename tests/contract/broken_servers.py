"""Deliberately broken servers: the mocks with one contract violation each.

Each breakage is a small ASGI middleware around the real mock app, so that everything
but the one defect behaves as the sandbox does, and a contract run that passes one of
them has missed exactly that defect.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JWT_ROUTE = "/v.1.0/clients/authorization"
KEYS_ROUTE = "/v.1.0/test-api-keys"
SHIPYO_ROUTE = "/api/Token/generate-from-apikey"


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Drain the request body and return a receive() that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _respond(
    send: Send, status: int, body: bytes, content_type: str = "application/json"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


ResponseEdit = Callable[
    [Scope, int, list[tuple[bytes, bytes]], bytes], tuple[int, list[tuple[bytes, bytes]], bytes]
]


def rewrite_responses(app: ASGIApp, edit: ResponseEdit) -> ASGIApp:
    """Buffer each response of ``app`` and pass it through ``edit``."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    status, headers, body = edit(
                        scope, start["status"], list(start.get("headers", [])), b"".join(chunks)
                    )
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await app(scope, receive, capture)

    return wrapped


def _edit_json(path: str, status: int, change: Callable[[dict[str, Any]], None]) -> ResponseEdit:
    def edit(
        scope: Scope, st: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if scope["path"] == path and st == status:
            doc = json.loads(body)
            change(doc)
            body = json.dumps(doc).encode()
        return st, headers, body

    return edit


# --------------------------------------------------------------------------- the breakages


def server_error_on_malformed_input(app: ASGIApp) -> ASGIApp:
    """Crashes (500) when the body of POST /test-api-keys is not valid JSON."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == KEYS_ROUTE and scope["method"] == "POST":
            body, receive = await _read_body(receive)
            try:
                json.loads(body)
            except ValueError:
                await _respond(send, 500, b"Internal Server Error", "text/plain")
                return
        await app(scope, receive, send)

    return wrapped


def wrong_status_code(app: ASGIApp) -> ASGIApp:
    """Answers an unknown API key with 400 where the spec documents 401."""

    def edit(
        scope: Scope, st: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if scope["path"] == JWT_ROUTE and st == 401:
            return 400, headers, body
        return st, headers, body

    return rewrite_responses(app, edit)


def missing_required_field(app: ASGIApp) -> ASGIApp:
    """Leaves the required `status` out of the test API key response."""
    return rewrite_responses(app, _edit_json(KEYS_ROUTE, 200, lambda doc: doc.pop("status", None)))


def extra_field(app: ASGIApp) -> ASGIApp:
    """Adds a field to a response whose schema has additionalProperties: false."""
    return rewrite_responses(app, _edit_json(KEYS_ROUTE, 200, lambda doc: doc.update(debug=True)))


def wrong_content_type(app: ASGIApp) -> ASGIApp:
    """Serves the JWT response as text/plain."""

    def edit(
        scope: Scope, st: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if scope["path"] == JWT_ROUTE:
            headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
            headers.append((b"content-type", b"text/plain"))
        return st, headers, body

    return rewrite_responses(app, edit)


def accepts_invalid_phone(app: ASGIApp) -> ASGIApp:
    """Issues a key for a phone in the wrong format instead of answering 400."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == KEYS_ROUTE and scope["method"] == "POST":
            body, receive = await _read_body(receive)
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if isinstance(doc, dict) and isinstance(doc.get("phone"), str):
                phone = doc["phone"]
                if not (
                    phone.isascii()
                    and phone.isdigit()
                    and phone.startswith("49")
                    and 11 <= len(phone) <= 12
                ):
                    payload = {
                        "apiKey": "np_test_accepted",
                        "createdAt": "2026-01-01T00:00:00Z",
                        "expDate": "2027-01-01T00:00:00Z",
                        "status": "Active",
                    }
                    await _respond(send, 200, json.dumps(payload).encode())
                    return
        await app(scope, receive, send)

    return wrapped


def jwt_without_api_key(app: ASGIApp) -> ASGIApp:
    """Mints a JWT even when the required apiKey query parameter is missing."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == JWT_ROUTE:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if "apiKey" not in query:
                await _respond(send, 200, b'{"jwt": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}')
                return
        await app(scope, receive, send)

    return wrapped


def shipyo_without_envelope(app: ASGIApp) -> ASGIApp:
    """Returns Shipyo's token as a bare object instead of the envelope."""

    def edit(
        scope: Scope, st: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if scope["path"] == SHIPYO_ROUTE and st == 200:
            return st, headers, json.dumps({"token": json.loads(body)["data"]}).encode()
        return st, headers, body

    return rewrite_responses(app, edit)


@dataclass(frozen=True)
class Breakage:
    name: str
    api: str
    wrap: Callable[[ASGIApp], ASGIApp]
    # Words the contract run must print to show it found this violation.
    expect: tuple[str, ...]


BREAKAGES = [
    Breakage(
        "500 on malformed input",
        "novapost",
        server_error_on_malformed_input,
        ("Server error", "not_a_server_error"),
    ),
    Breakage(
        "wrong status code",
        "novapost",
        wrong_status_code,
        ("Undocumented status code", "status_code_conformance"),
    ),
    Breakage(
        "missing required field",
        "novapost",
        missing_required_field,
        (
            "Response violates schema",
            "response_schema_conformance",
            '"status" is a required property',
        ),
    ),
    Breakage(
        "extra field",
        "novapost",
        extra_field,
        ("Response violates schema", "debug"),
    ),
    Breakage(
        "wrong content type",
        "novapost",
        wrong_content_type,
        ("Undocumented Content-Type", "content_type_conformance"),
    ),
    Breakage(
        "accepts an invalid phone",
        "novapost",
        accepts_invalid_phone,
        ("Schema-violating request accepted", "negative_data_rejection"),
    ),
    Breakage(
        "JWT without apiKey",
        "novapost",
        jwt_without_api_key,
        ("Schema-violating request accepted", "negative_data_rejection"),
    ),
    Breakage(
        "Shipyo body without envelope",
        "shipyo",
        shipyo_without_envelope,
        ("Response violates schema",),
    ),
]
