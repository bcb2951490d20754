"""No API key, JWT or Redis password in the logs, reprs or errors of the shared caches."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import redis
from carrier_mocks.server import MockServer
from carriers import NovaPost, Shipyo, errors
from carriers.token_cache import FileTokenCache, InProcessTokenCache, RedisTokenCache, from_url

from .fleet import MINT_NP, NP_KEY, SH_KEY
from .redis_server import RedisServer

JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
PASSWORD = "hunter2-redis-password"


def test_no_secret_in_debug_logs_reprs_or_errors(
    novapost_mock: MockServer,
    shipyo_mock: MockServer,
    redis_url: str,
    redis_db: redis.Redis,
    redis_server: RedisServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every path that logs: a mint, a token taken from the cache, a 401 and its replay,
    the token route down, Redis refusing the password, a file cache; every logger at
    DEBUG. Then the reprs of caches, flows and facades, and the errors' texts."""
    caplog.set_level(logging.DEBUG)
    base = novapost_mock.base_url
    minted: list[str] = []
    texts: list[str] = []
    with_password = f"redis://carriers-app:{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    file_url = (tmp_path / "tokens.json").as_uri()
    with (
        NovaPost(NP_KEY, base_url=base, token_cache=redis_url, max_retries=1) as one,
        NovaPost(NP_KEY, base_url=base, token_cache=redis_url) as two,
        NovaPost(NP_KEY, base_url=base, token_cache=with_password) as refused,
        Shipyo(SH_KEY, base_url=shipyo_mock.base_url, token_cache=file_url) as sh,
    ):
        minted += [one.jwt(), two.jwt(), refused.jwt(), sh.jwt()]
        novapost_mock.revoke_tokens()
        assert one.request("GET", novapost_mock.origin + "/__mock__/whoami")
        minted.append(one.jwt())
        novapost_mock.fault(MINT_NP, count=10, status=503)
        redis_db.flushall()  # nothing shared left: the next calls mint
        one.auth.invalidate()
        two.auth.invalidate()
        for facade in (one, two):
            with pytest.raises(errors.APIError) as caught:
                facade.jwt()
            texts.append(str(caught.value))
            texts.append(repr(caught.value))
        for thing in (one, two, refused, sh):
            texts += [repr(thing), repr(thing.auth), repr(thing.auth.cache)]
    assert isinstance(refused.auth.cache, RedisTokenCache)
    assert any("unreachable" in r.getMessage() for r in caplog.records)
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    assert minted
    for text in texts:
        assert NP_KEY not in text and SH_KEY not in text, text
        assert PASSWORD not in text, text
        assert not JWT.search(text), text
        for token in minted:
            assert token not in text


@pytest.mark.parametrize(
    "url",
    [
        f"redis://default:{PASSWORD}@cache.internal:6380/2",
        f"rediss://:{PASSWORD}@cache.internal/0",
        f"unix://:{PASSWORD}@/run/redis.sock",
    ],
)
def test_a_redis_url_shows_its_host_only(url: str) -> None:
    """The password in a Redis URL appears in no repr."""
    cache = from_url(url)
    assert isinstance(cache, RedisTokenCache)
    assert PASSWORD not in repr(cache)
    assert "cache.internal" in repr(cache) or "unix" in repr(cache)


def test_cache_reprs_hold_no_token(tmp_path: Path) -> None:
    """A cached token never shows in the reprs (its dataclass field is ``repr=False``)."""
    from carriers.token_cache import CachedToken

    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    assert token not in repr(CachedToken(token, 1.0))
    assert repr(InProcessTokenCache()) == "InProcessTokenCache()"
    assert (
        repr(FileTokenCache(tmp_path / "t.json")) == f"FileTokenCache({str(tmp_path / 't.json')!r})"
    )
