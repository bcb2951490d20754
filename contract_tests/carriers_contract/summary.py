"""The per-operation summary of a contract run: cases, checks, failures, statuses seen."""

from __future__ import annotations

import base64
import functools
import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load_spec(text: str, name: str) -> dict[str, Any]:
    """A spec's text as data; ``name`` is its file name (``.json`` or YAML)."""
    spec: dict[str, Any] = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    return spec


@functools.cache
def documented_statuses(text: str, name: str) -> dict[str, list[str]]:
    """Operation label ("METHOD /path") -> the response statuses a spec documents.

    ``text`` is the spec, ``name`` its file name (``.json`` or YAML). Cached: a run
    parses each spec once."""
    spec = load_spec(text, name)
    out: dict[str, list[str]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                out[f"{method.upper()} {path}"] = sorted(str(s) for s in op.get("responses", {}))
    return out


@dataclass(frozen=True)
class Failure:
    """One failed check of one case, as the HTML report shows it (secrets removed)."""

    operation: str
    check: str
    title: str
    message: str
    status: str
    excerpt: str
    curl: str


@dataclass
class OperationStats:
    cases: int = 0
    checks: int = 0
    failures: int = 0
    failed_checks: set[str] = field(default_factory=set)
    statuses: set[str] = field(default_factory=set)
    failed_statuses: set[str] = field(default_factory=set)
    details: list[Failure] = field(default_factory=list)


MAX_DETAILS = 5
"""Failures kept per operation for the report (the first ones, distinct by check)."""
_EXCERPT = 600


def _decode(content: object) -> bytes:
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(str(content["$base64"]))
    if isinstance(content, str):
        return content.encode()
    return b""


def _curl(request: dict[str, Any], clean: Callable[[str], str]) -> str:
    """A curl line that replays ``request`` (an NDJSON interaction request), secrets removed."""
    parts = ["curl", "-X", request.get("method", "GET")]
    for name, values in (request.get("headers") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            parts += ["-H", shlex.quote(clean(f"{name}: {value}"))]
    body = _decode(request.get("body"))
    if body:
        parts += ["-d", shlex.quote(clean(body.decode("utf-8", "replace")))]
    parts.append(shlex.quote(clean(str(request.get("uri", "")))))
    return " ".join(parts)


def _no_secrets(text: str) -> str:
    return text


def read_events(
    lines: Iterable[str],
    documented: Iterable[str],
    clean: Callable[[str], str] = _no_secrets,
) -> dict[str, OperationStats]:
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
            failed = [c for c in checks if c.get("status") == "failure"]
            interaction = interactions.get(case_id) or {}
            response = interaction.get("response")
            status = str(response["status_code"]) if response else "no response"
            op.statuses.add(status)
            if failed:
                op.failures += 1
                op.failed_checks.update(c["name"] for c in failed)
                op.failed_statuses.add(status)
                _keep(op, label if label in known else scenario, failed, interaction, clean)
    return stats


def _keep(
    op: OperationStats,
    operation: str,
    failed: list[dict[str, Any]],
    interaction: dict[str, Any],
    clean: Callable[[str], str],
) -> None:
    response = interaction.get("response") or {}
    excerpt = _decode(response.get("content"))[:_EXCERPT].decode("utf-8", "replace")
    for check in failed:
        if len(op.details) >= MAX_DETAILS or any(d.check == check["name"] for d in op.details):
            continue
        info = (check.get("failure_info") or {}).get("failure") or {}
        op.details.append(
            Failure(
                operation=operation,
                check=check["name"],
                title=clean(str(info.get("title") or check["name"])),
                message=clean(str(info.get("message") or "")),
                status=str(response.get("status_code", "no response")),
                excerpt=clean(excerpt),
                curl=_curl(interaction.get("request") or {}, clean),
            )
        )


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
    return [
        title,
        fmt.format(*header),
        *(fmt.format(*r) for r in rows),
        success_line(documented, stats),
    ]


def success_line(documented: dict[str, list[str]], stats: dict[str, OperationStats]) -> str:
    """How many operations answered a 2xx at least once, naming those that never did."""
    never = [
        label
        for label in sorted(documented)
        if not any(s.startswith("2") for s in stats.get(label, OperationStats()).statuses)
    ]
    line = f"2xx reached: {len(documented) - len(never)} of {len(documented)} operations"
    return line + (f" (never: {', '.join(never)})" if never else "")
