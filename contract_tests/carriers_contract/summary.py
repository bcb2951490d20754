"""The per-operation summary of a contract run: cases, checks, failures, statuses seen."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@functools.cache
def documented_statuses(text: str, name: str) -> dict[str, list[str]]:
    """Operation label ("METHOD /path") -> the response statuses a spec documents.

    ``text`` is the spec, ``name`` its file name (``.json`` or YAML). Cached: a run
    parses each spec once."""
    spec: dict[str, Any] = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    out: dict[str, list[str]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                out[f"{method.upper()} {path}"] = sorted(str(s) for s in op.get("responses", {}))
    return out


@dataclass
class OperationStats:
    cases: int = 0
    checks: int = 0
    failures: int = 0
    failed_checks: set[str] = field(default_factory=set)
    statuses: set[str] = field(default_factory=set)


def read_events(lines: Iterable[str], documented: Iterable[str]) -> dict[str, OperationStats]:
    """Aggregate the schemathesis NDJSON event stream per operation.

    A case is counted under its own "METHOD /path" when that is a documented operation,
    otherwise under its scenario's operation (e.g. a probe with an undocumented method).
    """
    known = set(documented)
    stats: dict[str, OperationStats] = {}
    for line in lines:
        if not line.startswith('{"ScenarioFinished"'):
            continue
        recorder = json.loads(line)["ScenarioFinished"]["recorder"]
        scenario = recorder.get("label", "?")
        cases = recorder.get("cases", {})
        interactions = recorder.get("interactions", {})
        for case_id, checks in recorder.get("checks", {}).items():
            value = cases.get(case_id, {}).get("value", {})
            label = f"{value.get('method', '')} {value.get('path', '')}"
            op = stats.setdefault(label if label in known else scenario, OperationStats())
            op.cases += 1
            op.checks += len(checks)
            failed = {c["name"] for c in checks if c.get("status") == "failure"}
            if failed:
                op.failures += 1
                op.failed_checks.update(failed)
            response = (interactions.get(case_id) or {}).get("response")
            op.statuses.add(str(response["status_code"]) if response else "no response")
    return stats


def render(
    title: str,
    documented: dict[str, list[str]],
    stats: dict[str, OperationStats],
) -> list[str]:
    """Table rows for one API; every documented operation appears, tested or not."""
    header = ("operation", "cases", "checks", "failures", "statuses seen", "documented, not seen")
    rows: list[tuple[str, ...]] = []
    for label in sorted(set(documented) | set(stats)):
        op = stats.get(label, OperationStats())
        seen = sorted(op.statuses)
        missing = [s for s in documented.get(label, []) if s not in op.statuses]
        failures = str(op.failures)
        if op.failed_checks:
            failures += f" ({', '.join(sorted(op.failed_checks))})"
        rows.append(
            (
                label,
                str(op.cases),
                str(op.checks),
                failures,
                " ".join(seen) or "-",
                " ".join(missing) or "-",
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [title, fmt.format(*header), *(fmt.format(*r) for r in rows)]
