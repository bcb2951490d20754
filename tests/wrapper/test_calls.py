"""call()/acall(): a typed model or a typed carriers error, nothing else.

Bodies that break the spec are errors here under ``strict_responses=True``; what the
default (lenient) mode returns for them is tested in test_lenient.py.
"""

from __future__ import annotations

import io
import json
import typing
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from carriers import NovaPost, Shipyo, errors
from carriers._calls import ModelMismatch, check_value
from novapost_client.api.authorization import get_clients_authorization, post_test_api_keys
from novapost_client.models import JwtResponse, PostTestApiKeysBody
from novapost_client.models import TestApiKeyResponse as KeyResponse
from shipyo_client.api.token import generate_token_from_api_key
from shipyo_client.models import TokenEnvelope

from .conftest import TokenIssuer

BODY = PostTestApiKeysBody(phone="498213437654")
KEY = {
    "apiKey": "sandbox-key-value",
    "createdAt": "2027-01-01T00:00:00+00:00",
    "expDate": "2028-01-01T00:00:00+00:00",
    "status": "Active",
}


@pytest.mark.parametrize(
    "endpoint",
    [
        post_test_api_keys,
        post_test_api_keys.sync_detailed,
        post_test_api_keys.sync,
        post_test_api_keys.asyncio_detailed,
    ],
)
def test_call_returns_the_model(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, endpoint: Any
) -> None:
    route = np_api.post("/test-api-keys").respond(200, json=KEY)
    result = make_np().call(endpoint, body=BODY)
    assert isinstance(result, KeyResponse)
    assert result.api_key == "sandbox-key-value"
    assert result.exp_date.year == 2028
    assert json.loads(route.calls.last.request.content) == {"phone": "498213437654"}


async def test_acall_returns_the_model(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    np_api.get("/clients/authorization").respond(200, json={"jwt": "abc", "extra": 1})
    np = make_np()
    result = await np.acall(get_clients_authorization, api_key="k")
    assert isinstance(result, JwtResponse)
    assert result.jwt == "abc"
    await np.aclose()


def test_unknown_extra_fields_are_tolerated(
    make_np: Callable[..., NovaPost],
    make_sh: Callable[..., Shipyo],
    np_api: respx.MockRouter,
    sh_api: respx.MockRouter,
) -> None:
    np_api.get("/clients/authorization").respond(
        200, json={"jwt": "abc", "refresh": {"nested": [1, 2]}, "ttl": 3600}
    )
    result = make_np().call(get_clients_authorization, api_key="k")
    assert isinstance(result, JwtResponse)
    assert result.additional_properties == {"refresh": {"nested": [1, 2]}, "ttl": 3600}
    sh_api.get("/api/Token/generate-from-apikey").respond(
        200, json={"success": True, "data": "tok", "message": "ok", "errors": None, "new": 1}
    )
    envelope = make_sh().call(generate_token_from_api_key)
    assert isinstance(envelope, TokenEnvelope)
    assert envelope.data == "tok"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "missing required field 'jwt'"),
        ({"jwt": 123}, "$.jwt: expected str, got int"),
        ({"jwt": None}, "$.jwt: expected str, got NoneType"),
        ([{"jwt": "a"}], "ValueError"),
        ("a string", "ValueError"),
        (None, "not JSON"),  # respx sends no body for json=None
        (42, "TypeError"),
    ],
)
@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_2xx_body_that_breaks_the_model_is_a_strict_validation_error(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    body: object,
    fragment: str,
    asynchronous: bool,
) -> None:
    np_api.get("/clients/authorization").respond(200, json=body)
    np = make_np(strict_responses=True)
    with pytest.raises(errors.ResponseValidationError) as caught:
        if asynchronous:
            await np.acall(get_clients_authorization, api_key="k")
        else:
            np.call(get_clients_authorization, api_key="k")
    assert fragment in str(caught.value)
    assert caught.value.status_code == 200
    assert "GET /v.1.0/clients/authorization" in str(caught.value)
    await np.aclose()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"<html>maintenance</html>", "text/html"),
        (b"", "application/json"),
        (b"{not json", "application/json"),
        (b"\xff\xfe\xfd binary", "application/json"),
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_a_2xx_body_that_is_not_json_is_a_validation_error_in_either_mode(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    content: bytes,
    content_type: str,
    strict: bool,
) -> None:
    np_api.get("/clients/authorization").respond(
        200, content=content, headers={"content-type": content_type}
    )
    with pytest.raises(errors.ResponseValidationError, match="not JSON"):
        make_np(strict_responses=strict).call(get_clients_authorization, api_key="k")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"status": "Deleted"}, "Unexpected value"),
        ({"expDate": "next year"}, "ValueError"),
        ({"expDate": 1700000000}, "TypeError"),
        ({"apiKey": ["a"]}, "$.apiKey: expected str, got list"),
    ],
)
def test_bad_dates_enums_and_types_are_strict_validation_errors(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    change: dict[str, Any],
    fragment: str,
) -> None:
    np_api.post("/test-api-keys").respond(200, json={**KEY, **change})
    with pytest.raises(errors.ResponseValidationError) as caught:
        make_np(strict_responses=True).call(post_test_api_keys, body=BODY)
    assert fragment in str(caught.value)


def test_shipyo_envelope_with_the_wrong_types(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter
) -> None:
    sh_api.get("/api/Token/generate-from-apikey").respond(
        200, json={"success": "yes", "data": "tok", "message": "ok"}
    )
    with pytest.raises(errors.ResponseValidationError, match=r"\$.success: expected bool"):
        make_sh(strict_responses=True).call(generate_token_from_api_key)


def test_an_undocumented_2xx_status_is_a_strict_validation_error(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    np_api.get("/clients/authorization").respond(202, json={"jwt": "x"})
    with pytest.raises(errors.ResponseValidationError, match="status not documented"):
        make_np(strict_responses=True).call(get_clients_authorization, api_key="k")


def test_non_2xx_is_the_typed_status_error_not_the_error_model(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    np_api.get("/clients/authorization").respond(422, json={"errors": {"apiKey": "required"}})
    with pytest.raises(errors.UnprocessableEntityError) as caught:
        make_np().call(get_clients_authorization, api_key="k")
    assert caught.value.messages == ["apiKey: required"]


def test_wrong_arguments_are_a_type_error_and_send_nothing(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    route = np_api.get("/clients/authorization").respond(200, json={"jwt": "x"})
    np = make_np()
    with pytest.raises(TypeError):
        np.call(get_clients_authorization, apikey="k")
    with pytest.raises(AttributeError):
        np.call(post_test_api_keys, body={"phone": "49123456789"})
    assert route.call_count == 0


def test_an_endpoint_of_the_other_api_or_no_endpoint_is_refused(
    make_np: Callable[..., NovaPost], make_sh: Callable[..., Shipyo]
) -> None:
    with pytest.raises(TypeError, match="not an endpoint of novapost_client"):
        make_np().call(generate_token_from_api_key)
    with pytest.raises(TypeError, match="not an endpoint of shipyo_client"):
        make_sh().call(get_clients_authorization, api_key="k")
    with pytest.raises(TypeError, match="generated api module"):
        make_np().call(print)
    with pytest.raises(TypeError, match="generated api module"):
        make_np().call("get_clients_authorization")  # type: ignore[call-overload]


def test_the_generated_functions_work_directly_with_the_client(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np_api.post("/test-api-keys").respond(200, json=KEY)
    np = make_np()
    assert isinstance(post_test_api_keys.sync(client=np.client, body=BODY), KeyResponse)
    np_api.post("/test-api-keys").respond(409, json={"success": False, "errors": ["Multiple"]})
    answer = post_test_api_keys.sync_detailed(client=np.client, body=BODY)  # as generated
    assert answer.status_code == 409 and not isinstance(answer.parsed, KeyResponse)
    with pytest.raises(errors.ConflictError):  # call() raises the typed error
        np.call(post_test_api_keys, body=BODY)


def test_jwt_of_a_token_route_without_a_token_is_a_validation_error(
    make_np: Callable[..., NovaPost],
    make_sh: Callable[..., Shipyo],
    np_api: respx.MockRouter,
    sh_api: respx.MockRouter,
) -> None:
    np_api.get("/clients/authorization").respond(200, json={"jwt": ""})
    with pytest.raises(errors.ResponseValidationError):
        make_np().jwt()
    sh_api.get("/api/Token/generate-from-apikey").respond(
        200, json={"success": True, "data": "", "message": "ok"}
    )
    with pytest.raises(errors.ResponseValidationError):
        make_sh().jwt()


def test_a_failed_mint_leaves_no_token_behind(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np_api.get("/clients/authorization").mock(
        side_effect=[httpx.Response(200, json={}), httpx.Response(200, json={"jwt": "good"})]
    )
    np = make_np()
    with pytest.raises(errors.ResponseValidationError):
        np.jwt()
    assert np.jwt() == "good"


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (1, float),
        (True, bool),
        (None, "None"),
        (["a"], list[str]),
        ({"a": 1}, dict[str, int]),
        ("x", str | None),
        (io.BytesIO(b"%PDF-"), typing.BinaryIO),  # a File's payload
    ],
)
def test_check_value_accepts(value: object, hint: object) -> None:
    check_value(value, type(None) if hint == "None" else hint)


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (True, int),
        (True, float),
        ("1", int),
        ([1], list[str]),
        ({"a": "b"}, dict[str, int]),
        (b"%PDF-", typing.BinaryIO),
    ],
)
def test_check_value_refuses(value: object, hint: object) -> None:
    with pytest.raises(ModelMismatch):
        check_value(value, hint)
