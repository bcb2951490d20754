"""The usage examples of the README, run against respx instead of the real servers."""

from __future__ import annotations

import asyncio
import datetime
import logging
from pathlib import Path

import pytest
import respx

from .conftest import NP_BASE, SH_BASE, FakeClock, TokenIssuer


@pytest.fixture
def servers(clock: FakeClock) -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as router:
        np_issuer = TokenIssuer(clock, "your-novapost-key")
        router.get(f"{NP_BASE}/clients/authorization").mock(side_effect=np_issuer)
        router.get(f"{NP_BASE}/shipments").respond(200, json={"items": []})
        router.post(f"{NP_BASE}/test-api-keys").respond(
            200,
            json={
                "apiKey": "your-novapost-key",
                "createdAt": "2030-01-01T00:00:00+00:00",
                "expDate": "2031-01-01T00:00:00+00:00",
                "status": "Active",
            },
        )
        sh_issuer = TokenIssuer(clock, "ak_1234567890abcdef", shipyo=True)
        router.get(f"{SH_BASE}/api/Token/generate-from-apikey").mock(side_effect=sh_issuer)
        yield router


def test_readme_examples(
    servers: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARRIERS_KEY_STORE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("NOVAPOST_API_KEY", "your-novapost-key")

    # --- README: getting a JWT --------------------------------------------------------
    from carriers import NovaPost, Shipyo

    with NovaPost(api_key="your-novapost-key", environment="sandbox") as np:
        token = np.jwt()  # minted once, then cached until 30 s before its exp
        assert np.jwt() == token

    with Shipyo(api_key="ak_1234567890abcdef", environment="production") as sh:
        bearer = sh.jwt()  # sent as "Authorization: Bearer <jwt>" with x-api-key
    assert bearer

    # --- README: a sandbox key, created once a day at most and kept in the key store ---
    np = NovaPost.sandbox(phone="498213437654")
    np.close()

    # --- README: calling a generated endpoint -----------------------------------------
    from novapost_client.api.authorization import get_clients_authorization

    with NovaPost() as np:  # api_key from NOVAPOST_API_KEY
        jwt_response = np.call(get_clients_authorization, api_key="your-novapost-key")
        print(jwt_response.jwt[:10])
        same = get_clients_authorization.sync(client=np.client, api_key="your-novapost-key")
        assert same is not None
        shipments = np.request("GET", "/shipments").json()
        assert shipments == {"items": []}

    # --- README: asyncio ------------------------------------------------------------------
    async def main() -> None:
        async with NovaPost() as np:
            token = await np.ajwt()
            answers = await asyncio.gather(*(np.arequest("GET", "/shipments") for _ in range(10)))
            assert token and all(a.status_code == 200 for a in answers)

    asyncio.run(main())

    # --- README: errors ---------------------------------------------------------------------
    from carriers import errors

    servers.get(f"{NP_BASE}/shipments/42").respond(404, json={"errors": ["Not found"]})
    with NovaPost() as np:
        try:
            np.request("GET", "/shipments/42")
        except errors.RateLimitError as e:
            print("slow down for", e.retry_after)
        except errors.APIStatusError as e:
            print(e.status_code, e.messages, e.request_id)  # 404 ['Not found'] None
            assert isinstance(e, errors.NotFoundError)
        except errors.APIConnectionError as e:
            print("network:", e)

    try:
        NovaPost.sandbox(phone="+380501234567")
    except ValueError as e:  # carriers.errors.ConfigurationError
        assert "Ukrainian" in str(e)

    # --- README: logging --------------------------------------------------------------------
    from carriers import RedactingFilter

    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())  # for loggers of your own that might see requests
    logging.getLogger("carriers").setLevel(logging.DEBUG)

    # --- README: the key store -----------------------------------------------------------------
    from carriers import KeyStore

    store = KeyStore()  # $CARRIERS_KEY_STORE or <user cache>/carriers/novapost-sandbox-keys.json
    stored = store.get("498213437654", NovaPost.INFO.environments["sandbox"])
    assert stored is not None and stored.exp_date > datetime.datetime(
        2030, 6, 1, tzinfo=datetime.UTC
    )
    store.delete("498213437654", NovaPost.INFO.environments["sandbox"])
    assert store.get("498213437654", NovaPost.INFO.environments["sandbox"]) is None
