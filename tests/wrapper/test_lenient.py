"""Lenient by default, strict on request: what a call does with a body that breaks the spec.

Default: the call returns what it could parse and logs one warning naming the
operation and the deepest mismatching path; ``strict_responses=True`` raises
``ResponseValidationError`` with the same path. Minting is strict either way.
"""

from __future__ import annotations

import json
import logging
import typing
from collections.abc import Callable
from typing import Any

import pytest
import respx
from carriers import NovaPost, Shipyo, errors
from carriers._calls import ModelMismatch, check_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from novapost_client.api.authorization import get_clients_authorization
from novapost_client.models import JwtResponse
from novapost_client.types import Unset
from shipyo_client.api.token import generate_token_from_api_key

from .conftest import TokenIssuer
from .paged_api import PagedApi, endpoint

DEEP = "$.items[0].responsiblePerson: expected int, got str"


def registers_page(**first: Any) -> dict[str, Any]:
    item = {"id": "r1", "number": "N-001", "responsiblePerson": 7, **first}
    return {"current_page": 1, "last_page": 1, "per_page": 15, "total": 1, "items": [item]}


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "carriers" and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_mismatch_returns_the_model_with_one_warning_naming_the_deepest_path(
    make_paged: Callable[..., PagedApi],
    paged_router: respx.MockRouter,
    paged_tokens: TokenIssuer,
    caplog: pytest.LogCaptureFixture,
    asynchronous: bool,
) -> None:
    paged_router.get("/registers").respond(
        200, json=registers_page(responsiblePerson="Olena Kovalenko")
    )
    np = make_paged()
    with caplog.at_level(logging.WARNING, logger="carriers"):
        if asynchronous:
            result = await np.acall(endpoint("registers.list_registers"))
        else:
            result = np.call(endpoint("registers.list_registers"))
    assert type(result).__name__ == "RegisterPage"
    assert result.items[0].number == "N-001"
    assert result.items[0].responsible_person == "Olena Kovalenko"  # as sent
    (warning,) = warnings_of(caplog)
    assert warning.startswith("list_registers (GET /v1/registers): HTTP 200 body")
    assert DEEP in warning
    await np.aclose()


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_strict_responses_raises_with_the_same_deepest_path(
    make_paged: Callable[..., PagedApi],
    paged_router: respx.MockRouter,
    paged_tokens: TokenIssuer,
    caplog: pytest.LogCaptureFixture,
    asynchronous: bool,
) -> None:
    paged_router.get("/registers").respond(
        200, json=registers_page(responsiblePerson="Olena Kovalenko")
    )
    np = make_paged(strict_responses=True)
    with pytest.raises(errors.ResponseValidationError) as caught:
        if asynchronous:
            await np.acall(endpoint("registers.list_registers"))
        else:
            np.call(endpoint("registers.list_registers"))
    assert DEEP in str(caught.value)
    assert caught.value.status_code == 200
    assert warnings_of(caplog) == []
    await np.aclose()


def test_with_options_switches_strictness_for_the_copy_only(
    make_paged: Callable[..., PagedApi], paged_router: respx.MockRouter, paged_tokens: TokenIssuer
) -> None:
    paged_router.get("/registers").respond(200, json=registers_page(responsiblePerson="Ann"))
    lenient = make_paged()
    strict = lenient.with_options(strict_responses=True)
    assert (lenient.options.strict_responses, strict.options.strict_responses) == (False, True)
    lenient.call(endpoint("registers.list_registers"))
    with pytest.raises(errors.ResponseValidationError, match=r"responsiblePerson"):
        strict.call(endpoint("registers.list_registers"))
    assert paged_tokens.count == 1  # the copy shares the token
    with pytest.raises(errors.ConfigurationError, match="strict_responses must be True or False"):
        lenient.with_options(strict_responses="yes")  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "missing required field 'jwt'"),
        ([{"jwt": "a"}], "ValueError"),
        ("a string", "ValueError"),
    ],
)
async def test_a_body_the_parser_gives_up_on_is_returned_as_decoded_json(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    body: Any,
    detail: str,
) -> None:
    np_api.get("/clients/authorization").respond(200, json=body)
    np = make_np()
    with caplog.at_level(logging.WARNING, logger="carriers"):
        assert np.call(get_clients_authorization, api_key="k") == body
        assert await np.acall(get_clients_authorization, api_key="k") == body
    warnings = warnings_of(caplog)
    assert len(warnings) == 2
    assert all("get_clients_authorization" in w and detail in w for w in warnings)
    await np.aclose()


def test_an_undocumented_2xx_status_returns_the_json_with_a_warning(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    np_api.get("/clients/authorization").respond(202, json={"jwt": "x"})
    with caplog.at_level(logging.WARNING, logger="carriers"):
        result = make_np().call(get_clients_authorization, api_key="k")
    assert result == {"jwt": "x"}
    (warning,) = warnings_of(caplog)
    assert "HTTP 202 body does not match the spec: status not documented" in warning


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"number": None}, "$.items[0]: missing required field 'number'"),
        ({"createdAt": "last Tuesday"}, "$.items[0].createdAt: expected an ISO 8601 datetime"),
    ],
)
def test_a_body_the_parser_gives_up_on_deep_down_is_named_by_its_deepest_path(
    make_paged: Callable[..., PagedApi],
    paged_router: respx.MockRouter,
    paged_tokens: TokenIssuer,
    caplog: pytest.LogCaptureFixture,
    change: dict[str, Any],
    where: str,
) -> None:
    body = registers_page(**change)
    body["items"][0] = {k: v for k, v in body["items"][0].items() if v is not None}
    paged_router.get("/registers").respond(200, json=body)
    np = make_paged()
    with caplog.at_level(logging.WARNING, logger="carriers"):
        result = np.call(endpoint("registers.list_registers"))
    assert result == body  # no model could be built: the decoded JSON
    (warning,) = warnings_of(caplog)
    assert where in warning
    with pytest.raises(errors.ResponseValidationError) as caught:
        np.with_options(strict_responses=True).call(endpoint("registers.list_registers"))
    assert where in str(caught.value)


@pytest.mark.parametrize("strict", [False, True])
def test_minting_is_strict_whatever_the_option(
    make_np: Callable[..., NovaPost],
    make_sh: Callable[..., Shipyo],
    make_paged: Callable[..., PagedApi],
    np_api: respx.MockRouter,
    sh_api: respx.MockRouter,
    paged_router: respx.MockRouter,
    strict: bool,
) -> None:
    for body, fragment in [
        ({"jwt": 123}, "$.jwt: expected str, got int"),
        ({}, "missing required field 'jwt'"),
        ({"jwt": None}, "$.jwt: expected str, got NoneType"),
    ]:
        np_api.get("/clients/authorization").respond(200, json=body)
        with pytest.raises(errors.ResponseValidationError, match=fragment.replace("$", r"\$")):
            make_np(strict_responses=strict).jwt()
        paged_router.get("/clients/authorization").respond(200, json=body)
        with pytest.raises(errors.ResponseValidationError, match=fragment.replace("$", r"\$")):
            make_paged(strict_responses=strict).jwt()
    sh_api.get("/api/Token/generate-from-apikey").respond(
        200, json={"success": "yes", "data": 5, "message": "ok"}
    )
    with pytest.raises(errors.ResponseValidationError, match=r"\$.success: expected bool"):
        make_sh(strict_responses=strict).jwt()


async def test_async_minting_is_strict_under_lenient_options(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    np_api.get("/clients/authorization").respond(200, json={"jwt": ["not", "a", "token"]})
    np = make_np()
    with pytest.raises(errors.ResponseValidationError, match=r"\$.jwt: expected str, got list"):
        await np.ajwt()
    await np.aclose()


def test_the_warning_never_holds_a_secret(
    make_paged: Callable[..., PagedApi],
    paged_router: respx.MockRouter,
    paged_tokens: TokenIssuer,
    np_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    np = make_paged()
    token = np.jwt()
    # a server echoing both secrets into fields whose parse errors quote the value
    body = registers_page(createdAt=f"{token} {np_key}", responsiblePerson=token)
    paged_router.get("/registers").respond(200, json=body)
    with caplog.at_level(logging.DEBUG, logger="carriers"):
        result = np.call(endpoint("registers.list_registers"))
    assert result == body  # the date could not be parsed: the JSON
    (warning,) = warnings_of(caplog)
    assert "list_registers" in warning
    assert token not in caplog.text and np_key not in caplog.text
    assert token not in warning and np_key not in warning


def test_the_path_names_the_bodys_own_keys_through_nested_models(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    key = {
        "apiKey": 5,
        "createdAt": "2027-01-01T00:00:00+00:00",
        "expDate": "2028-01-01T00:00:00+00:00",
        "status": "Active",
    }
    from novapost_client.api.authorization import post_test_api_keys
    from novapost_client.models import PostTestApiKeysBody

    np_api.post("/test-api-keys").respond(200, json=key)
    with pytest.raises(errors.ResponseValidationError, match=r"\$\.apiKey: expected str, got int"):
        make_np(strict_responses=True).call(
            post_test_api_keys, body=PostTestApiKeysBody(phone="498213437654")
        )


@pytest.mark.parametrize(
    ("value", "hint", "message"),
    [
        (["a"], list[int] | None, "$[0]: expected int, got str"),
        ([[1, "x"]], list[list[int]] | Unset, "$[0][1]: expected int, got str"),
        (1, str | None, "$: expected str | None, got int"),
        (1, str | Unset, "$: expected str, got int"),
        ({"a": ["b"]}, dict[str, list[int]] | None, "$.a[0]: expected int, got str"),
    ],
)
def test_a_union_reports_the_arm_that_got_deepest(value: Any, hint: Any, message: str) -> None:
    with pytest.raises(ModelMismatch) as caught:
        check_value(value, hint)
    assert str(caught.value) == message


def test_a_model_field_path_goes_through_the_union_of_its_list() -> None:
    page = JwtResponse(jwt=typing.cast(str, 3))
    with pytest.raises(ModelMismatch) as caught:
        check_value([page], list[JwtResponse] | Unset)
    assert str(caught.value) == "$[0].jwt: expected str, got int"
    assert caught.value.path == (0, "jwt")


def test_shipyo_calls_are_lenient_too(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    sh_api.get("/api/Token/generate-from-apikey").respond(
        200, json={"success": "yes", "data": "tok", "message": "ok"}
    )
    with caplog.at_level(logging.WARNING, logger="carriers"):
        envelope = make_sh().call(generate_token_from_api_key)
    assert envelope.success == "yes"
    (warning,) = warnings_of(caplog)
    assert "$.success: expected bool, got str" in warning


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_FIELD = _SCALARS | _JSON | st.just("2027-01-01T00:00:00+00:00")
_ITEMS = st.fixed_dictionaries(
    {"id": _FIELD, "number": _FIELD, "responsiblePerson": _FIELD},
    optional={"createdAt": _FIELD},
)
_PAGES = st.fixed_dictionaries(
    {"current_page": _FIELD, "last_page": _FIELD, "per_page": _FIELD, "total": _FIELD},
    optional={"items": st.lists(_ITEMS, max_size=3) | _FIELD},
)


def test_any_json_body_gives_a_checked_model_the_json_or_one_warning(
    make_paged: Callable[..., PagedApi],
    paged_router: respx.MockRouter,
    paged_tokens: TokenIssuer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever JSON a server sends: lenient returns the model (one warning unless it
    checks clean) or the JSON itself (one warning); strict returns a clean model or
    raises ResponseValidationError naming a path. Nothing else escapes."""
    lenient, strict = make_paged(), make_paged(strict_responses=True)
    route = paged_router.get("/registers")
    list_registers = endpoint("registers.list_registers")

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=_PAGES | _JSON)
    def check(body: Any) -> None:
        # as text: respx sends no body at all for json=None
        route.respond(200, content=json.dumps(body), headers={"content-type": "application/json"})
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="carriers"):
            result = lenient.call(list_registers)
        try:
            check_value(result)
            clean = type(result).__name__ == "RegisterPage"
        except ModelMismatch:
            clean = False
        if type(result).__name__ != "RegisterPage":
            assert result == body
        assert len(warnings_of(caplog)) == (0 if clean else 1)
        if clean:
            assert strict.call(list_registers) is not None
        else:
            with pytest.raises(errors.ResponseValidationError, match=r"\$"):
                strict.call(list_registers)

    check()
