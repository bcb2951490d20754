"""The mock against Stoplight Prism's mock, on one spec: requests per second, side by side.

Both serve the same file: the Nova Post spec vendored from its docs pages and the
test pages (``tools.vendor.build`` on ``specs/novapost/pages`` and
``tests/specs/pages``). Prism is ``prism mock`` of ``@stoplight/prism-cli@5``
(``tools.prism``: installed by npm into ``.cache/prism/`` on first use, reused
after); the mock is ``carrier_mocks.server.serve("novapost", spec=...)`` in a
process of its own. Two routes are loaded, each with ``wrk`` (32 connections, 2
threads, a warm-up, then the measured run), one server at a time:

- the token route, ``GET /clients/authorization?apiKey=`` with the docs' key;
- a spec-driven GET of the test pages, ``GET /dictionaries/currencies``, with a
  JWT minted by the mock when the operation asks for one (Prism only checks
  that the header is there).

Prism serves the spec's paths at its root, the mock under its API root
(``/v.1.0``), as the real servers do. Each route must answer 200 before it is
loaded, and a run with error responses or socket errors gives no figure. The
target is the mock at ``TARGET_RATIO`` times Prism's requests per second or more.
Without wrk, npm, or a Prism that installs and starts, the rows say so (no target
then); the mock's own figures are reported whenever wrk is there.

``python -m bench.prism SPEC`` is the mock's process: it prints its origin and
serves until its stdin closes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from carrier_mocks import _uvicorn
from carrier_mocks.server import MockServer
from carriers.registry import get

from bench.report import Row, Target
from bench.servers import ROOT, mock_server
from tools import prism as prism_tool
from tools.vendor import build

__all__ = [
    "CONNECTIONS",
    "SPEC_GET",
    "TARGET_RATIO",
    "Outcome",
    "Route",
    "WrkResult",
    "auth_headers",
    "parse_wrk",
    "route_rows",
    "run",
    "vendored_spec",
]

SECTION = "prism"
API = "novapost"
TARGET_RATIO = 3.0
CONNECTIONS = 32
THREADS = 2
WARMUP_SECONDS = 2
SECONDS = 8
SPEC_GET = "/dictionaries/currencies"
"""A GET of the test pages that the mock serves from the spec alone."""
KEY_PARAMETER = "apiKey"
PAGES = (ROOT / "specs" / "novapost" / "pages", ROOT / "tests" / "specs" / "pages")
WRK_MISSING = "wrk is not installed (apt-get install wrk; make bench installs it as root)"
_START_SECONDS = 60.0
_STOP_SECONDS = 15.0


@dataclass(frozen=True)
class WrkResult:
    """What ``wrk`` printed about one measured run."""

    requests: int
    seconds: float
    per_second: float
    error_responses: int
    """Responses wrk counts as errors: status 400 and above."""
    socket_errors: int
    latency_ms: float
    """Mean latency."""

    @property
    def valid(self) -> bool:
        return self.requests > 0 and self.error_responses == 0 and self.socket_errors == 0

    def problem(self) -> str:
        """Why the run gives no figure ('' when it does)."""
        if self.requests == 0:
            return "no request completed"
        found = []
        if self.error_responses:
            found.append(f"{self.error_responses:,} error responses")
        if self.socket_errors:
            found.append(f"{self.socket_errors:,} socket errors")
        return " and ".join(found) + f" in {self.requests:,} requests" if found else ""


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _duration_ms(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """The figures of wrk's report (``ValueError`` when it has none)."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if done is None or rate is None:
        raise ValueError(f"not a wrk report: {output.strip()[-200:]!r}")
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s|m|h)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_duration_ms(done.group(2), done.group(3)) / 1000,
        per_second=float(rate.group(1)),
        error_responses=int(errors.group(1)) if errors else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        latency_ms=_duration_ms(*latency.groups()) if latency else 0.0,
    )


def wrk(
    binary: str,
    url: str,
    headers: Mapping[str, str],
    seconds: int,
    script: Path | None = None,
) -> WrkResult:
    """``wrk`` at ``url`` for ``seconds``, with CONNECTIONS connections and THREADS threads
    (and a Lua ``script`` that makes the requests, when given)."""
    command = [binary, "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s"]
    command += ["--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()[-200:]}")
    return parse_wrk(done.stdout)


# --- the spec and its routes ------------------------------------------------------------------


def vendored_spec(pages: Sequence[Path] = PAGES) -> dict[str, Any]:
    """The spec vendored from every docs page of ``pages``, as the docs-pages tests build it."""
    spec: dict[str, Any] = json.loads(build(*pages))
    return spec


def auth_headers(spec: Mapping[str, Any], path: str, token: str) -> dict[str, str]:
    """The headers that carry ``token`` where the GET of ``path`` asks for a security scheme."""
    operation = spec["paths"][path]["get"]
    requirements = operation.get("security", spec.get("security", []))
    if not requirements or not requirements[0]:
        return {}
    schemes = spec.get("components", {}).get("securitySchemes", {})
    headers = {}
    for name in requirements[0]:
        scheme = schemes[name]
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            headers[scheme["name"]] = token
        elif scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer":
            headers["Authorization"] = f"Bearer {token}"
        else:
            raise ValueError(f"GET {path}: security scheme {name!r} is not a header")
    return headers


@dataclass(frozen=True)
class Route:
    """A route both servers are loaded on: its path under the API root, the headers."""

    label: str
    target: str
    """Path and query under the API root: the mock's ``/v.1.0``, Prism's ``/``."""
    headers: Mapping[str, str] = field(default_factory=dict)


# --- outcomes and rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One server on one route: a valid run, or why there is none."""

    result: WrkResult | None = None
    reason: str = ""
    fault: bool = False
    """True when the server misbehaved (a missed target), not when a tool is missing."""

    @property
    def figure(self) -> float | None:
        return self.result.per_second if self.result is not None else None


def measured(result: WrkResult) -> Outcome:
    problem = result.problem()
    return Outcome(result) if not problem else Outcome(reason=problem, fault=True)


def _rate_row(route: Route, who: str, outcome: Outcome) -> Row:
    name = f"{route.label}: {who} req/s"
    if outcome.result is None:
        return Row(SECTION, name, 0, shown="n/a", note=outcome.reason)
    result = outcome.result
    extra = {
        "requests": result.requests,
        "seconds": result.seconds,
        "latency_ms": result.latency_ms,
        "error_responses": result.error_responses,
        "socket_errors": result.socket_errors,
    }
    return Row(SECTION, name, round(result.per_second, 1), extra=extra)


def route_rows(route: Route, mock: Outcome, prism: Outcome) -> list[Row]:
    """Requests per second of each server, then the ratio against its target."""
    rows = [_rate_row(route, "mock", mock), _rate_row(route, "Prism", prism)]
    name = f"{route.label}: mock / Prism"
    target = Target(">=", TARGET_RATIO)
    mine, theirs = mock.figure, prism.figure
    if mine is not None and theirs is not None and theirs > 0:
        ratio = mine / theirs
        rows.append(Row(SECTION, name, round(ratio, 2), shown=f"{ratio:.2f}x", target=target))
    elif mock.fault or prism.fault:  # a server misbehaved: no figure supports the claim
        why = "; ".join(
            f"{who}: {outcome.reason}"
            for who, outcome in (("mock", mock), ("Prism", prism))
            if outcome.fault
        )
        rows.append(Row(SECTION, name, 0, shown="invalid", target=target, note=why))
    else:
        rows.append(Row(SECTION, name, 0, shown="n/a", note="Prism was not measured"))
    return rows


# --- the servers ------------------------------------------------------------------------------


def prism_binary() -> tuple[Path | None, str]:
    """Prism's command, installed on first use; else None and why it is missing."""
    if not (prism_tool.CACHE / "node_modules" / ".bin" / "prism").exists():
        where = prism_tool.CACHE.relative_to(ROOT)
        print(f"bench: installing {prism_tool.PACKAGE} into {where}/", flush=True)
    try:
        return prism_tool.install(), ""
    except prism_tool.PrismUnavailable as exc:
        return None, str(exc)


def prism_version(binary: Path) -> str:
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return done.stdout.strip() or "?"


# --- the section ------------------------------------------------------------------------------


def _checked(url: str, headers: Mapping[str, str]) -> str:
    """'' when ``url`` answers 200, else what it answered."""
    try:
        response = httpx.get(url, headers=dict(headers), timeout=10)
    except httpx.HTTPError as exc:
        return f"no answer before the run: {type(exc).__name__}"
    if response.status_code == 200:
        return ""
    return f"answered {response.status_code} before the run: {response.text[:120]}"


def load(wrk_binary: str, url: str, headers: Mapping[str, str]) -> Outcome:
    """A warm-up run, then the measured one, if ``url`` answers 200 first."""
    problem = _checked(url, headers)
    if problem:
        return Outcome(reason=problem, fault=True)
    wrk(wrk_binary, url, headers, WARMUP_SECONDS)
    return measured(wrk(wrk_binary, url, headers, SECONDS))


def _mock_token(server: MockServer, key: str) -> str:
    path = get(API).token_path
    response = httpx.get(server.base_url + path, params={KEY_PARAMETER: key}, timeout=10)
    response.raise_for_status()
    token: str = response.json()["jwt"]
    return token


def run() -> list[Row]:
    """Both routes on both servers (Prism's rows say why when it cannot run)."""
    wrk_binary = shutil.which("wrk")
    info = get(API)
    key = info.docs_api_key
    routes = [
        Route("token route", f"{info.token_path}?{KEY_PARAMETER}={key}"),
        Route(f"spec-driven GET {SPEC_GET}", SPEC_GET),
    ]
    if wrk_binary is None:
        missing = Outcome(reason=WRK_MISSING)
        return [row for route in routes for row in route_rows(route, missing, missing)]
    spec = vendored_spec()
    prism, prism_missing = prism_binary()
    with tempfile.TemporaryDirectory(prefix="bench-prism-") as scratch:
        spec_path = Path(scratch) / "novapost.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        with mock_server(API, spec_path=spec_path) as server:
            routes[1] = Route(
                routes[1].label, SPEC_GET, auth_headers(spec, SPEC_GET, _mock_token(server, key))
            )
            mine = [load(wrk_binary, server.base_url + r.target, r.headers) for r in routes]
        theirs = [Outcome(reason=prism_missing)] * len(routes)
        if prism is not None:
            try:
                with prism_tool.serve(spec_path) as origin:
                    theirs = [load(wrk_binary, origin + r.target, r.headers) for r in routes]
            except prism_tool.PrismUnavailable as exc:
                theirs = [Outcome(reason=str(exc))] * len(routes)
    rows = [row for i, route in enumerate(routes) for row in route_rows(route, mine[i], theirs[i])]
    stack = _uvicorn.STACK
    about = f"wrk -t{THREADS} -c{CONNECTIONS}, {WARMUP_SECONDS} s warm-up then {SECONDS} s"
    about += f"; mock on {stack.http} and {stack.loop}"
    about += f"; Prism {prism_version(prism)}" if prism is not None else ""
    rows[0] = replace(rows[0], note="; ".join(filter(None, [about, rows[0].note])))
    return rows
