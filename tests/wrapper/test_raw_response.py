"""with_raw_response: the HTTP response beside the value call() returns, typed alike."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx
from carriers import NovaPost, RawResponse, errors
from novapost_client.api.authorization import get_clients_authorization
from novapost_client.models import JwtResponse

from .conftest import TokenIssuer
from .paged_api import PagedApi, endpoint

ROOT = Path(__file__).resolve().parents[2]


def test_raw_call_gives_status_headers_body_response_and_model(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    np_api.get("/clients/authorization").respond(
        200,
        content=b'{"jwt":"abc"}',  # the bytes as sent: httpx's json= spacing varies by version
        headers={"X-Request-Id": "req-1", "Content-Type": "application/json"},
    )
    raw = make_np().with_raw_response.call(get_clients_authorization, api_key="k")
    assert isinstance(raw, RawResponse)
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "req-1"
    assert raw.content == b'{"jwt":"abc"}'
    assert isinstance(raw.http_response, httpx.Response)
    assert raw.http_response.request.url.path == "/v.1.0/clients/authorization"
    assert isinstance(raw.parsed, JwtResponse) and raw.parsed.jwt == "abc"


async def test_raw_acall_and_an_authorized_route(
    make_paged: Callable[..., PagedApi], paged_router: respx.MockRouter, paged_tokens: TokenIssuer
) -> None:
    route = paged_router.get("/registers/r1").respond(
        200, json={"id": "r1", "number": "N-001", "responsiblePerson": 3}
    )
    np = make_paged()
    raw = await np.with_raw_response.acall(endpoint("registers.get_register"), id="r1")
    assert raw.status_code == 200
    assert raw.parsed.responsible_person == 3
    # the JWT went on the request, and the response is the last hop's, not the mint's
    assert raw.http_response.request.headers["authorization"] == paged_tokens.issued[0]
    assert raw.http_response.request.url.path == "/v1/registers/r1"
    assert route.call_count == 1
    await np.aclose()


def test_raw_follows_the_strictness_option(
    make_paged: Callable[..., PagedApi],
    paged_router: respx.MockRouter,
    paged_tokens: TokenIssuer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    paged_router.get("/registers/r1").respond(
        200, json={"id": "r1", "number": "N-001", "responsiblePerson": "Ann"}
    )
    np = make_paged()
    with caplog.at_level(logging.WARNING, logger="carriers"):
        raw = np.with_raw_response.call(endpoint("registers.get_register"), id="r1")
    assert raw.parsed.responsible_person == "Ann"
    assert json.loads(raw.content)["responsiblePerson"] == "Ann"
    assert "$.responsiblePerson: expected int, got str" in caplog.text
    with pytest.raises(errors.ResponseValidationError, match=r"\$\.responsiblePerson"):
        np.with_options(strict_responses=True).with_raw_response.call(
            endpoint("registers.get_register"), id="r1"
        )


def test_the_repr_shows_no_token(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    np = make_np()
    raw = np.with_raw_response.call(get_clients_authorization, api_key=np_tokens.api_key)
    token = raw.parsed.jwt
    assert token == np_tokens.issued[0]
    assert token not in repr(raw)
    assert repr(raw) == "RawResponse(status_code=200, parsed=JwtResponse)"
    with pytest.raises(TypeError, match="keyword-only"):
        np.with_raw_response.call(get_clients_authorization, "k")  # type: ignore[call-overload]


TYPED = """
from typing import assert_type
from carriers import NovaPost, RawResponse
from novapost_client.api.authorization import get_clients_authorization
from novapost_client.models import JwtResponse
from pagedapi_client.api.registers import get_register, list_registers
from pagedapi_client.models import Register


async def main(np: NovaPost) -> None:
    assert_type(np.with_raw_response.call(get_clients_authorization, api_key="k"),
                RawResponse[JwtResponse])
    assert_type(await np.with_raw_response.acall(get_clients_authorization, api_key="k"),
                RawResponse[JwtResponse])
    for item in np.paginate(list_registers, limit=50):
        assert_type(item, Register)
    async for other in np.apaginate(list_registers, number="N"):
        assert_type(other, Register)
    np.paginate(get_register, id="r1")  # line 19: not a paged list
    np.paginate(list_registers, limt=5)  # line 20: misspelled
    np.with_raw_response.call(get_clients_authorization, apikey="k")  # line 21
"""


def test_mypy_infers_raw_and_item_types_and_refuses_misuse(
    paged_site: Path, tmp_path: Path
) -> None:
    pytest.importorskip("mypy", reason="mypy is a development tool, not in the lowest set")
    source = tmp_path / "typed.py"
    source.write_text(textwrap.dedent(TYPED), encoding="utf-8")
    path = os.pathsep.join([str(paged_site), str(ROOT / "wrapper"), str(ROOT / "generated")])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(source),
        ],
        env={**os.environ, "MYPYPATH": path},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors_at = sorted(
        int(line.split(":")[1]) for line in proc.stdout.splitlines() if ": error:" in line
    )
    assert errors_at == [19, 20, 21], proc.stdout
