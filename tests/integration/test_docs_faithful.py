"""Every operation of the whole API, called as the docs show, against a server that
answers as the docs show: each call returns a typed result.

The server (``docs_server``) reads the pages itself and answers with their own
examples, contradictions included; the requests are built from the docs' own
request examples (bodies and parameters) through the generated models
(``docs_calls``), in a fresh interpreter where the whole API is ``novapost_client``,
as after ``make vendor generate``. Vendored without the examples-as-evidence fix,
the same calls fail: the test sees what the widening does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.integration.fresh import run_python
from tests.specs.whole_api import REAL_PAGES, TEST_PAGES
from tools import generate, vendor

ROOT = Path(__file__).resolve().parents[2]


def call_every_operation(spec: dict[str, Any], tmp: Path) -> dict[str, str]:
    source = tmp / "openapi.json"
    source.write_text(json.dumps(spec), encoding="utf-8")
    generate.generate_into("novapost_client", source, tmp / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp / "site"), "CARRIERS_KEY_STORE": str(tmp / "k")}
    proc = run_python("-m", "tests.integration.docs_calls", str(source), env=env, cwd=ROOT)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_every_operation_called_as_the_docs_show_returns_a_typed_result(tmp_path: Path) -> None:
    spec = json.loads(vendor.build(REAL_PAGES, TEST_PAGES))
    outcomes = call_every_operation(spec, tmp_path)
    operations = [m for item in spec["paths"].values() for m in item if m in vendor.HTTP_METHODS]
    assert len(outcomes) == len(operations) == 33
    failed = {name: o for name, o in outcomes.items() if "Error" in o or o.startswith("untyped")}
    assert failed == {}


def test_without_the_widening_the_docs_own_examples_break_calls(tmp_path: Path) -> None:
    spec, _ = vendor.merge(vendor.read_fragments(REAL_PAGES, TEST_PAGES))
    for fix in vendor.FIXES:
        if fix.name != "examples-as-evidence":
            fix.apply(spec)
    outcomes = call_every_operation(spec, tmp_path)
    broken = {name: outcome for name, outcome in outcomes.items() if "Error" in outcome}
    assert len(broken) >= 4, outcomes
    assert any(o.startswith("RequestModelError") for o in broken.values()), broken
    assert any(o.startswith("ResponseValidationError") for o in broken.values()), broken
