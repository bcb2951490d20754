"""Auth overhead at steady state: the wrapper's httpx clients against plain ones.

The same authorized ``GET /__mock__/whoami`` is sent through the facade's client
(auth flow, retrier and typed errors installed, JWT cached) and through a plain
httpx client whose headers were set once by hand with the same JWT. In memory both
clients use one ``httpx.MockTransport`` that answers like whoami, so only client
CPU is timed: batches of calls, the two sides in alternating order round after
round, and the median of the per-round ratios is reported.

Over loopback the mock runs in another process and a call costs several times the
client's work, so a neighbour's burst of load moves a batch total by more than the
overhead being measured. There both clients share one connection pool (one kept-alive
connection, the same server path), each call is timed on its own, the sides
alternate call by call (ABBA), and each round compares the interquartile means of
its calls: a burst lengthens single calls, which the trimmed mean drops, and a slow
spell slows both sides of the calls it covers alike. The median over many such
rounds is the figure. Pinning the client and the mock to cores was tried and left
out: on two shared cores it only keeps the scheduler from moving off a busy one.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx
import jwt as pyjwt
from carrier_mocks.server import MockServer

from bench.apis import (
    CARRIERS,
    WHOAMI,
    AsyncGetter,
    BenchCarrier,
    Facade,
    Getter,
    arequests,
    requests,
)
from bench.report import Row, Target
from bench.stats import RatioSummary, interquartile_mean, round_order, summarize

__all__ = [
    "IN_MEMORY",
    "LOOPBACK",
    "Plan",
    "bench_jwt",
    "compare_async",
    "compare_sync",
    "in_memory_transport",
    "run",
]

_MEMORY_ORIGIN = "http://127.0.0.1:9"  # never dialled: the transport answers in memory

Sides = dict[str, list[float]]


@dataclass(frozen=True)
class Plan:
    """How one overhead figure is measured, and the ratio it must stay under."""

    where: str
    rounds: int
    calls: int
    warmup: int
    target: float
    per_call: bool = False
    """Time each call and compare interquartile means (else: batch totals); ``calls``
    is then the calls per side and round, alternating call by call."""


LOOPBACK = Plan(where="loopback", rounds=41, calls=60, warmup=200, target=1.05, per_call=True)
IN_MEMORY = Plan(where="in memory", rounds=21, calls=500, warmup=200, target=1.15)


class UnexpectedResponse(RuntimeError):
    """A benchmark call was not answered 200: the figure would time something else."""


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise UnexpectedResponse(f"HTTP {response.status_code} from {response.request.url.path}")


def _replay(response: httpx.Response) -> Callable[[], httpx.Response]:
    """A fresh copy of ``response`` per call, as a server writes a fresh answer."""
    status, headers, body = response.status_code, response.headers, response.content
    return lambda: httpx.Response(status, headers=headers, content=body)


def in_memory_transport(carrier: BenchCarrier, jwt: str) -> httpx.MockTransport:
    """Answers the token route with ``jwt``, and whoami with 200 only when the headers carry it.

    The answers are the ones the carrier's mock gave, recorded once per process.
    """
    expected = [(name.lower(), value) for name, value in carrier.static_headers(jwt).items()]
    whoami = _replay(carrier.whoami_response())
    refused = _replay(carrier.refusal_response())
    minted = _replay(carrier.token_response(jwt))
    token_path = carrier.token_path

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == WHOAMI:
            if all(request.headers.get(name) == value for name, value in expected):
                return whoami()
            return refused()
        if path == token_path:
            return minted()
        return httpx.Response(404)

    return httpx.MockTransport(handler)


def bench_jwt() -> str:
    """A JWT valid for a day, for the in-memory transport to hand out."""
    now = int(time.time())
    claims = {"iss": "bench", "iat": now, "exp": now + 86_400, "cid": "1"}
    return pyjwt.encode(claims, "bench-signing-key-0123456789abcdef", algorithm="HS256")


def _timed_sync(call: Callable[[], None], calls: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - start


async def _timed_async(call: Callable[[], Awaitable[None]], calls: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        await call()
    return time.perf_counter() - start


def _paired_sync(calls: Mapping[str, Callable[[], None]], index: int, count: int) -> Sides:
    """One round of ``count`` calls per side, alternating call by call (ABBA)."""
    gc.collect()
    durations: Sides = {name: [] for name in calls}
    for step in range(count):
        for name in round_order(index + step):
            start = time.perf_counter()
            calls[name]()
            durations[name].append(time.perf_counter() - start)
    return durations


async def _paired_async(
    calls: Mapping[str, Callable[[], Awaitable[None]]], index: int, count: int
) -> Sides:
    gc.collect()
    durations: Sides = {name: [] for name in calls}
    for step in range(count):
        for name in round_order(index + step):
            start = time.perf_counter()
            await calls[name]()
            durations[name].append(time.perf_counter() - start)
    return durations


def _add_round(times: Sides, durations: Sides, count: int) -> None:
    """A paired round as a round total: its interquartile mean per call times ``count``."""
    for name, values in durations.items():
        times[name].append(interquartile_mean(values) * count)


def compare_sync(wrapper: Getter, plain: Getter, url: str, plan: Plan) -> RatioSummary:
    """``wrapper`` against ``plain`` (any two clients) on GET ``url``, as ``plan`` says."""

    def side(client: Getter) -> Callable[[], None]:
        return lambda: _check(client.get(url))

    calls = {"wrapper": side(wrapper), "plain": side(plain)}
    for call in calls.values():
        _timed_sync(call, plan.warmup)
    times: Sides = {"wrapper": [], "plain": []}
    for index in range(plan.rounds):
        if plan.per_call:
            _add_round(times, _paired_sync(calls, index, plan.calls), plan.calls)
            continue
        for name in round_order(index):
            times[name].append(_timed_sync(calls[name], plan.calls))
    return summarize(times["wrapper"], times["plain"], plan.calls)


async def compare_async(
    wrapper: AsyncGetter, plain: AsyncGetter, url: str, plan: Plan
) -> RatioSummary:
    """``compare_sync`` for async clients, in the running event loop."""

    def side(client: AsyncGetter) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            _check(await client.get(url))

        return call

    calls = {"wrapper": side(wrapper), "plain": side(plain)}
    for call in calls.values():
        await _timed_async(call, plan.warmup)
    times: Sides = {"wrapper": [], "plain": []}
    for index in range(plan.rounds):
        if plan.per_call:
            _add_round(times, await _paired_async(calls, index, plan.calls), plan.calls)
            continue
        for name in round_order(index):
            times[name].append(await _timed_async(calls[name], plan.calls))
    return summarize(times["wrapper"], times["plain"], plan.calls)


def _sync_pair(
    carrier: BenchCarrier,
    facade: Facade,
    url: str,
    plan: Plan,
    transport: httpx.BaseTransport,
) -> RatioSummary:
    headers = carrier.static_headers(facade.jwt())
    plain = httpx.Client(headers=headers, transport=transport)
    try:
        return compare_sync(requests(facade), plain, url, plan)
    finally:
        plain.close()
        facade.close()


def _async_pair(
    carrier: BenchCarrier,
    facade: Facade,
    url: str,
    plan: Plan,
    transport: httpx.AsyncBaseTransport,
) -> RatioSummary:
    async def main() -> RatioSummary:
        headers = carrier.static_headers(await facade.ajwt())
        plain = httpx.AsyncClient(headers=headers, transport=transport)
        try:
            return await compare_async(arequests(facade), plain, url, plan)
        finally:
            await plain.aclose()
            await facade.aclose()

    return asyncio.run(main())


def _row(carrier: BenchCarrier, mode: str, plan: Plan, result: RatioSummary, mints: int) -> Row:
    return Row(
        section="auth overhead",
        name=f"{carrier.title} {mode} {plan.where} (median ratio)",
        figure=round(result.ratio, 4),
        shown=(f"{result.ratio:.3f} ({result.wrapper_us:.0f} vs {result.plain_us:.0f} us/call)"),
        target=Target("<=", plan.target),
        note="" if mints == 1 else f"{mints} mints during the run (expected 1)",
        extra={
            "ratio_min": round(result.ratio_min, 4),
            "ratio_max": round(result.ratio_max, 4),
            "rounds": result.rounds,
            "calls_per_round": result.calls_per_round,
            "wrapper_us_per_call": round(result.wrapper_us, 1),
            "plain_us_per_call": round(result.plain_us, 1),
            "timing": "per call, interquartile means" if plan.per_call else "batch totals",
        },
    )


def measure(carrier: BenchCarrier, mode: str, plan: Plan, server: MockServer | None) -> Row:
    """One figure: ``mode`` is "sync" or "async"; no ``server`` means in memory.

    Either way both clients get the same transport: one connection pool over loopback.
    """
    sync_transport: httpx.BaseTransport
    async_transport: httpx.AsyncBaseTransport
    if server is not None:
        url = server.origin + WHOAMI
        sync_transport, async_transport = httpx.HTTPTransport(), httpx.AsyncHTTPTransport()
        facade = carrier.facade(
            server.base_url, transport=sync_transport, async_transport=async_transport
        )
    else:
        url = _MEMORY_ORIGIN + WHOAMI
        memory = in_memory_transport(carrier, bench_jwt())
        base_url = _MEMORY_ORIGIN + carrier.info.mock_path
        facade = carrier.facade(base_url, transport=memory, async_transport=memory)
        sync_transport, async_transport = memory, memory
    if mode == "sync":
        result = _sync_pair(carrier, facade, url, plan, sync_transport)
    else:
        result = _async_pair(carrier, facade, url, plan, async_transport)
    return _row(carrier, mode, plan, result, facade.auth.mint_count)


def run(servers: Mapping[str, MockServer]) -> list[Row]:
    """Every overhead figure: both carriers, sync and async, loopback and in memory."""
    rows = []
    for plan in (LOOPBACK, IN_MEMORY):
        for carrier in CARRIERS:
            for mode in ("sync", "async"):
                server = servers[carrier.name] if plan is LOOPBACK else None
                rows.append(measure(carrier, mode, plan, server))
    return rows
