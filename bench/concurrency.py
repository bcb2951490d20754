"""A thousand at once: 1,000 concurrent async calls on one facade, beside raw aiohttp.

The same authorized ``GET /__mock__/whoami``, 1,000 asyncio tasks released
together, on the same mock: through raw aiohttp (one session, the headers set by
hand) and through one facade whose async transport is ``carriers.AiohttpTransport``,
alternating in rounds (the median of the rounds' ratios is reported), both with
100 connections. The facade's first burst starts cold: it must mint once and every
call must be answered 200. Then one burst through the facade over httpx's own
pool (100 connections), bounded in time, for comparison.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import aiohttp
from carrier_mocks.server import MockServer
from carriers import AiohttpTransport

from bench.apis import CARRIERS, WHOAMI, BenchCarrier, Facade
from bench.report import Row, Target

__all__ = ["CONNECTIONS", "ROUNDS", "TASKS", "Burst", "Comparison", "compare", "run"]

TASKS = 1_000
ROUNDS = 5
CONNECTIONS = 100
TARGET_RATIO = 1.5
_SECONDS = 60.0
"""The most one burst may take before its calls count as not finished."""


@dataclass(frozen=True)
class Burst:
    seconds: float
    outcomes: Mapping[str, int]

    @property
    def failed(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "ok")


async def _burst(call: Callable[[], Awaitable[int]], count: int, limit: float) -> Burst:
    """``count`` tasks released together; the time until the last one is answered."""
    gate = asyncio.Event()

    async def one() -> str:
        await gate.wait()
        try:
            status = await call()
        except Exception as exc:
            return type(exc).__name__
        return "ok" if status == 200 else f"HTTP {status}"

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    await asyncio.sleep(0)
    begin = time.perf_counter()
    gate.set()
    try:
        outcomes = Counter(await asyncio.wait_for(asyncio.gather(*tasks), limit))
    except TimeoutError:
        return Burst(limit, {"not finished": count})
    return Burst(time.perf_counter() - begin, dict(outcomes))


@dataclass(frozen=True)
class Comparison:
    carrier: str
    cold: Burst
    raw: list[Burst]
    facade: list[Burst]
    cold_mints: int
    over_httpx: Burst

    @property
    def ratios(self) -> list[float]:
        return [f.seconds / r.seconds for f, r in zip(self.facade, self.raw, strict=True)]

    @property
    def bursts(self) -> list[Burst]:
        return [self.cold, *self.raw, *self.facade, self.over_httpx]

    @property
    def failed(self) -> int:
        return sum(b.failed for b in self.bursts)


def _mints(server: MockServer, carrier: BenchCarrier) -> int:
    return server.stats()[carrier.token_route]


async def _compare(
    carrier: BenchCarrier, server: MockServer, count: int, rounds: int
) -> Comparison:
    url = server.origin + WHOAMI
    before = _mints(server, carrier)
    facade: Facade = carrier.facade(
        server.base_url, async_transport=AiohttpTransport(limit=CONNECTIONS)
    )
    raw_bursts: list[Burst] = []
    facade_bursts: list[Burst] = []
    async with (
        facade,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as session,
    ):

        async def through_facade() -> int:
            return (await facade.arequest("GET", url)).status_code

        cold = await _burst(through_facade, count, _SECONDS)  # no token yet: one mint
        cold_mints = _mints(server, carrier) - before
        headers = carrier.static_headers(await facade.ajwt())  # the token just minted

        async def raw() -> int:
            async with session.get(url, headers=headers) as response:
                await response.read()
                return response.status

        for index in range(rounds):
            pair = [(raw_bursts, raw), (facade_bursts, through_facade)]
            for bursts, call in pair if index % 2 == 0 else pair[::-1]:
                bursts.append(await _burst(call, count, _SECONDS))
    async with carrier.facade(server.base_url) as over_httpx:

        async def through_httpx() -> int:
            return (await over_httpx.arequest("GET", url)).status_code

        await over_httpx.ajwt()
        httpx_burst = await _burst(through_httpx, count, _SECONDS)
    return Comparison(carrier.title, cold, raw_bursts, facade_bursts, cold_mints, httpx_burst)


def compare(
    carrier: BenchCarrier, server: MockServer, count: int = TASKS, rounds: int = ROUNDS
) -> Comparison:
    """Raw aiohttp and the facade over aiohttp, ``rounds`` bursts each, then httpx's pool."""
    server.reset()
    return asyncio.run(_compare(carrier, server, count, rounds))


def _rows(result: Comparison, count: int) -> list[Row]:
    raw = statistics.median(b.seconds for b in result.raw)
    facade = statistics.median(b.seconds for b in result.facade)
    ratio = statistics.median(result.ratios)
    over_httpx = result.over_httpx.seconds
    section = "concurrency"
    return [
        Row(
            section,
            f"{result.carrier}, {count:,} concurrent calls, facade over aiohttp / raw aiohttp",
            round(ratio, 3),
            shown=f"{ratio:.2f} ({facade:.2f} s / {raw:.2f} s)",
            target=Target("<=", TARGET_RATIO),
            extra={
                "raw_seconds": [round(b.seconds, 4) for b in result.raw],
                "facade_seconds": [round(b.seconds, 4) for b in result.facade],
            },
        ),
        Row(
            section,
            f"{result.carrier}, {count:,} concurrent calls: mints",
            result.cold_mints,
            target=Target("==", 1),
        ),
        Row(
            section,
            f"{result.carrier}, {count:,} concurrent calls: calls not answered 200",
            result.failed,
            target=Target("==", 0),
            note=", ".join(f"{dict(b.outcomes)}" for b in result.bursts if b.failed)[:300],
        ),
        Row(
            section,
            f"{result.carrier}, {count:,} concurrent calls, facade over httpx's pool / raw aiohttp",
            round(over_httpx / raw, 2),
            shown=f"{over_httpx / raw:.1f} ({over_httpx:.2f} s)",
            note="" if not result.over_httpx.failed else "did not finish in time",
        ),
    ]


def run(servers: Mapping[str, MockServer]) -> list[Row]:
    rows: list[Row] = []
    for carrier in CARRIERS:
        rows += _rows(compare(carrier, servers[carrier.name]), TASKS)
    return rows
