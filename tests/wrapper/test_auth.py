"""The JWT life cycle: minting, caching, expiry, single flight, refusal and replay."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

import httpx
import pytest
import respx
from carriers import AuthenticationError, NovaPost, PermissionDeniedError, Shipyo
from carriers.auth import EXPIRY_MARGIN, FALLBACK_LIFETIME, token_expiry

from .conftest import FakeClock, TokenIssuer, make_jwt

# --- expiry arithmetic --------------------------------------------------------------


def test_expiry_is_exp_minus_the_margin() -> None:
    assert EXPIRY_MARGIN == 30
    assert token_expiry(make_jwt(exp=5000), now=1000) == 5000 - 30


def test_expiry_of_an_opaque_token_is_the_fallback() -> None:
    assert FALLBACK_LIFETIME == 55 * 60
    assert token_expiry("not-a-jwt", now=1000) == 1000 + 55 * 60


@pytest.mark.parametrize("exp", [None, "tomorrow", True])
def test_expiry_of_a_jwt_without_a_usable_exp_is_the_fallback(exp: object) -> None:
    import jwt

    claims = {} if exp is None else {"exp": exp}
    token = jwt.encode(claims, "k" * 32, algorithm="HS256")
    assert token_expiry(token, now=1000) == 1000 + FALLBACK_LIFETIME


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
        np.client.get_httpx_client().get("/parcels")
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
    np.auth._mint_lock = contextlib.nullcontext()  # type: ignore[assignment]
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

    @contextlib.asynccontextmanager
    async def no_lock():  # type: ignore[no-untyped-def]
        yield

    np.auth._async_lock = no_lock  # type: ignore[method-assign]
    await _run_tasks(np, blocking, 20)
    assert issuer.count == 20
    await np.aclose()


async def test_200_concurrent_requests_share_one_mint(
    make_sh: Callable[..., Shipyo], sh_api: respx.MockRouter, sh_tokens: TokenIssuer
) -> None:
    route = sh_api.get("/api/Shipments").respond(200, json={"success": True, "data": []})
    sh = make_sh()
    client = sh.client.get_async_httpx_client()
    responses = await asyncio.gather(*(client.get("/api/Shipments") for _ in range(200)))
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
    make_np().client.get_httpx_client().get("/parcels")
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
    make_sh(tenant_id=tenant).client.get_httpx_client().get("/api/Shipments")
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
    response = np.client.get_httpx_client().get("/parcels")
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
    response = await np.client.get_async_httpx_client().post("/parcels", json={"weight": 2})
    assert response.status_code == 201
    assert [c.request.content for c in route.calls] == [b'{"weight":2}'] * 2
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
            await np.client.get_async_httpx_client().get("/parcels")
        else:
            np.client.get_httpx_client().get("/parcels")
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
            await np.client.get_async_httpx_client().get("/parcels")
        else:
            np.client.get_httpx_client().get("/parcels")
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
        statuses.append(np.client.get_httpx_client().get("/parcels").status_code)

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
        response = await sh.client.get_async_httpx_client().get("/api/Shipments")
    else:
        response = sh.client.get_httpx_client().get("/api/Shipments")
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
        make_sh().client.get_httpx_client().get("/api/Shipments")
    assert route.call_count == 2


def test_novapost_403_is_not_replayed(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.get("/parcels").respond(403, json={"errors": ["Forbidden"]})
    with pytest.raises(PermissionDeniedError):
        make_np().client.get_httpx_client().get("/parcels")
    assert route.call_count == 1
    assert np_tokens.count == 1


def test_a_refused_api_key_fails_the_call_with_the_token_routes_error(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.get("/parcels").respond(200, json={})
    np = make_np(api_key="npk_wrong-key")
    with pytest.raises(AuthenticationError) as caught:
        np.client.get_httpx_client().get("/parcels")
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
