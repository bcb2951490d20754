"""Options: keyword-only, one frozen object, checked before any request, and with_options()."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from carriers import NovaPost, Options, Shipyo, errors
from carriers.options import OptionArgs

from .conftest import Sleeper, TokenIssuer


def test_options_are_keyword_only_and_test_hooks_are_not_options(np_key: str) -> None:
    with pytest.raises(TypeError):
        NovaPost(np_key, "production")  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword arguments: clock"):
        NovaPost(api_key=np_key, clock=lambda: 0.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="timeot"):
        Shipyo(api_key="ak_x", timeot=3)  # type: ignore[call-arg]


def test_the_typed_arguments_and_the_options_object_list_the_same_names() -> None:
    assert set(OptionArgs.__annotations__) == {f.name for f in dataclasses.fields(Options)}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"max_retries": -1}, "max_retries must be an integer >= 0"),
        ({"deadline": 0}, "deadline must be a positive number of seconds"),
        ({"deadline": float("inf")}, "deadline must be a positive number of seconds"),
        ({"max_response_bytes": 0}, "max_response_bytes must be a positive integer"),
        ({"max_response_bytes": 1.5}, "max_response_bytes must be a positive integer"),
        ({"retry_policy": "fast"}, "retry_policy must be a carriers.RetryPolicy"),
        ({"transport": object()}, "transport must be an httpx.BaseTransport"),
    ],
)
def test_bad_options_are_refused_by_name(np_key: str, changes: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(errors.ConfigurationError, match=words):
        NovaPost(api_key=np_key, **changes)
    np = NovaPost(api_key=np_key)
    with pytest.raises(errors.ConfigurationError, match=words):
        np.with_options(**changes)
    assert np.options == Options()  # nothing half-changed


def test_options_are_frozen(np_key: str) -> None:
    np = NovaPost(api_key=np_key, timeout=5, max_retries=0)
    assert np.options.httpx_timeout == httpx.Timeout(5.0) and np.options.max_retries == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        np.options.max_retries = 3  # type: ignore[misc]


def test_with_options_shares_the_token_and_the_connections(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[httpx.Client] = []

    class Counted(httpx.Client):
        def __init__(self, **kwargs: Any) -> None:
            opened.append(self)
            super().__init__(**kwargs)

    monkeypatch.setattr(httpx, "Client", Counted)
    np = make_np(max_retries=2)
    route = np_api.get("/parcels").respond(503)
    patient = np.with_options(max_retries=4, timeout=60)
    assert patient.options.max_retries == 4 and np.options.max_retries == 2
    assert patient.jwt() == np.jwt() and np_tokens.count == 1
    with pytest.raises(errors.ServiceUnavailableError):
        patient.request("GET", "/parcels")
    assert route.call_count == 5
    assert route.calls.last.request.extensions["timeout"] == httpx.Timeout(60.0).as_dict()
    # One pool: the copy sends through the original's client, and closing the copy
    # leaves the original working.
    assert len(opened) == 1
    patient.close()
    route.respond(200, json={})
    assert np.request("GET", "/parcels").status_code == 200
    assert np_tokens.count == 1 and len(opened) == 1


async def test_deadline_and_size_limit_reach_sync_and_async_calls_and_copies(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np_api.get("/parcels").respond(200, content=b"x" * 1500)
    np = make_np(max_response_bytes=1000)
    with pytest.raises(errors.ResponseTooLargeError):
        np.request("GET", "/parcels")
    with pytest.raises(errors.ResponseTooLargeError):
        await np.arequest("GET", "/parcels")
    larger = np.with_options(max_response_bytes=2000)
    assert len(larger.request("GET", "/parcels").content) == 1500
    assert len((await larger.arequest("GET", "/parcels")).content) == 1500
    assert NovaPost(api_key="k-1234").options.deadline == 120.0
    await np.aclose()


def test_max_response_bytes_applies_to_every_call(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np_api.get("/parcels").respond(200, json={"items": ["x" * 100]})
    with pytest.raises(errors.ResponseTooLargeError) as caught:
        make_np(max_response_bytes=50).jwt()  # a minted token's body counts too
    assert caught.value.limit == 50
    np = make_np(max_response_bytes=10_000)
    assert np.request("GET", "/parcels").json() == {"items": ["x" * 100]}
    with pytest.raises(errors.ResponseTooLargeError):
        np.with_options(max_response_bytes=50).request("GET", "/parcels")


def test_with_options_keeps_the_carrier_settings(sh_key: str) -> None:
    sh = Shipyo(api_key=sh_key, environment="staging", tenant_id="t1")
    copy = sh.with_options(max_retries=0)
    assert isinstance(copy, Shipyo)
    assert (copy.environment, copy.base_url, copy.tenant_id) == (
        "staging",
        sh.base_url,
        "t1",
    )
    assert copy.auth is sh.auth


def test_sandbox_checks_options_before_any_request(np_api: respx.MockRouter) -> None:
    create = np_api.post("/test-api-keys").respond(500)
    with pytest.raises(errors.ConfigurationError, match="max_retries"):
        NovaPost.sandbox(max_retries=-1)
    with pytest.raises(TypeError, match="environment"):
        NovaPost.sandbox(environment="production")  # type: ignore[call-arg]
    assert create.call_count == 0


def test_import_carriers_loads_nothing_heavy_or_optional() -> None:
    """The registry, --version and the mock plugin's import cost nothing; and the
    product never imports its test tooling."""
    code = (
        "import sys, carriers, carriers.registry; carriers.registry.all_carriers(); "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    heavy = {"httpx", "novapost_client", "shipyo_client", "jwt", "carrier_mocks"}
    heavy |= {"carriers_contract", "starlette", "uvicorn", "schemathesis"}
    assert not (loaded & heavy), loaded & heavy
    code = (
        "import sys\nfrom carriers import NovaPost, Shipyo, errors\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert not (loaded & {"carrier_mocks", "carriers_contract", "starlette", "schemathesis"})
