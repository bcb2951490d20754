"""The wrapper against the mock servers over real HTTP: the whole auth life cycle.

The mocks run under uvicorn on free ports (the ``novapost_mock`` and ``shipyo_mock``
fixtures of the package's pytest plugin, reset before each test); the wrapper talks
to them exactly as to the sandboxes, only the base URL differs. ``/__mock__/stats``
counts the tokens minted, ``/__mock__/clock`` moves time, ``/__mock__/faults``
injects failures and ``/__mock__/whoami`` is a JWT-protected call.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from carrier_mocks.server import MockServer
from carriers import NovaPost, Shipyo, errors
from carriers.retries import RetryPolicy
from novapost_client.api.authorization import get_clients_authorization
from novapost_client.models import JwtResponse

NP_KEY = "np_test_4f1c2b9e8a7d6c5b"
SH_KEY = "ak_1234567890abcdef"
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=2.0)
MINT_NP = "GET /clients/authorization"
MINT_SH = "GET /api/Token/generate-from-apikey"
WHOAMI = "GET /__mock__/whoami"


def novapost(server: MockServer, **kwargs: object) -> NovaPost:
    return NovaPost(api_key=NP_KEY, base_url=server.base_url, retry_policy=FAST, **kwargs)  # type: ignore[arg-type]


def shipyo(server: MockServer, **kwargs: object) -> Shipyo:
    return Shipyo(api_key=SH_KEY, base_url=server.base_url, retry_policy=FAST, **kwargs)  # type: ignore[arg-type]


def whoami(carrier: NovaPost | Shipyo, server: MockServer) -> dict[str, object]:
    response = carrier.request("GET", server.origin + "/__mock__/whoami")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- Nova Post


def test_novapost_mints_once_and_reuses_the_token(novapost_mock: MockServer) -> None:
    with novapost(novapost_mock) as np:
        first = np.jwt()
        assert first.count(".") == 2
        for _ in range(5):
            assert whoami(np, novapost_mock)["cid"]
        assert np.jwt() == first
    stats = novapost_mock.stats()
    assert stats[MINT_NP] == 1 and stats[WHOAMI] == 5


def test_novapost_generated_endpoint_through_call(novapost_mock: MockServer) -> None:
    with novapost(novapost_mock) as np:
        result = np.call(get_clients_authorization, api_key=NP_KEY)
    assert isinstance(result, JwtResponse) and result.jwt.count(".") == 2


def test_novapost_token_expiry_by_the_mock_clock(novapost_mock: MockServer) -> None:
    # The wrapper reads exp from the token: move the server's clock past it and the
    # server refuses the token; the wrapper re-mints once and replays the call.
    with novapost(novapost_mock) as np:
        whoami(np, novapost_mock)
        novapost_mock.advance(3601)
        whoami(np, novapost_mock)
    assert novapost_mock.stats()[MINT_NP] == 2


def test_novapost_revoked_token_is_replaced_once(novapost_mock: MockServer) -> None:
    with novapost(novapost_mock) as np:
        old = np.jwt()
        novapost_mock.revoke_tokens()
        whoami(np, novapost_mock)
        assert np.jwt() != old
    assert novapost_mock.stats()[MINT_NP] == 2


def test_novapost_second_401_raises_authentication_error(novapost_mock: MockServer) -> None:
    with novapost(novapost_mock) as np:
        np.jwt()
        novapost_mock.fault(WHOAMI, count=2, status=401)
        with pytest.raises(errors.AuthenticationError) as caught:
            np.request("GET", novapost_mock.origin + "/__mock__/whoami")
    assert caught.value.status_code == 401
    assert novapost_mock.stats()[MINT_NP] == 2  # one re-mint, not a loop


def test_novapost_retries_injected_503_then_succeeds(novapost_mock: MockServer) -> None:
    novapost_mock.fault(MINT_NP, count=2, status=503, retry_after=0)
    with novapost(novapost_mock) as np:
        assert np.jwt()
    assert novapost_mock.stats()[MINT_NP] == 3


def test_novapost_retries_a_dropped_connection(novapost_mock: MockServer) -> None:
    novapost_mock.fault(WHOAMI, count=1, drop=True)
    with novapost(novapost_mock) as np:
        assert whoami(np, novapost_mock)["cid"]
    assert novapost_mock.stats()[WHOAMI] == 2


def test_novapost_gives_up_after_max_retries(novapost_mock: MockServer) -> None:
    novapost_mock.fault(MINT_NP, count=5, status=500)
    with novapost(novapost_mock, max_retries=2) as np, pytest.raises(errors.InternalServerError):
        np.jwt()
    assert novapost_mock.stats()[MINT_NP] == 3


def test_novapost_timeout_becomes_api_timeout_error(novapost_mock: MockServer) -> None:
    novapost_mock.fault(MINT_NP, count=3, delay=1.0)
    with (
        novapost(novapost_mock, timeout=0.2, max_retries=0) as np,
        pytest.raises(errors.APITimeoutError),
    ):
        np.jwt()


def test_novapost_unknown_key_is_authentication_error(novapost_mock: MockServer) -> None:
    with (
        NovaPost(api_key="np_unknown", base_url=novapost_mock.base_url) as np,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        np.jwt()
    assert "np_unknown" not in str(caught.value) and "np_unknown" not in repr(caught.value)


async def test_novapost_async_tasks_share_one_mint(novapost_mock: MockServer) -> None:
    async with novapost(novapost_mock) as np:
        responses = await asyncio.gather(
            *(np.arequest("GET", novapost_mock.origin + "/__mock__/whoami") for _ in range(50))
        )
    assert {r.status_code for r in responses} == {200}
    assert novapost_mock.stats()[MINT_NP] == 1


def test_novapost_sandbox_key_store_creates_once(novapost_mock: MockServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "keys.json"
    with NovaPost.sandbox(
        phone="491000000001", key_store=store, base_url=novapost_mock.base_url
    ) as np:
        whoami(np, novapost_mock)
    with NovaPost.sandbox(
        phone="491000000001", key_store=store, base_url=novapost_mock.base_url
    ) as np:
        whoami(np, novapost_mock)
    assert novapost_mock.stats()["POST /test-api-keys"] == 1
    assert store.stat().st_mode & 0o777 == 0o600


def test_novapost_daily_limit_is_a_rate_limit_error_and_not_retried(
    novapost_mock: MockServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.RateLimitError):
        NovaPost.sandbox(
            phone="491000000006", key_store=tmp_path / "k.json", base_url=novapost_mock.base_url
        )
    assert novapost_mock.stats()["POST /test-api-keys"] == 1


def test_no_secret_in_debug_logs_of_a_full_flow(
    novapost_mock: MockServer, shipyo_mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with novapost(novapost_mock) as np, shipyo(shipyo_mock) as sh:
        tokens = [np.jwt(), sh.jwt()]
        whoami(np, novapost_mock)
        whoami(sh, shipyo_mock)
        novapost_mock.revoke_tokens()
        whoami(np, novapost_mock)
        tokens.append(np.jwt())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/__mock__/whoami" in text or "clients/authorization" in text  # logs were captured
    for secret in [NP_KEY, SH_KEY, *tokens]:
        assert secret not in text


# --------------------------------------------------------------------------- Shipyo


def test_shipyo_full_flow_with_headers(shipyo_mock: MockServer) -> None:
    with shipyo(shipyo_mock) as sh:
        token = sh.jwt()
        body = whoami(sh, shipyo_mock)
        assert body["success"] is True
        assert sh.jwt() == token
    assert shipyo_mock.stats()[MINT_SH] == 1


def test_shipyo_revoked_token_is_replaced_once(shipyo_mock: MockServer) -> None:
    with shipyo(shipyo_mock) as sh:
        old = sh.jwt()
        shipyo_mock.revoke_tokens()
        whoami(sh, shipyo_mock)
        assert sh.jwt() != old
    assert shipyo_mock.stats()[MINT_SH] == 2


def test_shipyo_expiry_by_the_mock_clock(shipyo_mock: MockServer) -> None:
    with shipyo(shipyo_mock) as sh:
        whoami(sh, shipyo_mock)
        shipyo_mock.advance(3601)
        whoami(sh, shipyo_mock)
    assert shipyo_mock.stats()[MINT_SH] == 2


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("ak_unknown_key_000", errors.PermissionDeniedError),
        ("ak_inactive00000000", errors.BadRequestError),
        ("ak_iprestricted0000", errors.UnprocessableEntityError),
    ],
)
def test_shipyo_key_errors_are_typed(shipyo_mock: MockServer, key: str, error: type) -> None:
    with Shipyo(api_key=key, base_url=shipyo_mock.base_url) as sh, pytest.raises(error) as caught:
        sh.jwt()
    assert caught.value.messages  # the envelope's message and errors
    assert key not in str(caught.value) and key not in repr(caught.value)


def test_shipyo_injected_500_is_retried(shipyo_mock: MockServer) -> None:
    shipyo_mock.fault(MINT_SH, count=1, status=500)
    with shipyo(shipyo_mock) as sh:
        assert sh.jwt()
    assert shipyo_mock.stats()[MINT_SH] == 2


def test_shipyo_tenant_header_is_sent(shipyo_mock: MockServer) -> None:
    with Shipyo(
        api_key="ak_tenanta000000000", base_url=shipyo_mock.base_url, tenant_id="tenant-a"
    ) as sh:
        assert whoami(sh, shipyo_mock)["success"] is True
    with (
        Shipyo(
            api_key="ak_tenanta000000000", base_url=shipyo_mock.base_url, tenant_id="other"
        ) as sh,
        pytest.raises(errors.PermissionDeniedError),
    ):
        sh.jwt()


def test_a_facade_and_its_with_options_copy_serve_successive_event_loops(
    novapost_mock: MockServer,
) -> None:
    """Async connections belong to one loop: each asyncio.run() gets its own, for the
    facade and for a copy alike, while the JWT is minted once for all of them."""
    np = NovaPost(api_key=NP_KEY, base_url=novapost_mock.base_url)
    patient = np.with_options(timeout=60)
    whoami = novapost_mock.origin + "/__mock__/whoami"

    async def call(facade: NovaPost) -> int:
        response = await facade.arequest("GET", whoami)
        return response.status_code

    for _ in range(2):
        assert asyncio.run(call(np)) == 200
        assert asyncio.run(call(patient)) == 200
    assert novapost_mock.stats()["GET /clients/authorization"] == 1
    np.close()
