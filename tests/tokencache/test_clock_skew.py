"""Clocks that differ between machines: each process compares a stored token's
usable-until time (from the JWT's ``exp``) with its own clock.

A process whose clock runs ahead of the tokens' whole life sees every token as
expired: it mints on each call (warning each time) but its tokens never enter the
cache (their TTL by its clock is not positive), so the rest of the fleet goes on
with the shared one. Processes whose clocks run behind the server keep a token the
server already refuses: the 401 replaces it once for the fleet.
"""

from __future__ import annotations

import hashlib
import json

import redis
from carrier_mocks.server import MockServer
from carriers.token_cache import cache_key

from .fleet import MINT_NP, NP_KEY, assert_no_secrets, config, flatten, fleet, tokens


def stored_digest(db: redis.Redis, server: MockServer) -> str:
    raw = db.get(cache_key(server.base_url, NP_KEY))
    assert raw is not None
    token: str = json.loads(raw)["token"]
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def test_a_process_two_hours_ahead_cannot_displace_the_shared_token(
    novapost_mock: MockServer, redis_url: str, redis_db: redis.Redis
) -> None:
    with fleet(*[config(novapost_mock, redis_url)] * 3) as workers:
        shared = workers.jwt(4, only=[0, 1])
        assert len(tokens(shared)) == 1 and novapost_mock.stats()[MINT_NP] == 1
        workers.run("advance", only=[2], seconds=7200)
        skewed = [workers.run("jwt", only=[2], threads=1)[0] for _ in range(3)]
        again = workers.jwt(4, only=[0, 1])
    assert [r for r in flatten(skewed) if "ok" not in r] == []
    assert skewed[-1].mints == 3  # a mint per call: every token looks expired to it
    assert sum("check the clock" in line for a in skewed for line in a.logs) == 3
    assert tokens(again) == tokens(shared)
    assert stored_digest(redis_db, novapost_mock) in tokens(shared)
    assert novapost_mock.stats()[MINT_NP] == 1 + 3
    assert_no_secrets(shared + skewed + again)


def test_processes_behind_the_server_replace_a_refused_token_once(
    novapost_mock: MockServer, redis_url: str
) -> None:
    """The server's clock passes the shared token's exp while the processes' clocks say
    it has an hour left: every process gets 401, and the fleet mints one replacement."""
    whoami = novapost_mock.origin + "/__mock__/whoami"
    with fleet(*[config(novapost_mock, redis_url)] * 4) as workers:
        before = workers.jwt(2)
        novapost_mock.advance(3601)
        calls = workers.run("get", threads=4, url=whoami)
        after = workers.jwt(2)
    assert {r.get("ok") for r in flatten(calls)} == {200}
    assert novapost_mock.stats()[MINT_NP] == 2
    assert len(tokens(after)) == 1 and tokens(after) != tokens(before)
