"""Processes sharing tokens through a real Redis: one mint per token lifetime for a fleet.

Each test runs real worker processes (``worker.py``), several threads each, against
the session's mock server and ``redis-server``; mints are counted by the mock.
"""

from __future__ import annotations

import json
import time

import jwt
import redis
from carrier_mocks.server import MockServer
from carriers import NovaPost
from carriers.auth import EXPIRY_MARGIN
from carriers.token_cache import cache_key

from .fleet import MINT_NP, NP_KEY, assert_no_secrets, config, flatten, fleet, tokens

PROCESSES = 4
THREADS = 8


def test_cold_fleet_mints_once_and_once_again_after_expiry(
    novapost_mock: MockServer, redis_url: str, redis_db: redis.Redis
) -> None:
    """32 callers in 4 processes share one mint; once the token has expired (the mock's
    clock and the workers' clocks moved an hour on), the next burst mints once more."""
    with fleet(*[config(novapost_mock, redis_url)] * PROCESSES) as workers:
        first = workers.jwt(THREADS)
        assert [r for r in flatten(first) if "ok" not in r] == []
        assert len(tokens(first)) == 1
        assert novapost_mock.stats()[MINT_NP] == 1
        assert sum(answer.mints for answer in first) == 1

        novapost_mock.advance(3600)
        workers.advance(3600)
        second = workers.jwt(THREADS)
        assert [r for r in flatten(second) if "ok" not in r] == []
        assert len(tokens(second)) == 1 and tokens(second) != tokens(first)
        assert novapost_mock.stats()[MINT_NP] == 2
        assert sum(answer.mints for answer in second) == 2
    assert redis_db.keys("*") == [cache_key(novapost_mock.base_url, NP_KEY)]  # no lock left
    assert_no_secrets(first + second)


def test_redis_holds_a_hash_and_the_token_until_its_usable_life(
    novapost_mock: MockServer, redis_url: str, redis_db: redis.Redis
) -> None:
    """The key is a sha256 of (base URL, API key): no API key in any Redis key or value;
    the entry's PTTL ends at exp - 30 s, read from the JWT itself."""
    with NovaPost(NP_KEY, base_url=novapost_mock.base_url, token_cache=redis_url) as np:
        token = np.jwt()
    keys = redis_db.keys("*")
    assert keys == [cache_key(novapost_mock.base_url, NP_KEY)]
    name = str(keys[0])  # decode_responses: already a str
    assert name.startswith("carriers:token:") and len(name.rsplit(":", 1)[1]) == 64
    raw = redis_db.get(name)
    assert raw is not None and NP_KEY not in raw and NP_KEY not in name
    entry = json.loads(raw)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    minted_at = entry.pop("minted_at")
    assert entry == {"token": token, "expires_at": exp - EXPIRY_MARGIN}
    assert abs(minted_at - time.time()) < 60  # when it was minted: later takers refresh alike
    pttl = redis_db.pttl(name) / 1000
    assert abs((exp - EXPIRY_MARGIN - time.time()) - pttl) < 2.0, (exp, pttl)


def test_fleet_refreshes_ahead_of_expiry_with_one_mint(
    novapost_mock: MockServer, redis_url: str
) -> None:
    """In the advisory window (500 s of usable life left: inside every process's window,
    505-595 s) each caller gets the current token at once and each process refreshes
    in the background; through Redis the fleet mints one new token."""
    with fleet(*[config(novapost_mock, redis_url)] * PROCESSES) as workers:
        cold = workers.jwt(4)
        assert len(tokens(cold)) == 1 and novapost_mock.stats()[MINT_NP] == 1
        ahead = 3600 - EXPIRY_MARGIN - 500
        novapost_mock.advance(ahead)
        workers.advance(ahead)
        window = workers.jwt(4)
        assert tokens(window) == tokens(cold)  # nobody waited for the refresh
        deadline = time.monotonic() + 10
        while True:
            later = workers.jwt(1)
            if all(answer.refreshes == 1 for answer in later):
                break
            assert time.monotonic() < deadline, [answer.refreshes for answer in later]
            time.sleep(0.05)
        after = workers.jwt(4)
    assert len(tokens(after)) == 1 and tokens(after) != tokens(cold)
    assert novapost_mock.stats()[MINT_NP] == 2
    assert sum(answer.mints for answer in after) == 2  # the cold mint and the refresh
    assert_no_secrets(cold + window + after)
