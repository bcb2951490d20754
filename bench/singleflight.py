"""Single-flight: a crowd of callers on one facade causes exactly one mint.

1,000 asyncio tasks, and separately 64 threads, released at once on one facade
send an authorized call each, three times: on a cold client, right after the
token expired for both the client and the mock (the mock clock and the client's
clock moved together: the client refreshes before sending), and after it expired
for the mock only (every caller is refused with 401 and replays). The mock's
``/__mock__/stats`` counts the mints of each burst; the target is exactly 1.

The tasks' facade sends through ``carriers.AiohttpTransport``, the transport made
for crowds: over httpx's own pool a burst of 1,000 takes seconds to minutes (the
``concurrency`` section measures both).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from carrier_mocks.server import MockServer
from carrier_mocks.tokens import TOKEN_TTL_SECONDS
from carriers import AiohttpTransport, _hooks

from bench.apis import (
    CARRIERS,
    WHOAMI,
    WHOAMI_ROUTE,
    AsyncGetter,
    BenchCarrier,
    Facade,
    Getter,
    arequests,
    requests,
)
from bench.report import Row, Target

__all__ = ["TASKS", "THREADS", "Burst", "OffsetClock", "run"]

TASKS = 1_000
THREADS = 64
SCENARIOS = ("cold", "expired", "refused")
_BURST_SECONDS = 120.0


class OffsetClock:
    """The client's clock: wall time plus an offset moved in step with the mock's clock."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(frozen=True)
class Burst:
    """One burst: how many mints the mock saw, and how the calls ended."""

    scenario: str
    mints: int
    whoami_requests: int
    outcomes: Mapping[str, int]

    @property
    def failed(self) -> int:
        return sum(count for outcome, count in self.outcomes.items() if outcome != "ok")


def _outcome(response: httpx.Response) -> str:
    return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"


def _thread_burst(client: Getter, url: str, count: int) -> Counter[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def call() -> None:
        try:
            barrier.wait(timeout=_BURST_SECONDS)
            outcomes.append(_outcome(client.get(url)))
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + _BURST_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    result = Counter(outcomes)
    hung = sum(thread.is_alive() for thread in threads)
    if hung:
        result["still running"] += hung
    return result


async def _task_burst(client: AsyncGetter, url: str, count: int) -> Counter[str]:
    gate = asyncio.Event()

    async def call() -> str:
        await gate.wait()
        try:
            return _outcome(await client.get(url))
        except Exception as exc:
            return type(exc).__name__

    tasks = [asyncio.create_task(call()) for _ in range(count)]
    await asyncio.sleep(0)  # every task is now waiting at the gate
    gate.set()
    try:
        return Counter(await asyncio.wait_for(asyncio.gather(*tasks), _BURST_SECONDS))
    except TimeoutError:
        return Counter({"still running": count})


def _prepare(server: MockServer, clock: OffsetClock, scenario: str) -> None:
    if scenario == "expired":
        server.advance(TOKEN_TTL_SECONDS)
        clock.advance(TOKEN_TTL_SECONDS)
    elif scenario == "refused":
        server.advance(TOKEN_TTL_SECONDS)


def _burst(
    carrier: BenchCarrier,
    scenario: str,
    before: Mapping[str, int],
    after: Mapping[str, int],
    outcomes: Counter[str],
) -> Burst:
    return Burst(
        scenario=scenario,
        mints=after[carrier.token_route] - before[carrier.token_route],
        whoami_requests=after[WHOAMI_ROUTE] - before[WHOAMI_ROUTE],
        outcomes=dict(outcomes),
    )


def _fresh(carrier: BenchCarrier, server: MockServer, **options: Any) -> tuple[Facade, OffsetClock]:
    server.reset()  # the mock clock back to wall time, like the new client's
    clock = OffsetClock()
    with _hooks.replaced(clock=clock):  # the facade keeps the clock it was built with
        facade = carrier.facade(server.base_url, **options)
    return facade, clock


def threads(carrier: BenchCarrier, server: MockServer, count: int = THREADS) -> list[Burst]:
    """The three bursts of ``count`` threads on one facade."""
    facade, clock = _fresh(carrier, server)
    url = server.origin + WHOAMI
    client = requests(facade)
    bursts = []
    try:
        for scenario in SCENARIOS:
            _prepare(server, clock, scenario)
            before = server.stats()
            outcomes = _thread_burst(client, url, count)
            bursts.append(_burst(carrier, scenario, before, server.stats(), outcomes))
    finally:
        facade.close()
    return bursts


def tasks(carrier: BenchCarrier, server: MockServer, count: int = TASKS) -> list[Burst]:
    """The three bursts of ``count`` asyncio tasks on one facade (over aiohttp)."""
    facade, clock = _fresh(carrier, server, async_transport=AiohttpTransport())
    url = server.origin + WHOAMI

    async def main() -> list[Burst]:
        client = arequests(facade)
        bursts = []
        try:
            for scenario in SCENARIOS:
                _prepare(server, clock, scenario)
                before = server.stats()
                outcomes = await _task_burst(client, url, count)
                bursts.append(_burst(carrier, scenario, before, server.stats(), outcomes))
        finally:
            await facade.aclose()
        return bursts

    return asyncio.run(main())


def _rows(carrier: BenchCarrier, crowd: str, bursts: list[Burst]) -> list[Row]:
    return [
        Row(
            section="single-flight",
            name=f"{carrier.title}, {crowd}, {burst.scenario}: mints",
            figure=burst.mints,
            target=Target("==", 1),
            note=f"{burst.failed} calls not answered 200: {dict(burst.outcomes)}"
            if burst.failed
            else "",
            extra={"whoami_requests": burst.whoami_requests, "outcomes": dict(burst.outcomes)},
        )
        for burst in bursts
    ]


def run(servers: Mapping[str, MockServer]) -> list[Row]:
    """Every burst, both carriers, tasks and threads, plus the count of failed calls."""
    rows: list[Row] = []
    failed = 0
    for carrier in CARRIERS:
        server = servers[carrier.name]
        for crowd, bursts in (
            (f"{TASKS:,} tasks", tasks(carrier, server)),
            (f"{THREADS} threads", threads(carrier, server)),
        ):
            rows += _rows(carrier, crowd, bursts)
            failed += sum(burst.failed for burst in bursts)
        server.reset()
    rows.append(
        Row(
            section="single-flight",
            name="calls not answered 200",
            figure=failed,
            target=Target("==", 0),
        )
    )
    return rows
