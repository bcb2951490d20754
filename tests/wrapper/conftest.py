"""Fakes for the wrapper's unit tests: a clock, recorded sleeps, token servers, facades.

Every test gets fresh random secrets, so that a redaction assertion can only pass
when the secret really is absent.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import respx
from carriers import NovaPost, Shipyo, _hooks
from carriers import tokens as auth_module

from . import paged_api
from .paged_api import PagedApi

NP_BASE = NovaPost.INFO.environments["sandbox"]
SH_BASE = Shipyo.INFO.environments["production"]
START = 1_800_000_000.0
SIGNING_KEY = "unit-test-signing-key-0123456789abcdef"


class FakeClock:
    """``time.time`` replacement that only moves when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeper:
    """Records the waits between retries instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_jwt(exp: float | None, **claims: Any) -> str:
    payload: dict[str, Any] = {"iss": "np", "cid": 1, "ref": secrets.token_hex(8), **claims}
    if exp is not None:
        payload["exp"] = int(exp)
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


class TokenIssuer:
    """A token route: checks the key, hands out a new token per call, counts calls.

    ``lifetime`` None issues a JWT without ``exp``; ``opaque`` issues non-JWT tokens.
    """

    def __init__(
        self,
        clock: FakeClock,
        api_key: str,
        *,
        shipyo: bool = False,
        lifetime: float | None = 3600,
        opaque: bool = False,
    ) -> None:
        self.clock = clock
        self.api_key = api_key
        self.shipyo = shipyo
        self.lifetime = lifetime
        self.opaque = opaque
        self.issued: list[str] = []
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def _token(self) -> str:
        if self.opaque:
            return "opaque-" + secrets.token_urlsafe(24)
        exp = None if self.lifetime is None else self.clock() + self.lifetime
        return make_jwt(exp)

    def response(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        if self.shipyo:
            if request.headers.get("x-api-key") != self.api_key:
                return httpx.Response(
                    403,
                    json={
                        "success": False,
                        "message": "Invalid API Key.",
                        "errors": ["API key validation failed"],
                    },
                )
        elif request.url.params.get("apiKey") != self.api_key:
            return httpx.Response(401, json={"errors": {"apiKey": "Invalid API key"}})
        token = self._token()
        with self._lock:
            self.issued.append(token)
        if self.shipyo:
            body: dict[str, Any] = {
                "success": True,
                "data": token,
                "message": "Token generated successfully",
                "errors": None,
            }
        else:
            body = {"jwt": token}
        return httpx.Response(200, json=body)

    __call__ = response

    @property
    def count(self) -> int:
        return len(self.issued)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture(autouse=True)
def no_refresh_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expiry mechanics are tested without the background refresh, which would add
    mints of its own near expiry; test_refresh_ahead.py turns it back on."""
    monkeypatch.setattr(auth_module, "REFRESH_AHEAD", 0.0)


@pytest.fixture(autouse=True)
def fake_hooks(clock: FakeClock, sleeper: Sleeper) -> Iterator[None]:
    """Facades built in a test run on the fake clock and sleeps (jitter: the upper bound)."""
    with _hooks.replaced(
        clock=clock, sleep=sleeper.sleep, async_sleep=sleeper.asleep, jitter=_upper
    ):
        yield


@pytest.fixture
def np_key() -> str:
    return "npk_" + secrets.token_urlsafe(24)


@pytest.fixture
def sh_key() -> str:
    return "ak_" + secrets.token_hex(16)


@pytest.fixture
def np_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=NP_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def sh_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=SH_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def np_tokens(np_api: respx.MockRouter, clock: FakeClock, np_key: str) -> TokenIssuer:
    issuer = TokenIssuer(clock, np_key)
    np_api.get("/clients/authorization").mock(side_effect=issuer)
    return issuer


@pytest.fixture
def sh_tokens(sh_api: respx.MockRouter, clock: FakeClock, sh_key: str) -> TokenIssuer:
    issuer = TokenIssuer(clock, sh_key, shipyo=True)
    sh_api.get("/api/Token/generate-from-apikey").mock(side_effect=issuer)
    return issuer


def _upper(low: float, high: float) -> float:
    return high


_HOOKS = ("clock", "sleep", "async_sleep", "jitter")
"""Keyword arguments of make_np/make_sh that replace a hook for that facade only."""


@pytest.fixture
def make_np(clock: FakeClock, sleeper: Sleeper, np_key: str) -> Iterator[Callable[..., NovaPost]]:
    """NovaPost on the fake clock and sleeps; jitter draws the upper bound."""
    made: list[NovaPost] = []

    def make(**kwargs: Any) -> NovaPost:
        kwargs.setdefault("api_key", np_key)
        hooks = {name: kwargs.pop(name) for name in _HOOKS if name in kwargs}
        with _hooks.replaced(**hooks):
            client = NovaPost(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def make_sh(clock: FakeClock, sleeper: Sleeper, sh_key: str) -> Iterator[Callable[..., Shipyo]]:
    """Shipyo on the fake clock and sleeps; jitter draws the upper bound."""
    made: list[Shipyo] = []

    def make(**kwargs: Any) -> Shipyo:
        kwargs.setdefault("api_key", sh_key)
        hooks = {name: kwargs.pop(name) for name in _HOOKS if name in kwargs}
        with _hooks.replaced(**hooks):
            client = Shipyo(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def paged_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pagedapi_client`` generated once per run, importable in this process."""
    return paged_api.generate(tmp_path_factory.mktemp("pagedapi"))


@pytest.fixture
def paged_router(paged_site: Path) -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=paged_api.BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def paged_tokens(paged_router: respx.MockRouter, clock: FakeClock, np_key: str) -> TokenIssuer:
    issuer = TokenIssuer(clock, np_key)
    paged_router.get("/clients/authorization").mock(side_effect=issuer)
    return issuer


@pytest.fixture
def make_paged(paged_site: Path, np_key: str) -> Iterator[Callable[..., PagedApi]]:
    """The facade over ``pagedapi_client`` (Nova Post's auth flow, the np_key)."""
    made: list[PagedApi] = []

    def make(**kwargs: Any) -> PagedApi:
        kwargs.setdefault("api_key", np_key)
        client = PagedApi(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
