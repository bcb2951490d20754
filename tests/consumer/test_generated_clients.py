"""Consumer side, generated clients: every documented response parses into its model.

For every operation and every documented response of both specs, schema-valid bodies
(drawn by hypothesis from the spec) are served through respx to the generated client.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from novapost_client.models import PostTestApiKeysBody

from tests.consumer.bodies import body_strategy, documented_responses, load_spec, resolve

BASE = "http://carrier.test/v.1.0"
PACKAGES = {"novapost": "novapost_client", "shipyo": "shipyo_client"}
# The arguments each generated operation needs; a new operation fails below until added.
CALL_KWARGS: dict[str, dict[str, Any]] = {
    "post_test_api_keys": {"body": PostTestApiKeysBody(phone="498213437654")},
    "get_clients_authorization": {"api_key": "np_test_key"},
    "generate_token_from_api_key": {},
}


def operation_module(api: str, operation_id: str) -> ModuleType:
    package = importlib.import_module(f"{PACKAGES[api]}.api")
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if info.name.endswith(f".{operation_id}"):
            return importlib.import_module(info.name)
    raise LookupError(f"{PACKAGES[api]} has no module for operationId {operation_id}")


def cases() -> list[Any]:
    out = []
    for api in PACKAGES:
        spec = load_spec(api)
        for method, path, status, schema in documented_responses(api):
            op_id = spec["paths"][path][method]["operationId"]
            out.append(
                pytest.param(api, method, path, status, schema, op_id, id=f"{api}-{op_id}-{status}")
            )
    return out


def model_for(api: str, spec: dict[str, Any], schema: dict[str, Any]) -> type:
    name = schema["$ref"].rsplit("/", 1)[-1] if "$ref" in schema else None
    assert name, f"inline response schema {schema}: give it a name in the spec"
    models = importlib.import_module(f"{PACKAGES[api]}.models")
    return getattr(models, name)  # type: ignore[no-any-return]


def client_for(api: str) -> Any:
    package = importlib.import_module(PACKAGES[api])
    return package.AuthenticatedClient(base_url=BASE, token="token-not-checked-here")


def test_every_operation_has_call_arguments() -> None:
    for api in PACKAGES:
        spec = load_spec(api)
        for item in spec["paths"].values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    assert op["operationId"] in CALL_KWARGS, op["operationId"]


@pytest.mark.parametrize(("api", "method", "path", "status", "schema", "op_id"), cases())
def test_documented_response_parses_into_its_model(
    api: str, method: str, path: str, status: str, schema: dict[str, Any] | None, op_id: str
) -> None:
    spec = load_spec(api)
    module = operation_module(api, op_id)
    assert schema is not None, f"{method.upper()} {path} {status} documents no JSON body"
    expected = model_for(api, spec, schema)
    client = client_for(api)

    @settings(
        max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(body=body_strategy(spec, resolve(spec, schema)) if schema else st.none())
    def check(body: Any) -> None:
        with respx.mock(base_url=BASE, assert_all_called=True) as router:
            router.request(method.upper(), path).respond(int(status), json=body)
            response = module.sync_detailed(client=client, **CALL_KWARGS[op_id])
        assert response.status_code == int(status)
        assert isinstance(response.parsed, expected)
        # What the server sent comes back, extra fields included.
        assert response.parsed.to_dict() == body

    check()


def test_undocumented_status_is_not_silently_parsed() -> None:
    module = operation_module("novapost", "get_clients_authorization")
    client = client_for("novapost")
    with respx.mock(base_url=BASE) as router:
        router.get("/clients/authorization").respond(418, json={"teapot": True})
        response = module.sync_detailed(client=client, api_key="k")
    assert response.status_code == httpx.codes.IM_A_TEAPOT
    assert response.parsed is None


@pytest.mark.parametrize("op_id", sorted(CALL_KWARGS))
def test_build_request_is_what_sync_detailed_sends(op_id: str) -> None:
    """Each module says publicly how to build its request: the same one it sends."""
    api = "shipyo" if op_id == "generate_token_from_api_key" else "novapost"
    module = operation_module(api, op_id)
    built = module.build_request(**CALL_KWARGS[op_id])
    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(418)

    client = client_for(api)
    client.set_httpx_client(httpx.Client(base_url=BASE, transport=httpx.MockTransport(server)))
    module.sync_detailed(client=client, **CALL_KWARGS[op_id])
    own = httpx.Client(base_url=BASE).build_request(**built)
    assert (own.method, own.url, own.content) == (sent[0].method, sent[0].url, sent[0].content)
    assert own.headers.get("content-type") == sent[0].headers.get("content-type")


def test_parse_response_reads_a_received_response() -> None:
    module = operation_module("novapost", "get_clients_authorization")
    request = httpx.Request("GET", f"{BASE}/clients/authorization")
    ok = module.parse_response(httpx.Response(200, json={"jwt": "a.b.c"}, request=request))
    assert ok.status_code == 200 and ok.parsed.jwt == "a.b.c"
    teapot = httpx.Response(418, json={"teapot": True}, request=request)
    assert module.parse_response(teapot).parsed is None
    from novapost_client import errors

    with pytest.raises(errors.UnexpectedStatus):
        module.parse_response(teapot, raise_on_unexpected_status=True)
