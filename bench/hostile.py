"""Hostile servers: the wrapper against a counterpart that misbehaves on purpose.

Each figure comes from a standalone server of ``hostile_servers`` (or, for the key
store, two processes writing one file), both carriers through their facades:

- deep JSON: ``"[" * 100000`` as a 2xx or a 401, from the token route or an
  authorized call; every failure must be a ``carriers.errors`` one.
- huge exp: JWTs whose ``exp`` is ``10**400``, ``1e308`` or ``-1``; the token must
  still be used, with no untyped exception.
- gzip bomb: 300 KB of gzip inflating to 300 MB, fetched in a fresh process whose
  peak resident size is read before and after (``ru_maxrss``).
- cross-origin: a request and a redirect to another origin must carry no credential.
- outage: a token route answering 503 to a crowd costs one flight of requests.
- slow token route: a mint slower than the deadline ends every waiter at the deadline.
- sync + async burst: threads and tasks on one facade share one mint.
- key store: two processes storing keys into one file lose none of them.

``python -m bench.hostile bomb ORIGIN`` and ``... put STORE WHO COUNT`` are the
child processes of the gzip bomb and of the key store.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import inspect
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
from carriers import CarrierError, KeyStore
from carriers.redaction import redact

from bench.apis import CARRIERS, BenchCarrier, Facade, arequests
from bench.hostile_servers import (
    BOMB_INFLATED,
    DEEP_JSON,
    Answer,
    Script,
    Served,
    gzip_bomb,
    serve,
)
from bench.report import Row, Target
from bench.servers import ROOT

__all__ = [
    "EXPS",
    "aoutcome",
    "bomb",
    "burst",
    "cross_origin",
    "deep_json",
    "huge_exp",
    "key_store",
    "outage",
    "outcome",
    "run",
    "slow_token",
]

SECTION = "hostile"
PATH = "/hostile"
"""An authorized path under each base URL; the servers answer it as scripted."""
BOMB = "/bomb"
DEEP_SCENARIOS = ("mint 200", "mint 401", "call 200", "call 401")
EXPS = {"10**400": b"1" + b"0" * 400, "1e308": b"1e308", "-1": b"-1"}
"""Unusable ``exp`` values, as raw JSON: the fallback lifetime must apply."""
RSS_LIMIT_MIB = 64
STORE_URL = "http://127.0.0.1:9/v.1.0"
_WAIT = 60.0
_CHILD_SECONDS = 120.0
_SLACK = 0.5
"""Seconds past the deadline a caller of a slow mint may wait."""

T = TypeVar("T")


def outcome(call: Callable[[], object]) -> str:
    """'ok', the ``carriers.errors`` class raised, or 'untyped <class>' for any other."""
    try:
        call()
    except CarrierError as exc:
        return type(exc).__name__
    except Exception as exc:
        return f"untyped {type(exc).__name__}"
    return "ok"


async def aoutcome(call: Callable[[], Awaitable[object]]) -> str:
    """``outcome`` of an awaited call."""
    try:
        await call()
    except CarrierError as exc:
        return type(exc).__name__
    except Exception as exc:
        return f"untyped {type(exc).__name__}"
    return "ok"


def _untyped(outcomes: Iterable[str]) -> int:
    return sum(1 for seen in outcomes if seen.startswith("untyped "))


def _flat(outcomes: dict[str, Counter[str]]) -> Counter[str]:
    return sum(outcomes.values(), Counter())


def _get(facade: Facade, path: str = PATH) -> Callable[[], httpx.Response]:
    return functools.partial(facade.request, "GET", path)


def _in_threads(count: int, call: Callable[[], T]) -> list[T]:
    """``call`` in ``count`` threads released at once."""
    barrier = threading.Barrier(count)

    def released() -> T:
        barrier.wait(timeout=_WAIT)
        return call()

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(released) for _ in range(count)]
        return [future.result(timeout=_WAIT) for future in futures]


async def _in_tasks(count: int, call: Callable[[], Awaitable[T]]) -> list[T]:
    """``call`` in ``count`` asyncio tasks released at once."""
    gate = asyncio.Event()

    async def released() -> T:
        await gate.wait()
        return await call()

    tasks = [asyncio.create_task(released()) for _ in range(count)]
    await asyncio.sleep(0)  # every task is now waiting at the gate
    gate.set()
    return await asyncio.wait_for(asyncio.gather(*tasks), _WAIT)


def _note(outcomes: Counter[str], expected: Iterable[str]) -> str:
    """The outcomes, when some are not among the ``expected`` ones."""
    if set(outcomes) <= set(expected):
        return ""
    return "outcomes: " + ", ".join(f"{name} x{count}" for name, count in outcomes.most_common())


# --- 1. deep JSON ---------------------------------------------------------------------


def _deep_script(scenario: str) -> Script:
    where, status = scenario.split()
    deep = Answer(int(status), DEEP_JSON)
    return Script(token=deep) if where == "mint" else Script(default=deep)


def deep_json(calls: int = 200) -> list[Row]:
    """Sync authorized calls while the token route or the call answers deep JSON.

    A 2xx from the call itself is returned unparsed, as any raw httpx call is: it
    counts as "ok". Every other scenario must end in a ``carriers.errors`` error.
    """
    per = max(1, calls // (len(CARRIERS) * len(DEEP_SCENARIOS)))
    outcomes: dict[str, Counter[str]] = {}
    for scenario in DEEP_SCENARIOS:
        with serve(_deep_script(scenario)) as served:
            for carrier in CARRIERS:
                with carrier.facade(served.base_url(carrier)) as facade:
                    call = _get(facade)
                    outcomes[f"{carrier.name}, {scenario}"] = Counter(
                        outcome(call) for _ in range(per)
                    )
    flat = _flat(outcomes)
    return [
        Row(
            SECTION,
            f"deep JSON, {sum(flat.values())} sync calls: untyped exceptions",
            _untyped(flat),
            target=Target("==", 0),
            note=_note(flat, ("ok", "ResponseValidationError", "AuthenticationError")),
            extra={name: dict(seen) for name, seen in outcomes.items()},
        )
    ]


# --- 2. huge exp ----------------------------------------------------------------------


def _calls_with(served: Served, path: str, token: str) -> int:
    return sum(
        1 for headers in served.headers_of(path) if any(token in v for v in headers.values())
    )


def huge_exp(calls: int = 5) -> list[Row]:
    """Authorized calls with a JWT whose ``exp`` is unusable: one mint, then its token used."""
    outcomes: dict[str, Counter[str]] = {}
    used = total = 0
    for label, exp in EXPS.items():
        for carrier in CARRIERS:
            with serve(Script(exp=exp)) as served, carrier.facade(served.base_url(carrier)) as f:
                seen = Counter(outcome(_get(f)) for _ in range(calls))
                outcomes[f"{carrier.name}, exp {label}"] = seen
                first = served.issued[0] if served.issued else "no token issued"
                sent = _calls_with(served, carrier.info.mock_path + PATH, first)
                used += min(seen["ok"], sent)
                total += calls
    flat = _flat(outcomes)
    extra = {name: dict(seen) for name, seen in outcomes.items()}
    return [
        Row(
            SECTION,
            f"huge exp ({', '.join(EXPS)}): untyped exceptions",
            _untyped(flat),
            target=Target("==", 0),
            note=_note(flat, ("ok",)),
            extra=extra,
        ),
        Row(
            SECTION,
            "huge exp: calls answered 200 with the first minted JWT",
            used,
            target=Target("==", total),
        ),
    ]


# --- 3. gzip bomb ---------------------------------------------------------------------


def _peak_kib() -> int:
    """Peak resident size of this process (Linux reports ``ru_maxrss`` in KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def bomb_probe(origin: str) -> dict[str, Any]:
    """In a fresh process: every facade fetches the bomb, sync then async; the peak growth.

    Everything is imported, minted and connected (sync and async) before the baseline.
    """
    facades = [carrier.facade(origin + carrier.info.mock_path) for carrier in CARRIERS]
    for facade in facades:
        _get(facade)()

    async def probe() -> dict[str, Any]:
        clients = [arequests(facade) for facade in facades]
        for client in clients:
            await client.get(PATH)
        before = _peak_kib()
        outcomes = [outcome(_get(facade, BOMB)) for facade in facades]
        outcomes += [await aoutcome(functools.partial(client.get, BOMB)) for client in clients]
        growth = _peak_kib() - before
        for facade in facades:
            await facade.aclose()
        return {"outcomes": outcomes, "growth_kib": growth}

    return asyncio.run(probe())


def bomb(inflated: int = BOMB_INFLATED) -> list[Row]:
    """The bomb fetched by a child process (``python -m bench.hostile bomb ORIGIN``)."""
    body = Answer(200, gzip_bomb(inflated), (("Content-Encoding", "gzip"),))
    script = Script(answers={carrier.info.mock_path + BOMB: body for carrier in CARRIERS})
    with serve(script) as served:
        probe = json.loads(_child(["bomb", served.origin]))
    outcomes: list[str] = probe["outcomes"]
    growth = probe["growth_kib"] / 1024
    refused = Counter(outcomes)
    size = f"{len(body.body) // 1024:,} KiB inflating to {inflated // 1024 // 1024:,} MiB"
    return [
        Row(
            SECTION,
            f"gzip bomb ({size}): peak RSS growth, MiB",
            round(growth, 1),
            shown=f"{growth:.1f} MiB",
            target=Target("<=", RSS_LIMIT_MIB),
            extra={"growth_kib": probe["growth_kib"]},
        ),
        Row(
            SECTION,
            f"gzip bomb, {len(outcomes)} calls: not refused with ResponseTooLargeError",
            len(outcomes) - refused["ResponseTooLargeError"],
            target=Target("==", 0),
            note=_note(refused, ("ResponseTooLargeError",)),
            extra={"outcomes": dict(refused)},
        ),
    ]


# --- 4. cross-origin ------------------------------------------------------------------


def _facade(carrier: BenchCarrier, base_url: str, **options: Any) -> Facade:
    """The carrier's facade, with a tenant where it takes one: one more credential header."""
    if "tenant_id" in inspect.signature(carrier.facade_class).parameters:
        options["tenant_id"] = "tenant-hostile"
    return carrier.facade(base_url, **options)


def _leaks(headers: Iterable[dict[str, str]], names: set[str], secrets: Sequence[str]) -> int:
    return sum(
        1
        for sent in headers
        for name, value in sent.items()
        if name in names or any(secret in value for secret in secrets)
    )


def _sync_calls(facade: Facade, to: str) -> None:
    facade.request("GET", PATH)  # home: the credentials are sent here
    facade.request("GET", to + "/direct")
    facade.request("GET", "/redirect", follow_redirects=True)


async def _async_calls(facade: Facade, to: str) -> None:
    await facade.arequest("GET", to + "/direct")
    await facade.arequest("GET", "/redirect", follow_redirects=True)
    await facade.aclose()


def cross_origin() -> list[Row]:
    """Requests and redirects to another origin, sync and async: credentials they carried."""
    leaked = sent = 0
    with serve(Script()) as home, serve(Script()) as foreign:
        for carrier in CARRIERS:
            to = f"{foreign.origin}/{carrier.name}"
            redirect = Answer(302, b"", (("Location", to + "/via-redirect"),))
            home.script.answers[carrier.info.mock_path + "/redirect"] = redirect
            with _facade(carrier, home.base_url(carrier)) as facade:
                _sync_calls(facade, to)
                asyncio.run(_async_calls(facade, to))
                names = {"authorization", *(n.lower() for n in facade.auth.credential_headers)}
            [mine] = home.headers_of(carrier.info.mock_path + PATH)
            if not names <= set(mine):
                raise RuntimeError(f"{carrier.name}: the home origin got no full credentials")
            seen = [h for p, h in foreign.requests if p.startswith(f"/{carrier.name}/")]
            if len(seen) != 4:
                raise RuntimeError(f"{carrier.name}: {len(seen)} of 4 requests left for elsewhere")
            leaked += _leaks(seen, names, [carrier.key, *home.issued])
            sent += len(seen)
    return [
        Row(
            SECTION,
            f"cross-origin, {sent} requests and redirects: credential headers received",
            leaked,
            target=Target("==", 0),
        )
    ]


# --- 5. outage ------------------------------------------------------------------------

_UNAVAILABLE = Answer(503, b'{"errors": {"": "token service unavailable"}}')


def _thread_crowd(facade: Facade, count: int) -> list[str]:
    with facade:
        return _in_threads(count, functools.partial(outcome, _get(facade)))


async def _task_crowd(facade: Facade, count: int) -> list[str]:
    async with facade:
        get = functools.partial(facade.arequest, "GET", PATH)
        return await _in_tasks(count, lambda: aoutcome(get))


def outage(threads: int = 32, tasks: int = 32) -> list[Row]:
    """A crowd on a fresh facade while the token route answers 503: mint requests seen.

    The backoff is cut to tens of milliseconds: a shorter flight leaves more of the
    crowd to the cool-down, and the section stays short.
    """
    rows = []
    for carrier in CARRIERS:
        policy = carrier.retry_policy(base_delay=0.05, max_delay=0.1)
        for crowd in (f"{threads} threads", f"{tasks} tasks"):
            with serve(Script(token=_UNAVAILABLE)) as served:
                facade = carrier.facade(served.base_url(carrier), retry_policy=policy)
                if crowd.endswith("threads"):
                    seen = Counter(_thread_crowd(facade, threads))
                else:
                    seen = Counter(asyncio.run(_task_crowd(facade, tasks)))
                mints = served.mints
            rows.append(
                Row(
                    SECTION,
                    f"outage, {carrier.title}, {crowd}: mint requests",
                    mints,
                    target=Target("<=", facade.options.max_retries + 1),
                    note=_note(seen, ("ServiceUnavailableError",)),
                    extra={"outcomes": dict(seen)},
                )
            )
    return rows


# --- 6. slow token route --------------------------------------------------------------


def _timed(call: Callable[[], object]) -> tuple[str, float]:
    started = time.monotonic()
    seen = outcome(call)
    return seen, time.monotonic() - started


def slow_token(threads: int = 8, deadline: float = 1.0, delay: float = 3.0) -> list[Row]:
    """Threads calling while the token route takes ``delay`` s: the slowest caller's wait."""
    rows = []
    for carrier in CARRIERS:
        with (
            serve(Script(token_delay=delay)) as served,
            carrier.facade(served.base_url(carrier), deadline=deadline) as facade,
        ):
            results = _in_threads(threads, functools.partial(_timed, _get(facade)))
        seen = Counter(name for name, _ in results)
        slowest = max(seconds for _, seconds in results)
        rows.append(
            Row(
                SECTION,
                f"slow token route ({delay:g} s), {carrier.title}, {threads} threads, "
                f"deadline {deadline:g} s: slowest wait, s",
                round(slowest, 3),
                shown=f"{slowest:.2f} s = {slowest / deadline:.2f} x deadline",
                target=Target("<=", deadline + _SLACK),
                note=_note(seen, ("APITimeoutError",)),
                extra={"ratio": round(slowest / deadline, 3), "outcomes": dict(seen)},
            )
        )
    return rows


# --- 7. sync + async burst ------------------------------------------------------------


def _mixed_burst(facade: Facade, threads: int, tasks: int) -> Counter[str]:
    """``threads`` threads and an event loop of ``tasks`` tasks, released together."""
    barrier = threading.Barrier(threads + 1)
    call = _get(facade)

    def in_thread() -> list[str]:
        barrier.wait(timeout=_WAIT)
        return [outcome(call)]

    async def in_tasks() -> list[str]:
        get = functools.partial(facade.arequest, "GET", PATH)
        return await _in_tasks(tasks, lambda: aoutcome(get))

    def in_loop() -> list[str]:
        barrier.wait(timeout=_WAIT)
        return asyncio.run(in_tasks())

    with ThreadPoolExecutor(threads + 1) as pool:
        futures = [pool.submit(in_thread) for _ in range(threads)] + [pool.submit(in_loop)]
        return Counter(seen for future in futures for seen in future.result(timeout=_WAIT))


def burst(threads: int = 32, tasks: int = 32) -> list[Row]:
    """Threads and tasks on one cold facade; the token route waits a second for a second
    mint before answering, so that two flights in parallel would both be counted."""
    rows = []
    for carrier in CARRIERS:
        with (
            serve(Script(overlap=1.0)) as served,
            carrier.facade(served.base_url(carrier)) as facade,
        ):
            seen = _mixed_burst(facade, threads, tasks)
            mints = served.mints
        rows.append(
            Row(
                SECTION,
                f"sync + async burst, {carrier.title}, {threads} threads + {tasks} tasks: mints",
                mints,
                target=Target("==", 1),
                note=_note(seen, ("ok",)),
                extra={"outcomes": dict(seen)},
            )
        )
    return rows


# --- 8. key store across processes ----------------------------------------------------


def _phone(who: int, n: int) -> str:
    return f"49{who}{n:09d}"


def _key(who: int, n: int) -> str:
    return f"hostile-key-{who}-{n}"


def put_keys(store: str, who: int, count: int) -> None:
    """In a child: say "ready", wait for a line on stdin, then store ``count`` keys."""
    keys = KeyStore(store)
    exp = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        keys.put(_phone(who, n), STORE_URL, _key(who, n), exp)


def key_store(puts: int = 300, processes: int = 2) -> list[Row]:
    """Processes storing ``puts`` keys each into one store at once: the keys still there."""
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as scratch:
        path = str(Path(scratch) / "keys.json")
        argvs = [["put", path, str(who), str(puts)] for who in range(processes)]
        children = [_start(args) for args in argvs]
        try:
            for child, args in zip(children, argvs, strict=True):
                _expect_ready(child, args)
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            for child, args in zip(children, argvs, strict=True):
                _finish(child, args)
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.communicate()
        store = KeyStore(path)
        kept = sum(
            1
            for who in range(processes)
            for n in range(puts)
            if (stored := store.get(_phone(who, n), STORE_URL)) is not None
            and stored.api_key == _key(who, n)
        )
    return [
        Row(
            SECTION,
            f"key store, {processes} processes x {puts} puts: entries kept",
            kept,
            target=Target("==", processes * puts),
        )
    ]


# --- child processes ------------------------------------------------------------------


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "bench.hostile", *args]


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(args),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _failed(args: list[str], status: int | None, stderr: str) -> RuntimeError:
    tail = redact(stderr.strip().splitlines()[-1] if stderr.strip() else "no output")
    return RuntimeError(
        f"python -m bench.hostile {' '.join(args[:1])} exited with {status}: {tail}"
    )


def _expect_ready(child: subprocess.Popen[str], args: list[str]) -> None:
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        child.kill()
        _, stderr = child.communicate()
        raise _failed(args, child.returncode, stderr)


def _finish(child: subprocess.Popen[str], args: list[str]) -> None:
    _, stderr = child.communicate(timeout=_CHILD_SECONDS)
    if child.returncode != 0:
        raise _failed(args, child.returncode, stderr)


def _child(args: list[str]) -> str:
    """Run a child to its end; its standard output."""
    result = subprocess.run(
        _command(args), cwd=ROOT, capture_output=True, text=True, timeout=_CHILD_SECONDS
    )
    if result.returncode != 0:
        raise _failed(args, result.returncode, result.stderr)
    return result.stdout


# --- the section ----------------------------------------------------------------------


def run() -> list[Row]:
    """Every hostile figure, at full size."""
    return [
        *deep_json(),
        *huge_exp(),
        *bomb(),
        *cross_origin(),
        *outage(),
        *slow_token(),
        *burst(),
        *key_store(),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__)
    probes = parser.add_subparsers(dest="probe", required=True)
    probes.add_parser("bomb").add_argument("origin")
    put = probes.add_parser("put")
    put.add_argument("store")
    put.add_argument("who", type=int)
    put.add_argument("count", type=int)
    args = parser.parse_args(argv)
    if args.probe == "bomb":
        print(json.dumps(bomb_probe(args.origin)), flush=True)
    else:
        put_keys(args.store, args.who, args.count)


if __name__ == "__main__":
    main()
