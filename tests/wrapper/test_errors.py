"""Every status becomes its exception, with the server's messages, from either API."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx
from carriers import NovaPost, Shipyo, errors
from carriers.errors import parse_messages

from .conftest import TokenIssuer

STATUS_CLASSES: list[tuple[int, type[errors.APIStatusError]]] = [
    (400, errors.BadRequestError),
    (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError),
    (404, errors.NotFoundError),
    (409, errors.ConflictError),
    (422, errors.UnprocessableEntityError),
    (429, errors.RateLimitError),
    (500, errors.InternalServerError),
    (502, errors.InternalServerError),
    (503, errors.ServiceUnavailableError),
    (504, errors.InternalServerError),
    (405, errors.APIStatusError),
    (418, errors.APIStatusError),
    (302, errors.APIStatusError),
]


def test_hierarchy() -> None:
    assert issubclass(errors.APIError, errors.CarrierError)
    assert issubclass(errors.APIStatusError, errors.APIError)
    for _, cls in STATUS_CLASSES:
        assert issubclass(cls, errors.APIStatusError)
    assert issubclass(errors.ServiceUnavailableError, errors.InternalServerError)
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    assert issubclass(errors.APIConnectionError, errors.APIError)
    assert issubclass(errors.ResponseValidationError, errors.APIError)
    assert issubclass(errors.ConfigurationError, ValueError)
    assert issubclass(errors.ConfigurationError, errors.CarrierError)


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
@pytest.mark.parametrize("asynchronous", [False, True])
async def test_novapost_status_maps_to_its_exception(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    status: int,
    cls: type[errors.APIStatusError],
    asynchronous: bool,
) -> None:
    np_api.get("/parcels").respond(status, json={"success": False, "errors": [f"problem {status}"]})
    np = make_np(max_retries=0)
    with pytest.raises(errors.APIStatusError) as caught:
        if asynchronous:
            await np.arequest("GET", "/parcels")
        else:
            np.request("GET", "/parcels")
    assert type(caught.value) is cls
    assert caught.value.status_code == status
    assert caught.value.messages == [f"problem {status}"]
    assert f"HTTP {status}" in str(caught.value)
    assert "GET /v.1.0/parcels" in str(caught.value)
    await np.aclose()


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_shipyo_status_maps_to_its_exception(
    make_sh: Callable[..., Shipyo],
    sh_api: respx.MockRouter,
    sh_tokens: TokenIssuer,
    status: int,
    cls: type[errors.APIStatusError],
) -> None:
    sh_api.get("/api/Things").respond(
        status,
        json={"success": False, "data": None, "message": "Errore", "errors": ["dettaglio"]},
    )
    with pytest.raises(errors.APIStatusError) as caught:
        make_sh(max_retries=0).request("GET", "/api/Things")
    assert type(caught.value) is cls
    assert caught.value.messages == ["Errore", "dettaglio"]


@pytest.mark.parametrize(
    ("status", "body", "cls", "messages"),
    [
        (
            400,
            {"success": False, "errors": ["Invalid phone format"]},
            errors.BadRequestError,
            ["Invalid phone format"],
        ),
        (
            404,
            {"success": False, "errors": ["Client not found"]},
            errors.NotFoundError,
            ["Client not found"],
        ),
        (
            409,
            {"success": False, "errors": ["Multiple matching clients found"]},
            errors.ConflictError,
            ["Multiple matching clients found"],
        ),
        (
            429,
            {"success": False, "errors": ["Daily limit reached"]},
            errors.RateLimitError,
            ["Daily limit reached"],
        ),
        (
            503,
            {"errors": {"": "Connection time-out"}},
            errors.ServiceUnavailableError,
            ["Connection time-out"],
        ),
    ],
)
def test_the_documented_test_api_keys_errors(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    status: int,
    body: dict[str, object],
    cls: type[errors.APIStatusError],
    messages: list[str],
) -> None:
    from novapost_client.api.authorization import post_test_api_keys
    from novapost_client.models import PostTestApiKeysBody

    np_api.post("/test-api-keys").respond(status, json=body)
    with pytest.raises(cls) as caught:
        make_np(max_retries=0).call(
            post_test_api_keys, body=PostTestApiKeysBody(phone="49123456789")
        )
    assert caught.value.messages == messages


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"success": false, "errors": ["a", "b"]}', "application/json", ["a", "b"]),
        (
            b'{"errors": {"phone": "is required", "": "generic"}}',
            None,
            ["phone: is required", "generic"],
        ),
        (
            b'{"errors": {"phone": ["too short", "digits only"]}}',
            None,
            ["phone: too short", "phone: digits only"],
        ),
        (
            b'{"success": false, "data": null, "message": "API Key is missing.", '
            b'"errors": ["Missing x-api-key header"]}',
            None,
            ["API Key is missing.", "Missing x-api-key header"],
        ),
        (
            b'{"success": false, "message": "Chiave non valida", "error": "scaduta"}',
            None,
            ["Chiave non valida", "scaduta"],
        ),
        (b'{"success": false, "message": "Only a message"}', None, ["Only a message"]),
        (b'{"success": false, "error": {"message": "nested"}}', None, ["nested"]),
        (
            b'{"title": "Bad Request", "detail": "phone invalid", "traceId": "00-ab"}',
            "application/problem+json",
            ["Bad Request", "phone invalid"],
        ),
        (b'["x", "y"]', None, ["x", "y"]),
        (b'"just a string"', None, ["just a string"]),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
            ["502 Bad Gateway"],
        ),
        (
            b"<!DOCTYPE html><body><h1>Oops</h1><script>x()</script><p>later</p></body>",
            None,
            ["Oops later"],
        ),
        (b"upstream connect error", "text/plain", ["upstream connect error"]),
        (b"", None, []),
        (b"   ", None, []),
        (b"\xff\xfe not utf-8", None, ["\ufffd\ufffd not utf-8"]),
        (b'{"errors": null, "message": ""}', None, []),
        (b'{"message": "same", "errors": ["same"]}', None, ["same"]),
    ],
)
def test_parse_messages(body: bytes, content_type: str | None, expected: list[str]) -> None:
    assert parse_messages(body, content_type) == expected


def test_a_long_message_is_clipped() -> None:
    [message] = parse_messages(b"x" * 5000)
    assert len(message) <= 300
    assert message.endswith("...")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body><h1>Service Unavailable</h1></body></html>", "text/html"),
        (b"not json at all", "text/plain"),
        (b"", None),
        (b"{broken json", "application/json"),
    ],
)
def test_non_json_error_bodies_still_give_the_typed_error(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    body: bytes,
    content_type: str | None,
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    np_api.get("/parcels").respond(404, content=body, headers=headers)
    with pytest.raises(errors.NotFoundError) as caught:
        make_np().request("GET", "/parcels")
    assert caught.value.body == body


def test_request_id_from_header_or_body(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np_api.get("/a").respond(404, json={"errors": ["x"]}, headers={"X-Request-Id": "req-123"})
    np_api.get("/b").respond(404, json={"errors": ["x"], "traceId": "trace-9"})
    np_api.get("/c").respond(404, json={"errors": ["x"]})
    np = make_np()
    caught = []
    for path in ("/a", "/b", "/c"):
        with pytest.raises(errors.NotFoundError) as info:
            np.request("GET", path)
        caught.append(info.value)
    assert [error.request_id for error in caught] == ["req-123", "trace-9", None]
    assert str(caught[0]).endswith("(request id req-123)")
    assert "request id" not in str(caught[2])


def test_rate_limit_error_exposes_retry_after_and_rate_limit_headers(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    sh_api.get("/api/Things").respond(
        429,
        json={"success": False, "message": "Too many requests"},
        headers={
            "Retry-After": "120",
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "1800000120",
        },
    )
    with pytest.raises(errors.RateLimitError) as caught:
        make_sh().request("GET", "/api/Things")
    error = caught.value
    assert (error.retry_after, error.limit, error.remaining, error.reset) == (
        120.0,
        100,
        0,
        1800000120,
    )


def test_rate_limit_error_without_headers(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np_api.get("/parcels").respond(429, json={"errors": ["slow down"]})
    with pytest.raises(errors.RateLimitError) as caught:
        make_np(max_retries=0).request("GET", "/parcels")
    assert (caught.value.retry_after, caught.value.limit, caught.value.remaining) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("exception", "cls"),
    [
        (httpx.ConnectError("refused"), errors.APIConnectionError),
        (httpx.ReadError("reset by peer"), errors.APIConnectionError),
        (httpx.RemoteProtocolError("server hung up"), errors.APIConnectionError),
        (httpx.ConnectTimeout("connect timed out"), errors.APITimeoutError),
        (httpx.ReadTimeout("read timed out"), errors.APITimeoutError),
        (httpx.PoolTimeout("pool timed out"), errors.APITimeoutError),
    ],
)
@pytest.mark.parametrize("asynchronous", [False, True])
async def test_transport_failures_become_connection_errors(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    exception: Exception,
    cls: type[errors.APIConnectionError],
    asynchronous: bool,
) -> None:
    np_api.get("/parcels").mock(side_effect=exception)
    np = make_np(max_retries=0)
    with pytest.raises(errors.APIConnectionError) as caught:
        if asynchronous:
            await np.arequest("GET", "/parcels")
        else:
            np.request("GET", "/parcels")
    assert type(caught.value) is cls
    assert "GET /v.1.0/parcels" in str(caught.value)
    assert caught.value.request is not None
    await np.aclose()


def test_a_mint_that_cannot_connect_is_a_connection_error(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter
) -> None:
    sh_api.get("/api/Token/generate-from-apikey").mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(errors.APIConnectionError):
        make_sh(max_retries=0).jwt()


DEEP_BODIES = [
    b"[" * 100_000,
    b'{"errors": ' + b"[" * 100_000,
    b'{"requestId": ' + b'{"a": ' * 50_000,
    b'{"errors": ' + b"[" * 900 + b'"deep"' + b"]" * 900 + b"}",
]
"""Error bodies whose nesting ``json.loads`` (or a naive walk of it) cannot survive."""


@pytest.mark.parametrize("body", DEEP_BODIES)
def test_deeply_nested_bodies_give_messages_not_recursion_errors(body: bytes) -> None:
    messages = parse_messages(body, "application/json")
    assert all(len(message) <= 300 for message in messages)
    assert len(messages) <= 1


@pytest.mark.parametrize("body", DEEP_BODIES)
@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_deeply_nested_401_is_the_typed_error(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    body: bytes,
    asynchronous: bool,
) -> None:
    np_api.get("/clients/authorization").respond(
        401, content=body, headers={"content-type": "application/json"}
    )
    np = make_np(max_retries=0)
    with pytest.raises(errors.AuthenticationError) as caught:
        if asynchronous:
            await np.ajwt()
        else:
            np.jwt()
    assert caught.value.status_code == 401
    assert caught.value.request_id is None
    assert caught.value.body == body
    await np.aclose()


@pytest.mark.timeout(30)  # each took hours when a pattern rescanned the body from every tag
@pytest.mark.parametrize(
    "body",
    [
        b"<html>" + b"<title>" * 200_000,
        b"<!doctype html>" + b"<script>" * 200_000,
        b"<!doctype html>" + b"<" * 1_000_000,
        b"<html><title" + b" x" * 500_000,
    ],
)
def test_html_bodies_of_unclosed_tags_are_parsed_in_linear_time(body: bytes) -> None:
    assert len(parse_messages(body, "text/html")) <= 1


def test_scripts_and_styles_are_dropped_from_html_messages() -> None:
    body = b"<html><script>if (a<b) x()</script>shown<STYLE a=1>p{}</style >too<script>cut"
    assert parse_messages(body, "text/html") == ["shown too"]
