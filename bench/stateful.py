"""The mock that remembers, under load: a stateful mix beside a stateless GET, one process each.

The mock serves the Nova Post spec vendored with the test pages (as the prism
section does), in a process of its own. 32 keep-alive connections, written by
the same minimal asyncio client as the throughput section, each repeat the
cycle a shop's tests run: ``POST /pickups``, ``GET /pickups?ids[]=<id>``,
``GET /pickups/<id>``, ``DELETE /pickups/<id>``; every answer is checked (the
list holds exactly the new pickup, the read returns it, the delete is a 204).
Then the same connections load the stateless spec-driven ``GET
/dictionaries/currencies``. Reported without targets, so that a regression shows.

With wrk, the same cycle (``stateful_mix.lua``) loads the mock and then Prism on
the same spec, as the prism section loads them: Prism keeps nothing (it answers
each create with the example's id, so its cycle never deletes). The ratio is
reported, not held to the prism section's target.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bench.prism import (
    SPEC_GET,
    WRK_MISSING,
    Outcome,
    Route,
    measured,
    prism_binary,
    route_rows,
    vendored_spec,
    wrk,
)
from bench.report import Row
from bench.servers import mock_server
from tools import prism as prism_tool

__all__ = ["CONNECTIONS", "SECONDS", "Mix", "run"]

SECTION = "stateful mock"
MIX_SCRIPT = Path(__file__).with_name("stateful_mix.lua")
WARMUP_SECONDS = 2
WRK_SECONDS = 8
CONNECTIONS = 32
SECONDS = 5.0
WARMUP = 1.0
API = "novapost"
KEY = "np_test_4f1c2b9e8a7d6c5b"
PICKUP = json.dumps(
    {"date": "2025-04-02", "address": {"city": "Gdynia", "street": "Morska 5"}, "contactPhone": "1"}
).encode()


@dataclass
class Mix:
    """Answers per step of the cycle in the measured window, and what did not hold."""

    requests: int = 0
    cycles: int = 0
    wrong: int = 0
    broken: int = 0
    seconds: float = 0.0

    def per_second(self, count: int) -> float:
        return count / self.seconds if self.seconds > 0 else 0.0


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def call(self, head: str, body: bytes = b"") -> tuple[int, bytes]:
        self.writer.write(head.encode("ascii") + b"\r\n\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length) if length else b""


async def _cycle_loop(
    port: int, host: str, token: str, start: float, stop: float, mix: Mix, statuses: Counter[str]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = _Connection(reader, writer)
    common = f"Host: {host}\r\nAuthorization: {token}"
    try:
        while time.perf_counter() < stop:
            made_status, made = await conn.call(
                f"POST /v.1.0/pickups HTTP/1.1\r\n{common}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(PICKUP)}",
                PICKUP,
            )
            pickup = json.loads(made)["id"] if made_status == 200 else None
            listed_status, listed = await conn.call(
                f"GET /v.1.0/pickups?ids[]={pickup}&limit=10 HTTP/1.1\r\n{common}"
            )
            read_status, read = await conn.call(f"GET /v.1.0/pickups/{pickup} HTTP/1.1\r\n{common}")
            gone_status, _ = await conn.call(f"DELETE /v.1.0/pickups/{pickup} HTTP/1.1\r\n{common}")
            if time.perf_counter() < start:
                continue
            for step, status in (
                ("create", made_status),
                ("list", listed_status),
                ("read", read_status),
                ("delete", gone_status),
            ):
                statuses[f"{step} {status}"] += 1
            mix.requests += 4
            mix.cycles += 1
            found = json.loads(listed)["items"] if listed_status == 200 else []
            if (
                [item["id"] for item in found] != [pickup]
                or read_status != 200
                or json.loads(read).get("id") != pickup
                or gone_status != 204
            ):
                mix.wrong += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        mix.broken += 1
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def _get_loop(
    port: int, host: str, token: str, start: float, stop: float, mix: Mix, statuses: Counter[str]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = _Connection(reader, writer)
    try:
        while time.perf_counter() < stop:
            status, _ = await conn.call(
                f"GET /v.1.0{SPEC_GET} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}"
            )
            if time.perf_counter() >= start:
                statuses[f"get {status}"] += 1
                mix.requests += 1
                mix.wrong += status != 200
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        mix.broken += 1
    finally:
        writer.close()


Loop = Callable[[int, str, str, float, float, Mix, "Counter[str]"], Awaitable[None]]


async def _measure(loop: Loop, port: int, host: str, token: str) -> tuple[Mix, Counter[str]]:
    mix, statuses = Mix(), Counter[str]()
    begin = time.perf_counter()
    start, stop = begin + WARMUP, begin + WARMUP + SECONDS
    jobs = [loop(port, host, token, start, stop, mix, statuses) for _ in range(CONNECTIONS)]
    await asyncio.wait_for(asyncio.gather(*jobs), WARMUP + SECONDS + 30)
    mix.seconds = max(time.perf_counter(), stop) - start
    return mix, statuses


def _row(name: str, figure: float, shown: str, mix: Mix, statuses: Counter[str]) -> Row:
    problems = []
    if mix.wrong:
        problems.append(f"{mix.wrong} answers did not hold")
    if mix.broken:
        problems.append(f"{mix.broken} connections broke")
    return Row(
        SECTION,
        name,
        round(figure, 1),
        shown=shown,
        note="; ".join(problems),
        extra={"statuses": dict(statuses), "seconds": round(mix.seconds, 2), "wrong": mix.wrong},
    )


def _wrk_mix(wrk_binary: str, url: str, token: str) -> Outcome:
    """The cycle by wrk (``stateful_mix.lua``): a warm-up, then the measured run."""
    headers = {"Authorization": token}
    wrk(wrk_binary, url, headers, WARMUP_SECONDS, MIX_SCRIPT)
    return measured(wrk(wrk_binary, url, headers, WRK_SECONDS, MIX_SCRIPT))


def _wrk_rows(mine: Outcome, theirs: Outcome) -> list[Row]:
    """The cycle under wrk on the mock and on Prism (which keeps nothing), and the ratio.

    Reported without a target: the 3x target holds for the stateless rows of the
    prism section; this one shows what remembering costs against a mock that does not.
    """
    route = Route("create/list/read/delete cycle (wrk, stateful_mix.lua)", "/pickups")
    rows = [replace(row, section=SECTION) for row in route_rows(route, mine, theirs)]
    return [replace(row, target=None) for row in rows]


def run() -> list[Row]:
    """The stateful cycle, then the stateless GET, on one mock of the whole API; then the
    cycle under wrk on the mock and on Prism, when they are here."""
    wrk_binary = shutil.which("wrk")
    with tempfile.TemporaryDirectory(prefix="bench-stateful-") as scratch:
        spec_path = Path(scratch) / "novapost.json"
        spec_path.write_text(json.dumps(vendored_spec()), encoding="utf-8")
        with mock_server(API, spec_path=spec_path) as server:
            token = httpx.get(
                server.base_url + "/clients/authorization", params={"apiKey": KEY}, timeout=10
            ).json()["jwt"]
            host = server.origin.removeprefix("http://")
            port = int(host.rsplit(":", 1)[1])
            mixed, mixed_statuses = asyncio.run(_measure(_cycle_loop, port, host, token))
            plain, plain_statuses = asyncio.run(_measure(_get_loop, port, host, token))
            missing = Outcome(reason=WRK_MISSING)
            mine = _wrk_mix(wrk_binary, server.base_url, token) if wrk_binary else missing
        theirs = missing
        prism, prism_missing = prism_binary()
        if wrk_binary and prism is None:
            theirs = Outcome(reason=prism_missing)
        elif wrk_binary and prism is not None:
            try:
                with prism_tool.serve(spec_path) as origin:
                    theirs = _wrk_mix(wrk_binary, origin, token)
            except prism_tool.PrismUnavailable as exc:
                theirs = Outcome(reason=str(exc))
    per_request = mixed.per_second(mixed.requests)
    stateless = plain.per_second(plain.requests)
    return [
        _row(
            f"create, list ids[], read, delete; {CONNECTIONS} connections",
            per_request,
            f"{per_request:,.0f} req/s ({mixed.per_second(mixed.cycles):,.0f} cycles/s)",
            mixed,
            mixed_statuses,
        ),
        _row(
            f"stateless GET {SPEC_GET}; {CONNECTIONS} connections",
            stateless,
            f"{stateless:,.0f} req/s",
            plain,
            plain_statuses,
        ),
        Row(
            SECTION,
            "stateful mix / stateless GET, req/s",
            round(per_request / stateless, 2) if stateless else 0.0,
            shown=f"{per_request / stateless:.2f}x" if stateless else "n/a",
        ),
        *_wrk_rows(mine, theirs),
    ]
