"""The transport against hostile servers: deep JSON, gzip bombs, foreign origins, slow bodies.

Every server here is a standalone stdlib server from ``transport_servers``; timing
assertions leave wide margins (a 1 s deadline must end the call within 3 s) so
that a loaded machine does not make them flaky.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from carriers import NovaPost, Shipyo, errors
from carriers._loop import Sending, asend, send
from carriers.auth import origin_of
from carriers.retries import Retrier
from novapost_client.api.authorization import get_clients_authorization
from shipyo_client.api.token import generate_token_from_api_key

from .serving import serve
from .transport_servers import (
    BOMB_INFLATED,
    CarrierHandler,
    bomb_server,
    deep_json_server,
    encode,
    encoded_server,
    nested_bomb,
    recording_server,
    slow_server,
    trickle_server,
)

NP_KEY = "npk_hostile_transport_key"
SH_KEY = "ak_hostile0transport0key000000"
ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = json.dumps([{"id": i, "status": "in transit"} for i in range(20_000)]).encode()
MB = 1024 * 1024

Served = Callable[[type[CarrierHandler]], str]


def novapost(origin: str, **options: Any) -> NovaPost:
    return NovaPost(api_key=NP_KEY, base_url=f"{origin}/v.1.0", **options)


def shipyo(origin: str, **options: Any) -> Shipyo:
    return Shipyo(api_key=SH_KEY, base_url=origin, **options)


@pytest.fixture
def served() -> Iterator[Served]:
    """``served(Handler)`` starts a server for the rest of the test and returns its origin."""
    with ExitStack() as stack:
        yield lambda handler: stack.enter_context(serve(handler))


# --- 1. JSON nested deeper than the parser allows ---------------------------------------


def test_deep_json_in_a_2xx_from_call_is_a_validation_error(served: Served) -> None:
    origin = served(deep_json_server(200, on_token_route=True))
    with novapost(origin) as np, pytest.raises(errors.ResponseValidationError) as caught:
        np.call(get_clients_authorization, api_key=NP_KEY)
    assert "nested too deeply" in str(caught.value)
    assert caught.value.status_code == 200
    with shipyo(origin) as sh, pytest.raises(errors.ResponseValidationError):
        sh.call(generate_token_from_api_key)


async def test_deep_json_in_a_2xx_from_acall_is_a_validation_error(served: Served) -> None:
    origin = served(deep_json_server(200, on_token_route=True))
    async with novapost(origin) as np:
        with pytest.raises(errors.ResponseValidationError):
            await np.acall(get_clients_authorization, api_key=NP_KEY)
    async with shipyo(origin) as sh:
        with pytest.raises(errors.ResponseValidationError):
            await sh.acall(generate_token_from_api_key)


def test_deep_json_in_a_minted_token_is_a_validation_error(served: Served) -> None:
    origin = served(deep_json_server(200, on_token_route=True))
    with novapost(origin) as np, pytest.raises(errors.ResponseValidationError):
        np.jwt()
    with shipyo(origin) as sh, pytest.raises(errors.ResponseValidationError):
        sh.jwt()


@pytest.mark.parametrize("on_token_route", [True, False], ids=["mint", "authorized-call"])
def test_deep_json_in_a_401_is_an_authentication_error(
    served: Served, on_token_route: bool
) -> None:
    """The error body is parsed for messages: a parser crash must not replace the 401."""
    origin = served(deep_json_server(401, on_token_route=on_token_route))
    with novapost(origin, max_retries=0) as np, pytest.raises(errors.AuthenticationError):
        if on_token_route:
            np.jwt()
        else:
            np.request("GET", "/parcels")


# --- 3. response size, counted after decompression --------------------------------------

_RSS_PROBE = """
import json, resource, sys
from carriers import NovaPost, errors
from tests.hostile.serving import serve
from tests.hostile.transport_servers import bomb_server, gzip_bomb

def peak_mb():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)

gzip_bomb()
limit = int(sys.argv[1])
with serve(bomb_server()) as origin:
    np = NovaPost(api_key="npk_probe", base_url=origin + "/v.1.0", max_response_bytes=limit)
    np.jwt()  # everything imported and connected before the baseline
    before = peak_mb()
    try:
        size = len(np.request("GET", "/bomb").content)
        outcome = f"read {size} bytes"
    except errors.CarrierError as error:
        outcome = type(error).__name__
    print(json.dumps({"outcome": outcome, "growth_mb": peak_mb() - before}))
"""


def rss_growth(limit: int) -> dict[str, Any]:
    """Peak RSS growth (MB) of a fresh process fetching the bomb with ``max_response_bytes``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage is Unix only")
def test_a_gzip_bomb_is_refused_with_bounded_memory() -> None:
    probe = rss_growth(10 * 1024 * 1024)
    assert probe["outcome"] == "ResponseTooLargeError"
    assert probe["growth_mb"] < 100, probe  # the bomb inflates to 300 MB


def test_a_nested_gzip_bomb_is_inflated_a_step_at_a_time(served: Served) -> None:
    """``gzip, gzip``: 1 KB inflates to 300 KB, which inflates to 300 MB."""
    origin = served(encoded_server(nested_bomb(), "gzip, gzip"))
    with novapost(origin) as np:
        np.jwt()
        tracemalloc.start()
        try:
            with pytest.raises(errors.ResponseTooLargeError):
                np.request("GET", "/bomb")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 40 * MB


@pytest.mark.parametrize(
    "codings",
    [
        (),
        ("identity",),
        ("gzip",),
        ("deflate",),
        ("deflate-raw",),
        ("gzip", "deflate"),
        ("x-other",),
    ],
)
def test_encoded_bodies_read_as_httpx_reads_them(served: Served, codings: tuple[str, ...]) -> None:
    """Codings other than gzip and deflate are left to httpx (which ignores unknown ones)."""
    body, encoding = encode(PAYLOAD, codings)
    origin = served(encoded_server(body, encoding))
    with novapost(origin) as np:
        assert np.request("GET", "/encoded").content == PAYLOAD
    assert httpx.get(f"{origin}/encoded").content == PAYLOAD


async def test_encoded_bodies_read_by_the_async_client(served: Served) -> None:
    body, encoding = encode(PAYLOAD, ("gzip", "deflate"))
    origin = served(encoded_server(body, encoding))
    async with novapost(origin) as np:
        response = await np.arequest("GET", "/encoded")
    assert response.content == PAYLOAD


def test_the_limit_counts_decoded_bytes(served: Served) -> None:
    body, encoding = encode(PAYLOAD, ("gzip",))
    assert len(body) * 4 < len(PAYLOAD)
    origin = served(encoded_server(body, encoding))
    with novapost(origin, max_response_bytes=len(PAYLOAD)) as np:
        assert len(np.request("GET", "/encoded").content) == len(PAYLOAD)
        smaller = np.with_options(max_response_bytes=len(PAYLOAD) - 1)
        with pytest.raises(errors.ResponseTooLargeError):
            smaller.request("GET", "/encoded")


def test_a_gzip_bomb_is_refused_by_default(served: Served) -> None:
    origin = served(bomb_server())
    with novapost(origin) as np, pytest.raises(errors.ResponseTooLargeError) as caught:
        np.request("GET", "/bomb")
    assert caught.value.limit == 10 * 1024 * 1024 < BOMB_INFLATED
    assert "HTTP 200 from GET /v.1.0/bomb" in str(caught.value)


async def test_a_gzip_bomb_is_refused_by_the_async_client(served: Served) -> None:
    origin = served(bomb_server())
    async with novapost(origin) as np:
        with pytest.raises(errors.ResponseTooLargeError):
            await np.arequest("GET", "/bomb")


@pytest.mark.parametrize("status", [500, 401, 302])
def test_a_gzip_bomb_in_an_error_or_redirect_body_is_refused(served: Served, status: int) -> None:
    """Error bodies are read for their messages; a 401 is read by the auth flow itself."""
    origin = served(bomb_server(status))
    with novapost(origin, max_retries=0) as np, pytest.raises(errors.ResponseTooLargeError):
        np.request("GET", "/bomb", follow_redirects=True)


def test_a_gzip_bomb_as_the_minted_token_is_refused(served: Served) -> None:
    origin = served(bomb_server(on_token_route=True))
    with shipyo(origin) as sh, pytest.raises(errors.ResponseTooLargeError):
        sh.jwt()


def test_a_streamed_request_stays_streamed(served: Served) -> None:
    """``stream=True`` hands the body over unread: bounding it is the caller's job."""
    origin = served(bomb_server())
    with novapost(origin) as np:
        response = np.request("GET", "/bomb", stream=True)
        assert response.status_code == 200
        first = next(response.iter_bytes())
        assert first and not first.strip(b"\0")
        response.close()


# --- 4. credentials stay with the configured origin ----------------------------------------

CREDENTIALS = ("authorization", "x-api-key", "x-tenant-id")


def test_novapost_sends_no_jwt_to_another_origin(served: Served) -> None:
    home, foreign = recording_server(), recording_server()
    home_origin, foreign_origin = served(home), served(foreign)
    with novapost(home_origin) as np:
        np.request("GET", f"{foreign_origin}/x")
        np.request("GET", "/mine")
    [seen] = foreign.record.headers_of("/x")
    assert "authorization" not in seen
    [mine] = home.record.headers_of("/v.1.0/mine")
    assert mine["authorization"].startswith("tok-"), "the own origin still gets the JWT"


@pytest.mark.parametrize("follow", [False, True], ids=["direct", "redirect"])
def test_shipyo_sends_no_key_jwt_or_tenant_to_another_origin(served: Served, follow: bool) -> None:
    home, foreign = recording_server(), recording_server()
    home_origin, foreign_origin = served(home), served(foreign)
    with shipyo(home_origin, tenant_id="tenant-1") as sh:
        if follow:
            sh.request("GET", f"/redirect?to={foreign_origin}/x", follow_redirects=True)
        else:
            sh.request("GET", f"{foreign_origin}/x")
    [seen] = foreign.record.headers_of("/x")
    assert not set(CREDENTIALS) & set(seen), seen


async def test_the_async_client_sends_no_credentials_to_another_origin(served: Served) -> None:
    home, foreign = recording_server(), recording_server()
    home_origin, foreign_origin = served(home), served(foreign)
    async with shipyo(home_origin, tenant_id="tenant-1") as sh:
        await sh.arequest("GET", f"{foreign_origin}/x")
        await sh.arequest("GET", f"/redirect?to={foreign_origin}/y", follow_redirects=True)
        await sh.arequest("GET", "/mine")
    for path in ("/x", "/y"):
        [seen] = foreign.record.headers_of(path)
        assert not set(CREDENTIALS) & set(seen), seen
    [mine] = home.record.headers_of("/mine")
    assert set(CREDENTIALS) <= set(mine)


class _Everywhere(httpx.Auth):
    """Sets its credentials on every request, as a flow unaware of origins would."""

    credential_headers = ("Authorization", "X-Secret")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer secret-jwt"
        request.headers["X-Secret"] = "secret-key"
        yield request


def _sending(origin: str) -> Sending:
    return Sending(
        retrier=Retrier(0),
        deadline=10.0,
        max_response_bytes=1 << 20,
        timeout=httpx.Timeout(5.0),
        home=origin_of(origin),
    )


def test_the_loop_keeps_credentials_home_whatever_the_auth_flow(served: Served) -> None:
    """The origin rule is the request loop's own: it also holds for a flow unaware of
    origins, and for credentials set on the client itself."""
    home, foreign = recording_server(), recording_server()
    home_origin, foreign_origin = served(home), served(foreign)
    how = _sending(home_origin)
    with httpx.Client(base_url=home_origin, auth=_Everywhere()) as http:
        send(http, how, {"method": "GET", "url": f"{foreign_origin}/x"})
        redirect = {"method": "GET", "url": f"/redirect?to={foreign_origin}/y"}
        send(http, how, redirect, follow_redirects=True)
        send(http, how, {"method": "GET", "url": "/mine"})
    headers = {"Authorization": "Bearer client-set"}
    with httpx.Client(base_url=home_origin, headers=headers) as http:
        send(http, how, {"method": "GET", "url": f"{foreign_origin}/z"})  # no auth flow
    for path in ("/x", "/y", "/z"):
        [seen] = foreign.record.headers_of(path)
        assert not {"authorization", "x-secret"} & set(seen), (path, seen)
    [mine] = home.record.headers_of("/mine")
    assert mine["authorization"] == "Bearer secret-jwt" and mine["x-secret"] == "secret-key"


async def test_the_async_loop_keeps_credentials_home_whatever_the_auth_flow(
    served: Served,
) -> None:
    home, foreign = recording_server(), recording_server()
    home_origin, foreign_origin = served(home), served(foreign)
    async with httpx.AsyncClient(base_url=home_origin, auth=_Everywhere()) as http:
        redirect = {"method": "GET", "url": f"/redirect?to={foreign_origin}/y"}
        await asend(http, _sending(home_origin), redirect, follow_redirects=True)
    [seen] = foreign.record.headers_of("/y")
    assert not {"authorization", "x-secret"} & set(seen), seen


# --- 6. one deadline for the whole call ----------------------------------------------------


def timed(function: Any) -> tuple[BaseException | None, float]:
    start = time.monotonic()
    try:
        function()
    except Exception as error:
        return error, time.monotonic() - start
    return None, time.monotonic() - start


def test_a_trickling_body_stops_at_the_deadline(served: Served) -> None:
    """One byte per 0.5 s never trips a 1 s read timeout; 20 bytes would take 10 s."""
    origin = served(trickle_server(interval=0.5, size=20))
    with novapost(origin, timeout=1, deadline=1) as np:
        np.jwt()
        error, elapsed = timed(lambda: np.request("GET", "/trickle"))
    assert isinstance(error, errors.APITimeoutError), error
    assert "deadline" in str(error)
    assert elapsed < 3


async def test_a_trickling_body_stops_at_the_deadline_async(served: Served) -> None:
    origin = served(trickle_server(interval=0.5, size=20))
    async with novapost(origin, timeout=1, deadline=1) as np:
        await np.ajwt()
        start = time.monotonic()
        with pytest.raises(errors.APITimeoutError, match="deadline"):
            await np.arequest("GET", "/trickle")
        assert time.monotonic() - start < 3


def test_the_deadline_caps_a_longer_read_timeout(served: Served) -> None:
    origin = served(slow_server(delay=5))
    with novapost(origin, timeout=30, deadline=1) as np:
        np.jwt()
        error, elapsed = timed(lambda: np.request("GET", "/slow"))
    assert isinstance(error, errors.APITimeoutError) and "deadline" in str(error), error
    assert elapsed < 3


def test_the_mint_counts_towards_the_deadline_of_the_call(served: Served) -> None:
    """0.7 s to mint, then 0.7 s to answer: each fits a 1 s deadline, together they do not."""
    origin = served(slow_server(mint_delay=0.7, delay=0.7))
    with novapost(origin, timeout=5, deadline=1) as np:
        error, elapsed = timed(lambda: np.request("GET", "/slow"))
    assert isinstance(error, errors.APITimeoutError) and "deadline" in str(error), error
    assert elapsed < 3


def test_retries_stop_at_the_deadline(served: Served) -> None:
    """Ten retries 0.5 s apart do not fit 2 s: the deadline wins over ``max_retries``."""
    handler = slow_server(status=503, Retry_After="0.5")
    origin = served(handler)
    with novapost(origin, deadline=2, max_retries=10) as np:
        np.jwt()
        error, elapsed = timed(lambda: np.request("GET", "/busy"))
    assert isinstance(error, errors.ServiceUnavailableError), error
    assert "deadline" in " ".join(getattr(error, "__notes__", []))
    assert 2 <= handler.record.paths().count("/v.1.0/busy") <= 5
    assert elapsed < 4
