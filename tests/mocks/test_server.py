"""Both mocks over real HTTP, served by uvicorn through ``serve()`` and the plugin fixtures."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from carrier_mocks.fixtures import parse_fixtures
from carrier_mocks.middleware import DROP_EXTENSION
from carrier_mocks.server import MockServer, MockServerError, PortInUseError, serve

from .spec import sync_checking_hook
from .support import NP_KEY, NP_PHONE, SHIPYO_KEY, TOKEN_URL


@pytest.fixture
def np_http(novapost_mock: MockServer) -> Iterator[httpx.Client]:
    hooks = {"response": [sync_checking_hook("novapost")]}
    with httpx.Client(base_url=novapost_mock.origin, event_hooks=hooks, timeout=10) as client:
        yield client


@pytest.fixture
def sh_http(shipyo_mock: MockServer) -> Iterator[httpx.Client]:
    hooks = {"response": [sync_checking_hook("shipyo")]}
    with httpx.Client(base_url=shipyo_mock.origin, event_hooks=hooks, timeout=10) as client:
        yield client


def test_urls_of_the_handles(novapost_mock: MockServer, shipyo_mock: MockServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", novapost_mock.origin)
    assert novapost_mock.base_url == novapost_mock.origin + "/v.1.0"
    assert shipyo_mock.base_url == shipyo_mock.origin
    assert novapost_mock.origin != shipyo_mock.origin


def test_novapost_key_token_and_expiry_over_http(
    novapost_mock: MockServer, np_http: httpx.Client
) -> None:
    key = np_http.post("/v.1.0/test-api-keys", json={"phone": "491000000001"}).json()["apiKey"]
    token = np_http.get("/v.1.0/clients/authorization", params={"apiKey": key}).json()["jwt"]
    assert np_http.get("/__mock__/whoami", headers={"Authorization": token}).status_code == 200
    novapost_mock.advance(3601)
    assert np_http.get("/__mock__/whoami", headers={"Authorization": token}).status_code == 401
    assert novapost_mock.stats() == {
        "POST /test-api-keys": 1,
        "GET /clients/authorization": 1,
        "GET /__mock__/whoami": 2,
    }


def test_novapost_day_boundary_over_http(novapost_mock: MockServer, np_http: httpx.Client) -> None:
    first = np_http.post("/v.1.0/test-api-keys", json={"phone": NP_PHONE}).json()
    assert np_http.post("/v.1.0/test-api-keys", json={"phone": NP_PHONE}).json() == first
    novapost_mock.advance(86400)
    second = np_http.post("/v.1.0/test-api-keys", json={"phone": NP_PHONE}).json()
    assert second["apiKey"] == first["apiKey"] == NP_KEY
    assert second["expDate"] > first["expDate"]


def test_status_fault_with_retry_after(novapost_mock: MockServer, np_http: httpx.Client) -> None:
    novapost_mock.fault("GET /clients/authorization", status=503, retry_after=2)
    response = np_http.get("/v.1.0/clients/authorization", params={"apiKey": NP_KEY})
    assert (response.status_code, response.headers["retry-after"]) == (503, "2")
    assert np_http.get("/v.1.0/clients/authorization", params={"apiKey": NP_KEY}).is_success


def test_drop_fault_closes_the_connection(novapost_mock: MockServer, np_http: httpx.Client) -> None:
    novapost_mock.fault("GET /clients/authorization", count=2, drop=True)
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            np_http.get("/v.1.0/clients/authorization", params={"apiKey": NP_KEY})
    assert np_http.get("/v.1.0/clients/authorization", params={"apiKey": NP_KEY}).is_success
    assert novapost_mock.stats()["GET /clients/authorization"] == 3


def test_delay_fault_trips_a_client_timeout(
    novapost_mock: MockServer, np_http: httpx.Client
) -> None:
    novapost_mock.fault("POST /test-api-keys", delay=30)
    with pytest.raises(httpx.ReadTimeout):
        np_http.post("/v.1.0/test-api-keys", json={"phone": NP_PHONE}, timeout=0.2)
    # The abandoned request stops waiting; the server answers the next one at once.
    assert np_http.post("/v.1.0/test-api-keys", json={"phone": NP_PHONE}).is_success


def test_revoke_tokens_over_http(shipyo_mock: MockServer, sh_http: httpx.Client) -> None:
    token = sh_http.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY}).json()["data"]
    headers = {"x-api-key": SHIPYO_KEY, "Authorization": f"Bearer {token}"}
    assert sh_http.get("/__mock__/whoami", headers=headers).status_code == 200
    shipyo_mock.revoke_tokens()
    assert sh_http.get("/__mock__/whoami", headers=headers).status_code == 401


def test_shipyo_statuses_over_http(shipyo_mock: MockServer, sh_http: httpx.Client) -> None:
    ok = sh_http.get(TOKEN_URL, headers={"x-api-key": SHIPYO_KEY})
    assert jwt.decode(ok.json()["data"], options={"verify_signature": False})["iss"] == "shipyo"
    assert sh_http.get(TOKEN_URL).status_code == 401
    assert sh_http.get(TOKEN_URL, headers={"x-api-key": "ak_nope"}).status_code == 403
    assert sh_http.get(TOKEN_URL, headers={"x-api-key": "ak_inactive00000000"}).status_code == 400
    shipyo_mock.advance(86400)
    assert sh_http.get(TOKEN_URL, headers={"x-api-key": "ak_expiring00000000"}).status_code == 400


def test_ip_allow_list_sees_the_real_peer(sh_http: httpx.Client) -> None:
    headers = {"x-api-key": "ak_iprestricted0000", "X-Forwarded-For": "203.0.113.9"}
    assert sh_http.get(TOKEN_URL, headers=headers).status_code == 422


def test_huge_body_over_http_is_400(np_http: httpx.Client) -> None:
    body = b'{"phone": "' + b"4" * (2 * 1024 * 1024) + b'"}'
    response = np_http.post(
        "/v.1.0/test-api-keys", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["Request body too large"]


def test_garbage_on_the_wire_does_not_break_the_server(
    novapost_mock: MockServer, np_http: httpx.Client
) -> None:
    host, port = novapost_mock.origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"\x16\x03\x01GARBAGE \xff\r\n\r\n")
        reply = raw.recv(1024)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 4")
    assert np_http.get("/v.1.0/clients/authorization", params={"apiKey": NP_KEY}).is_success


def test_control_errors_raise(novapost_mock: MockServer) -> None:
    with pytest.raises(MockServerError, match="route"):
        novapost_mock.fault("GET /nope", status=503)
    with pytest.raises(MockServerError):
        novapost_mock.advance(-5)


def test_serve_stops_on_exit() -> None:
    with serve("shipyo") as server:
        assert httpx.get(server.base_url + TOKEN_URL).status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + TOKEN_URL)


def test_serve_with_own_fixtures() -> None:
    fixtures = parse_fixtures('{"shipyo": {"keys": [{"api_key": "ak_mine", "name": "mine"}]}}')
    with serve("shipyo", fixtures=fixtures) as server:
        url = server.base_url + TOKEN_URL
        assert httpx.get(url, headers={"x-api-key": "ak_mine"}).status_code == 200
        assert httpx.get(url, headers={"x-api-key": SHIPYO_KEY}).status_code == 403


def test_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            with serve("novapost", port=port):
                pass


def test_unknown_api_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown carrier 'dhl'; known: novapost, shipyo"):
        with serve("dhl"):
            pass


def test_served_connections_have_nagle_off() -> None:
    """Headers and body go out as two writes: with Nagle on, the body waits for a delayed ACK."""
    nodelay: list[int] = []

    def wrap(app: Any) -> Any:
        async def probe(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                # the drop extension is bound to the connection's protocol, which holds its socket
                protocol = scope["extensions"][DROP_EXTENSION].__self__
                sock = protocol.transport.get_extra_info("socket")
                nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            await app(scope, receive, send)

        return probe

    with serve("novapost", wrap=wrap) as server, httpx.Client(timeout=10) as client:
        for _ in range(3):
            assert client.get(server.origin + "/__mock__/stats").status_code == 200
    assert len(nodelay) == 3
    assert all(nodelay)
