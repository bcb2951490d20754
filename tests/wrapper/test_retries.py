"""Retries: which failures, how many times, how long between, and never the daily 429."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable

import httpx
import pytest
import respx
from carriers import NovaPost, RetryPolicy, _deadline, errors
from carriers.retries import Retrier
from novapost_client.api.authorization import post_test_api_keys
from novapost_client.models import PostTestApiKeysBody

from .conftest import FakeClock, Sleeper, TokenIssuer

BODY = PostTestApiKeysBody(phone="498213437654")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
def test_retryable_statuses_are_retried_max_retries_times(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
    status: int,
    method: str,
) -> None:
    route = np_api.route(method=method, path="/parcels").respond(status)
    with pytest.raises(errors.APIStatusError) as caught:
        make_np().request(method, "/parcels")
    assert caught.value.status_code == status
    assert route.call_count == 3  # one call and the default two retries
    assert len(sleeper.delays) == 2


@pytest.mark.parametrize("max_retries", [0, 1, 4])
def test_max_retries_is_the_number_of_retries(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    max_retries: int,
) -> None:
    route = np_api.get("/parcels").respond(500)
    with pytest.raises(errors.InternalServerError):
        make_np(max_retries=max_retries).request("GET", "/parcels")
    assert route.call_count == max_retries + 1


def test_a_retry_that_succeeds_returns_the_response(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.get("/parcels").mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[1])]
    )
    assert make_np().request("GET", "/parcels").json() == [1]
    assert route.call_count == 3
    assert np_tokens.count == 1, "a retry reuses the token"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_not_retried(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
    status: int,
) -> None:
    route = np_api.get("/parcels").respond(status)
    with pytest.raises(errors.APIStatusError):
        make_np().request("GET", "/parcels")
    assert route.call_count == (2 if status == 401 else 1)  # 401: the auth replay only
    assert sleeper.delays == []


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_requests_are_not_retried_on_status(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    method: str,
) -> None:
    route = np_api.route(method=method, path="/parcels").respond(503)
    with pytest.raises(errors.ServiceUnavailableError):
        make_np().request(method, "/parcels", json={})
    assert route.call_count == 1


def test_non_idempotent_requests_are_not_retried_after_a_read_error(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    route = np_api.post("/parcels").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(errors.APITimeoutError):
        make_np().request("POST", "/parcels", json={})
    assert route.call_count == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connect_errors_are_retried_for_every_method(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer, method: str
) -> None:
    """A request that never reached the server cannot have had an effect."""
    route = np_api.route(method=method, path="/parcels").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={})]
    )
    response = make_np().request(method, "/parcels")
    assert response.status_code == 200
    assert route.call_count == 2


@pytest.mark.parametrize(
    "exception",
    [httpx.ReadTimeout("t"), httpx.ReadError("r"), httpx.RemoteProtocolError("p")],
)
async def test_read_failures_of_idempotent_requests_are_retried(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    exception: Exception,
) -> None:
    route = np_api.get("/parcels").mock(side_effect=exception)
    np = make_np()
    with pytest.raises(errors.APIConnectionError):
        await np.arequest("GET", "/parcels")
    assert route.call_count == 3
    await np.aclose()


def test_backoff_is_exponential_and_bounded_at_the_top_of_the_jitter(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    np_api.get("/parcels").respond(500)
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    with pytest.raises(errors.InternalServerError):
        make_np(max_retries=5, retry_policy=policy).request("GET", "/parcels")
    assert sleeper.delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_backoff_at_the_bottom_of_the_jitter_is_zero(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    np_api.get("/parcels").respond(500)
    with pytest.raises(errors.InternalServerError):
        make_np(jitter=lambda low, high: low).request("GET", "/parcels")
    assert sleeper.delays == [0.0, 0.0]


def test_full_jitter_stays_within_its_bounds_and_spreads() -> None:
    rng = random.Random(1234)
    retrier = Retrier(3, RetryPolicy(base_delay=0.5, max_delay=8.0), uniform=rng.uniform)
    for attempt in range(6):
        cap = min(8.0, 0.5 * 2**attempt)
        draws = [retrier.backoff(attempt) for _ in range(500)]
        assert all(0.0 <= d <= cap for d in draws)
        assert max(draws) > cap * 0.9 and min(draws) < cap * 0.1, "full jitter, not a fixed step"


def test_a_misbehaving_jitter_source_is_clamped() -> None:
    assert Retrier(2, uniform=lambda low, high: 99.0).backoff(0) == 0.5
    assert Retrier(2, uniform=lambda low, high: -1.0).backoff(0) == 0.0


def test_retry_after_seconds_is_honoured(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    np_api.get("/parcels").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503, headers={"Retry-After": "1.5"}),
            httpx.Response(200, json={}),
        ]
    )
    make_np().request("GET", "/parcels")
    assert sleeper.delays == [7.0, 1.5]


def test_retry_after_http_date_is_read_against_the_clock(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
    clock: FakeClock,
) -> None:
    when = email.utils.formatdate(clock() + 12, usegmt=True)
    np_api.get("/parcels").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200)]
    )
    make_np().request("GET", "/parcels")
    assert sleeper.delays == [12.0]


def test_a_retry_after_above_the_cap_is_not_waited(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    route = np_api.get("/parcels").respond(429, headers={"Retry-After": "61"})
    with pytest.raises(errors.RateLimitError) as caught:
        make_np().request("GET", "/parcels")
    assert route.call_count == 1
    assert sleeper.delays == []
    assert caught.value.retry_after == 61.0


def test_the_retry_after_cap_is_configurable_and_inclusive(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    np_api.get("/parcels").respond(429, headers={"Retry-After": "10"})
    np = make_np(retry_policy=RetryPolicy(max_retry_after=10.0))
    with pytest.raises(errors.RateLimitError):
        np.request("GET", "/parcels")
    assert sleeper.delays == [10.0, 10.0]


@pytest.mark.parametrize("value", ["soon", "", "-5"])
def test_an_unusable_retry_after_falls_back_to_backoff(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
    value: str,
) -> None:
    np_api.get("/parcels").respond(503, headers={"Retry-After": value})
    with pytest.raises(errors.ServiceUnavailableError):
        make_np().request("GET", "/parcels")
    expected = [0.0, 0.0] if value == "-5" else [0.5, 1.0]  # a past time means "now"
    assert sleeper.delays == expected


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_the_daily_429_of_test_api_keys_is_never_retried(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    sleeper: Sleeper,
    asynchronous: bool,
) -> None:
    route = np_api.post("/test-api-keys").respond(
        429,
        json={"success": False, "errors": ["Daily limit reached"]},
        headers={"Retry-After": "1"},
    )
    np = make_np(max_retries=5)
    with pytest.raises(errors.RateLimitError) as caught:
        if asynchronous:
            await np.acall(post_test_api_keys, body=BODY)
        else:
            np.call(post_test_api_keys, body=BODY)
    assert route.call_count == 1
    assert sleeper.delays == []
    assert caught.value.messages == ["Daily limit reached"]
    await np.aclose()


def test_test_api_keys_is_retried_after_a_503(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    """Creating the key again the same day returns the same key: safe to replay."""
    key = {
        "apiKey": "sandbox-key-value",
        "createdAt": "2027-01-01T00:00:00+00:00",
        "expDate": "2028-01-01T00:00:00+00:00",
        "status": "Active",
    }
    route = np_api.post("/test-api-keys").mock(
        side_effect=[
            httpx.Response(503, json={"errors": {"": "time-out"}}),
            httpx.Response(200, json=key),
        ]
    )
    result = make_np().call(post_test_api_keys, body=BODY)
    assert result.api_key == "sandbox-key-value"  # type: ignore[union-attr]
    assert route.call_count == 2


def test_token_mint_is_retried_on_5xx(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter, np_tokens: TokenIssuer
) -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(503, json={"errors": {"": "Connection time-out"}})
        return np_tokens(request)

    np_api.get("/clients/authorization").mock(side_effect=flaky)
    assert make_np().jwt() == np_tokens.issued[0]
    assert calls["n"] == 2


def test_retries_inside_a_mint_are_not_multiplied_by_the_outer_request(
    make_np: Callable[..., NovaPost], np_api: respx.MockRouter
) -> None:
    mint = np_api.get("/clients/authorization").respond(500)
    parcels = np_api.get("/parcels").respond(200)
    with pytest.raises(errors.InternalServerError):
        make_np().request("GET", "/parcels")
    assert mint.call_count == 3
    assert parcels.call_count == 0


# --- retries and the deadline: the deadline wins -----------------------------------------


def test_a_retry_whose_wait_would_pass_the_deadline_is_not_made(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    route = np_api.get("/parcels").respond(503, headers={"Retry-After": "7"})
    with pytest.raises(errors.ServiceUnavailableError) as caught:
        make_np(deadline=5).request("GET", "/parcels")
    assert route.call_count == 1
    assert sleeper.delays == []
    assert caught.value.__notes__ == ["not retried: waiting 7.00 s would pass the call's deadline"]


def test_retries_whose_waits_fit_the_deadline_are_made(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    """The fake sleeps take no time: each wait of 4 s fits a 5 s deadline."""
    route = np_api.get("/parcels").respond(503, headers={"Retry-After": "4"})
    with pytest.raises(errors.ServiceUnavailableError) as caught:
        make_np(deadline=5).request("GET", "/parcels")
    assert route.call_count == 3
    assert sleeper.delays == [4.0, 4.0]
    assert not getattr(caught.value, "__notes__", None), "max_retries ended it, not the deadline"


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_backoff_past_the_deadline_is_not_waited_after_a_transport_error(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
    asynchronous: bool,
) -> None:
    route = np_api.get("/parcels").mock(side_effect=httpx.ConnectError("refused"))
    np = make_np(deadline=5, retry_policy=RetryPolicy(base_delay=6.0, max_delay=6.0))
    with pytest.raises(errors.APIConnectionError) as caught:
        if asynchronous:
            await np.arequest("GET", "/parcels")
        else:
            np.request("GET", "/parcels")
    assert route.call_count == 1
    assert sleeper.delays == []
    assert "deadline" in caught.value.__notes__[0]
    await np.aclose()


def test_without_a_deadline_max_retries_alone_decides(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    sleeper: Sleeper,
) -> None:
    np_api.get("/parcels").respond(503, headers={"Retry-After": "50"})
    with pytest.raises(errors.ServiceUnavailableError):
        make_np(deadline=None).request("GET", "/parcels")
    assert sleeper.delays == [50.0, 50.0]


def test_past_deadline_reads_the_current_scope() -> None:
    retrier = Retrier(2)
    assert not retrier.past_deadline(1e9)
    with _deadline.scope(10):
        assert retrier.past_deadline(10.5)
        assert not retrier.past_deadline(5)
        with _deadline.scope(60):  # an inner scope never extends the outer one
            assert retrier.past_deadline(30)
