"""The auth flow against hostile token routes: outages, slow mints, odd ``exp``, bursts.

Every server is a standalone stdlib server from ``token_servers``. The assertions
count the requests the servers saw; where time matters, the margins are wide (a
0.2 s deadline must end the wait within 10 s) so that a loaded machine is no issue.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from carriers import NovaPost, Shipyo, _deadline, _hooks, errors, tokens
from carriers.auth import FALLBACK_LIFETIME

from .serving import serve
from .token_servers import SH_TOKEN_PATH, TokenRoute, token_server

NP_KEY = "npk_hostile_token_key"
SH_KEY = "ak_hostile0token0key0000000000"
PARCELS = "/v.1.0/parcels"
T = TypeVar("T")


class Clock:
    """A wall clock that only moves when told to (for token lifetimes)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def _no_async_sleep(seconds: float) -> None:
    pass


def _no_sleep(seconds: float) -> None:
    pass


def novapost(origin: str, clock: Clock | None = None, **options: Any) -> NovaPost:
    """A Nova Post facade on ``origin`` whose retries do not wait."""
    with _hooks.replaced(clock=clock, sleep=_no_sleep, async_sleep=_no_async_sleep):
        return NovaPost(api_key=NP_KEY, base_url=f"{origin}/v.1.0", **options)


def shipyo(origin: str, **options: Any) -> Shipyo:
    with _hooks.replaced(sleep=_no_sleep, async_sleep=_no_async_sleep):
        return Shipyo(api_key=SH_KEY, base_url=origin, **options)


@pytest.fixture
def served() -> Iterator[Callable[[TokenRoute], str]]:
    """``served(route)`` serves ``route`` for the rest of the test and returns the origin."""
    stack: list[Any] = []

    def start(route: TokenRoute) -> str:
        context = serve(token_server(route))
        stack.append(context)
        origin: str = context.__enter__()
        return origin

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


def outcomes(count: int, call: Callable[[], T], *, ready: Callable[[], None]) -> list[Any]:
    """Run ``call`` in ``count`` threads started together; ``ready`` runs once all have
    started. Each outcome is the result or the exception raised."""
    barrier = threading.Barrier(count + 1)

    def worker() -> Any:
        barrier.wait(timeout=30)
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(worker) for _ in range(count)]
        barrier.wait(timeout=30)
        ready()
        return [future.result(timeout=60) for future in futures]


# --- an exp that is not a usable time -----------------------------------------------------


@pytest.mark.parametrize(
    "exp",
    [b"1" + b"0" * 400, b"1e308", b"1e999", b"NaN", b"-1", b'"2030-01-01"', b"253402300800"],
    ids=["10**400", "1e308", "inf", "NaN", "negative", "string", "year 10000"],
)
def test_a_jwt_with_an_unusable_exp_lives_the_fallback_lifetime(
    served: Callable[[TokenRoute], str], exp: bytes
) -> None:
    route = TokenRoute(exp=exp)
    clock = Clock()
    # without the background refresh, which would mint ahead of the fallback's end
    with novapost(served(route), clock, refresh_ahead=False) as np:
        first = np.jwt()
        for _ in range(3):
            assert np.request("GET", "/parcels").json()["ok"]
        assert route.mints == 1, "one token serves every call"
        assert "jwt valid for" in repr(np)
        clock.now += FALLBACK_LIFETIME - 60
        assert np.jwt() == first
        clock.now += 120
        assert np.jwt() != first
        assert route.mints == 2


# --- credentials stay on the base URL's origin -------------------------------------------


def test_novapost_sends_no_credentials_to_another_origin(
    served: Callable[[TokenRoute], str],
) -> None:
    base, other = TokenRoute(), TokenRoute()
    base_origin, other_origin = served(base), served(other)
    with novapost(base_origin) as np:
        assert np.request("GET", f"{other_origin}/x").json()["ok"]
        assert base.mints == 0, "no token is minted for another origin"
        assert "authorization" not in other.headers_seen("/x")[0]
        assert np.request("GET", "/parcels").json()["ok"]
        assert base.headers_seen(PARCELS)[0]["authorization"] == base.issued[0]
        assert np.request("GET", f"{other_origin}/y").json()["ok"]
        assert "authorization" not in other.headers_seen("/y")[0]
        assert other.mints == 0


@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_auth_on_a_plain_client_keeps_credentials_on_the_base_origin(
    served: Callable[[TokenRoute], str], asynchronous: bool
) -> None:
    base, other = TokenRoute(), TokenRoute()
    base_origin, other_origin = served(base), served(other)
    sh = shipyo(base_origin, tenant_id="tenant-7")
    urls = [f"{other_origin}/x", f"{other_origin}{SH_TOKEN_PATH}", f"{base_origin}/api/Shipments"]

    async def send_async() -> None:
        async with httpx.AsyncClient(auth=sh.auth) as plain:
            for url in urls:
                (await plain.get(url)).raise_for_status()
        await sh.aclose()  # the facade's client that minted in this loop

    if asynchronous:
        asyncio.run(send_async())
    else:
        with httpx.Client(auth=sh.auth) as plain:
            for url in urls:
                plain.get(url).raise_for_status()
    for headers in other.headers_seen("/x") + other.headers_seen(SH_TOKEN_PATH):
        for name in sh.auth.credential_headers:
            assert name.lower() not in headers
    assert base.mints == 1
    sent = base.headers_seen("/api/Shipments")[0]
    assert sent["authorization"] == f"Bearer {base.issued[0]}"
    assert (sent["x-api-key"], sent["x-tenant-id"]) == (SH_KEY, "tenant-7")
    sh.close()


# --- an outage of the token route ---------------------------------------------------------


def test_an_outage_costs_one_flight_for_32_threads_then_a_cool_down(
    served: Callable[[TokenRoute], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "MINT_COOLDOWN", 600.0)
    route = TokenRoute(status=503, hold=threading.Event())
    hold = route.hold
    assert hold is not None

    def ready() -> None:
        assert route.wait_for_mints(1)
        hold.set()

    with novapost(served(route)) as np:
        seen = outcomes(32, lambda: np.request("GET", "/parcels"), ready=ready)
        assert all(isinstance(outcome, errors.ServiceUnavailableError) for outcome in seen)
        assert route.mints == np.options.max_retries + 1 == 3
        assert len({id(outcome) for outcome in seen}) == 1, "every caller got the flight's failure"
        assert route.headers_seen(PARCELS) == []
        with pytest.raises(errors.ServiceUnavailableError) as again:
            np.jwt()
        assert again.value is seen[0] and route.mints == 3, "cooling down: no new mint"
        monkeypatch.setattr(tokens, "MINT_COOLDOWN", 0.0)
        with pytest.raises(errors.ServiceUnavailableError):
            np.jwt()
        assert route.mints == 6, "after the cool-down, one new flight"
        route.status = 200
        assert np.jwt() == route.issued[0]
        assert route.mints == 7


def test_an_outage_costs_one_flight_for_32_tasks(
    served: Callable[[TokenRoute], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "MINT_COOLDOWN", 600.0)
    route = TokenRoute(status=503)
    np = novapost(served(route))

    async def burst() -> list[BaseException | str]:
        try:
            return await asyncio.gather(*(np.ajwt() for _ in range(32)), return_exceptions=True)
        finally:
            await np.aclose()

    seen = asyncio.run(burst())
    assert all(isinstance(outcome, errors.ServiceUnavailableError) for outcome in seen)
    assert route.mints == 3


# --- one flight for threads and tasks, waits bounded by the deadline --------------------


def test_32_threads_and_32_tasks_make_one_mint(served: Callable[[TokenRoute], str]) -> None:
    """The token route waits a second for a parallel mint before answering: two flights
    (a thread's and a task's) would both be counted."""
    route = TokenRoute(overlap=1.0)
    np = novapost(served(route))
    barrier = threading.Barrier(33)

    def thread() -> str:
        barrier.wait(timeout=30)
        return np.jwt()

    async def tasks() -> list[str]:
        return await asyncio.gather(*(np.ajwt() for _ in range(32)))

    def loop() -> list[str]:
        barrier.wait(timeout=30)
        return asyncio.run(tasks())

    with ThreadPoolExecutor(33) as pool:
        threads = [pool.submit(thread) for _ in range(32)]
        in_loop = pool.submit(loop)
        tokens = [f.result(timeout=60) for f in threads] + in_loop.result(timeout=60)
    assert route.mints == 1
    assert tokens == [route.issued[0]] * 64
    assert np.request("GET", "/parcels").json()["ok"]
    assert route.headers_seen(PARCELS)[0]["authorization"] == route.issued[0]
    np.close()


def test_a_wait_for_a_slow_mint_ends_at_the_callers_deadline(
    served: Callable[[TokenRoute], str],
) -> None:
    route = TokenRoute(hold=threading.Event())
    hold = route.hold
    assert hold is not None
    np = novapost(served(route))

    async def await_token() -> str:
        with _deadline.scope(0.2):
            return await np.ajwt()

    with ThreadPoolExecutor(1) as pool:
        runner = pool.submit(np.jwt)  # no deadline: runs the flight
        assert route.wait_for_mints(1)
        started = time.monotonic()
        message = "deadline passed while waiting for a token"
        with _deadline.scope(0.2), pytest.raises(errors.APITimeoutError, match=message):
            np.jwt()
        with pytest.raises(errors.APITimeoutError, match=message):
            asyncio.run(await_token())
        assert time.monotonic() - started < 10
        hold.set()
        token = runner.result(timeout=30)
    assert np.jwt() == token
    assert route.mints == 1, "the waiters that gave up did not mint"
    np.close()


@pytest.mark.parametrize("close_each", [False, True])
def test_one_facade_serves_two_asyncio_runs(
    served: Callable[[TokenRoute], str], close_each: bool
) -> None:
    """Keep-alive connections belong to the loop that opened them: each loop gets its own."""
    route = TokenRoute()
    np = novapost(served(route))

    async def once() -> Any:
        try:
            response = await np.arequest("GET", "/parcels")
            return response.json()["ok"]
        finally:
            if close_each:
                await np.aclose()

    assert asyncio.run(once()) is True
    assert asyncio.run(once()) is True
    assert route.mints == 1
    assert len(route.headers_seen(PARCELS)) == 2
    np.close()


# --- a refused body is not read past a limit --------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_huge_401_body_is_not_read_before_the_replay(
    served: Callable[[TokenRoute], str], asynchronous: bool
) -> None:
    """The first call is refused with a 256 MB body: the flow reads 64 KiB of it, no more."""
    route = TokenRoute(refusal=256 * 1024 * 1024)
    np = novapost(served(route))

    async def call() -> int:
        try:
            return (await np.arequest("GET", "/parcels")).status_code
        finally:
            await np.aclose()

    if asynchronous:
        assert asyncio.run(call()) == 200
    else:
        assert np.request("GET", "/parcels").status_code == 200
    np.close()
    assert route.mints == 2, "refused, minted again and replayed"
    assert route.refusal_sent < 32 * 1024 * 1024, "the client hung up after 64 KiB"
