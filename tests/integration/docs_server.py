"""A server that answers every operation the way the docs pages show, and nothing more.

It reads the Markdown pages itself (every fenced ``json`` block is an OpenAPI
fragment), not the vendored spec, and shares no code with the vendoring or the
mocks: for each request it finds the operation by method and path template and
answers its lowest documented 2xx with the docs' own example, exactly as written
(a string example holding JSON is sent as that JSON text, as a server that was
documented that way would). Where the docs give no example, it answers a
body with every property the schema lists. It checks no credentials and no input.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BLOCK = re.compile(r"^```json\s*\n(.*?)\n```", re.M | re.S)
BASE_PATH = "/v.1.0"
BINARY_BODIES = {"application/pdf": b"%PDF-1.4\n%docs\n", "image/png": b"\x89PNG\r\n\x1a\n"}


class Answer:
    def __init__(self, status: int, media_type: str | None, body: bytes) -> None:
        self.status, self.media_type, self.body = status, media_type, body


def read_pages(*dirs: Path) -> list[dict[str, Any]]:
    fragments = []
    for directory in dirs:
        for page in sorted(directory.glob("*.md")):
            for block in BLOCK.findall(page.read_text(encoding="utf-8")):
                fragments.append(json.loads(block))
    return fragments


def _follow(fragment: dict[str, Any], node: Any) -> Any:
    for _ in range(20):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        target: Any = fragment
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def described(fragment: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A value as the schema describes it: every property listed, arrays empty."""
    schema = _follow(fragment, schema)
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf", "allOf"):
        if schema.get(key):
            return described(fragment, schema[key][0], depth + 1)
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: described(fragment, sub, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return []
    if kind == "string":
        formats = {
            "date-time": "2025-01-02T03:04:05Z",
            "datetime": "2025-01-02T03:04:05Z",
            "date": "2025-01-02",
            "uuid": "00000000-0000-4000-8000-000000000000",
        }
        return formats.get(schema.get("format", ""), "docs")
    return {"integer": 1, "number": 1.5, "boolean": True}.get(kind)


def answer_for(fragment: dict[str, Any], operation: dict[str, Any]) -> Answer:
    statuses = sorted(s for s in operation.get("responses", {}) if str(s).startswith("2"))
    status = statuses[0] if statuses else "200"
    response = _follow(fragment, operation.get("responses", {}).get(status, {}))
    content = response.get("content") or {}
    if status in {"204", "205"} or not content:
        return Answer(int(status), None, b"")
    media_type, media = next(iter(content.items()))
    if media_type in BINARY_BODIES or not media_type.endswith("json"):
        return Answer(int(status), media_type, BINARY_BODIES.get(media_type, b"docs"))
    if "example" in media:
        example = media["example"]
    elif media.get("examples"):
        example = _follow(fragment, next(iter(media["examples"].values())))["value"]
    else:
        example = described(fragment, media.get("schema", {}))
    body = example if isinstance(example, str) else json.dumps(example, ensure_ascii=False)
    return Answer(int(status), media_type, body.encode("utf-8"))


def routes(fragments: list[dict[str, Any]]) -> list[tuple[str, re.Pattern[str], Answer]]:
    table = []
    for fragment in fragments:
        for path, item in fragment.get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path)) + "$")
            for method, operation in item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    table.append((method.upper(), pattern, answer_for(fragment, operation)))
    # fixed segments before templated ones: /shipments/cancellation before /shipments/{id}
    table.sort(key=lambda row: row[1].pattern.count("[^/]+"))
    return table


@contextmanager
def docs_server(*pages: Path) -> Iterator[str]:
    """Serve the pages' operations on a free loopback port; yield the API's base URL."""
    table = routes(read_pages(*pages))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            path = urlsplit(self.path).path.removeprefix(BASE_PATH)
            answer = next(
                (
                    a
                    for method, pattern, a in table
                    if method == self.command and pattern.match(path)
                ),
                Answer(404, "application/json", b'{"errors": {"": "Not found"}}'),
            )
            self.send_response(answer.status)
            if answer.media_type:
                self.send_header("Content-Type", answer.media_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}"
    finally:
        server.shutdown()
        server.server_close()
