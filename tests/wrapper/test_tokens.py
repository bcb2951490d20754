"""The token provider's three states and what each means for its callers.

Fresh: the token as it is. Advisory (refresh ahead): the current token, while one
background refresh replaces it. Mandatory (missing or expired): one mint, waited for.
"""

from __future__ import annotations

import threading
import time

import pytest
from carriers import tokens
from carriers.tokens import TokenProvider, TokenState

from .conftest import FakeClock, make_jwt


async def _never() -> str:
    raise AssertionError("no async mint expected")


@pytest.fixture(autouse=True)
def refresh_ahead_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "REFRESH_AHEAD", 600.0)  # conftest turns it off


def test_fresh_then_advisory_then_mandatory() -> None:
    clock = FakeClock()
    minted: list[str] = []
    calls: list[float] = []
    refreshing, release = threading.Event(), threading.Event()

    def mint() -> str:
        calls.append(clock())
        if minted:  # the background refresh: held until the test lets it land
            refreshing.set()
            assert release.wait(30)
        token = make_jwt(exp=clock() + 3600)
        minted.append(token)
        return token

    provider = TokenProvider(mint=mint, amint=_never, clock=clock, jitter=lambda a, b: 1.0)
    assert provider.state() is TokenState.MANDATORY  # nothing minted yet
    first = provider.get_token()
    assert provider.state() is TokenState.FRESH and provider.get_token() == first

    # the advisory window: min(REFRESH_AHEAD, life / 6) before the usable end
    usable = 3600 - tokens.EXPIRY_MARGIN
    clock.advance(usable - 500)
    assert provider.state() is TokenState.ADVISORY
    assert provider.get_token() == first  # the caller keeps the current token ...
    assert refreshing.wait(30)  # ... while one refresh runs in the background
    assert [provider.get_token() for _ in range(5)] == [first] * 5
    assert len(calls) == 2  # the second mint is the one refresh, not one per caller
    release.set()
    for _ in range(3000):
        if provider.refresh_count == 1:
            break
        time.sleep(0.01)
    assert provider.get_token() == minted[1] != first
    assert provider.state() is TokenState.FRESH

    # expired: the next caller mints and uses the new token (no refresh ahead of it)
    clock.advance(3600)
    assert provider.state() is TokenState.MANDATORY
    assert provider.get_token() == minted[2] and provider.mint_count == 3


def test_without_refresh_ahead_a_token_is_fresh_until_it_expires() -> None:
    clock = FakeClock()
    provider = TokenProvider(
        mint=lambda: make_jwt(exp=clock() + 3600),
        amint=_never,
        clock=clock,
        refresh_ahead=False,
    )
    provider.get_token()
    clock.advance(3600 - tokens.EXPIRY_MARGIN - 1)
    assert provider.state() is TokenState.FRESH
    clock.advance(1)
    assert provider.state() is TokenState.MANDATORY
