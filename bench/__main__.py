"""``python -m bench``: every benchmark, the table, ``reports/bench.json``, the exit status.

Exit status 0 when every target is met, 1 when one is missed (or a measurement
failed to run), 2 on a usage error. ``--only`` runs some sections, for a quick look.

Each section runs in a process of its own with a time limit (``SECTION_SECONDS``,
``--section-seconds``): a section past it is stopped, with everything it started,
and its row says so, so that ``make bench`` always finishes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from carrier_mocks.server import MockServer
from carriers.redaction import redact

from bench import soak
from bench.apis import CARRIERS
from bench.report import Row, Target, from_record, machine, missed, record, render, write_json
from bench.servers import ROOT, mock_server

SECTIONS = (
    "overhead",
    "singleflight",
    "concurrency",
    "throughput",
    "stateful",
    "soak",
    "hostile",
    "fleet",
    "prism",
)
SECTION_SECONDS = 420.0
"""The most one section may take: well above any section of a full run (338 s in all, the
soak bounded at 300 s by its own limit)."""
DEFAULT_REPORT = ROOT / "reports" / "bench.json"
_SOAK_TIMEOUT = 300.0

Measure = Callable[[dict[str, MockServer]], list[Row]]


@contextmanager
def _servers() -> Iterator[dict[str, MockServer]]:
    """Fresh mocks for one section, so that no section sees another's state."""
    with ExitStack() as stack:
        yield {c.name: stack.enter_context(mock_server(c.name)) for c in CARRIERS}


def _soak_rows(calls: int) -> list[Row]:
    """The soak in a process of its own: its peak resident size is then the soak's."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        out = Path(scratch) / "soak.json"
        command = [sys.executable, "-m", "bench.soak", "--calls", str(calls), "--out", str(out)]
        subprocess.run(command, cwd=ROOT, check=True, timeout=_SOAK_TIMEOUT)
        result = soak.SoakResult.from_json(json.loads(out.read_text(encoding="utf-8")))
    return soak.rows(result)


def _failed(section: str, exc: BaseException) -> Row:
    return Row(
        section,
        "measurement ran to the end",
        0,
        shown="no",
        target=Target("==", 1),
        note=redact(f"{type(exc).__name__}: {exc}")[:300],
    )


def _run(section: str, soak_calls: int) -> list[Row]:
    from bench import (
        concurrency,
        fleet,
        hostile,
        overhead,
        prism,
        singleflight,
        stateful,
        throughput,
    )

    if section == "soak":
        return _soak_rows(soak_calls)
    if section == "hostile":
        return hostile.run()  # its own standalone servers: no mock
    if section == "prism":
        return prism.run()  # its own mock, of a spec vendored from more pages, and Prism
    if section == "stateful":
        return stateful.run()  # its own mock, of the same spec
    measures: dict[str, Measure] = {
        "overhead": overhead.run,
        "singleflight": singleflight.run,
        "concurrency": concurrency.run,
        "throughput": throughput.run,
        "fleet": fleet.run,
    }
    with _servers() as servers:
        return measures[section](servers)


def _timed_out(section: str, seconds: float) -> Row:
    return Row(
        section,
        "measurement ran to the end",
        0,
        shown="no",
        target=Target("==", 1),
        note=f"stopped after {seconds:g} s: the section did not finish within its time limit",
    )


def run_bounded(section: str, soak_calls: int, seconds: float) -> list[Row]:
    """``section`` in a child process of its own, stopped (with its children) past ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        out = Path(scratch) / "rows.json"
        command = [sys.executable, "-m", "bench", "--section-child", section]
        command += ["--rows-out", str(out), "--soak-calls", str(soak_calls)]
        child = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
        try:
            child.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # the section's servers and workers too
            child.wait()
            return [_timed_out(section, seconds)]
        if not out.is_file():
            raise RuntimeError(f"the {section} section exited {child.returncode} without rows")
        return [from_record(data) for data in json.loads(out.read_text(encoding="utf-8"))]


def _child(section: str, soak_calls: int, out: Path) -> int:
    try:
        rows = _run(section, soak_calls)
    except Exception as exc:
        rows = [_failed(section, exc)]
    out.write_text(json.dumps([record(row) for row in rows]), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="the JSON report")
    parser.add_argument(
        "--soak-calls", type=int, default=soak.SoakConfig.calls, help="calls in the fault soak"
    )
    parser.add_argument(
        "--section-seconds",
        type=float,
        default=SECTION_SECONDS,
        help="the time limit of each section",
    )
    parser.add_argument("--section-child", choices=SECTIONS, help=argparse.SUPPRESS)
    parser.add_argument("--rows-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.section_child is not None:
        return _child(args.section_child, args.soak_calls, args.rows_out)
    sections = [name for name in SECTIONS if not args.only or name in args.only]
    about = machine()
    print(
        f"bench: {about['nproc']} CPUs ({about['cpu_model']}), Python {about['python']}",
        flush=True,
    )
    started = datetime.datetime.now(datetime.UTC)
    begin = time.perf_counter()
    rows: list[Row] = []
    for section in sections:
        section_begin = time.perf_counter()
        print(f"bench: {section} ...", flush=True)
        try:
            rows += run_bounded(section, args.soak_calls, args.section_seconds)
        except Exception as exc:
            rows.append(_failed(section, exc))
        print(f"bench: {section} done in {time.perf_counter() - section_begin:.0f} s", flush=True)
    seconds = time.perf_counter() - begin
    print()
    print(render(rows))
    write_json(
        args.report,
        rows,
        machine=about,
        started_at=started.isoformat(timespec="seconds"),
        seconds=round(seconds, 1),
        sections=sections,
    )
    failures = missed(rows)
    where = args.report.relative_to(ROOT) if args.report.is_relative_to(ROOT) else args.report
    print(f"\nbench: {len(rows)} figures in {seconds:.0f} s; report in {where}")
    if failures:
        print(f"bench: MISSED {len(failures)} targets: " + "; ".join(r.name for r in failures))
        return 1
    print("bench: every target met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
