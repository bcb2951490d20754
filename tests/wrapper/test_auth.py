"""The JWT life cycle: minting, caching, expiry, single flight, refusal and replay."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import respx
from carriers import (
    APIConnectionError,
    AuthenticationError,
    NovaPost,
    PermissionDeniedError,
    ResponseValidationError,
    Shipyo,
    _deadline,
    tokens,
)
from carriers._clients import Clients
from carriers.auth import (
    EXPIRY_MARGIN,
    FALLBACK_LIFETIME,
    MAX_EXP,
    NovaPostAuth,
    ShipyoAuth,
    origin_of,
    token_expiry,
)
from carriers.errors import APITimeoutError
from carriers.tokens import _Flight

from .conftest import NP_BASE, FakeClock, TokenIssuer, make_jwt

# --- expiry arithmetic --------------------------------------------------------------


def test_expiry_is_exp_minus_the_margin() -> None:
    assert EXPIRY_MARGIN == 30
    assert token_expiry(make_jwt(exp=5000), now=1000) == 5000 - 30


def test_expiry_of_an_opaque_token_is_the_fallback() -> None:
    assert FALLBACK_LIFETIME == 55 * 60
    assert token_expiry("not-a-jwt", now=1000) == 1000 + 55 * 60


@pytest.mark.parametrize(
    "exp", [None, "tomorrow", True, 10**400, 1e308, float("nan"), -1, MAX_EXP + 1]
)
def test_expiry_of_a_jwt_without_a_usable_exp_is_the_fallback(exp: object) -> None:
    import jwt

    claims = {} if exp is None else {"exp": exp}
    token = jwt.encode(claims, "k" * 32, algorithm="HS256")
    assert token_expiry(token, now=1000) == 1000 + FALLBACK_LIFETIME


def test_an_exp_in_the_year_9999_is_still_used() -> None:
    assert token_expiry(make_jwt(exp=MAX_EXP), now=1000) == MAX_EXP - 30
    assert token_expiry(make_jwt(exp=0), now=1000) == -30, "a past exp: minted again"


def test_expiry_ignores_the_signature() -> None:
    token = make_jwt(exp=9000)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert token_expiry(tampered, now=0) == 9000 - 30


# --- caching and expiry ----------------------------------------------------------------


def test_jwt_is_minted_once_and_reused(
    make_np: Callable[..., NovaPost], np_tokens: TokenIssuer, np_api: respx.MockRouter
) -> None:
    np = make_np()
    route = np_api.get("/parcels").respond(200, json={})
    first = np.jwt()
    for _ in range(5):
        assert np.jwt() == first
        np.request("GET", "/parcels")
    assert np_tokens.count == 1
    assert [call.request.headers["Authorization"] for call in route.calls] == [first] * 5


def test_jwt_is_reminted_when_the_fake_clock_passes_its_expiry(
    make_np: Callable[..., NovaPost], np_tokens: TokenIssuer, clock: FakeClock
) -> None:
    np = make_np()
    first = np.jwt()
    clock.advance(3000)
    assert np.jwt() == first
    clock.advance(700)  # past exp
    second = np.jwt()
    assert second != first
    assert np_tokens.count == 2


def test_the_30_second_margin(
    make_np: Callable[..., NovaPost], np_tokens: TokenIssuer, clock: FakeClock
) -> None:
    np = make_np()
    first = np.jwt()  # exp = now + 3600
    clock.advance(3600 - 31)
    assert np.jwt() == first, "31 s before exp the token is still used"
    assert np_tokens.count == 1
    clock.advance(1)
    assert np.jwt() != first, "30 s before exp the token counts as expired"
    assert np_tokens.count == 2


@pytest.mark.parametrize(
    ("kind", "lifetime", "opaque"), [("opaque", 3600, True), ("no exp", None, False)]
)
def test_token_without_exp_lives_55_minutes(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    clock: FakeClock,
    np_key: str,
    kind: str,
    lifetime: float | None,
    opaque: bool,
) -> None:
    issuer = TokenIssuer(clock, np_key, lifetime=lifetime, opaque=opaque)
    np_api.get("/clients/authorization").mock(side_effect=issuer)
    np = make_np()
    first = np.jwt()
    clock.advance(55 * 60 - 1)
    assert np.jwt() == first
    clock.advance(1)
    assert np.jwt() != first
    assert issuer.count == 2


async def test_async_jwt_shares_the_cache(
    make_np: Callable[..., NovaPost], np_tokens: TokenIssuer
) -> None:
    np = make_np()
    first = await np.ajwt()
    assert np.jwt() == first
    assert await np.ajwt() == first
    assert np_tokens.count == 1
    await np.aclose()


# --- single flight -------------------------------------------------------------------


class BlockingIssuer:
    """A token route that answers only once ``expected`` callers have asked for a token.

    If the wrapper let several callers mint at once, each would reach this route
    before any answer is given, so the count of mints shows the overlap.
    """

    def __init__(self, issuer: TokenIssuer, expected: int) -> None:
        self.issuer = issuer
        self.expected = expected
        self.entered = 0
        self.condition = threading.Condition()
        self.event: asyncio.Event | None = None

    def enter(self) -> None:
        with self.condition:
            self.entered += 1
            self.condition.notify_all()
        if self.event is not None and self.entered >= self.expected:
            self.event.set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.condition:
            assert self.condition.wait_for(lambda: self.entered >= self.expected, timeout=30)
        return self.issuer(request)

    async def asynchronous(self, request: httpx.Request) -> httpx.Response:
        assert self.event is not None
        await asyncio.wait_for(self.event.wait(), timeout=30)
        return self.issuer(request)


def _without_single_flight(np: NovaPost) -> None:
    """Every caller runs a mint of its own, as if there were no single flight."""
    np.auth.tokens._join = lambda: (_Flight(), True)  # type: ignore[method-assign]


def _run_threads(np: NovaPost, blocking: BlockingIssuer, count: int) -> list[str]:
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            blocking.enter()
            token = np.jwt()
            with lock:
                results.append(token)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_50_threads_cause_exactly_one_mint(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, clock: FakeClock, np_key: str
) -> None:
    issuer = TokenIssuer(clock, np_key)
    blocking = BlockingIssuer(issuer, 50)
    np_api.get("/clients/authorization").mock(side_effect=blocking)
    np = make_np()
    results = _run_threads(np, blocking, 50)
    assert issuer.count == 1
    assert results == [issuer.issued[0]] * 50


def test_the_thread_harness_detects_a_missing_lock(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, clock: FakeClock, np_key: str
) -> None:
    """Without the lock the same harness sees many mints: the test above can fail."""
    issuer = TokenIssuer(clock, np_key)
    blocking = BlockingIssuer(issuer, 10)
    np_api.get("/clients/authorization").mock(side_effect=blocking)
    np = make_np()
    _without_single_flight(np)
    _run_threads(np, blocking, 10)
    assert issuer.count == 10


async def _run_tasks(np: NovaPost, blocking: BlockingIssuer, count: int) -> list[str]:
    blocking.event = asyncio.Event()

    async def worker() -> str:
        blocking.enter()
        return await np.ajwt()

    return await asyncio.gather(*(worker() for _ in range(count)))


async def test_200_tasks_cause_exactly_one_mint(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, clock: FakeClock, np_key: str
) -> None:
    issuer = TokenIssuer(clock, np_key)
    blocking = BlockingIssuer(issuer, 200)
    np_api.get("/clients/authorization").mock(side_effect=blocking.asynchronous)
    np = make_np()
    results = await _run_tasks(np, blocking, 200)
    assert issuer.count == 1
    assert results == [issuer.issued[0]] * 200
    await np.aclose()


async def test_the_task_harness_detects_a_missing_lock(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, clock: FakeClock, np_key: str
) -> None:
    issuer = TokenIssuer(clock, np_key)
    blocking = BlockingIssuer(issuer, 20)
    np_api.get("/clients/authorization").mock(side_effect=blocking.asynchronous)
    np = make_np()
    _without_single_flight(np)
    await _run_tasks(np, blocking, 20)
    assert issuer.count == 20
    await np.aclose()


async def test_200_concurrent_requests_share_one_mint(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    route = sh_api.get("/api/Shipments").respond(200, json={"success": True, "data": []})
    sh = make_sh()
    responses = await asyncio.gather(*(sh.arequest("GET", "/api/Shipments") for _ in range(200)))
    assert all(r.status_code == 200 for r in responses)
    assert sh_tokens.count == 1
    assert {c.request.headers["Authorization"] for c in route.calls} == {
        f"Bearer {sh_tokens.issued[0]}"
    }
    await sh.aclose()


# --- headers ---------------------------------------------------------------------------


def test_novapost_sends_the_raw_jwt_and_no_jwt_to_the_token_route(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.get("/parcels").respond(200, json={})
    make_np().request("GET", "/parcels")
    token = np_tokens.issued[0]
    assert route.calls.last.request.headers["Authorization"] == token
    assert not token.startswith("Bearer")
    mint_request = np_tokens.requests[0]
    assert "Authorization" not in mint_request.headers
    assert "x-api-key" not in mint_request.headers


@pytest.mark.parametrize("tenant", [None, "tenant-42"])
def test_shipyo_sends_key_bearer_and_tenant(
    make_sh: Callable[..., Shipyo],
    sh_api: respx.MockRouter,
    sh_tokens: TokenIssuer,
    sh_key: str,
    tenant: str | None,
) -> None:
    route = sh_api.get("/api/Shipments").respond(200, json={"success": True})
    make_sh(tenant_id=tenant).request("GET", "/api/Shipments")
    headers = route.calls.last.request.headers
    assert headers["x-api-key"] == sh_key
    assert headers["Authorization"] == f"Bearer {sh_tokens.issued[0]}"
    assert headers.get("X-Tenant-Id") == tenant
    mint_headers = sh_tokens.requests[0].headers
    assert mint_headers["x-api-key"] == sh_key
    assert "Authorization" not in mint_headers
    assert mint_headers.get("X-Tenant-Id") == tenant


# --- refusal and replay ------------------------------------------------------------------


def test_401_drops_the_token_mints_and_replays_once(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.get("/parcels").mock(
        side_effect=[
            httpx.Response(401, json={"errors": {"": "Token expired"}}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    np = make_np()
    response = np.request("GET", "/parcels")
    assert response.json() == {"ok": True}
    assert np_tokens.count == 2
    sent = [call.request.headers["Authorization"] for call in route.calls]
    assert sent == np_tokens.issued
    assert np.jwt() == np_tokens.issued[1]


async def test_401_replay_in_asyncio(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.post("/parcels").mock(
        side_effect=[httpx.Response(401), httpx.Response(201, json={"id": 1})]
    )
    np = make_np()
    response = await np.arequest("POST", "/parcels", json={"weight": 2})
    assert response.status_code == 201
    assert [json.loads(c.request.content) for c in route.calls] == [{"weight": 2}] * 2
    assert np_tokens.count == 2
    await np.aclose()


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_second_401_raises_authentication_error(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    asynchronous: bool,
) -> None:
    route = np_api.get("/parcels").respond(401, json={"errors": {"": "Unauthorized"}})
    np = make_np()
    with pytest.raises(AuthenticationError) as caught:
        if asynchronous:
            await np.arequest("GET", "/parcels")
        else:
            np.request("GET", "/parcels")
    assert route.call_count == 2, "replayed exactly once"
    assert np_tokens.count == 2
    assert caught.value.status_code == 401
    assert caught.value.messages == ["Unauthorized"]
    await np.aclose()


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_request_is_replayed_once_in_all_across_retries(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    asynchronous: bool,
) -> None:
    """401, replay, 500, retry, 401: the retry's refusal is final, not a second replay."""
    route = np_api.get("/parcels").mock(
        side_effect=[
            httpx.Response(401),
            httpx.Response(500),
            httpx.Response(401, json={"errors": {"": "Unauthorized"}}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    np = make_np()
    with pytest.raises(AuthenticationError):
        if asynchronous:
            await np.arequest("GET", "/parcels")
        else:
            np.request("GET", "/parcels")
    assert route.call_count == 3, "max_retries + 1 attempts plus one replay at most"
    assert np_tokens.count == 2
    await np.aclose()


def test_a_failed_token_already_replaced_is_not_dropped(
    make_np: Callable[..., NovaPost], np_tokens: TokenIssuer
) -> None:
    np = make_np()
    old = np.jwt()
    np.auth.invalidate(old)
    new = np.jwt()
    np.auth.invalidate(old)  # a late 401 for the old token
    assert np.jwt() == new
    assert np_tokens.count == 2


def test_concurrent_401s_for_one_token_cause_one_new_mint(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    """Requests that all fail with the first token replace it once between them."""
    np = make_np()
    first = np.jwt()

    def answer(request: httpx.Request) -> httpx.Response:
        ok = request.headers["Authorization"] != first
        return httpx.Response(200 if ok else 401)

    np_api.get("/parcels").mock(side_effect=answer)
    barrier = threading.Barrier(10)
    failed_before_replay = threading.Barrier(10)
    original_invalidate = np.auth.invalidate

    def invalidate(failed: str | None = None) -> None:
        failed_before_replay.wait(timeout=30)  # every request saw its 401 first
        original_invalidate(failed)

    np.auth.invalidate = invalidate  # type: ignore[method-assign]
    statuses: list[int] = []

    def worker() -> None:
        barrier.wait(timeout=30)
        statuses.append(np.request("GET", "/parcels").status_code)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 10
    assert np_tokens.count == 2


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_shipyo_403_on_an_authorized_call_is_a_token_failure(
    make_sh: Callable[..., Shipyo],
    sh_api: respx.MockRouter,
    sh_tokens: TokenIssuer,
    asynchronous: bool,
) -> None:
    expired = {"success": False, "message": "Token scaduto", "errors": ["jwt expired"]}
    route = sh_api.get("/api/Shipments").mock(
        side_effect=[httpx.Response(403, json=expired), httpx.Response(200, json={})]
    )
    sh = make_sh()
    if asynchronous:
        response = await sh.arequest("GET", "/api/Shipments")
    else:
        response = sh.request("GET", "/api/Shipments")
    assert response.status_code == 200
    assert route.call_count == 2
    assert sh_tokens.count == 2
    await sh.aclose()


def test_shipyo_403_twice_is_permission_denied(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    route = sh_api.get("/api/Shipments").respond(
        403, json={"success": False, "message": "Forbidden", "errors": None}
    )
    with pytest.raises(PermissionDeniedError):
        make_sh().request("GET", "/api/Shipments")
    assert route.call_count == 2


def test_novapost_403_is_not_replayed(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.get("/parcels").respond(403, json={"errors": ["Forbidden"]})
    with pytest.raises(PermissionDeniedError):
        make_np().request("GET", "/parcels")
    assert route.call_count == 1
    assert np_tokens.count == 1


def test_a_refused_api_key_fails_the_call_with_the_token_routes_error(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.get("/parcels").respond(200, json={})
    np = make_np(api_key="npk_wrong-key")
    with pytest.raises(AuthenticationError) as caught:
        np.request("GET", "/parcels")
    assert caught.value.request is not None
    assert caught.value.request.url.path.endswith("/clients/authorization")
    assert route.call_count == 0
    assert np_tokens.count == 0


def test_shipyo_invalid_key_is_permission_denied_without_replay(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        make_sh(api_key="ak_wrong").jwt()
    assert caught.value.messages == ["Invalid API Key.", "API key validation failed"]
    assert len(sh_tokens.requests) == 1


def test_one_facade_serves_successive_event_loops(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, clock: FakeClock, np_key: str
) -> None:
    """asyncio locks bind to the loop that first waits on them; each loop gets its own."""
    issuer = TokenIssuer(clock, np_key)
    np = make_np()
    for round_ in range(2):
        blocking = BlockingIssuer(issuer, 5)
        np_api.get("/clients/authorization").mock(side_effect=blocking.asynchronous)
        results = asyncio.run(_run_tasks(np, blocking, 5))
        assert results == [issuer.issued[round_]] * 5
        clock.advance(3600)
    assert issuer.count == 2


# --- one flight, whatever the callers ----------------------------------------------------

GOOD = "good-" + secrets.token_hex(8)
BACK = "back-" + secrets.token_hex(8)
SECOND = "second-" + secrets.token_hex(8)
UNUSED = "unused-" + secrets.token_hex(8)
TOKEN = "token-" + secrets.token_hex(8)
SYNC = "sync-" + secrets.token_hex(8)
ASYNC = "async-" + secrets.token_hex(8)
TOK = "tok-" + secrets.token_hex(8)
"""Minted values: random, since each becomes a registered secret while current."""


def _auth(mint: Callable[[], str], amint: Callable[[], object] | None = None) -> NovaPostAuth:
    async def default_amint() -> str:
        return mint()

    return NovaPostAuth(mint=mint, amint=amint or default_amint)  # type: ignore[arg-type]


def _waiting(flight: _Flight | None, count: int = 1) -> None:
    """Block until ``count`` callers wait on ``flight``."""
    assert flight is not None
    for _ in range(3000):
        if len(flight.future._waiters) + len(flight.future._done_callbacks) >= count:  # type: ignore[attr-defined]
            return
        time.sleep(0.01)
    raise AssertionError("nobody waited for the flight")


def test_a_failure_reaches_the_waiters_and_the_next_call_mints_again() -> None:
    """A broken answer is not an outage: shared with the waiters, not kept."""
    entered, release = threading.Event(), threading.Event()
    answers: Iterator[str | Exception] = iter([ResponseValidationError("no jwt"), GOOD])

    def mint() -> str:
        entered.set()
        assert release.wait(30)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    flow = _auth(mint)
    with ThreadPoolExecutor(2) as pool:
        runner = pool.submit(flow.get_token)
        assert entered.wait(30)
        waiter = pool.submit(flow.get_token)
        _waiting(flow.tokens._flight)
        release.set()
        failure = runner.exception(timeout=30)
        assert isinstance(failure, ResponseValidationError)
        assert waiter.exception(timeout=30) is failure
    assert flow.get_token() == GOOD


def test_an_outage_is_kept_for_the_cool_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "MINT_COOLDOWN", 600.0)
    calls: list[int] = []

    def mint() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise APIConnectionError("the token route is down")
        return BACK

    flow = _auth(mint)
    with pytest.raises(APIConnectionError) as first:
        flow.get_token()
    with pytest.raises(APIConnectionError) as again:
        flow.get_token()
    assert again.value is first.value and len(calls) == 1
    monkeypatch.setattr(tokens, "MINT_COOLDOWN", 0.0)
    assert flow.get_token() == BACK
    assert len(calls) == 2


def test_a_runner_out_of_its_own_time_hands_the_mint_over() -> None:
    """The runner's deadline is its own: a waiter without one mints instead of failing."""
    entered = threading.Event()
    calls: list[int] = []

    def mint() -> str:
        calls.append(1)
        if len(calls) == 1:
            entered.set()
            while not _deadline.expired():
                time.sleep(0.01)
            raise APITimeoutError("deadline of the runner")
        return SECOND

    def runner() -> str:
        with _deadline.scope(0.1):
            return flow.get_token()

    flow = _auth(mint)
    with ThreadPoolExecutor(2) as pool:
        ran = pool.submit(runner)
        assert entered.wait(30)
        waiter = pool.submit(flow.get_token)
        assert isinstance(ran.exception(timeout=30), APITimeoutError)
        assert waiter.result(timeout=30) == SECOND
    assert len(calls) == 2


async def test_a_cancelled_runner_hands_the_mint_over() -> None:
    started = asyncio.Event()
    calls: list[int] = []

    async def amint() -> str:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            await asyncio.sleep(3600)
        return SECOND

    flow = _auth(lambda: UNUSED, amint)
    runner = asyncio.create_task(flow.aget_token())
    await started.wait()
    waiter = asyncio.create_task(flow.aget_token())
    await asyncio.sleep(0.01)
    runner.cancel()
    assert await asyncio.wait_for(waiter, 30) == SECOND
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert len(calls) == 2


async def test_an_async_waiter_that_gives_up_leaves_the_flight_alone() -> None:
    release = asyncio.Event()

    async def amint() -> str:
        await release.wait()
        return TOKEN

    flow = _auth(lambda: UNUSED, amint)
    runner = asyncio.create_task(flow.aget_token())
    await asyncio.sleep(0.01)
    with _deadline.scope(0.05), pytest.raises(APITimeoutError, match="waiting for a token"):
        await flow.aget_token()
    release.set()
    assert await runner == TOKEN
    assert flow.mint_count == 1


async def test_a_blocking_call_in_the_loop_of_an_async_flight_mints_on_its_own() -> None:
    """Waiting would block the loop that runs the flight: a deadlock; it mints instead."""
    started, release = asyncio.Event(), asyncio.Event()

    async def amint() -> str:
        started.set()
        await release.wait()
        return ASYNC

    flow = _auth(lambda: SYNC, amint)
    runner = asyncio.create_task(flow.aget_token())
    await started.wait()
    assert flow.get_token() == SYNC
    release.set()
    assert await runner == ASYNC


# --- credentials stay on the base URL's origin ------------------------------------------


def test_origins_compare_scheme_host_and_port() -> None:
    assert origin_of("https://API.example.com/v1") == origin_of("https://api.example.com:443/x")
    assert origin_of("http://h.test:8080") != origin_of("http://h.test:8081")
    assert origin_of("http://h.test") != origin_of("https://h.test")
    assert origin_of("https://api.example.com@evil.test/") == origin_of("https://evil.test")


def test_the_facades_limit_credentials_to_their_base_url(
    make_np: Callable[..., NovaPost], make_sh: Callable[..., Shipyo]
) -> None:
    assert make_np().auth.origin == origin_of(NP_BASE)
    assert make_np(base_url="http://127.0.0.1:8010/v.1.0").auth.origin == (
        "http",
        "127.0.0.1",
        8010,
    )
    assert make_sh().auth.origin is not None
    assert NovaPostAuth.credential_headers == ("Authorization",)
    assert ShipyoAuth.credential_headers == ("Authorization", "x-api-key", "X-Tenant-Id")


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=dict(request.headers))


def test_a_foreign_request_mints_nothing_and_carries_no_credentials(
    make_sh: Callable[..., Shipyo], sh_tokens: TokenIssuer
) -> None:
    sh = make_sh(tenant_id="t-1")
    with httpx.Client(transport=httpx.MockTransport(_echo), auth=sh.auth) as plain:
        for url in (
            "https://evil.test/api/Shipments",
            "https://evil.test/api/Token/generate-from-apikey",
        ):
            sent = plain.get(url).json()
            assert not {name.lower() for name in sh.auth.credential_headers} & set(sent)
    assert sh_tokens.count == 0


def test_a_flow_without_origin_serves_any_origin() -> None:
    """``JWTAuth`` used alone (origin None) keeps its former behaviour."""
    flow = _auth(lambda: TOK)
    assert flow.origin is None
    with httpx.Client(transport=httpx.MockTransport(_echo), auth=flow) as plain:
        assert plain.get("https://anywhere.test/x").json()["authorization"] == TOK


# --- a refused body is read up to a limit -----------------------------------------------


class _EndlessBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """16 MB of body produced on demand, counting what was pulled."""

    def __init__(self) -> None:
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.pulled < 16 * 1024 * 1024:
            self.pulled += 64 * 1024
            yield b" " * (64 * 1024)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_refused_body_is_read_up_to_64_kib_before_the_replay(
    make_np: Callable[..., NovaPost], np_tokens: TokenIssuer, asynchronous: bool
) -> None:
    np = make_np()
    body = _EndlessBody()
    answers = iter([httpx.Response(401, stream=body), httpx.Response(200, json={"ok": True})])
    transport = httpx.MockTransport(lambda request: next(answers))
    if asynchronous:
        async with httpx.AsyncClient(transport=transport, auth=np.auth) as plain:
            response = await plain.get(f"{NP_BASE}/parcels")
        await np.aclose()
    else:
        with httpx.Client(transport=transport, auth=np.auth) as plain:
            response = plain.get(f"{NP_BASE}/parcels")
    assert response.json() == {"ok": True}
    assert body.pulled <= 3 * 64 * 1024
    assert np_tokens.count == 2


# --- one async client per event loop ----------------------------------------------------


def _clients() -> Clients:
    return Clients(
        base_url=NP_BASE, auth=None, timeout=httpx.Timeout(5), transport=None, async_transport=None
    )


def test_each_event_loop_gets_its_own_async_client(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    clients = _clients()

    async def use() -> httpx.AsyncClient:
        client = clients.for_loop()
        assert client is clients.for_loop()
        return client

    first, second = asyncio.run(use()), asyncio.run(use())
    assert first is not second and first is not clients.unbound()
    np_api.get("/parcels").respond(200, json={})
    np = make_np()
    for _ in range(2):  # a facade serves successive event loops, with one mint
        asyncio.run(np.arequest("GET", "/parcels"))
    assert np_tokens.count == 1


def test_aclose_closes_the_running_loops_client_only() -> None:
    clients = _clients()
    other = asyncio.new_event_loop()
    try:

        async def get() -> httpx.AsyncClient:
            return clients.for_loop()

        kept = other.run_until_complete(get())

        async def close_here() -> httpx.AsyncClient:
            mine = clients.for_loop()
            await clients.aclose()
            return mine

        closed = asyncio.run(close_here())
        assert closed.is_closed and not kept.is_closed
        other.run_until_complete(clients.aclose())
        assert kept.is_closed
    finally:
        other.close()


async def test_a_closed_loop_client_is_replaced_on_next_use() -> None:
    clients = _clients()
    first = clients.for_loop()
    await first.aclose()
    assert clients.for_loop() is not first and not clients.for_loop().is_closed
    await clients.aclose()


@pytest.mark.parametrize("token", ["a b", "tok\r\nX-Evil: 1", "tok\x1b[31m", "tok\x7f", "ключ"])
def test_a_minted_token_no_header_can_carry_is_a_validation_error(token: str) -> None:
    """Sent as is it would split or corrupt the header; it is refused, and not quoted."""

    async def never() -> str:
        raise AssertionError("not called")

    flow = NovaPostAuth(mint=lambda: token, amint=never)
    with pytest.raises(ResponseValidationError) as caught:
        flow.get_token()
    assert token not in str(caught.value) and flow.mint_count == 0
