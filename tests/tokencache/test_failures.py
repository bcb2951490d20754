"""What a fleet sharing tokens through Redis does when something fails.

The token route down, Redis unreachable (a closed port, a server killed mid-way, a
server that hangs), a token the server revoked, and a key whose token calls are
rate-limited. Every test runs against the session's mocks and real ``redis-server``
processes; mints are counted by the mock. The only timing is that of a Redis
timeout, with wide margins.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
import redis
from carrier_mocks.server import MockServer
from carriers import NovaPost, token_cache
from carriers.token_cache import BACKOFF_SECONDS, RedisTokenCache, cache_key
from carriers.tokens import MINT_COOLDOWN

from .fleet import (
    MINT_NP,
    MINT_SH,
    NP_KEY,
    SH_LIMITED,
    WHOAMI,
    assert_no_secrets,
    config,
    flatten,
    fleet,
    tokens,
)
from .redis_server import RedisServer, free_port

PROCESSES = 4
THREADS = 8
OUTAGE_TYPES = {"APIConnectionError", "ServiceUnavailableError"}


def unreachable(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "carriers"
        and record.levelno == logging.WARNING
        and "unreachable" in record.getMessage()
    ]


# --- the token route down --------------------------------------------------------------


def test_token_route_down_costs_a_handful_of_mints_and_typed_errors(
    novapost_mock: MockServer, redis_url: str, redis_db: redis.Redis
) -> None:
    """32 callers in 4 processes while the token route answers 503: one process mints
    (max_retries + 1 requests), the others get the shared back-off at once; every
    caller gets a typed error. Processes calling for the first time during the
    back-off fail fast without a request; once it ends, one mint serves the fleet
    again. (Those processes start with the others: starting them after the outage
    could take longer than the 5 s back-off on a loaded host.)"""
    novapost_mock.fault(MINT_NP, count=1000, status=503)
    fleet_config = config(novapost_mock, redis_url, max_retries=2)
    with fleet(*[fleet_config] * PROCESSES) as workers, fleet(*[fleet_config] * 2) as late:
        down = workers.jwt(THREADS)
        results = flatten(down)
        assert [r for r in results if "ok" in r] == []
        assert all(r["typed"] for r in results), results
        assert {r["error"] for r in results} <= OUTAGE_TYPES
        requests = novapost_mock.stats()[MINT_NP]
        assert 1 <= requests <= 6, requests
        key = cache_key(novapost_mock.base_url, NP_KEY)
        assert '"failed": true' in (redis_db.get(key) or "")

        novapost_mock.reset()  # the route is healthy again; the shared back-off is not over
        during = late.jwt(2)
        assert {r.get("error") for r in flatten(during)} == {"APIConnectionError"}
        assert all("shared back-off" in r["message"] for r in flatten(during))
        assert novapost_mock.stats().get(MINT_NP, 0) == 0
        deadline = time.monotonic() + BACKOFF_SECONDS + 2
        while redis_db.exists(key):
            assert time.monotonic() < deadline, "the back-off outlived its PX"
            time.sleep(0.05)
        # each process also keeps the back-off error it got for its own cool-down: on a
        # loaded host ``during`` may have run in the back-off's last moments
        time.sleep(MINT_COOLDOWN)
        after = late.jwt(4)
    assert [r for r in flatten(after) if "ok" not in r] == []
    assert novapost_mock.stats()[MINT_NP] == 1
    assert_no_secrets(down + during + after)


# --- Redis unreachable ------------------------------------------------------------------


def test_redis_on_a_closed_port_mints_in_process_with_one_warning(
    novapost_mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens at the URL: calls succeed, the process mints alone (one mint for
    its 8 threads), and one warning is logged however many mints follow."""
    caplog.set_level(logging.WARNING, logger="carriers")
    url = f"redis://127.0.0.1:{free_port()}/0"
    with NovaPost(NP_KEY, base_url=novapost_mock.base_url, token_cache=url) as np:
        got: list[str] = []
        threads = [threading.Thread(target=lambda: got.append(np.jwt())) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(got) == 8 and len(set(got)) == 1
        novapost_mock.revoke_tokens()
        assert np.request("GET", novapost_mock.origin + "/__mock__/whoami").status_code == 200
        np.auth.invalidate()
        np.jwt()
    assert novapost_mock.stats()[MINT_NP] == 3
    assert len(unreachable(caplog)) == 1


def test_redis_killed_mid_way_each_process_goes_on_alone(
    novapost_mock: MockServer, spare_redis: RedisServer
) -> None:
    """Two processes share a token, then Redis is killed (SIGKILL) and every token is
    revoked: all calls still succeed, each process mints its own replacement and logs
    one warning."""
    with fleet(*[config(novapost_mock, spare_redis.url)] * 2) as workers:
        before = workers.jwt(4)
        assert len(tokens(before)) == 1 and novapost_mock.stats()[MINT_NP] == 1
        spare_redis.kill()
        novapost_mock.revoke_tokens()
        after = workers.run("get", threads=4, url=novapost_mock.origin + "/__mock__/whoami")
        more = workers.run("get", threads=4, url=novapost_mock.origin + "/__mock__/whoami")
    assert {r.get("ok") for r in flatten(after + more)} == {200}
    assert novapost_mock.stats()[MINT_NP] == 1 + 2
    for answer in after:
        assert sum("unreachable" in line for line in answer.logs) == 1, answer.logs
    for answer in more:
        assert not any("unreachable" in line for line in answer.logs)
    assert_no_secrets(before + after + more)


def test_a_hung_redis_costs_one_timeout_per_retry_period(
    novapost_mock: MockServer,
    spare_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that accepts connections but never answers (SIGSTOP): the first call
    waits for the 2 s socket timeout, later calls within ``RETRY_SECONDS`` do not
    touch Redis; once it answers again and the period is over, tokens are shared again."""
    retry = 2.5
    monkeypatch.setattr(token_cache, "RETRY_SECONDS", retry)
    caplog.set_level(logging.WARNING, logger="carriers")
    check = redis.Redis.from_url(spare_redis.url)
    with NovaPost(NP_KEY, base_url=novapost_mock.base_url, token_cache=spare_redis.url) as np:
        assert isinstance(np.auth.cache, RedisTokenCache)
        np.jwt()  # connected, one token in Redis
        check.flushall()
        spare_redis.pause()
        took: list[float] = []
        for _ in range(6):
            np.auth.invalidate()
            started = time.monotonic()
            np.jwt()
            took.append(time.monotonic() - started)
        spare_redis.resume()
        time.sleep(retry)
        np.auth.invalidate()
        shared = np.jwt()
    first, *rest = took
    assert 1.9 <= first <= 8.0, took  # the 2 s socket timeout, once
    assert max(rest) < 1.9, took  # five mints, none waiting on Redis
    assert novapost_mock.stats()[MINT_NP] == 1 + 1 + 5 + 1
    key = cache_key(novapost_mock.base_url, NP_KEY)
    assert shared.encode() in (check.get(key) or b"")
    assert len(unreachable(caplog)) == 1
    check.close()


def test_redis_restarted_is_used_again_after_the_retry_period(
    novapost_mock: MockServer,
    spare_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped (SHUTDOWN NOSAVE) and started again on the same port: after the retry
    period a second facade takes the first one's token from Redis instead of minting."""
    monkeypatch.setattr(token_cache, "RETRY_SECONDS", 0.5)
    caplog.set_level(logging.WARNING, logger="carriers")
    base = novapost_mock.base_url
    with NovaPost(NP_KEY, base_url=base, token_cache=spare_redis.url) as one:
        one.jwt()
        spare_redis.stop()
        one.auth.invalidate()
        one.jwt()  # Redis down: minted alone
        spare_redis.start()  # empty: no persistence
        time.sleep(0.6)
        one.auth.invalidate()
        token = one.jwt()  # minted and shared again
        with NovaPost(NP_KEY, base_url=base, token_cache=spare_redis.url) as two:
            assert two.jwt() == token and two.auth.mint_count == 0
    assert novapost_mock.stats()[MINT_NP] == 3
    assert len(unreachable(caplog)) == 1


# --- a revoked token ---------------------------------------------------------------------


def test_a_revoked_shared_token_is_replaced_once_for_the_fleet(
    novapost_mock: MockServer, redis_url: str
) -> None:
    """Every process gets 401 for the shared token: each drops it only if it is still the
    refused one, so the whole fleet makes one new mint, not one per process."""
    whoami = novapost_mock.origin + "/__mock__/whoami"
    with fleet(*[config(novapost_mock, redis_url)] * PROCESSES) as workers:
        before = workers.jwt(4)
        assert novapost_mock.stats()[MINT_NP] == 1
        novapost_mock.revoke_tokens()
        calls = workers.run("get", threads=4, url=whoami)
        after = workers.jwt(4)
    assert {r.get("ok") for r in flatten(calls)} == {200}
    assert novapost_mock.stats()[MINT_NP] == 2
    assert novapost_mock.stats()[WHOAMI] >= PROCESSES * 4
    assert len(tokens(after)) == 1 and tokens(after) != tokens(before)
    assert_no_secrets(before + calls + after)


# --- a rate-limited key -------------------------------------------------------------------


def test_a_rate_limited_key_survives_a_fleet_start_only_with_the_cache(
    shipyo_mock: MockServer, redis_url: str
) -> None:
    """Shipyo's ``ak_ratelimited00000`` allows 3 token calls a minute. 8 processes
    starting at once: through Redis they mint once and none fails; each on its own,
    8 token calls and the ones past the third get 422."""
    shared = config(shipyo_mock, redis_url, api_key=SH_LIMITED)
    with fleet(*[shared] * 8) as workers:
        with_cache = workers.jwt(2)
    assert [r for r in flatten(with_cache) if "ok" not in r] == []
    assert shipyo_mock.stats()[MINT_SH] == 1

    shipyo_mock.reset()
    alone = config(shipyo_mock, None, api_key=SH_LIMITED)
    with fleet(*[alone] * 8) as workers:
        without = workers.jwt(2)
    failed = [r for r in flatten(without) if "ok" not in r]
    assert shipyo_mock.stats()[MINT_SH] >= 8
    assert {r["error"] for r in failed} == {"UnprocessableEntityError"}
    assert len(failed) >= 5  # at least the 5 processes past the limit (10 when both
    # threads of each share their process's failed mint, as they do unless one is late)
    assert_no_secrets(with_cache + without)
