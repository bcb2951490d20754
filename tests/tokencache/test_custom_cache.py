"""A cache of one's own: the README's dict-backed one is all a store has to provide.

The class is taken from the README as written; the token provider does the rest
(one mint for many facades, waiting for the holder's token, the shared back-off, a
refused token replaced once), the same as for the Redis and file caches.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import jwt
import pytest
from carrier_mocks.server import MockServer
from carriers import NovaPost, errors
from carriers.token_cache import CachedToken, Failed, TokenCache, resolve
from carriers.tokens import TokenProvider

from tests.integration.fresh import readme_blocks

from .fleet import MINT_NP, NP_KEY

KEY = "carriers:token:custom"


def dict_cache() -> Any:
    """A new cache of the README's ``DictTokenCache`` class."""
    (block,) = [b for b in readme_blocks() if "class DictTokenCache" in b]
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    return namespace["DictTokenCache"]()


class Minter:
    """A token route: counts its mints, each taking ``seconds``; ``down`` makes it fail."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.count = 0
        self.down = False
        self.lock = threading.Lock()

    def __call__(self) -> str:
        with self.lock:
            self.count += 1
            count = self.count
        time.sleep(self.seconds)
        if self.down:
            raise errors.APIConnectionError("the token route is down")
        return f"opaque-token-{count}"

    async def amint(self) -> str:
        return self()

    def provider(self, cache: TokenCache) -> TokenProvider:
        return TokenProvider(mint=self, amint=self.amint, cache=cache, cache_key=KEY)


def test_the_readme_cache_is_a_token_cache() -> None:
    cache = dict_cache()
    assert resolve(cache) is cache


def test_facades_sharing_a_dict_cache_mint_once(novapost_mock: MockServer) -> None:
    cache = dict_cache()
    base = novapost_mock.base_url
    with (
        NovaPost(NP_KEY, base_url=base, token_cache=cache) as one,
        NovaPost(NP_KEY, base_url=base, token_cache=cache) as two,
    ):
        assert one.jwt() == two.jwt()
        assert (one.auth.mint_count, two.auth.mint_count) == (1, 0)
    assert novapost_mock.stats()[MINT_NP] == 1
    (entry,) = cache.entries.values()
    assert isinstance(entry, CachedToken) and NP_KEY not in repr(entry)


def test_waiters_take_the_holders_token_one_mint_for_all() -> None:
    """4 providers (as 4 processes would) x 4 threads, the mint taking 0.3 s: the
    holder mints under the lock, the others poll and take its token."""
    cache, minter = dict_cache(), Minter(seconds=0.3)
    providers = [minter.provider(cache) for _ in range(4)]
    got: list[str] = []
    threads = [
        threading.Thread(target=lambda p=p: got.append(p.get_token()))
        for p in providers
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 16 and set(got) == {"opaque-token-1"}
    assert minter.count == 1
    assert cache.locks == set()  # released


async def test_an_async_provider_takes_and_shares_through_the_cache() -> None:
    cache, minter = dict_cache(), Minter()
    one, two = minter.provider(cache), minter.provider(cache)
    token = await one.aget_token()
    assert await two.aget_token() == token == two.get_token()
    assert minter.count == 1 and cache.locks == set()


def test_a_failed_mint_is_a_shared_back_off() -> None:
    cache, minter = dict_cache(), Minter()
    minter.down = True
    one, two = minter.provider(cache), minter.provider(cache)
    with pytest.raises(errors.APIConnectionError, match="token route is down"):
        one.get_token()
    assert isinstance(cache.entries[KEY], Failed)
    with pytest.raises(errors.APIConnectionError, match="shared back-off"):
        two.get_token()
    assert minter.count == 1 and cache.locks == set()


def test_a_refused_token_is_replaced_once() -> None:
    """Both providers are refused the shared token: the first drops it and mints, the
    second drops nothing (the stored token is another) and takes the new one."""
    cache, minter = dict_cache(), Minter()
    one, two = minter.provider(cache), minter.provider(cache)
    refused = one.get_token()
    assert two.get_token() == refused
    one.invalidate(refused)
    assert KEY not in cache.entries
    fresh = one.get_token()
    two.invalidate(refused)
    assert cache.entries[KEY].value == fresh
    assert two.get_token() == fresh and minter.count == 2


def test_a_busy_lock_ends_at_the_call_deadline() -> None:
    """A holder that never settles: a waiter gives up at its deadline, typed."""
    from carriers import _deadline

    cache, minter = dict_cache(), Minter()
    release = cache.lock(KEY, 0.0)
    assert release is not None
    with _deadline.scope(0.2), pytest.raises(errors.APIConnectionError, match="lock busy"):
        minter.provider(cache).get_token()
    release()
    assert minter.provider(cache).get_token() == "opaque-token-1"


def test_nothing_is_kept_past_its_usable_life() -> None:
    """A token past its usable life by this process's clock (two hours ahead) is used
    but never stored."""
    cache = dict_cache()
    token = jwt.encode({"exp": int(time.time()) + 600}, "k" * 32, algorithm="HS256")
    ahead = TokenProvider(
        mint=lambda: token,
        amint=Minter().amint,
        cache=cache,
        cache_key=KEY,
        clock=lambda: time.time() + 7200,
    )
    assert ahead.get_token() == token
    assert cache.entries == {} and cache.locks == set()


def test_async_flights_run_the_cache_steps_off_the_loop() -> None:
    """The cache's steps may block (a network store): they run in worker threads."""
    loop_threads: set[int] = set()
    cache = dict_cache()
    real_get = cache.get

    def get(key: str) -> Any:
        loop_threads.add(threading.get_ident())
        return real_get(key)

    cache.get = get

    async def main() -> str:
        token = await Minter().provider(cache).aget_token()
        assert threading.get_ident() not in loop_threads
        return token

    assert asyncio.run(main()) == "opaque-token-1"
    assert loop_threads
