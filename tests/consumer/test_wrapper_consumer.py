"""Consumer side, through the wrapper: a typed model or a typed error, nothing else.

Every documented response of both specs, with bodies drawn from the spec, is served
through respx to ``NovaPost.call`` / ``Shipyo.call``: a 2xx must come back as its
generated model, any other status as its ``carriers.errors`` class. Bodies that break
what the client relies on must raise ``ResponseValidationError`` under
``strict_responses=True`` and come back, with a warning, by default; an unknown extra
field must be tolerated, so that the client survives additive API changes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from carriers import NovaPost, Shipyo, errors
from hypothesis import HealthCheck, given, settings

from tests.consumer.bodies import body_strategy, load_spec, resolve
from tests.consumer.test_generated_clients import (
    BASE,
    CALL_KWARGS,
    cases,
    model_for,
    operation_module,
)

ERRORS = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.UnprocessableEntityError,
    429: errors.RateLimitError,
    500: errors.InternalServerError,
    503: errors.ServiceUnavailableError,
}


def carrier(api: str, strict: bool = True) -> NovaPost | Shipyo:
    # No retries: each served response is seen exactly once.
    if api == "novapost":
        return NovaPost(
            api_key="np_consumer_key", base_url=BASE, max_retries=0, strict_responses=strict
        )
    return Shipyo(api_key="ak_consumer_key", base_url=BASE, max_retries=0, strict_responses=strict)


def serve_once(
    api: str, method: str, path: str, op_id: str, status: int, strict: bool = True, **respond: Any
) -> Any:
    """Serve one response to the operation through the wrapper; return what call() gives."""
    module = operation_module(api, op_id)
    with (
        carrier(api, strict) as client,
        respx.mock(base_url=BASE, assert_all_called=True) as router,
    ):
        router.request(method.upper(), path).respond(status, **respond)
        return client.call(module, **CALL_KWARGS[op_id])


@pytest.mark.parametrize(("api", "method", "path", "status", "schema", "op_id"), cases())
def test_documented_response_gives_model_or_typed_error(
    api: str, method: str, path: str, status: str, schema: dict[str, Any], op_id: str
) -> None:
    spec = load_spec(api)
    code = int(status)

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=body_strategy(spec, resolve(spec, schema)))
    def check(body: Any) -> None:
        if 200 <= code < 300:
            result = serve_once(api, method, path, op_id, code, json=body)
            assert isinstance(result, model_for(api, spec, schema))
            assert result.to_dict() == body
        else:
            with pytest.raises(ERRORS[code]) as caught:
                serve_once(api, method, path, op_id, code, json=body)
            assert caught.value.status_code == code

    check()


def success_cases() -> list[Any]:
    return [c for c in cases() if c.values[3].startswith("2")]


def valid_body(api: str, schema: dict[str, Any]) -> dict[str, Any]:
    spec = load_spec(api)
    resolved = resolve(spec, schema)
    body: dict[str, Any] = {}
    for name, prop in resolved.get("properties", {}).items():
        prop = resolve(spec, prop)
        if "enum" in prop:
            body[name] = prop["enum"][0]
        elif prop.get("format") == "date-time":
            body[name] = "2026-01-01T00:00:00+00:00"
        elif prop.get("type") == "boolean":
            body[name] = True
        elif prop.get("type") == "array":
            body[name] = []
        else:
            body[name] = "eyJ.a.b" if name in {"jwt", "data"} else "value"
    return body


@pytest.mark.parametrize(("api", "method", "path", "status", "schema", "op_id"), success_cases())
def test_broken_success_bodies_raise_response_validation_error(
    api: str, method: str, path: str, status: str, schema: dict[str, Any], op_id: str
) -> None:
    spec = load_spec(api)
    resolved = resolve(spec, schema)
    good = valid_body(api, schema)
    code = int(status)
    assert isinstance(
        serve_once(api, method, path, op_id, code, json=good), model_for(api, spec, schema)
    )

    broken: list[tuple[str, dict[str, Any]]] = []
    for name in resolved.get("required", []):
        broken.append((f"without {name}", {"json": {k: v for k, v in good.items() if k != name}}))
        wrong = 12345 if not isinstance(good[name], int) or isinstance(good[name], bool) else "x"
        broken.append((f"{name} of the wrong type", {"json": {**good, name: wrong}}))
    broken.append(
        ("not JSON", {"content": b"<html>oops</html>", "headers": {"content-type": "text/html"}})
    )
    broken.append(("a JSON list", {"json": [good]}))
    assert len(broken) > 2
    for label, respond in broken:
        with pytest.raises(errors.ResponseValidationError):
            serve_once(api, method, path, op_id, code, **respond)
            pytest.fail(f"{label}: accepted")
        if label == "not JSON":  # nothing to return in either mode
            with pytest.raises(errors.ResponseValidationError):
                serve_once(api, method, path, op_id, code, strict=False, **respond)
        else:  # lenient: the model as parsed, or the JSON when no model could be built
            served = serve_once(api, method, path, op_id, code, strict=False, **respond)
            if isinstance(served, (dict, list)):
                assert served == respond["json"], label
            else:
                assert isinstance(served, model_for(api, spec, schema)), label


@pytest.mark.parametrize(("api", "method", "path", "status", "schema", "op_id"), success_cases())
def test_unknown_extra_field_is_tolerated(
    api: str, method: str, path: str, status: str, schema: dict[str, Any], op_id: str
) -> None:
    spec = load_spec(api)
    body = {**valid_body(api, schema), "addedLater": {"nested": [1, 2]}}
    result = serve_once(api, method, path, op_id, int(status), json=body)
    assert isinstance(result, model_for(api, spec, schema))
    if resolve(spec, schema).get("additionalProperties") is False:
        # The spec forbids extras, so the model has no place for them: dropped, not fatal.
        assert "addedLater" not in result.to_dict()
    else:
        assert result.to_dict()["addedLater"] == {"nested": [1, 2]}


def error_cases() -> list[Any]:
    return [c for c in cases() if int(c.values[3]) >= 400]


@pytest.mark.parametrize(("api", "method", "path", "status", "schema", "op_id"), error_cases())
def test_html_error_page_still_gives_the_typed_error(
    api: str, method: str, path: str, status: str, schema: dict[str, Any], op_id: str
) -> None:
    code = int(status)
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    with pytest.raises(ERRORS[code]) as caught:
        serve_once(
            api, method, path, op_id, code, content=html, headers={"content-type": "text/html"}
        )
    assert caught.value.status_code == code
    json.dumps(caught.value.messages)  # plain strings, printable
