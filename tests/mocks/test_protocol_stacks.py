"""Both server stacks keep the guarantees: httptools on uvloop, and the h11 on asyncio fallback.

``serve()`` uses the fastest stack that imports (``carrier_mocks._uvicorn.STACK``);
each test here runs once per stack, so that neither can lose a guarantee unseen:
the API's error shape for what cannot be parsed, the header deadline, the drop
fault, and plain HTTP/1.1 (keep-alive, bodies, HEAD, ``Connection: close``).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from carrier_mocks import _uvicorn
from carrier_mocks.server import MockServer, serve

from .support import NP_KEY
from .test_hostile_clients import (
    AUTH,
    DEADLINE,
    PARTIAL,
    SHAPES,
    SLACK,
    UNPARSABLE,
    address,
    exchange,
    parse,
    read_response,
    read_until_closed,
    still_serving,
)

STACKS = {
    "httptools-uvloop": _uvicorn.Stack(http="httptools", loop="uvloop"),
    "h11-asyncio": _uvicorn.Stack(http="h11", loop="asyncio"),
}
STATS = b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\n\r\n"
INVALID = SHAPES["novapost"]("Invalid HTTP request")


@pytest.fixture(params=list(STACKS), ids=list(STACKS))
def stack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> _uvicorn.Stack:
    chosen = STACKS[request.param]
    if chosen.http == "httptools" and _uvicorn.STACK.http != "httptools":
        pytest.skip("httptools is not importable here")
    if chosen.loop == "uvloop" and _uvicorn.STACK.loop != "uvloop":
        pytest.skip("uvloop is not importable here")
    monkeypatch.setattr(_uvicorn, "STACK", chosen)
    return chosen


@pytest.fixture
def mock(stack: _uvicorn.Stack) -> Iterator[MockServer]:
    """A Nova Post mock on ``stack`` whose connections get DEADLINE s to send their headers."""
    with serve("novapost", header_timeout=DEADLINE) as server:
        yield server


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Every response in ``raw``, in order: status, headers, body (by Content-Length)."""
    found = []
    while raw:
        head, separator, rest = raw.partition(b"\r\n\r\n")
        assert separator, raw
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines)
        length = int(headers.get("content-length", "0"))
        found.append((int(status_line.split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return found


def test_the_default_stack_is_the_fast_one() -> None:
    """The mock extra installs httptools and uvloop: they must be what serves."""
    assert _uvicorn.STACK == STACKS["httptools-uvloop"]
    assert _uvicorn.event_loop() == "uvloop"


def test_the_stack_falls_back_when_httptools_and_uvloop_do_not_import() -> None:
    script = (
        "import sys\n"
        "sys.modules['httptools'] = None\n"
        "sys.modules['uvloop'] = None\n"
        "import httpx\n"
        "from carrier_mocks import _uvicorn\n"
        "from carrier_mocks.server import serve\n"
        "with serve('novapost') as server:\n"
        "    status = httpx.get(server.origin + '/__mock__/stats').status_code\n"
        "print(_uvicorn.STACK.http, _uvicorn.STACK.loop, status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["h11", "asyncio", "200"]


def test_requests_are_served_on_the_chosen_stack(stack: _uvicorn.Stack) -> None:
    """The request's connection (the owner of its drop extension) runs uvicorn's protocol of the stack."""
    seen: list[tuple[str, str]] = []

    def wrap(app: object) -> object:
        async def probe(scope: dict[str, object], receive: object, send: object) -> None:
            import asyncio

            from carrier_mocks.middleware import DROP_EXTENSION

            extensions = scope["extensions"]
            assert isinstance(extensions, dict)
            connection = extensions[DROP_EXTENSION].__self__
            seen.append(
                (type(connection.protocol).__name__, type(asyncio.get_running_loop()).__module__)
            )
            await app(scope, receive, send)  # type: ignore[operator]

        return probe

    with serve("novapost", wrap=wrap) as server:
        assert httpx.get(server.origin + "/__mock__/stats", timeout=10).status_code == 200
    protocol = {"httptools": "HttpToolsProtocol", "h11": "H11Protocol"}
    assert [(name, module.split(".")[0]) for name, module in seen] == [
        (protocol[stack.http], stack.loop)
    ]


# --- requests that cannot be parsed: 400 in the API's shape, then close -----------------------


@pytest.mark.parametrize("parts", UNPARSABLE.values(), ids=UNPARSABLE.keys())
def test_unparsable_requests_get_the_api_error_shape(mock: MockServer, parts: list[bytes]) -> None:
    status, headers, body = parse(exchange(mock, *parts))
    assert (status, headers["content-type"], headers["connection"]) == (
        400,
        "application/json",
        "close",
    )
    assert body == INVALID
    still_serving(mock)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /__mock__/stats HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\nX: a\x00b\r\n\r\n",
        b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\nX : b\r\n\r\n",
        b"GET /__mock__/st ats HTTP/1.1\r\nHost: mock\r\n\r\n",
    ],
    ids=["two Hosts", "NUL in a value", "space before colon", "space in the target"],
)
def test_more_requests_h11_refuses_are_refused(mock: MockServer, head: bytes) -> None:
    status, _, body = parse(exchange(mock, head))
    assert (status, body) == (400, INVALID)
    still_serving(mock)


def send_in_pieces(server: MockServer, pieces: list[bytes]) -> bytes:
    """Each piece in a write of its own, as quickly as separate reads allow; then the answer."""
    with socket.create_connection(address(server), timeout=10) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
                time.sleep(0.01)
        except OSError:  # the server answered and closed before the last piece
            pass
        return read_until_closed(sock)


def test_a_head_over_the_limit_sent_in_pieces_is_refused(mock: MockServer) -> None:
    """llhttp has no limit of its own; without one, this header would grow forever."""
    pieces = [b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\n"]
    pieces += [b"X-%d: %s\r\n" % (n, b"a" * 1000) for n in range(20)]  # 20 KB, never ending
    status, _, body = parse(send_in_pieces(mock, pieces))
    assert (status, body) == (400, INVALID)
    still_serving(mock)


def test_a_head_under_the_limit_sent_in_pieces_is_served(mock: MockServer) -> None:
    pieces = [b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n"]
    pieces += [b"X-%d: %s\r\n" % (n, b"a" * 1000) for n in range(12)]
    status, _, _ = parse(send_in_pieces(mock, [*pieces, b"\r\n"]))
    assert status == 200


def test_a_request_pipelined_before_garbage_is_answered_first(mock: MockServer) -> None:
    raw = exchange(mock, STATS + b"GARBAGE\r\n\r\n")
    assert [(status, json.loads(body)) for status, _, body in responses(raw)][1:] == [
        (400, INVALID)
    ]
    assert responses(raw)[0][0] == 200


def test_every_request_pipelined_before_garbage_is_answered_first(mock: MockServer) -> None:
    found = responses(exchange(mock, STATS * 3 + b"GARBAGE\r\n\r\n"))
    assert [status for status, _, _ in found] == [200, 200, 200, 400]
    assert json.loads(found[-1][2]) == INVALID


def test_an_apps_own_400_after_100_continue_reaches_the_client(mock: MockServer) -> None:
    """Only the server's own 400 is replaced; an app's, after an interim answer, is not."""
    body = b'{"phone": 12}'
    head = (
        b"POST /v.1.0/test-api-keys HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )
    interim, _, rest = exchange(mock, head, body).partition(b"\r\n\r\n")
    assert interim == b"HTTP/1.1 100 Continue"
    status, _, answer = parse(rest)
    assert (status, answer) == (400, SHAPES["novapost"]("Invalid phone format"))


def test_a_body_its_app_left_unread_is_not_taken_for_a_head(mock: MockServer) -> None:
    """The 405 goes before the body is read; the body, over the head limit, is no head."""
    body = b"x" * 40000
    head = b"POST /__mock__/stats HTTP/1.1\r\nHost: mock\r\nContent-Length: %d\r\n\r\n" % len(body)
    last = b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n"
    raw = send_in_pieces(mock, [head, body[:20000], body[20000:], STATS + last])
    assert [status for status, _, _ in responses(raw)] == [405, 200, 200]


def test_a_broken_body_queued_behind_a_slow_answer_waits_for_it(mock: MockServer) -> None:
    """The second request's head is read while the first is answered; its body breaks."""
    mock.fault("GET /clients/authorization", delay=0.3)
    slow = f"GET {AUTH}?apiKey={NP_KEY} HTTP/1.1\r\nHost: mock\r\n\r\n".encode()
    broken = b"POST /nowhere HTTP/1.1\r\nHost: mock\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    found = responses(exchange(mock, slow + broken))
    assert [status for status, _, _ in found] == [200, 400]
    assert "jwt" in json.loads(found[0][2]) and json.loads(found[1][2]) == INVALID
    still_serving(mock)


def test_a_broken_chunk_after_the_answer_just_closes(mock: MockServer) -> None:
    head = b"POST /__mock__/stats HTTP/1.1\r\nHost: mock\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, _, body = parse(exchange(mock, head, b"zz\r\n"))
    assert (status, body) == (405, SHAPES["novapost"]("Method Not Allowed"))
    still_serving(mock)


# --- the header deadline --------------------------------------------------------------------


def test_partial_headers_get_a_408_in_the_api_shape(mock: MockServer) -> None:
    start = time.monotonic()
    status, headers, body = parse(exchange(mock, PARTIAL))
    elapsed = time.monotonic() - start
    assert (status, headers["content-type"]) == (408, "application/json")
    assert body == SHAPES["novapost"]("Request headers not received in time")
    assert DEADLINE * 0.9 <= elapsed <= DEADLINE + SLACK


def test_one_byte_of_a_request_is_a_partial_request(mock: MockServer) -> None:
    assert parse(exchange(mock, b"G"))[0] == 408


def test_a_slowloris_connection_is_cut_off_at_the_deadline(mock: MockServer) -> None:
    with socket.create_connection(address(mock), timeout=10) as sock:
        start = time.monotonic()
        sock.sendall(PARTIAL)
        try:
            while time.monotonic() - start < DEADLINE + SLACK:
                sock.sendall(b"a")
                time.sleep(0.05)
        except OSError:  # closed by the server, with its 408 unread
            pass
        else:
            pytest.fail("the slow connection was still open after the deadline")
    assert DEADLINE * 0.9 <= time.monotonic() - start <= DEADLINE + SLACK


def test_a_silent_connection_is_closed_without_an_answer(mock: MockServer) -> None:
    start = time.monotonic()
    with socket.create_connection(address(mock), timeout=10) as sock:
        assert read_until_closed(sock) == b""
    assert DEADLINE * 0.9 <= time.monotonic() - start <= DEADLINE + SLACK


def test_the_deadline_restarts_after_each_response(mock: MockServer) -> None:
    with socket.create_connection(address(mock), timeout=10) as sock:
        for _ in range(3):  # together longer than one deadline
            time.sleep(DEADLINE * 0.6)
            sock.sendall(STATS)
            assert parse(read_response(sock))[0] == 200
        start = time.monotonic()
        sock.sendall(PARTIAL)
        assert parse(read_until_closed(sock))[0] == 408
    assert DEADLINE * 0.9 <= time.monotonic() - start <= DEADLINE + SLACK


def test_a_slow_answer_or_a_slow_body_is_not_cut_off(mock: MockServer) -> None:
    """The deadline is for the client's headers, not for the server's answer or the body."""
    mock.fault("GET /clients/authorization", delay=DEADLINE * 3)
    response = httpx.get(mock.origin + AUTH, params={"apiKey": NP_KEY}, timeout=10)
    assert response.status_code == 200
    body = b'{"phone": "491000000001"}'
    head = (
        b"POST /v.1.0/test-api-keys HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection(address(mock), timeout=10) as sock:
        sock.sendall(head + body[:5])
        time.sleep(DEADLINE * 2)
        sock.sendall(body[5:])
        assert parse(read_until_closed(sock))[0] == 200


# --- the drop fault -------------------------------------------------------------------------


def test_a_drop_fault_closes_the_connection_without_an_answer(mock: MockServer) -> None:
    mock.fault("GET /clients/authorization", count=1, drop=True)
    request = f"GET {AUTH}?apiKey={NP_KEY} HTTP/1.1\r\nHost: mock\r\n\r\n".encode()
    with socket.create_connection(address(mock), timeout=10) as sock:
        sock.sendall(request)
        assert read_until_closed(sock) == b""
    assert httpx.get(mock.origin + AUTH, params={"apiKey": NP_KEY}, timeout=10).is_success
    assert mock.stats()["GET /clients/authorization"] == 2


# --- plain HTTP/1.1 -------------------------------------------------------------------------


def test_keep_alive_bodies_head_and_connection_close(mock: MockServer) -> None:
    body = b'{"phone": "491000000001"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    requests = [
        b"POST /v.1.0/test-api-keys HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body),
        b"POST /v.1.0/test-api-keys HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunked,
        f"HEAD {AUTH}?apiKey={NP_KEY} HTTP/1.1\r\nHost: mock\r\n\r\n".encode(),
        b"GET /__mock__/stats HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n",
    ]
    with socket.create_connection(address(mock), timeout=10) as sock:
        sock.sendall(requests[0])
        first = parse(read_response(sock))
        sock.sendall(requests[1])
        second = parse(read_response(sock))
        sock.sendall(requests[2])
        head = sock.recv(65536)
        sock.sendall(requests[3])
        last = read_until_closed(sock)  # the server closes after this one
    assert first[0] == second[0] == 200
    assert first[2]["apiKey"] == second[2]["apiKey"]  # the same phone's key, twice
    status_line, _, rest = head.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK" and rest.endswith(b"\r\n\r\n")  # no body
    assert int(rest.lower().split(b"content-length: ")[1].split(b"\r\n")[0]) > 0
    status, headers, stats = parse(last)
    assert (status, headers["connection"]) == (200, "close")
    assert stats["GET /clients/authorization"] == 1  # HEAD counts as the GET it runs


def test_http_1_0_needs_no_host_and_is_closed_after_the_answer(mock: MockServer) -> None:
    raw = exchange(mock, b"GET /__mock__/stats HTTP/1.0\r\n\r\n")  # read until closed
    assert parse(raw)[0] == 200
