"""Broken, slow and hostile clients: a 4xx in the API's shape, no 500, no traceback, no pinning.

Most clients here are raw sockets, since a well-behaved HTTP library cannot send
what they send: partial headers, broken framing, bodies cut short.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from carrier_mocks.server import MockServer, serve

from .support import NP_KEY

AUTH = "/v.1.0/clients/authorization"
KEYS = "/v.1.0/test-api-keys"
ROUTE = "GET /clients/authorization"
PARTIAL = b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\nX-Slow: a"
#: The header deadline of the servers these tests start; generous slack on shared CI cores.
DEADLINE = 0.5
SLACK = 2.0

#: The body each API gives to a request the server could not parse, by message.
SHAPES: dict[str, Callable[[str], Any]] = {
    "novapost": lambda message: {"success": False, "errors": [message]},
    "shipyo": lambda message: {
        "success": False,
        "data": None,
        "message": message,
        "errors": [message],
    },
}


@pytest.fixture
def server_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The server's logs during the test; a client's fault must never log a traceback."""
    for name in ("uvicorn.error", "carrier_mocks", "starlette", "asyncio"):
        caplog.set_level(logging.WARNING, logger=name)
    yield caplog
    records = caplog.get_records("call")
    assert not [r.getMessage() for r in records if r.exc_info or "Traceback" in r.getMessage()]


def address(server: MockServer) -> tuple[str, int]:
    host, port = server.origin.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def read_response(sock: socket.socket) -> bytes:
    """One response off a kept-alive connection: its head, then Content-Length bytes."""
    data = b""
    while not complete(data):
        chunk = sock.recv(65536)
        assert chunk, f"closed mid-response: {data!r}"
        data += chunk
    return data


def complete(data: bytes) -> bool:
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    declared = head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]
    return len(body) >= int(declared)


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def exchange(server: MockServer, *parts: bytes) -> bytes:
    """Send ``parts`` (a short pause between them) and read until the server closes."""
    with socket.create_connection(address(server), timeout=10) as sock:
        for part in parts:
            sock.sendall(part)
            time.sleep(0.05)
        return read_until_closed(sock)


def parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of the one response in ``raw``."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    assert len(body) == int(headers["content-length"]), raw
    return int(status_line.split()[1]), headers, json.loads(body)


def still_serving(server: MockServer) -> None:
    assert httpx.get(server.origin + "/__mock__/stats", timeout=10).status_code == 200


# --- control routes: numbers no float can hold ----------------------------------------------

HUGE = "9" * 400


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/__mock__/clock", f'{{"advance_seconds": {HUGE}}}', "advance_seconds"),
        ("/__mock__/clock", f'{{"advance_seconds": -{HUGE}}}', "advance_seconds"),
        ("/__mock__/clock", '{"advance_seconds": 1e400}', "advance_seconds"),
        ("/__mock__/clock", '{"advance_seconds": -1e400}', "advance_seconds"),
        ("/__mock__/faults", f'{{"route": "{ROUTE}", "delay": {HUGE}}}', "delay"),
        ("/__mock__/faults", f'{{"route": "{ROUTE}", "delay": -{HUGE}}}', "delay"),
        ("/__mock__/faults", f'{{"route": "{ROUTE}", "delay": 1e400}}', "delay"),
        ("/__mock__/faults", f'{{"route": "{ROUTE}", "drop": true, "count": {HUGE}}}', "count"),
        ("/__mock__/faults", f'{{"route": "{ROUTE}", "status": {HUGE}}}', "status"),
        (
            "/__mock__/faults",
            f'{{"route": "{ROUTE}", "status": 503, "retry_after": {HUGE}}}',
            "retry_after",
        ),
    ],
)
async def test_numbers_beyond_a_float_are_400_naming_the_field(
    novapost: httpx.AsyncClient, path: str, body: str, field: str
) -> None:
    response = await novapost.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert f"'{field}'" in response.json()["error"]
    assert (await novapost.get("/__mock__/stats")).status_code == 200


def test_huge_clock_advance_over_http_is_400(
    novapost_mock: MockServer, server_logs: pytest.LogCaptureFixture
) -> None:
    body = f'{{"advance_seconds": {HUGE}}}'.encode()
    request = (
        b"POST /__mock__/clock HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    status, _, answer = parse(exchange(novapost_mock, request))
    assert status == 400
    assert answer == {
        "error": "'advance_seconds' is too large: the clock cannot be advanced that far"
    }
    still_serving(novapost_mock)


# --- requests the server cannot parse -------------------------------------------------------

UNPARSABLE = {
    "request line": [b"GARBAGE\r\n\r\n"],
    "binary request line": [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"],
    "header line": [b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\nno colon here\r\n\r\n"],
    "no Host": [b"GET /__mock__/stats HTTP/1.1\r\n\r\n"],
    "Content-Length": [
        b"POST /__mock__/reset HTTP/1.1\r\nHost: mock\r\nContent-Length: abc\r\n\r\n"
    ],
    "negative Content-Length": [
        b"POST /__mock__/reset HTTP/1.1\r\nHost: mock\r\nContent-Length: -1\r\n\r\n"
    ],
    "two Content-Lengths": [
        b"POST /__mock__/reset HTTP/1.1\r\nHost: mock\r\n"
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    ],
    "header block too large": [b"GET / HTTP/1.1\r\nHost: mock\r\nX: " + b"a" * 20000],
    "broken chunk in a body being read": [
        b"POST /__mock__/clock HTTP/1.1\r\nHost: mock\r\nTransfer-Encoding: chunked\r\n"
        b'Content-Type: application/json\r\n\r\n4\r\n{"ad',
        b"zz\r\n",
    ],
    "broken chunk before the app answers": [
        b"POST /nowhere HTTP/1.1\r\nHost: mock\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    ],
}


@pytest.mark.parametrize("api", ["novapost", "shipyo"])
@pytest.mark.parametrize("parts", UNPARSABLE.values(), ids=UNPARSABLE.keys())
def test_unparsable_requests_get_the_api_error_shape(
    carrier_mock: Callable[[str], MockServer],
    server_logs: pytest.LogCaptureFixture,
    api: str,
    parts: list[bytes],
) -> None:
    server = carrier_mock(api)
    status, headers, body = parse(exchange(server, *parts))
    assert (status, headers["content-type"]) == (400, "application/json")
    assert body == SHAPES[api]("Invalid HTTP request")
    still_serving(server)


def test_broken_chunk_after_the_answer_just_closes(
    novapost_mock: MockServer, server_logs: pytest.LogCaptureFixture
) -> None:
    """The 405 went out before the body broke: a second answer would corrupt the stream."""
    head = b"POST /__mock__/stats HTTP/1.1\r\nHost: mock\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, _, body = parse(exchange(novapost_mock, head, b"zz\r\n"))
    assert (status, body) == (405, SHAPES["novapost"]("Method Not Allowed"))
    still_serving(novapost_mock)


# --- bodies cut short -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "path"),
    [("novapost", KEYS), ("novapost", "/__mock__/faults"), ("shipyo", "/__mock__/clock")],
)
def test_truncated_body_logs_no_traceback(
    carrier_mock: Callable[[str], MockServer],
    server_logs: pytest.LogCaptureFixture,
    api: str,
    path: str,
) -> None:
    server = carrier_mock(api)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    )
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(head.encode() + b'{"phone": ')
        time.sleep(0.1)  # the app is waiting for the rest of the body
    time.sleep(0.3)  # and sees the client go
    still_serving(server)


# --- slow headers ---------------------------------------------------------------------------


@pytest.fixture
def quick() -> Iterator[MockServer]:
    """A Nova Post mock whose connections get DEADLINE seconds to send their headers."""
    with serve("novapost", header_timeout=DEADLINE) as server:
        yield server


def test_slow_headers_are_cut_off_while_others_are_served(
    quick: MockServer, server_logs: pytest.LogCaptureFixture
) -> None:
    """Slowloris: each connection sends a header byte every 50 ms and never finishes."""
    socks = [socket.create_connection(address(quick), timeout=10) for _ in range(20)]
    start = time.monotonic()
    for sock in socks:
        sock.sendall(PARTIAL)
    held: list[float] = []
    waiting = list(socks)
    normal: httpx.Response | None = None
    try:
        while waiting and time.monotonic() - start < DEADLINE + SLACK:
            if normal is None:
                normal = httpx.get(quick.origin + AUTH, params={"apiKey": NP_KEY}, timeout=5)
            readable, _, _ = select.select(waiting, [], [], 0.05)
            for sock in readable:
                held.append(time.monotonic() - start)
                waiting.remove(sock)
            for sock in list(waiting):
                try:
                    sock.sendall(b"a")
                except OSError:  # closed between the select and this byte
                    held.append(time.monotonic() - start)
                    waiting.remove(sock)
    finally:
        for sock in socks:
            sock.close()
    assert normal is not None and normal.status_code == 200
    assert not waiting, f"{len(waiting)} slow connections still open"
    assert DEADLINE * 0.9 <= min(held) and max(held) <= DEADLINE + SLACK


@pytest.mark.parametrize("api", ["novapost", "shipyo"])
def test_partial_headers_get_a_408_in_the_api_shape(
    server_logs: pytest.LogCaptureFixture, api: str
) -> None:
    with serve(api, header_timeout=DEADLINE) as server:
        start = time.monotonic()
        raw = exchange(server, PARTIAL)
        elapsed = time.monotonic() - start
        still_serving(server)
    status, headers, body = parse(raw)
    assert (status, headers["content-type"]) == (408, "application/json")
    assert body == SHAPES[api]("Request headers not received in time")
    assert DEADLINE * 0.9 <= elapsed <= DEADLINE + SLACK


def test_silent_connection_is_closed_without_an_answer(quick: MockServer) -> None:
    start = time.monotonic()
    with socket.create_connection(address(quick), timeout=10) as sock:
        assert read_until_closed(sock) == b""
    assert DEADLINE * 0.9 <= time.monotonic() - start <= DEADLINE + SLACK


def test_the_deadline_restarts_after_each_response(quick: MockServer) -> None:
    request = b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\n\r\n"
    with socket.create_connection(address(quick), timeout=10) as sock:
        for _ in range(3):  # together longer than one deadline
            time.sleep(DEADLINE * 0.6)
            sock.sendall(request)
            assert parse(read_response(sock))[0] == 200
        start = time.monotonic()
        sock.sendall(PARTIAL)
        assert parse(read_until_closed(sock))[0] == 408
    assert DEADLINE * 0.9 <= time.monotonic() - start <= DEADLINE + SLACK


def test_a_slow_answer_is_not_cut_off(quick: MockServer) -> None:
    """The deadline is for the client's headers, not for the server's answer."""
    quick.fault("GET /clients/authorization", delay=DEADLINE * 3)
    response = httpx.get(quick.origin + AUTH, params={"apiKey": NP_KEY}, timeout=10)
    assert response.status_code == 200


def test_header_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="header_timeout"):
        with serve("novapost", header_timeout=0):
            pass
