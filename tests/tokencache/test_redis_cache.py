"""The Redis cache's steps against a real server: claims, locks, the environment."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis
from carrier_mocks.server import MockServer
from carriers import NovaPost, Shipyo
from carriers.token_cache import ENV_VAR, CachedToken, Entry, RedisTokenCache, cache_key
from carriers.tokens import TokenProvider

from .fleet import MINT_NP, MINT_SH, NP_KEY, SH_KEY, config, flatten, fleet, tokens

KEY = cache_key("http://carrier.test/v1", "not-a-real-key")
MARGIN = 3.0  # seconds a waiter may take past a dead holder's lock expiry (a loaded host)


def provider(cache: RedisTokenCache) -> TokenProvider:
    """A provider on ``cache`` under ``KEY`` whose claim and settle steps a test drives."""

    async def amint() -> str:
        raise AssertionError("not called")

    return TokenProvider(mint=lambda: "unused", amint=amint, cache=cache, cache_key=KEY)


def test_a_claim_that_wins_the_lock_late_takes_the_token_stored_meanwhile(
    redis_url: str, redis_db: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A holder may store its token and release its lock between a waiter's read and the
    waiter's SET NX: the waiter then holds a free lock, and must look again before
    minting, or the fleet mints twice."""
    cache = RedisTokenCache(redis_url)
    holder, waiter = provider(RedisTokenCache(redis_url)), provider(cache)
    now = time.time()
    held = holder._claim(0.0)
    assert not isinstance(held, CachedToken) and redis_db.exists(KEY + ":lock")
    stored = CachedToken("the-holders-token", now + 600, now)
    real_get = cache.get

    def get_then_holder_settles(key: str) -> Entry | None:
        entry = real_get(key)
        if key == KEY and entry is None:
            holder._settle(held, stored)
        return entry

    monkeypatch.setattr(cache, "get", get_then_holder_settles)
    assert waiter._claim(0.0) == stored
    assert not redis_db.exists(KEY + ":lock")  # the waiter gave the lock back


def test_a_claim_that_wins_the_lock_late_sees_the_holders_failure(
    redis_url: str, redis_db: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race with a failed mint: the waiter gets the shared back-off, no mint."""
    from carriers.errors import APIConnectionError

    cache = RedisTokenCache(redis_url)
    holder, waiter = provider(RedisTokenCache(redis_url)), provider(cache)
    held = holder._claim(0.0)
    assert not isinstance(held, CachedToken)
    real_get = cache.get

    def get_then_holder_fails(key: str) -> Entry | None:
        entry = real_get(key)
        if key == KEY and entry is None:
            holder._settle(held, APIConnectionError("the token route is down"))
        return entry

    monkeypatch.setattr(cache, "get", get_then_holder_fails)
    with pytest.raises(APIConnectionError, match="shared back-off"):
        waiter._claim(0.0)
    assert not redis_db.exists(KEY + ":lock")


def test_settle_releases_only_its_own_lock(redis_url: str, redis_db: redis.Redis) -> None:
    """A holder whose lock expired (and was taken by another) must not delete the new one."""
    slow = provider(RedisTokenCache(redis_url, lock_seconds=0.2))
    now = time.time()
    late = slow._claim(0.0)
    assert not isinstance(late, CachedToken)
    time.sleep(0.3)
    other = provider(RedisTokenCache(redis_url))._claim(0.0)
    assert not isinstance(other, CachedToken)
    owner = redis_db.get(KEY + ":lock")
    assert owner
    slow._settle(late, CachedToken("late", now + 600))
    assert redis_db.get(KEY + ":lock") == owner
    other()
    assert not redis_db.exists(KEY + ":lock")


def test_the_environment_variable_names_the_cache_of_every_facade(
    novapost_mock: MockServer,
    shipyo_mock: MockServer,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``CARRIERS_TOKEN_CACHE=redis://...``: facades built without ``token_cache`` share
    through it, so two facades of one key mint once."""
    monkeypatch.setenv(ENV_VAR, redis_url)
    with (
        NovaPost(NP_KEY, base_url=novapost_mock.base_url) as one,
        NovaPost(NP_KEY, base_url=novapost_mock.base_url) as two,
        Shipyo(SH_KEY, base_url=shipyo_mock.base_url) as three,
    ):
        assert isinstance(one.auth.cache, RedisTokenCache)
        assert isinstance(three.auth.cache, RedisTokenCache)
        assert one.jwt() == two.jwt()
        three.jwt()
        assert (one.auth.mint_count, two.auth.mint_count) == (1, 0)
    assert novapost_mock.stats()[MINT_NP] == 1
    assert shipyo_mock.stats()[MINT_SH] == 1


DEAD_HOLDER = """
import sys, redis
client = redis.Redis.from_url(sys.argv[1])
assert client.set(sys.argv[2], "a-holder-that-died", nx=True, px=int(sys.argv[3]))
"""


def test_a_lock_left_by_a_dead_process_delays_the_fleet_until_it_expires(
    novapost_mock: MockServer, redis_url: str, redis_db: redis.Redis
) -> None:
    """A process took the mint lock and exited without releasing it: the others wait
    for its PX to run out (not for ``LOCK_SECONDS``), then one mints. No call ends
    before the lock's expiry, all end soon after it."""
    lock = cache_key(novapost_mock.base_url, NP_KEY) + ":lock"
    ttl_ms = 2000
    with fleet(*[config(novapost_mock, redis_url)] * 2) as workers:
        subprocess.run(
            [sys.executable, "-c", DEAD_HOLDER, redis_url, lock, str(ttl_ms)], check=True
        )
        expires = time.time() + redis_db.pttl(lock) / 1000
        answers = workers.jwt(4)
    results = flatten(answers)
    assert [r for r in results if "ok" not in r] == []
    assert len(tokens(answers)) == 1
    assert novapost_mock.stats()[MINT_NP] == 1
    ended = sorted(r["ended"] - expires for r in results)  # by the wall clock
    assert -0.05 <= ended[0] and ended[-1] <= MARGIN, ended


def test_a_holder_killed_mid_mint_hands_over_when_its_lock_expires(
    novapost_mock: MockServer, redis_url: str, redis_db: redis.Redis
) -> None:
    """A process dies (SIGKILL) while its mint request hangs: its lock (2 s here) runs
    out and a waiting process mints; the waiter's calls end after that expiry and
    within a margin of it."""
    lock = cache_key(novapost_mock.base_url, NP_KEY) + ":lock"
    novapost_mock.fault(MINT_NP, count=1, delay=20)
    with fleet(
        config(novapost_mock, redis_url, lock_seconds=2.0), config(novapost_mock, redis_url)
    ) as workers:
        dying, waiting = workers.workers
        dying.send({"op": "jwt", "threads": 2})
        deadline = time.monotonic() + 10
        while not (redis_db.exists(lock) and novapost_mock.stats().get(MINT_NP)):
            assert time.monotonic() < deadline, "the first process never started its mint"
            time.sleep(0.01)
        expires = time.time() + redis_db.pttl(lock) / 1000
        waiting.send({"op": "jwt", "threads": 4})
        dying.kill()
        answer = waiting.receive()
    results = answer["results"]
    assert [r for r in results if "ok" not in r] == []
    assert answer["mints"] == 1
    ended = sorted(r["ended"] - expires for r in results)  # by the wall clock
    assert -0.05 <= ended[0] and ended[-1] <= MARGIN, (ended, answer["logs"])
    assert novapost_mock.stats()[MINT_NP] == 2  # the hung request and the new one
