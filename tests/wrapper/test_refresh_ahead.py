"""Refreshing a token in the background before it expires (``refresh_ahead``).

The advisory window is the last min(600 s, lifetime / 6) * share of a token's usable
life (share: the jitter hook, its upper bound 1.0 here): a call there returns the
current token and one background thread replaces it. Within the expiry margin (the
mandatory window) callers wait for a new token. The conftest turns the refresh off
for the other tests; it is on here. The clock is fake; the background mint is held
at a gate where a test must show that callers do not wait for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from carriers import NovaPost
from carriers import tokens as auth_module

from .conftest import FakeClock, TokenIssuer

LIFETIME = 3600.0  # the issuer's tokens: exp = now + 3600, usable for 3570 s
USABLE = LIFETIME - auth_module.EXPIRY_MARGIN
WINDOW = min(600.0, USABLE / 6)  # 595 s with the share at 1.0
INTO_WINDOW = USABLE - WINDOW + 1  # seconds after a mint: 594 s of usable life left
POLL_SECONDS = 5.0  # only bounds a broken run


@pytest.fixture(autouse=True)
def refresh_ahead_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_module, "REFRESH_AHEAD", 600.0)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + POLL_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def refreshers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "carriers-refresh"]


def join_refreshers() -> None:
    for thread in refreshers():
        thread.join(POLL_SECONDS)
        assert not thread.is_alive()


class Gate:
    """The token route, answering the first mint at once and holding later ones until
    ``open()``; ``fail`` makes them answer 503 instead."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer
        self.opened = threading.Event()
        self.fail = False
        self.calls = 0
        self.failures = 0

    def open(self) -> None:
        self.opened.set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls > 1:
            assert self.opened.wait(POLL_SECONDS)
        if self.fail:
            self.failures += 1
            return httpx.Response(503, json={"message": "down"})
        return self.issuer(request)


@pytest.fixture
def gate(np_api: respx.MockRouter, clock: FakeClock, np_key: str) -> Iterator[Gate]:
    route = Gate(TokenIssuer(clock, np_key))
    np_api.get("/clients/authorization").mock(side_effect=route)
    yield route
    route.open()  # never leave a refresh thread waiting


def test_in_the_advisory_window_a_call_returns_at_once_and_one_refresh_follows(
    make_np: Callable[..., NovaPost], gate: Gate, clock: FakeClock
) -> None:
    """The refresh's mint is held at the gate, so the call can only have returned the
    current token without waiting; once the gate opens the new token takes over."""
    np = make_np()
    first = np.jwt()
    clock.advance(INTO_WINDOW)
    assert np.jwt() == first  # the refresh is still held at the gate
    assert np.auth.refresh_count == 0 and len(refreshers()) == 1
    gate.open()
    wait_for(lambda: np.auth.refresh_count == 1)
    second = np.jwt()
    assert second != first
    assert gate.issuer.count == 2 and np.auth.mint_count == 2
    join_refreshers()


def test_many_callers_in_the_window_start_one_refresh(
    make_np: Callable[..., NovaPost], gate: Gate, clock: FakeClock
) -> None:
    """32 callers at once in the window all get the current token; one refresh, one mint."""
    np = make_np()
    first = np.jwt()
    clock.advance(INTO_WINDOW)
    start = threading.Barrier(32)
    got: list[str] = []

    def call() -> None:
        start.wait()
        got.append(np.jwt())

    threads = [threading.Thread(target=call) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [first] * 32
    gate.open()
    wait_for(lambda: np.auth.refresh_count == 1)
    join_refreshers()
    assert gate.issuer.count == 2 and np.auth.refresh_count == 1
    assert np.jwt() == gate.issuer.issued[1]


async def test_an_async_call_in_the_window_refreshes_in_the_background(
    make_np: Callable[..., NovaPost], gate: Gate, clock: FakeClock
) -> None:
    np = make_np()
    first = await np.ajwt()
    clock.advance(INTO_WINDOW)
    assert await np.ajwt() == first
    gate.open()
    wait_for(lambda: np.auth.refresh_count == 1)
    assert await np.ajwt() == gate.issuer.issued[1]
    join_refreshers()


def test_a_failed_refresh_warns_once_keeps_the_token_and_retries_later(
    make_np: Callable[..., NovaPost],
    gate: Gate,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The token route answers 503 to the refresh: one warning, the current token stays
    in use, no new attempt before ``REFRESH_RETRY``, then one that succeeds."""
    caplog.set_level(logging.WARNING, logger="carriers")
    np = make_np()
    first = np.jwt()
    clock.advance(INTO_WINDOW)
    gate.fail = True
    gate.open()
    assert np.jwt() == first
    join_refreshers()
    tried = gate.calls
    assert gate.failures == tried - 1 >= 1  # the refresh and its retries, all 503
    warnings = [r for r in caplog.records if "refreshing the JWT" in r.getMessage()]
    assert len(warnings) == 1

    clock.advance(auth_module.REFRESH_RETRY - 1)
    assert np.jwt() == first  # still usable, and too soon to try again
    join_refreshers()
    assert gate.calls == tried

    gate.fail = False
    clock.advance(1)
    assert np.jwt() == first  # the retry runs in the background too
    wait_for(lambda: np.auth.refresh_count == 1)
    join_refreshers()
    assert np.jwt() == gate.issuer.issued[1] != first
    assert gate.calls == tried + 1
    assert len([r for r in caplog.records if "refreshing the JWT" in r.getMessage()]) == 1


def test_in_the_mandatory_window_callers_wait_for_a_new_token(
    make_np: Callable[..., NovaPost], gate: Gate, clock: FakeClock
) -> None:
    """Within 30 s of exp the current token is not handed out: the call mints and waits."""
    gate.open()
    np = make_np()
    first = np.jwt()
    clock.advance(USABLE)
    second = np.jwt()
    assert second != first and gate.issuer.count == 2
    assert np.auth.refresh_count == 0


def test_refresh_ahead_false_turns_it_off(
    make_np: Callable[..., NovaPost], gate: Gate, clock: FakeClock
) -> None:
    gate.open()
    np = make_np(refresh_ahead=False)
    first = np.jwt()
    clock.advance(INTO_WINDOW)
    assert np.jwt() == first
    assert refreshers() == [] and gate.issuer.count == 1
    clock.advance(WINDOW)
    assert np.jwt() != first and gate.issuer.count == 2
    assert np.auth.refresh_count == 0


def test_with_a_shared_cache_the_fleet_refreshes_once(
    make_np: Callable[..., NovaPost], gate: Gate, clock: FakeClock, tmp_path: Path
) -> None:
    """Two facades sharing a file cache, both in the window at once: one mints the new
    token, the other takes it from the cache (1 mint for both)."""
    gate.open()
    url = (tmp_path / "tokens.json").as_uri()
    one, two = make_np(token_cache=url), make_np(token_cache=url)
    first = one.jwt()
    assert two.jwt() == first and gate.issuer.count == 1
    clock.advance(INTO_WINDOW)
    assert one.jwt() == first and two.jwt() == first
    wait_for(lambda: one.auth.refresh_count == 1 and two.auth.refresh_count == 1)
    join_refreshers()
    assert gate.issuer.count == 2
    assert one.jwt() == two.jwt() == gate.issuer.issued[1]
    assert one.auth.mint_count + two.auth.mint_count == 2


def test_a_token_taken_from_the_cache_is_refreshed_when_its_minter_would() -> None:
    """The refresh window comes from the token's whole life (minted_at), not from what
    was left when another process took it."""
    from carriers.auth import NovaPostAuth
    from carriers.token_cache import CachedToken

    clock = [1_000_000.0]

    async def never() -> str:
        raise AssertionError("not called")

    flow = NovaPostAuth(mint=lambda: "unused", amint=never, clock=lambda: clock[0])
    # minted an hour-long life ago by another process, 50 minutes of it left
    flow.tokens._store(CachedToken("taken", clock[0] + 3000, clock[0] - 600), minted=False)
    current = flow.tokens._token
    assert current is not None and current.lifetime == 3600
