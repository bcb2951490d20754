"""The facades: generated clients, closing, transports, copies, the public names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import carriers
import httpx
import novapost_client
import pytest
import respx
import shipyo_client
from carriers import NovaPost, Shipyo
from novapost_client.api.authorization import get_clients_authorization
from novapost_client.models import JwtResponse
from shipyo_client.api.token import generate_token_from_api_key

from .conftest import NP_BASE, FakeClock, TokenIssuer


def test_the_public_names() -> None:
    for name in carriers.__all__:
        assert hasattr(carriers, name), name
    for name in [
        "NovaPost",
        "Shipyo",
        "CarrierError",
        "APIError",
        "APIStatusError",
        "APIConnectionError",
        "APITimeoutError",
        "ResponseValidationError",
        "ConfigurationError",
        "KeyStore",
        "RedactingFilter",
    ]:
        assert name in carriers.__all__


def test_clients_are_the_generated_classes(
    make_np: Callable[..., NovaPost], make_sh: Callable[..., Shipyo]
) -> None:
    np, sh = make_np(), make_sh()
    assert isinstance(np.client, novapost_client.AuthenticatedClient)
    assert isinstance(sh.client, shipyo_client.AuthenticatedClient)
    assert np.client.raise_on_unexpected_status is True
    assert np.client.get_httpx_client() is np.client.get_httpx_client()
    assert np.client.get_httpx_client().auth is np.auth


def test_the_sync_context_manager_closes_the_client(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    with make_np() as np:
        http = np.client.get_httpx_client()
        np.jwt()
    assert http.is_closed


async def test_the_async_context_manager_closes_both_clients(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    async with make_sh() as sh:
        sync_http = sh.client.get_httpx_client()
        async_http = sh.client.get_async_httpx_client()
        await sh.ajwt()
    assert sync_http.is_closed and async_http.is_closed


def test_closing_an_unused_facade_opens_no_http_client(
    make_np: Callable[..., NovaPost], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[object] = []

    class Counted(httpx.Client):
        def __init__(self, **kwargs: Any) -> None:
            opened.append(self)
            super().__init__(**kwargs)

    monkeypatch.setattr(httpx, "Client", Counted)
    np = make_np()
    np.close()
    assert opened == []
    np.client  # noqa: B018 - the generated client opens its own
    assert len(opened) == 1


def test_the_generated_functions_sync_and_asyncio(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    sh = make_sh()
    envelope = generate_token_from_api_key.sync(client=sh.client)
    assert envelope is not None and envelope.data == sh_tokens.issued[0]


async def test_the_generated_asyncio_functions(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    sh = make_sh()
    envelope = await generate_token_from_api_key.asyncio(client=sh.client)
    assert envelope is not None and envelope.data == sh_tokens.issued[0]
    await sh.aclose()


def test_a_with_headers_copy_sends_the_jwt_and_leaves_calls_alone(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np = make_np()
    copy = np.client.with_headers({"X-Trace": "t1"})
    route = np_api.get("/parcels").respond(200, json={})
    assert copy.get_httpx_client().get("/parcels").status_code == 200
    assert route.calls.last.request.headers["X-Trace"] == "t1"
    assert route.calls.last.request.headers["Authorization"] == np_tokens.issued[0]
    np.request("GET", "/parcels")  # the generated client's headers are its own
    assert "X-Trace" not in route.calls.last.request.headers
    np_api.get("/missing").respond(404)
    assert copy.get_httpx_client().get("/missing").status_code == 404  # as httpx returns it
    np.close()


def test_custom_transports_serve_sync_and_async(clock: FakeClock, np_key: str) -> None:
    """How an in-process mock server plugs in: one transport per flavour."""
    issuer = TokenIssuer(clock, np_key)

    def app(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/clients/authorization"):
            return issuer(request)
        return httpx.Response(200, json={"auth": request.headers.get("Authorization")})

    np = NovaPost(
        api_key=np_key,
        base_url="http://127.0.0.1:8010/v.1.0",
        transport=httpx.MockTransport(app),
        async_transport=httpx.MockTransport(app),
    )
    assert np.request("GET", "/whoami").json() == {"auth": issuer.issued[0]}

    async def run() -> object:
        async with np:
            response = await np.arequest("GET", "/whoami")
            return response.json()

    import asyncio

    assert asyncio.run(run()) == {"auth": issuer.issued[0]}
    assert issuer.count == 1


def test_the_auth_flow_works_on_a_plain_httpx_client(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np = make_np()
    route = np_api.get("/parcels").respond(200)
    with httpx.Client(base_url=NP_BASE + "/", auth=np.auth) as plain:
        plain.get("parcels")
    assert route.calls.last.request.headers["Authorization"] == np_tokens.issued[0]


def test_call_through_a_facade_uses_its_client(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    route = np_api.get("/clients/authorization").respond(200, json={"jwt": "abc"})
    result = make_np().call(get_clients_authorization, api_key="other-key")
    assert isinstance(result, JwtResponse)
    assert route.calls.last.request.url.params["apiKey"] == "other-key"
    assert "Authorization" not in route.calls.last.request.headers


def test_reprs_say_what_matters(
    make_np: Callable[..., NovaPost], make_sh: Callable[..., Shipyo]
) -> None:
    np = make_np()
    assert repr(np).startswith("NovaPost(environment='sandbox', base_url='https://api-stage")
    assert "no jwt" in repr(np)
    sh = make_sh(environment="staging", tenant_id="t-1")
    assert "Shipyo(environment='staging'" in repr(sh)
    assert sh.tenant_id == "t-1"


def test_mint_count_is_exposed(
    make_np: Callable[..., NovaPost], np_tokens: TokenIssuer, clock: FakeClock
) -> None:
    np = make_np()
    np.jwt()
    np.jwt()
    clock.advance(4000)
    np.jwt()
    assert np.auth.mint_count == 2 == np_tokens.count
