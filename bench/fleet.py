"""Fleet: processes sharing one API key through a token cache mint once for all of them.

8 worker processes (``bench.fleet_worker``) of 16 threads each hold a facade for the
same key, against the mock in its own process and a ``redis-server`` the section
starts on a free port (and stops). Each scenario starts from a reset mock and an
empty cache, and the mock's ``/__mock__/stats`` counts the token requests:

- cold: every thread of every process calls at one wall-clock instant: 1 mint with
  the Redis or the file cache, one per process without a shared cache.
- at expiry: each process's facade clock (``_hooks.replaced(clock=...)``) and the
  mock's clock jump by the token lifetime, so every in-memory token and the shared
  entry are expired on every clock (the entry stays in the cache); then a burst.
- outage: every thread calls in a loop; the token route answers 503 for 10 s and
  the tokens are revoked as it goes down, so every process needs a new one during
  the outage: the token requests the mock receives meanwhile.
- rate-limited key: Shipyo's ``ak_ratelimited00000`` allows 3 token calls a minute;
  8 processes start at once: calls that fail.
- steady load across expiries: each facade's clock runs ahead of the mock's by a
  constant (TTL - margin - ``token_life``), so every token the mock signs lives
  ``token_life`` seconds on the facades (and in Redis) while the mock still accepts
  it: tokens expire again and again during a short run, no clock moved mid-run.
  p99 latency around an expiry against p99 away from it (and, on its own, in the
  span before it where the refresh ahead comes), and the calls whose ``get_token``
  took longer than ``wait_ms``: refresh ahead on, then off.
- cache overhead: the Redis-backed facade against the in-process one, in memory
  (``overhead``'s in-memory way), and the Redis commands sent at steady state.
"""

from __future__ import annotations

import asyncio
import json
import math
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import redis
from carrier_mocks.server import MockServer
from carrier_mocks.tokens import TOKEN_TTL_SECONDS
from carriers.auth import EXPIRY_MARGIN

from bench.apis import WHOAMI, BenchCarrier, arequests, carrier, requests
from bench.overhead import Plan, bench_jwt, compare_async, compare_sync, in_memory_transport
from bench.report import Row, Target
from bench.servers import ROOT, redis_server
from bench.stats import RatioSummary

__all__ = [
    "RATE_LIMITED_KEY",
    "Caches",
    "Fleet",
    "FleetError",
    "Sizes",
    "Spans",
    "cache_overhead",
    "expiry_load",
    "fleet",
    "matched",
    "outage",
    "rate_limited",
    "run",
    "shared_mints",
    "unshared_cold",
]

SECTION = "fleet"
RATE_LIMITED_KEY = "ak_ratelimited00000"
LABELS = {"redis": "Redis cache", "file": "file cache", "memory": "no shared cache"}
CACHE_PLAN = Plan(where="in memory", rounds=21, calls=100, warmup=100, target=1.05, per_call=True)
_LEAD = 0.3
"""Seconds between sending a start time and that time: every process is ready by then."""
_STEADY = 0.5
"""Seconds of normal load before the outage starts."""
_SETTLE = 1.0
"""Seconds of load left out at its start, while the threads' staggered starts settle."""
_STAGGER = 1.0
"""Seconds between the two halves' first tokens."""
_SLOT = 0.05
"""Seconds of the slots in which near and away calls are matched."""
_SPAN = 0.3
"""Seconds either side of an expiry counted around it."""
_ANSWER = 60.0
_OUTAGE_CALLS = 1_000_000
"""The fault's count: more token requests than any outage sees."""


@dataclass(frozen=True)
class Sizes:
    """How big the fleet is and how long its runs are (smaller in the tests)."""

    processes: int = 8
    threads: int = 16
    outage: float = 10.0
    outage_target: int = 12
    token_life: float = 3.0
    load_seconds: float = 9.0
    load_pause: float = 0.2
    outage_pause: float = 0.05
    wait_ms: float = 20.0
    plan: Plan = CACHE_PLAN

    @property
    def crowd(self) -> str:
        return f"{self.processes} procs x {self.threads} threads"


class FleetError(RuntimeError):
    """A worker process failed a command or stopped answering."""


class Fleet:
    """Worker processes driven in lock step: one command to all, one answer from each."""

    def __init__(self, size: int) -> None:
        self._logs: list[IO[bytes]] = [tempfile.TemporaryFile() for _ in range(size)]
        self._workers = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.fleet_worker"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            for log in self._logs
        ]

    @property
    def size(self) -> int:
        return len(self._workers)

    def send(self, command: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        """One command for every worker, or a list of one each (in the workers' order)."""
        commands = [command] * self.size if isinstance(command, Mapping) else command
        for worker, each in zip(self._workers, commands, strict=True):
            assert worker.stdin is not None
            worker.stdin.write(json.dumps(each) + "\n")
            worker.stdin.flush()

    def collect(self, timeout: float = _ANSWER) -> list[dict[str, Any]]:
        """Each worker's answer to the command sent last (all read before any error is
        raised, so that the next command reads its own answers)."""
        deadline = time.monotonic() + timeout
        replies = []
        for index, worker in enumerate(self._workers):
            assert worker.stdout is not None
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([worker.stdout], [], [], left)
            line = worker.stdout.readline() if ready else ""
            if not line:
                raise FleetError(f"worker {index} did not answer: {self._tail(index)}")
            replies.append(json.loads(line))
        for index, reply in enumerate(replies):
            if "error" in reply:
                raise FleetError(f"worker {index}: {reply['error']}")
        return replies

    def ask(
        self,
        command: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        timeout: float = _ANSWER,
    ) -> list[dict[str, Any]]:
        self.send(command)
        return self.collect(timeout)

    def _tail(self, index: int) -> str:
        log = self._logs[index]
        log.seek(0)
        return log.read().decode(errors="replace")[-600:] or "(nothing on stderr)"

    def close(self) -> None:
        for worker in self._workers:
            if worker.stdin is not None:
                worker.stdin.close()
        for worker in self._workers:
            try:
                worker.wait(_ANSWER)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(_ANSWER)
            if worker.stdout is not None:
                worker.stdout.close()
        for log in self._logs:
            log.close()


@contextmanager
def fleet(size: int) -> Iterator[Fleet]:
    """``size`` worker processes, stopped on exit."""
    workers = Fleet(size)
    try:
        yield workers
    finally:
        workers.close()


@dataclass
class Caches:
    """Empty token caches on demand: Redis flushed, a new file, or none shared."""

    redis_url: str
    scratch: Path
    _files: int = field(default=0, init=False)
    _client: redis.Redis | None = field(default=None, init=False)

    @property
    def client(self) -> redis.Redis:
        """One connection for the section's own commands, opened once."""
        if self._client is None:
            self._client = redis.Redis.from_url(self.redis_url)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def fresh(self, kind: str) -> str:
        """The ``token_cache`` URL of an empty cache of ``kind`` (redis, file, memory)."""
        if kind == "redis":
            self.client.flushall()  # every database
            return self.redis_url
        if kind == "file":
            self._files += 1
            return (self.scratch / f"tokens-{self._files}.json").as_uri()
        return "memory:"

    def commands(self) -> int:
        """Commands Redis has run so far, the ``INFO`` that asks left out."""
        stats: dict[str, dict[str, int]] = self.client.info("commandstats")
        return sum(entry["calls"] for name, entry in stats.items() if name != "cmdstat_info")


# --- driving the fleet ------------------------------------------------------------------


def _build(
    workers: Fleet,
    bench: BenchCarrier,
    server: MockServer,
    cache: str | Sequence[str],
    sizes: Sizes,
    *,
    key: str | None = None,
    refresh_ahead: bool = True,
    offset: float = 0.0,
) -> None:
    """A reset mock, and in every worker a new facade on ``cache`` (or on its own one)."""
    server.reset()
    command = {
        "op": "build",
        "carrier": bench.name,
        "key": key or bench.key,
        "base_url": server.base_url,
        "origin": server.origin,
        "refresh_ahead": refresh_ahead,
        "offset": offset,
        "threads": sizes.threads,
    }
    each = [cache] * workers.size if isinstance(cache, str) else cache
    workers.ask([{**command, "cache": url} for url in each])


def _merged(replies: Sequence[Mapping[str, Any]]) -> Counter[str]:
    return sum((Counter(reply["outcomes"]) for reply in replies), Counter())


def _failed(outcomes: Counter[str]) -> int:
    return sum(count for outcome, count in outcomes.items() if outcome != "ok")


def _note(outcomes: Counter[str]) -> str:
    if not _failed(outcomes):
        return ""
    return "outcomes: " + ", ".join(f"{name} x{count}" for name, count in outcomes.most_common())


def _burst(workers: Fleet, bench: BenchCarrier, server: MockServer) -> tuple[int, Counter[str]]:
    """Every thread of every worker calls once at the same instant: mints, outcomes."""
    before = server.stats()[bench.token_route]
    outcomes = _merged(workers.ask({"op": "burst", "at": time.time() + _LEAD}))
    return server.stats()[bench.token_route] - before, outcomes


def _mint_row(name: str, mints: int, outcomes: Counter[str], target: Target | None) -> Row:
    return Row(
        SECTION,
        name,
        mints,
        target=target,
        note=_note(outcomes),
        extra={"outcomes": dict(outcomes)},
    )


def _unanswered(bursts: Sequence[Row]) -> Row:
    """Calls of the mint bursts not answered 200: one mint is no success if calls failed."""
    failed = sum(_failed(Counter(row.extra["outcomes"])) for row in bursts)
    return Row(SECTION, "burst calls not answered 200", failed, target=Target("==", 0))


# --- 1, 2. one mint for the fleet, cold and at expiry ----------------------------------


def shared_mints(
    workers: Fleet, bench: BenchCarrier, server: MockServer, caches: Caches, kind: str, sizes: Sizes
) -> list[Row]:
    """Mints of a cold burst, then of a burst once every clock passed the token's expiry."""
    _build(workers, bench, server, caches.fresh(kind), sizes)
    cold = _burst(workers, bench, server)
    workers.ask({"op": "advance", "seconds": TOKEN_TTL_SECONDS})
    server.advance(TOKEN_TTL_SECONDS)
    expired = _burst(workers, bench, server)
    label = f"{sizes.crowd}, {LABELS[kind]}"
    return [
        _mint_row(f"{label}, cold: mints", *cold, Target("==", 1)),
        _mint_row(f"{label}, at expiry: mints", *expired, Target("==", 1)),
    ]


def unshared_cold(
    workers: Fleet, bench: BenchCarrier, server: MockServer, caches: Caches, sizes: Sizes
) -> Row:
    """The same cold burst without a shared cache: one mint per process."""
    _build(workers, bench, server, caches.fresh("memory"), sizes)
    name = f"{sizes.crowd}, {LABELS['memory']}, cold: mints"
    return _mint_row(name, *_burst(workers, bench, server), Target("==", sizes.processes))


# --- 3. the token route down --------------------------------------------------------------


def outage(
    workers: Fleet, bench: BenchCarrier, server: MockServer, caches: Caches, kind: str, sizes: Sizes
) -> Row:
    """Token requests while the token route answers 503 for ``sizes.outage`` seconds."""
    _build(workers, bench, server, caches.fresh(kind), sizes)
    _burst(workers, bench, server)  # every process holds a token before the outage
    down = time.time() + _LEAD + _STEADY
    until = down + sizes.outage
    workers.send({"op": "load", "at": down - _STEADY, "until": until, "pause": sizes.outage_pause})
    time.sleep(max(0.0, down - time.time()))
    before = server.stats()[bench.token_route]
    server.fault(bench.token_route, count=_OUTAGE_CALLS, status=503)
    server.revoke_tokens()
    outcomes = _merged(workers.collect(sizes.outage + _ANSWER))
    requests = server.stats()[bench.token_route] - before
    server.reset()  # the route is back
    return Row(
        SECTION,
        f"token route down {sizes.outage:g} s, {LABELS[kind]}: mint requests",
        requests,
        target=Target("<=", sizes.outage_target) if kind != "memory" else None,
        note=_note(outcomes),
        extra={"outcomes": dict(outcomes)},
    )


# --- 4. a rate-limited key -----------------------------------------------------------------


def rate_limited(
    workers: Fleet, bench: BenchCarrier, server: MockServer, caches: Caches, kind: str, sizes: Sizes
) -> Row:
    """Calls that fail when every process starts at once on a key allowing 3 mints a minute."""
    _build(workers, bench, server, caches.fresh(kind), sizes, key=RATE_LIMITED_KEY)
    mints, outcomes = _burst(workers, bench, server)
    return Row(
        SECTION,
        f"{bench.title} rate-limited key, {sizes.processes} procs at once, "
        f"{LABELS[kind]}: failed calls",
        _failed(outcomes),
        target=Target("==", 0) if kind != "memory" else None,
        note=f"token requests: {mints}",
        extra={"outcomes": dict(outcomes), "token_requests": mints},
    )


# --- 5. steady load across an expiry -----------------------------------------------------


def _p99(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no calls to take a p99 of")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


Timed = tuple[float, float]
"""A call's start (wall time) and latency."""


@dataclass
class Spans:
    """A run's calls by where they began: around an expiry, in the span before it where
    the refresh ahead comes, or away from both; and the expiries seen."""

    expiry: list[Timed] = field(default_factory=list)
    refresh: list[Timed] = field(default_factory=list)
    away: list[Timed] = field(default_factory=list)
    expiries: int = 0

    def add(self, calls: Sequence[Sequence[float]], begin: float, lead: float) -> None:
        """Calls of processes sharing one token, from ``begin``: ``_SPAN`` either side of
        an expiry is around it, ``lead`` to ``_SPAN`` before it the refresh span."""
        expiries = sorted({call[3] for call in calls})
        last = max((call[0] for call in calls), default=begin)
        self.expiries += sum(1 for e in expiries if begin <= e <= last)
        for began, latency, *_ in calls:
            if began < begin:
                continue
            if any(abs(began - e) <= _SPAN for e in expiries):
                self.expiry.append((began, latency))
            elif any(e - lead <= began < e - _SPAN for e in expiries):
                self.refresh.append((began, latency))
            else:
                self.away.append((began, latency))


def matched(near: Sequence[Timed], away: Sequence[Timed]) -> tuple[list[float], list[float]]:
    """Latencies of as many near calls as away ones in each ``_SLOT`` of time: both sides
    then met the same moments, stalls of the machine included, in the same numbers."""
    slots: dict[int, tuple[list[float], list[float]]] = {}
    for side, timed in enumerate((near, away)):
        for began, latency in sorted(timed):
            slots.setdefault(int(began // _SLOT), ([], []))[side].append(latency)
    kept: tuple[list[float], list[float]] = ([], [])
    for close, far in slots.values():
        count = min(len(close), len(far))
        kept[0].extend(close[:count])
        kept[1].extend(far[:count])
    return kept


def _p99_row(
    name: str,
    near: Sequence[Timed],
    away: Sequence[Timed],
    extra: Mapping[str, Any],
    target: Target | None = None,
    note: str = "",
) -> Row:
    """p99 of the near calls over p99 of the away ones, matched in time."""
    close, far = matched(near, away)
    p99_near, p99_away = _p99(close) * 1000, _p99(far) * 1000
    ratio = p99_near / p99_away
    return Row(
        SECTION,
        name,
        round(ratio, 3),
        shown=f"{ratio:.2f} ({p99_near:.1f} vs {p99_away:.1f} ms)",
        target=target,
        note=note,
        extra={
            "p99_near_ms": round(p99_near, 2),
            "p99_away_ms": round(p99_away, 2),
            "calls_compared": len(close),
            **extra,
        },
    )


def expiry_load(
    workers: Fleet,
    bench: BenchCarrier,
    server: MockServer,
    caches: Caches,
    sizes: Sizes,
    *,
    refresh_ahead: bool,
) -> list[Row]:
    """p99 latency around a token's expiry over p99 away from it, and the calls that
    waited for a token, through the several expiries of one run.

    Around an expiry is ``_SPAN`` either side of it, as the minute around the expiry
    of an hour's token, whose refresh ahead comes ten minutes before; the span from a
    sixth of the token's life before the expiry, where the refresh ahead comes here, is
    reported on its own. The fleet runs as two halves, each sharing its token through
    its own Redis database, their tokens a second apart, so that at most moments one
    half is near an expiry while the other is away; the p99s compare as many calls of
    each side from each moment (``matched``): a stall of the machine lands on both
    sides alike instead of deciding the ratio.
    """
    life = sizes.token_life
    offset = TOKEN_TTL_SECONDS - EXPIRY_MARGIN - life
    db0 = caches.fresh("redis")
    halves = [db0, db0.rsplit("/", 1)[0] + "/1"]
    group = [index % 2 for index in range(workers.size)]
    each = [halves[g] for g in group]
    _build(workers, bench, server, each, sizes, refresh_ahead=refresh_ahead, offset=offset)
    # each half's first token a second apart, early in a second: the mock's exp is in
    # whole seconds, and mints either side of a second's end would expire together
    first = math.ceil(time.time() + _LEAD) + 0.1
    workers.ask([{"op": "burst", "at": first + g * _STAGGER} for g in group])
    start = time.time() + _LEAD
    until = start + sizes.load_seconds
    before = server.stats()[bench.token_route]
    command = {"op": "load", "at": start, "until": until, "pause": sizes.load_pause}
    replies = workers.ask({**command, "record": True}, timeout=until - start + _ANSWER)
    mints = server.stats()[bench.token_route] - before
    spans = Spans()
    for half in (0, 1):
        of_half = [
            c for g, reply in zip(group, replies, strict=True) if g == half for c in reply["calls"]
        ]
        spans.add(of_half, start + _SETTLE, life / 6 + 0.1)
    calls = [c for reply in replies for c in reply["calls"]]
    waits = [
        (round(c[2] * 1000, 1), round(c[0] - start, 2))
        for c in calls
        if c[2] * 1000 > sizes.wait_ms
    ]
    outcomes = _merged(replies)
    mode = "refresh ahead" if refresh_ahead else "refresh_ahead=False"
    about = {"expiries": spans.expiries, "token_life_s": life, "mints_during_load": mints}
    rows = [
        _p99_row(
            f"load across {spans.expiries} expiries, {mode}: p99 around expiry / p99 away",
            spans.expiry,
            spans.away,
            {**about, "outcomes": dict(outcomes)},
            target=Target("<=", 1.2) if refresh_ahead else None,
            note=_note(outcomes),
        ),
        Row(
            SECTION,
            f"load across expiries, {mode}: calls waiting > {sizes.wait_ms:g} ms for a token",
            len(waits),
            target=Target("==", 0) if refresh_ahead else None,
            extra={"calls": len(calls), "longest_waits_ms_and_s_from_start": sorted(waits)[-8:]},
        ),
    ]
    if refresh_ahead:
        name = f"load across expiries, {mode}: p99 in the refresh span / p99 away"
        rows.append(_p99_row(name, spans.refresh, spans.away, about))
    return rows


# --- 6. the Redis cache at steady state ---------------------------------------------------


_MEMORY_ORIGIN = "http://127.0.0.1:9"  # never dialled: the transport answers in memory


def _compare(
    bench: BenchCarrier, mode: str, caches: Caches, plan: Plan
) -> tuple[RatioSummary, int]:
    """The Redis-backed facade against the in-process one, both with their token minted;
    and the Redis commands sent while the two were timed."""
    memory = in_memory_transport(bench, bench_jwt())
    base = _MEMORY_ORIGIN + bench.info.mock_path
    url = _MEMORY_ORIGIN + WHOAMI
    cache = caches.fresh("redis")
    shared = bench.facade(base, transport=memory, async_transport=memory, token_cache=cache)
    local = bench.facade(base, transport=memory, async_transport=memory, token_cache="memory:")
    if mode == "sync":
        with shared, local:
            shared.jwt(), local.jwt()
            before = caches.commands()
            result = compare_sync(requests(shared), requests(local), url, plan)
            return result, caches.commands() - before

    async def main() -> tuple[RatioSummary, int]:
        async with shared, local:
            await shared.ajwt(), await local.ajwt()
            before = caches.commands()
            result = await compare_async(
                arequests(shared),
                arequests(local),
                url,
                plan,
            )
            return result, caches.commands() - before

    return asyncio.run(main())


def cache_overhead(caches: Caches, sizes: Sizes) -> list[Row]:
    """Per-call time with the Redis cache over the in-process one, and Redis's commands
    at steady state (none: the facade's own token answers)."""
    rows = []
    commands = 0
    for bench in (carrier("novapost"), carrier("shipyo")):
        for mode in ("sync", "async"):
            result, sent = _compare(bench, mode, caches, sizes.plan)
            commands += sent
            rows.append(
                Row(
                    SECTION,
                    f"Redis cache / in-process, {bench.title} {mode} in memory (median ratio)",
                    round(result.ratio, 4),
                    shown=f"{result.ratio:.3f} ({result.wrapper_us:.0f} vs "
                    f"{result.plain_us:.0f} us/call)",
                    target=Target("<=", sizes.plan.target),
                    extra={
                        "ratio_min": round(result.ratio_min, 4),
                        "ratio_max": round(result.ratio_max, 4),
                        "rounds": result.rounds,
                        "calls_per_round": result.calls_per_round,
                    },
                )
            )
    rows.append(
        Row(SECTION, "Redis commands at steady state (in memory)", commands, target=Target("==", 0))
    )
    return rows


# --- the section -------------------------------------------------------------------------------


def run(servers: Mapping[str, MockServer], sizes: Sizes | None = None) -> list[Row]:
    """Every fleet figure: Nova Post's fleet, Shipyo's rate-limited key, the cache's cost."""
    sizes = sizes or Sizes()
    novapost, shipyo = carrier("novapost"), carrier("shipyo")
    np_server, sy_server = servers[novapost.name], servers[shipyo.name]
    with (
        redis_server() as url,
        tempfile.TemporaryDirectory(prefix="bench-fleet-") as scratch,
        fleet(sizes.processes) as workers,
    ):
        caches = Caches(url, Path(scratch))
        try:
            rows = shared_mints(workers, novapost, np_server, caches, "redis", sizes)
            rows.append(unshared_cold(workers, novapost, np_server, caches, sizes))
            rows += shared_mints(workers, novapost, np_server, caches, "file", sizes)
            rows.append(_unanswered(rows))
            for kind in ("redis", "memory"):
                rows.append(outage(workers, novapost, np_server, caches, kind, sizes))
            for kind in ("redis", "memory"):
                rows.append(rate_limited(workers, shipyo, sy_server, caches, kind, sizes))
            for ahead in (True, False):
                rows += expiry_load(
                    workers, novapost, np_server, caches, sizes, refresh_ahead=ahead
                )
            rows += cache_overhead(caches, sizes)
        finally:
            caches.close()
    return rows
