"""Mock server throughput: token mints per second, and contract cases per second.

The load comes from 32 keep-alive connections written by a minimal HTTP/1.1
client on asyncio streams, far cheaper per request than the server, so that the
figure is the server's (the mock runs in a process of its own). The contract
figure times ``python -m carriers_contract`` as ``make contract`` runs it (with a fixed
seed) and counts the cases from the JSON reports schemathesis writes. Both are
reported, without targets, so that a regression shows.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carrier_mocks.server import MockServer
from carriers.registry import all_carriers
from carriers_contract.cli import DEFAULT_MAX_EXAMPLES

from bench.apis import CARRIERS, BenchCarrier
from bench.report import Row, Target
from bench.servers import ROOT

__all__ = [
    "CONNECTIONS",
    "DURATION",
    "ContractRun",
    "Load",
    "contract_cases",
    "parse_head",
    "request_bytes",
    "run",
]

CONNECTIONS = 32
DURATION = 10.0
WARMUP = 1.0
CONTRACT_MAX_EXAMPLES = DEFAULT_MAX_EXAMPLES
"""What ``make contract`` runs by default."""
CONTRACT_SEED = 1
_CONTRACT_TIMEOUT = 240.0


@dataclass(frozen=True)
class Load:
    """What the connections achieved in the measured window."""

    requests: int
    seconds: float
    statuses: Mapping[int, int]
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def request_bytes(carrier: BenchCarrier, origin: str) -> bytes:
    """The token request of ``carrier`` as raw HTTP/1.1, sent again and again.

    It is the mint the facade sent to the mock, with the key where the facade puts
    it; httpx's default headers are left out, so the load stays the request line,
    Host and the credential.
    """
    mint = carrier.recording.mint
    lines = [f"{mint.method} {mint.target} HTTP/1.1", f"Host: {origin.removeprefix('http://')}"]
    lines += [f"{name}: {value}" for name, value in mint.request_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def parse_head(head: bytes) -> tuple[int, int]:
    """Status and Content-Length of a response head (``ValueError`` when it has none)."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return status, int(value.strip())
    raise ValueError("response without Content-Length")


async def _connection(
    port: int, request: bytes, start: float, stop: float, statuses: Counter[int]
) -> int:
    """Send ``request`` back to back until ``stop``; count answers from ``start`` on."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    try:
        while time.perf_counter() < stop:
            writer.write(request)
            status, length = parse_head(await reader.readuntil(b"\r\n\r\n"))
            await reader.readexactly(length)
            if time.perf_counter() >= start:
                statuses[status] += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        errors += 1
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    return errors


async def _load(port: int, request: bytes, connections: int, duration: float) -> Load:
    statuses: Counter[int] = Counter()
    begin = time.perf_counter()
    start, stop = begin + WARMUP, begin + WARMUP + duration
    jobs = [_connection(port, request, start, stop, statuses) for _ in range(connections)]
    errors = await asyncio.wait_for(asyncio.gather(*jobs), WARMUP + duration + 30)
    seconds = max(time.perf_counter(), stop) - start
    return Load(sum(statuses.values()), seconds, dict(statuses), sum(errors))


def token_load(
    carrier: BenchCarrier,
    server: MockServer,
    connections: int = CONNECTIONS,
    duration: float = DURATION,
) -> Load:
    """Mint requests per second on ``carrier``'s token route."""
    port = int(server.origin.rsplit(":", 1)[1])
    request = request_bytes(carrier, server.origin)
    return asyncio.run(_load(port, request, connections, duration))


@dataclass(frozen=True)
class ContractRun:
    """A contract run: exit status, wall time, and cases and running time per API."""

    exit_code: int
    wall_seconds: float
    cases: Mapping[str, int]
    seconds: Mapping[str, float]

    @property
    def per_second(self) -> float:
        total = sum(self.seconds.values())
        return sum(self.cases.values()) / total if total > 0 else 0.0


def contract_cases(report_dir: Path) -> tuple[dict[str, int], dict[str, float]]:
    """Cases generated and schemathesis' running time, per API, from its JSON reports."""
    cases: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for api in (info.name for info in all_carriers()):
        path = report_dir / f"{api}.json"
        if not path.exists():
            continue
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        cases[api] = int(report["test_cases"]["generated"])
        seconds[api] = float(report["running_time"])
    return cases, seconds


def contract_run(max_examples: int = CONTRACT_MAX_EXAMPLES) -> ContractRun:
    """``python -m carriers_contract`` against the mocks, its output kept unless it fails."""
    env = {**os.environ, "MAX_EXAMPLES": str(max_examples), "SEED": str(CONTRACT_SEED)}
    env.pop("TARGET", None)
    for info in all_carriers():
        env.pop(info.url_env, None)
    with tempfile.TemporaryDirectory(prefix="bench-contract-") as scratch:
        begin = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "carriers_contract", "--report-dir", scratch],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=_CONTRACT_TIMEOUT,
                check=False,
            )
            exit_code = proc.returncode
            if exit_code != 0:
                sys.stdout.write(proc.stdout[-4000:])
                sys.stderr.write(proc.stderr[-4000:])
        except subprocess.TimeoutExpired:
            exit_code = -1
        wall = time.perf_counter() - begin
        cases, seconds = contract_cases(Path(scratch))
    return ContractRun(exit_code, wall, cases, seconds)


def run(servers: Mapping[str, MockServer]) -> list[Row]:
    """Mints per second on each token route, then the contract run."""
    rows = []
    for carrier in CARRIERS:
        load = token_load(carrier, servers[carrier.name])
        refused = load.requests - load.statuses.get(200, 0)
        rows.append(
            Row(
                section="mock throughput",
                name=f"{carrier.title} {carrier.token_route}, {CONNECTIONS} connections",
                figure=round(load.per_second, 1),
                shown=f"{load.per_second:,.0f} req/s",
                note=(
                    f"{refused} answers were not 200, {load.errors} connections broke"
                    if refused or load.errors
                    else ""
                ),
                extra={
                    "requests": load.requests,
                    "seconds": round(load.seconds, 2),
                    "statuses": {str(k): v for k, v in load.statuses.items()},
                    "broken_connections": load.errors,
                },
            )
        )
    contract = contract_run()
    rows.append(
        Row(
            section="mock throughput",
            name=f"contract cases/s (MAX_EXAMPLES={CONTRACT_MAX_EXAMPLES})",
            figure=round(contract.per_second, 1),
            shown=(
                f"{contract.per_second:,.0f} cases/s "
                f"({sum(contract.cases.values())} cases, {contract.wall_seconds:.0f} s wall)"
            ),
            extra={
                "cases": dict(contract.cases),
                "schemathesis_seconds": {k: round(v, 2) for k, v in contract.seconds.items()},
                "wall_seconds": round(contract.wall_seconds, 2),
            },
        )
    )
    rows.append(
        Row(
            section="mock throughput",
            name="contract run exit status",
            figure=contract.exit_code,
            target=Target("==", 0),
        )
    )
    return rows
