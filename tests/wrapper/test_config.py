"""Bad input is refused before any network call, saying what is accepted."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from carriers import ConfigurationError, NovaPost, Shipyo
from carriers._config import check_phone

from .conftest import NP_BASE, FakeClock, TokenIssuer


@pytest.fixture
def no_network() -> Iterator[respx.MockRouter]:
    """Every request fails the test: nothing here may reach the network."""
    with respx.mock(assert_all_mocked=True) as router:
        yield router
        assert router.calls.call_count == 0


@pytest.fixture(autouse=True)
def no_keys_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOVAPOST_API_KEY", raising=False)
    monkeypatch.delenv("SHIPYO_API_KEY", raising=False)


@pytest.mark.parametrize("cls", [NovaPost, Shipyo])
@pytest.mark.parametrize("key", [None, "", "   ", "\t\n"])
def test_a_missing_or_blank_key_is_refused(
    no_network: respx.MockRouter, cls: type[NovaPost | Shipyo], key: str | None
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        cls(api_key=key)
    assert isinstance(caught.value, ValueError)
    assert cls.INFO.api_key_env in str(caught.value)


@pytest.mark.parametrize("key", ["abc def-secret-part", "abc-secret-part\n", "ab\x00c-secret-part"])
def test_a_key_with_whitespace_is_refused_without_repeating_it(
    no_network: respx.MockRouter, key: str
) -> None:
    with pytest.raises(ConfigurationError, match="whitespace") as caught:
        NovaPost(api_key=key)
    assert "secret-part" not in str(caught.value)


def test_a_blank_key_in_the_environment_is_refused(
    no_network: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYO_API_KEY", " ")
    with pytest.raises(ConfigurationError, match="SHIPYO_API_KEY is empty"):
        Shipyo()


def test_the_key_falls_back_to_the_environment(
    np_api: respx.MockRouter, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOVAPOST_API_KEY", "npk_from_env")
    issuer = TokenIssuer(clock, "npk_from_env")
    np_api.get("/clients/authorization").mock(side_effect=issuer)
    with NovaPost() as np:
        np.jwt()
    assert issuer.count == 1


def test_an_explicit_key_wins_over_the_environment(
    sh_api: respx.MockRouter, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYO_API_KEY", "ak_env")
    issuer = TokenIssuer(clock, "ak_explicit", shipyo=True)
    sh_api.get("/api/Token/generate-from-apikey").mock(side_effect=issuer)
    with Shipyo(api_key="ak_explicit") as sh:
        sh.jwt()
    assert issuer.count == 1


@pytest.mark.parametrize(
    ("cls", "environment", "accepted"),
    [
        (NovaPost, "prod", "'sandbox', 'production'"),
        (NovaPost, "staging", "'sandbox', 'production'"),
        (Shipyo, "sandbox", "'production', 'staging'"),
        (Shipyo, "Production", "'production', 'staging'"),
    ],
)
def test_an_unknown_environment_is_refused(
    no_network: respx.MockRouter, cls: type[NovaPost | Shipyo], environment: str, accepted: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"accepted: {accepted}"):
        cls(api_key="k-1234", environment=environment)


@pytest.mark.parametrize(
    ("cls", "environment", "url"),
    [
        (NovaPost, "sandbox", "https://api-stage.novapost.pl/v.1.0"),
        (NovaPost, "production", "https://api.novapost.com/v.1.0"),
        (Shipyo, "production", "https://shipyo.it"),
        (Shipyo, "staging", "https://staging.shipyo.it"),
    ],
)
def test_environments_and_their_servers(
    cls: type[NovaPost | Shipyo], environment: str, url: str
) -> None:
    with cls(api_key="k-1234", environment=environment) as carrier:
        assert carrier.base_url == url
        assert carrier.environment == environment
        assert str(carrier.client.get_httpx_client().base_url).rstrip("/") == url


def test_default_environments() -> None:
    with NovaPost(api_key="k-1234") as np, Shipyo(api_key="k-1234") as sh:
        assert (np.environment, sh.environment) == ("sandbox", "production")


@pytest.mark.parametrize(
    "url",
    [
        "api.novapost.com/v.1.0",
        "127.0.0.1:8010/v.1.0",
        "ftp://api.novapost.com/v.1.0",
        "https://",
        "",
        "  ",
        "https://user:pw@api.novapost.com/v.1.0",
        "https://api.novapost.com/v.1.0?apiKey=x",
        "https://api.novapost.com/v.1.0#frag",
    ],
)
def test_a_bad_base_url_is_refused(no_network: respx.MockRouter, url: str) -> None:
    with pytest.raises(ConfigurationError, match="http:// or https:// URL such as"):
        NovaPost(api_key="k-1234", base_url=url)


def test_a_local_base_url_is_used_as_given(clock: FakeClock, np_key: str) -> None:
    local = "http://127.0.0.1:8010/v.1.0"
    with respx.mock(base_url=local) as router:
        issuer = TokenIssuer(clock, np_key)
        router.get("/clients/authorization").mock(side_effect=issuer)
        parcels = router.get("/parcels").respond(200, json={})
        with NovaPost(api_key=np_key, base_url=local + "/") as np:
            assert np.base_url == local
            np.request("GET", "/parcels")
        assert str(issuer.requests[0].url).startswith(local + "/clients/authorization?")
        assert parcels.call_count == 1


def test_plain_http_to_a_remote_host_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="carriers"):
        NovaPost(api_key="k-1234", base_url="http://localhost:8010/v.1.0").close()
        assert caplog.records == []
        NovaPost(api_key="k-1234", base_url="http://example.test/v.1.0").close()
    assert "unencrypted" in caplog.text


@pytest.mark.parametrize("phone", ["498213437654", "49123456789"])
def test_accepted_phones(phone: str) -> None:
    assert check_phone(phone) == phone


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("+380501234567", "Ukrainian"),
        ("380501234567", "Ukrainian"),
        ("+38 (050) 123-45-67", "Ukrainian"),
        ("+498213437654", "no '+'"),
        ("49 821 343 765", "49XXXXXXXXX"),
        ("4982134", "49XXXXXXXXX"),
        ("4912345678901", "49XXXXXXXXX"),
        ("48123456789", "49XXXXXXXXX"),
        ("49abcdefghi", "49XXXXXXXXX"),
        ("", "49XXXXXXXXX"),
        (498213437654, "string"),
    ],
)
def test_refused_phones(phone: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        check_phone(phone)


@pytest.mark.parametrize("timeout", [0, -1, "30", True, None])
def test_a_bad_timeout_is_refused(no_network: respx.MockRouter, timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        NovaPost(api_key="k-1234", timeout=timeout)


def test_an_httpx_timeout_is_accepted() -> None:
    with NovaPost(api_key="k-1234", timeout=httpx.Timeout(5.0, connect=2.0)) as np:
        assert np.client.get_httpx_client().timeout.connect == 2.0


@pytest.mark.parametrize("max_retries", [-1, 1.5, True, "2"])
def test_bad_max_retries_is_refused(no_network: respx.MockRouter, max_retries: Any) -> None:
    with pytest.raises(ConfigurationError, match="max_retries must be an integer >= 0"):
        Shipyo(api_key="k-1234", max_retries=max_retries)


@pytest.mark.parametrize("tenant", ["", " ", "a b", 42])
def test_a_bad_tenant_is_refused(no_network: respx.MockRouter, tenant: Any) -> None:
    with pytest.raises(ConfigurationError, match="tenant_id"):
        Shipyo(api_key="k-1234", tenant_id=tenant)


def test_the_default_base_url_constant_matches() -> None:
    assert NP_BASE == "https://api-stage.novapost.pl/v.1.0"
