"""The table and the JSON report: targets beside figures, and misses found."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import Row, Target, machine, missed, render, write_json


def test_targets_compare_as_written() -> None:
    assert Target("<=", 1.05).met(1.05)
    assert not Target("<=", 1.05).met(1.06)
    assert Target("==", 1).met(1)
    assert not Target("==", 1).met(2)
    assert Target(">=", 10).met(11)
    assert str(Target("<=", 1.05)) == "<= 1.05"
    assert str(Target("==", 10_000)) == "== 10,000"


def test_rows_without_a_target_never_fail() -> None:
    rows = [
        Row("s", "reported only", 123.0),
        Row("s", "met", 1, target=Target("==", 1)),
        Row("s", "missed", 2, target=Target("==", 1)),
    ]
    assert [row.ok for row in rows] == [None, True, False]
    assert missed(rows) == [rows[2]]


def test_the_table_shows_figures_targets_verdicts_and_notes() -> None:
    rows = [
        Row("auth overhead", "ratio", 1.2, shown="1.200", target=Target("<=", 1.15)),
        Row("soak", "calls", 10_000, note="faults injected"),
    ]
    table = render(rows)
    lines = table.splitlines()
    assert lines[0].split() == ["measurement", "figure", "target"]
    ratio_line = next(line for line in lines if "auth overhead: ratio" in line)
    assert "1.200" in ratio_line and "<= 1.15" in ratio_line and "MISSED" in ratio_line
    assert "soak: calls" in table and "10,000" in table
    assert "soak: calls: faults injected" in table


def test_json_report(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "bench.json"
    rows = [Row("s", "met", 1, target=Target("==", 1), extra={"rounds": 3})]
    write_json(path, rows, machine={"nproc": 2}, seconds=1.5)
    document = json.loads(path.read_text())
    assert document["passed"] is True
    assert document["machine"] == {"nproc": 2}
    assert document["rows"] == [
        {
            "section": "s",
            "name": "met",
            "figure": 1,
            "shown": "1",
            "target": "== 1",
            "ok": True,
            "note": "",
            "extra": {"rounds": 3},
        }
    ]


def test_machine_names_cpus_model_and_python() -> None:
    about = machine()
    assert about["nproc"] >= 1
    assert about["cpu_model"]
    assert about["python"].count(".") == 2
