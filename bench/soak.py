"""The fault soak: thousands of calls through the wrapper while the mocks misbehave.

Calls are authorized ``GET /__mock__/whoami`` requests through the facades' httpx
clients, in blocks that rotate between the registry's carriers, sync (a thread
pool) and async (tasks on one event loop). Before a fifth of the calls a fault is
injected: a 500, a 503 with ``Retry-After``, a dropped connection, a delay past the
client timeout, or every token revoked (the next authorized calls get 401). A
fault hits the next request of the route, whichever call sends it.

A transport wrapper, passed through the facades' ``transport=`` arguments, counts
the attempts each call sends and the 401s it receives. Everything the ``carriers``,
``httpx`` and ``httpcore`` loggers emit at DEBUG goes to a scratch file that is
searched for the API keys and the JWTs at the end. Memory is marked after the
first ``memory_mark`` calls and after the last call.

``python -m bench.soak --out FILE`` runs it in a process of its own (so that the
peak resident size is the soak's) and writes the result as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import random
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from carrier_mocks.server import MockServer
from carriers import CarrierError
from carriers.redaction import redact

from bench.apis import CARRIERS, WHOAMI, WHOAMI_ROUTE, BenchCarrier, Facade
from bench.memory import MemoryMark, mark, peak_rss_kib
from bench.report import Row, Target
from bench.servers import mock_server

__all__ = [
    "KINDS",
    "Call",
    "Secrets",
    "SoakConfig",
    "SoakResult",
    "blocks",
    "plan",
    "rows",
    "run_soak",
]

KINDS = ("500", "503", "drop", "delay", "revoke")
"""The injected faults, in equal shares."""

Mode = Literal["sync", "async"]
MODES: tuple[Mode, ...] = ("sync", "async")
PATHS: tuple[tuple[BenchCarrier, Mode], ...] = tuple(
    (carrier, mode) for mode in MODES for carrier in CARRIERS
)
"""The ways through the wrapper (each carrier sync, then each async), one block each in turn."""

_BLOCK_SECONDS = 300.0
_LOGGERS = ("carriers", "httpx", "httpcore")


@dataclass(frozen=True)
class SoakConfig:
    """The soak's size and its fault and timing settings (all short, to keep it fast)."""

    calls: int = 10_000
    fault_rate: float = 0.2
    block: int = 250
    threads: int = 16
    tasks: int = 32
    timeout: float = 0.5
    """The client timeout; ``delay`` faults last longer."""
    delay: float = 1.0
    max_retries: int = 2
    base_delay: float = 0.01
    max_delay: float = 0.05
    max_retry_after: float = 2.0
    seed: int = 7
    memory_mark: int = 2_000
    """Memory is first marked here: two turns through the four ways of the two built-in
    carriers, every client warm."""
    separate_process: bool = True
    """Serve the mocks from processes of their own (tests may serve them in-process)."""


@dataclass(frozen=True)
class Call:
    """One planned call: the way it goes and the fault injected just before it."""

    index: int
    carrier: BenchCarrier
    mode: Mode
    fault: str | None = None
    retry_after: int = 0


def plan(config: SoakConfig) -> list[Call]:
    """The calls in order: ``fault_rate`` of them faulted, the kinds in equal shares.

    503s alternate ``Retry-After: 0`` and ``Retry-After: 1`` (waited, being under
    the cap). The plan depends only on the config's seed.
    """
    rng = random.Random(config.seed)
    faulted = sorted(rng.sample(range(config.calls), round(config.calls * config.fault_rate)))
    kinds = [KINDS[i % len(KINDS)] for i in range(len(faulted))]
    rng.shuffle(kinds)
    fault_of = dict(zip(faulted, kinds, strict=True))
    calls = []
    unavailable = 0
    for index in range(config.calls):
        carrier, mode = PATHS[(index // config.block) % len(PATHS)]
        kind = fault_of.get(index)
        retry_after = 0
        if kind == "503":
            retry_after = unavailable % 2
            unavailable += 1
        calls.append(Call(index, carrier, mode, kind, retry_after))
    return calls


def blocks(calls: Sequence[Call]) -> Iterator[list[Call]]:
    """Runs of consecutive calls that go the same way."""
    current: list[Call] = []
    for call in calls:
        if current and (current[0].carrier, current[0].mode) != (call.carrier, call.mode):
            yield current
            current = []
        current.append(call)
    if current:
        yield current


# --- finding secrets ------------------------------------------------------------------

_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_RUN = re.compile(r"[A-Za-z0-9_-]{16,}")


class Secrets:
    """The API keys, and the payload and signature of every JWT seen on the wire.

    Text holds a secret when it contains a key, anything shaped like a JWT, or a
    segment of a JWT that was used (a token cut at its dots is still a token).
    """

    def __init__(self, api_keys: Iterable[str]) -> None:
        self.api_keys = tuple(api_keys)
        self.segments: set[str] = set()
        self._last: dict[str, str] = {}

    def saw_token(self, carrier: str, token: str) -> None:
        """Remember a token sent on the wire (cheap when it is the same as last time)."""
        if self._last.get(carrier) == token:
            return
        self._last[carrier] = token
        parts = token.split(".")
        self.segments.update(part for part in parts[1:] if len(part) >= 16)

    def found_in(self, text: str) -> bool:
        if any(key in text for key in self.api_keys) or _JWT_SHAPE.search(text):
            return True
        return any(run in self.segments for run in _RUN.findall(text))


def lines_with_secrets(lines: Iterable[str], secrets: Secrets) -> tuple[int, int]:
    """(lines holding a secret, lines read)."""
    found = total = 0
    for line in lines:
        total += 1
        if secrets.found_in(line):
            found += 1
    return found, total


@contextlib.contextmanager
def captured_debug_logs(path: Path) -> Iterator[None]:
    """Send DEBUG and up of the wrapper's and httpx's loggers to ``path``; undo on exit.

    The handler sits on the root logger, so records pass through the filters the
    wrapper installed on their own loggers, exactly as in an application.
    """
    handler = logging.FileHandler(path, encoding="utf-8", delay=False)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# --- counting attempts ------------------------------------------------------------------


@dataclass
class CallRecord:
    """What one call did: attempts on the wire, 401s received, and how it ended."""

    attempts: int = 0
    refusals: int = 0
    outcome: str = "ok"
    category: Literal["ok", "typed", "other"] = "ok"
    secret_in_error: bool = False
    message: str = ""
    stale_replays: int = 0
    """Attempts sent with a token the server had already refused for this call."""
    refused_token: str | None = field(default=None, repr=False)


_current: ContextVar[CallRecord | None] = ContextVar("bench_soak_call", default=None)


def _before(request: httpx.Request, secrets: Secrets) -> tuple[CallRecord | None, str]:
    if request.url.path != WHOAMI:
        return None, ""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    secrets.saw_token(request.url.netloc.decode(), token)
    record = _current.get()
    if record is not None:
        record.attempts += 1
        record.stale_replays += token == record.refused_token
    return record, token


def _after(record: CallRecord | None, token: str, response: httpx.Response) -> None:
    if record is not None and response.status_code == 401:
        record.refusals += 1
        record.refused_token = token


class CountingTransport(httpx.BaseTransport):
    """Counts each whoami attempt of the current call, and notes the token it carries."""

    def __init__(self, inner: httpx.BaseTransport, secrets: Secrets) -> None:
        self.inner = inner
        self.secrets = secrets

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        record, token = _before(request, self.secrets)
        response = self.inner.handle_request(request)
        _after(record, token, response)
        return response

    def close(self) -> None:
        self.inner.close()


class CountingAsyncTransport(httpx.AsyncBaseTransport):
    """``CountingTransport`` for the async client."""

    def __init__(self, inner: httpx.AsyncBaseTransport, secrets: Secrets) -> None:
        self.inner = inner
        self.secrets = secrets

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record, token = _before(request, self.secrets)
        response = await self.inner.handle_async_request(request)
        _after(record, token, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _error_text(exc: BaseException) -> str:
    parts = [str(exc), repr(exc)]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            parts += [str(linked), repr(linked)]
    request = getattr(exc, "request", None)
    if isinstance(request, httpx.Request):
        parts += [str(request.url), repr(dict(request.headers))]
    return "\n".join(parts)


# --- the result ---------------------------------------------------------------------------


@dataclass
class SoakResult:
    """Everything the soak measured, as plain data (it crosses a process boundary as JSON)."""

    calls: int = 0
    succeeded: int = 0
    typed_failures: dict[str, int] = field(default_factory=dict)
    other_exceptions: dict[str, int] = field(default_factory=dict)
    other_messages: list[str] = field(default_factory=list)
    max_attempts: int = 0
    attempts: dict[str, int] = field(default_factory=dict)
    """Calls per number of attempts."""
    replayed_calls: int = 0
    """Calls that received a 401 and replayed."""
    max_refusals: int = 0
    stale_replays: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    revocations: dict[str, int] = field(default_factory=dict)
    mints: dict[str, int] = field(default_factory=dict)
    """Token requests the mocks counted, per carrier."""
    wrapper_mints: dict[str, int] = field(default_factory=dict)
    """Tokens the facades stored, per carrier."""
    log_lines: int = 0
    log_lines_with_secrets: int = 0
    errors_with_secrets: int = 0
    max_retries: int = 0
    first_mark: dict[str, int] = field(default_factory=dict)
    last_mark: dict[str, int] = field(default_factory=dict)
    peak_rss_kib: int = 0
    seconds: float = 0.0

    def add(self, record: CallRecord) -> None:
        self.calls += 1
        if record.category == "ok":
            self.succeeded += 1
        elif record.category == "typed":
            self.typed_failures[record.outcome] = self.typed_failures.get(record.outcome, 0) + 1
        else:
            self.other_exceptions[record.outcome] = self.other_exceptions.get(record.outcome, 0) + 1
            if len(self.other_messages) < 5:
                self.other_messages.append(record.message)
        key = str(record.attempts)
        self.attempts[key] = self.attempts.get(key, 0) + 1
        self.max_attempts = max(self.max_attempts, record.attempts)
        self.max_refusals = max(self.max_refusals, record.refusals)
        self.replayed_calls += record.refusals > 0
        self.errors_with_secrets += record.secret_in_error
        self.stale_replays += record.stale_replays

    @property
    def attempts_bound(self) -> int:
        """The most attempts a call may make: every retry, plus one replay after a 401."""
        return self.max_retries + 2

    @property
    def typed(self) -> int:
        return sum(self.typed_failures.values())

    @property
    def other(self) -> int:
        return sum(self.other_exceptions.values())

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SoakResult:
        return cls(**data)


# --- running it -----------------------------------------------------------------------------


class _Soak:
    """The running soak: servers, facades, the event loop and the thread pool."""

    def __init__(
        self, config: SoakConfig, servers: dict[str, MockServer], secrets: Secrets
    ) -> None:
        self.config = config
        self.servers = servers
        self.secrets = secrets
        self.facades: dict[str, Facade] = {}
        for carrier in CARRIERS:
            server = servers[carrier.name]
            self.facades[carrier.name] = carrier.facade(
                server.base_url,
                timeout=config.timeout,
                max_retries=config.max_retries,
                retry_policy=carrier.retry_policy(
                    base_delay=config.base_delay,
                    max_delay=config.max_delay,
                    max_retry_after=config.max_retry_after,
                ),
                transport=CountingTransport(httpx.HTTPTransport(), secrets),
                async_transport=CountingAsyncTransport(httpx.AsyncHTTPTransport(), secrets),
            )
        self.urls = {api: server.origin + WHOAMI for api, server in servers.items()}

    def inject(self, call: Call) -> None:
        server = self.servers[call.carrier.name]
        if call.fault == "500":
            server.fault(WHOAMI_ROUTE, status=500)
        elif call.fault == "503":
            server.fault(WHOAMI_ROUTE, status=503, retry_after=call.retry_after)
        elif call.fault == "drop":
            server.fault(WHOAMI_ROUTE, drop=True)
        elif call.fault == "delay":
            server.fault(WHOAMI_ROUTE, delay=self.config.delay)
        elif call.fault == "revoke":
            server.revoke_tokens()

    def _failed(self, record: CallRecord, exc: Exception) -> None:
        record.outcome = type(exc).__name__
        text = _error_text(exc)
        record.secret_in_error = self.secrets.found_in(text)
        if isinstance(exc, CarrierError):
            record.category = "typed"
        else:
            record.category = "other"
            record.message = redact(f"{type(exc).__name__}: {exc}")[:300]

    def _answered(self, record: CallRecord, response: httpx.Response) -> None:
        if response.status_code != 200 or not response.json():
            record.category, record.outcome = "other", f"HTTP {response.status_code}"

    def sync_call(self, call: Call) -> CallRecord:
        if call.fault:
            self.inject(call)
        record = CallRecord()
        token = _current.set(record)
        try:
            facade = self.facades[call.carrier.name]
            self._answered(record, facade.request("GET", self.urls[call.carrier.name]))
        except Exception as exc:
            self._failed(record, exc)
        finally:
            _current.reset(token)
        return record

    async def async_call(self, call: Call) -> CallRecord:
        if call.fault:
            await asyncio.to_thread(self.inject, call)
        record = CallRecord()
        token = _current.set(record)
        try:
            facade = self.facades[call.carrier.name]
            self._answered(record, await facade.arequest("GET", self.urls[call.carrier.name]))
        except Exception as exc:
            self._failed(record, exc)
        finally:
            _current.reset(token)
        return record

    def sync_block(
        self, pool: concurrent.futures.ThreadPoolExecutor, calls: list[Call]
    ) -> list[CallRecord]:
        futures = [pool.submit(self.sync_call, call) for call in calls]
        done, _ = concurrent.futures.wait(futures, timeout=_BLOCK_SECONDS)
        return [
            future.result()
            if future in done
            else CallRecord(outcome="still running", category="other")
            for future in futures
        ]

    async def async_block(self, calls: list[Call]) -> list[CallRecord]:
        limit = asyncio.Semaphore(self.config.tasks)

        async def bounded(call: Call) -> CallRecord:
            async with limit:
                return await self.async_call(call)

        try:
            return await asyncio.wait_for(
                asyncio.gather(*(bounded(call) for call in calls)), _BLOCK_SECONDS
            )
        except TimeoutError:
            return [CallRecord(outcome="still running", category="other") for _ in calls]

    async def aclose(self) -> None:
        for facade in self.facades.values():
            await facade.aclose()


def _mark_dict(value: MemoryMark) -> dict[str, int]:
    return dataclasses.asdict(value)


def _drive(
    config: SoakConfig,
    calls: list[Call],
    servers: dict[str, MockServer],
    secrets: Secrets,
    result: SoakResult,
) -> None:
    """Send every call, block by block, marking memory; then read the mint counts."""
    soak = _Soak(config, servers, secrets)
    loop = asyncio.new_event_loop()
    pool = concurrent.futures.ThreadPoolExecutor(config.threads, "soak")
    try:
        done = 0
        for block in blocks(calls):
            if block[0].mode == "sync":
                records = soak.sync_block(pool, block)
            else:
                records = loop.run_until_complete(soak.async_block(block))
            for record in records:
                result.add(record)
            done += len(block)
            if not result.first_mark and done >= config.memory_mark:
                result.first_mark = _mark_dict(mark(done))
        result.last_mark = _mark_dict(mark(done))
        for carrier in CARRIERS:
            result.mints[carrier.name] = servers[carrier.name].stats()[carrier.token_route]
            result.wrapper_mints[carrier.name] = soak.facades[carrier.name].auth.mint_count
    finally:
        loop.run_until_complete(soak.aclose())
        loop.close()
        pool.shutdown(wait=True)


def run_soak(config: SoakConfig) -> SoakResult:
    """Run the soak; every server and client it starts is stopped before it returns."""
    calls = plan(config)
    result = SoakResult(max_retries=config.max_retries)
    for call in calls:
        if call.fault:
            result.injected[call.fault] = result.injected.get(call.fault, 0) + 1
            if call.fault == "revoke":
                api = call.carrier.name
                result.revocations[api] = result.revocations.get(api, 0) + 1
    secrets = Secrets(carrier.key for carrier in CARRIERS)
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as scratch:
        log_path = Path(scratch) / "debug.log"
        with contextlib.ExitStack() as stack:
            servers: dict[str, MockServer] = {
                carrier.name: stack.enter_context(
                    mock_server(carrier.name, separate_process=config.separate_process)
                )
                for carrier in CARRIERS
            }
            stack.enter_context(captured_debug_logs(log_path))
            _drive(config, calls, servers, secrets, result)
        with log_path.open(encoding="utf-8", errors="replace") as lines:
            result.log_lines_with_secrets, result.log_lines = lines_with_secrets(lines, secrets)
    result.seconds = round(time.perf_counter() - begin, 2)
    result.peak_rss_kib = peak_rss_kib()
    return result


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def rows(result: SoakResult) -> list[Row]:
    """The soak's table rows with their targets."""
    section = "fault soak"
    typed = ", ".join(f"{name} {count}" for name, count in sorted(result.typed_failures.items()))
    injected = ", ".join(f"{kind} {result.injected.get(kind, 0)}" for kind in KINDS)
    out = [
        Row(section, "calls", result.calls, note=f"faults injected: {injected}"),
        Row(section, "succeeded", result.succeeded),
        Row(section, "typed carriers.errors failures", result.typed, note=typed),
        Row(
            section,
            "other exceptions",
            result.other,
            target=Target("==", 0),
            note="; ".join(result.other_messages),
        ),
        Row(
            section,
            "max attempts per call",
            result.max_attempts,
            target=Target("<=", result.attempts_bound),
            note=f"calls by attempts: {dict(sorted(result.attempts.items()))}; "
            f"{result.replayed_calls} calls replayed after a 401",
        ),
        Row(
            section,
            "attempts sent with a token already refused",
            result.stale_replays,
            target=Target("==", 0),
        ),
    ]
    for carrier in CARRIERS:
        revoked = result.revocations.get(carrier.name, 0)
        out.append(
            Row(
                section,
                f"{carrier.title} mints (mock count; {revoked} revocations)",
                result.mints.get(carrier.name, 0),
                target=Target("<=", revoked + 1),
                note=f"{result.wrapper_mints.get(carrier.name, 0)} tokens stored by the facade",
            )
        )
    out += [
        Row(
            section,
            "log lines with an API key or a JWT",
            result.log_lines_with_secrets,
            target=Target("==", 0),
            note=f"{result.log_lines:,} DEBUG lines captured",
        ),
        Row(
            section,
            "error texts with an API key or a JWT",
            result.errors_with_secrets,
            target=Target("==", 0),
        ),
        Row(
            section,
            "peak RSS of the soak process",
            result.peak_rss_kib,
            shown=_mib(result.peak_rss_kib),
        ),
    ]
    out += _memory_rows(section, result)
    out.append(Row(section, "duration", result.seconds, shown=f"{result.seconds:.0f} s"))
    return out


def _memory_rows(section: str, result: SoakResult) -> list[Row]:
    first, last = result.first_mark, result.last_mark
    if not first or first.get("calls") == last.get("calls"):
        return [
            Row(section, "memory growth", 0, shown="n/a", note="the soak ended before the mark")
        ]
    rss_growth = last["rss_kib"] - first["rss_kib"]
    blocks_growth = last["allocated_blocks"] - first["allocated_blocks"]
    later_calls = last["calls"] - first["calls"]
    return [
        Row(
            section,
            f"RSS growth, call {first['calls']:,} to {last['calls']:,}",
            rss_growth,
            shown=f"{rss_growth:+,} KiB",
            target=Target("<=", RSS_GROWTH_KIB),
        ),
        Row(
            section,
            "allocated blocks growth per later call",
            round(blocks_growth / later_calls, 3),
            shown=f"{blocks_growth / later_calls:+.3f} ({blocks_growth:+,} blocks)",
            target=Target("<=", BLOCKS_PER_CALL),
            note=f"gc-tracked objects {last['gc_objects'] - first['gc_objects']:+,}",
        ),
    ]


RSS_GROWTH_KIB = 2048
"""Resident growth allowed over the later calls: allocator noise, far below a leak of
one client (tens of KiB each) per hundred calls."""
BLOCKS_PER_CALL = 0.5
"""Allocated-block growth allowed per later call: a leaked object per call is >= 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--calls", type=int, default=SoakConfig.calls)
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    result = run_soak(SoakConfig(calls=args.calls))
    args.out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
