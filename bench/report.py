"""Rows of figures with their targets, the printed table and ``reports/bench.json``."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["Row", "Target", "from_record", "machine", "missed", "record", "render", "write_json"]

Op = Literal["<=", "==", ">="]


@dataclass(frozen=True)
class Target:
    """A bound a figure must meet, e.g. ``Target("<=", 1.05)``."""

    op: Op
    value: float

    def met(self, figure: float) -> bool:
        if self.op == "<=":
            return figure <= self.value
        if self.op == ">=":
            return figure >= self.value
        return figure == self.value

    def __str__(self) -> str:
        return f"{self.op} {_number(self.value)}"


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, how it is shown, and its target if it has one.

    Rows without a target are reported so that regressions show, and never fail.
    """

    section: str
    name: str
    figure: float
    shown: str = ""
    target: Target | None = None
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.target.met(self.figure)

    def text(self) -> str:
        return self.shown or _number(self.figure)

    def as_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "name": self.name,
            "figure": self.figure,
            "shown": self.text(),
            "target": None if self.target is None else str(self.target),
            "ok": self.ok,
            "note": self.note,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


def record(row: Row) -> dict[str, Any]:
    """Everything of ``row`` as JSON, for ``from_record`` in another process."""
    target = None if row.target is None else {"op": row.target.op, "value": row.target.value}
    return {
        "section": row.section,
        "name": row.name,
        "figure": row.figure,
        "shown": row.shown,
        "target": target,
        "note": row.note,
        "extra": dict(row.extra),
    }


def from_record(data: Mapping[str, Any]) -> Row:
    target = data["target"]
    return Row(
        section=data["section"],
        name=data["name"],
        figure=data["figure"],
        shown=data["shown"],
        target=None if target is None else Target(target["op"], target["value"]),
        note=data["note"],
        extra=data["extra"],
    )


def missed(rows: Iterable[Row]) -> list[Row]:
    """The rows whose target was not met."""
    return [row for row in rows if row.ok is False]


def render(rows: Sequence[Row]) -> str:
    """A plain-text table, grouped by section, with the target and a verdict per row."""
    headers = ("measurement", "figure", "target", "")
    table: list[tuple[str, str, str, str]] = []
    for row in rows:
        verdict = {True: "ok", False: "MISSED", None: ""}[row.ok]
        target = "" if row.target is None else str(row.target)
        table.append((f"{row.section}: {row.name}", row.text(), target, verdict))
    widths = [
        max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(headers)
    ]
    lines = []
    for cells in (headers, *table):
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        )
        if cells is headers:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"  {row.section}: {row.name}: {row.note}" for row in rows if row.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("model name", "Model", "Hardware"):
            return value.strip()
    return platform.processor() or "unknown"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    """Where the figures come from: what ``nproc``, /proc/cpuinfo and Python say."""
    return {
        "nproc": _cpus(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "system": f"{platform.system()} {platform.release()}",
    }


def write_json(path: Path, rows: Sequence[Row], **info: Any) -> None:
    """Write the rows and run information as JSON (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **info,
        "passed": not missed(rows),
        "rows": [row.as_json() for row in rows],
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
