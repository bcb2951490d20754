"""The README's section on strictness, raw responses and paging runs as written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.integration.fresh import readme_blocks, run_python
from tests.wrapper.paged_api import novapost_with_registers
from tools import generate

ROOT = Path(__file__).resolve().parents[2]


def block(containing: str) -> str:
    (found,) = [b for b in readme_blocks() if containing in b]
    return found


def run(code: str, tmp_path: Path, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARRIERS_KEY_STORE": str(tmp_path / "keys.json")}
    env.pop("NOVAPOST_API_KEY", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return run_python("-c", code, env=env, cwd=tmp_path)


def test_the_strictness_and_raw_response_example_prints_what_it_says(tmp_path: Path) -> None:
    proc = run(block("with_raw_response.call"), tmp_path)
    assert proc.stdout.splitlines() == [
        "42",
        "200 r-1 b'{\"jwt\":42}'",
        "strict: $.jwt: expected str, got int",
        "mint: ResponseValidationError",
    ]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 2  # one per lenient call: call() and the raw call
    assert all("$.jwt: expected str, got int" in w for w in warnings)
    assert all(w.startswith("WARNING get_clients_authorization (GET ") for w in warnings)
    assert "np_test_4f1c2b9e8a7d6c5b" not in proc.stdout + proc.stderr


def test_the_paging_example_prints_what_it_says(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(
        json.dumps(novapost_with_registers(ROOT / "specs" / "novapost" / "openapi.json")),
        encoding="utf-8",
    )
    generate.generate_into("novapost_client", spec, tmp_path / "site")
    code = block("np.paginate(")
    proc = run(code, tmp_path, tmp_path / "site")
    said = code.split("# ", 2)[-1].split(":")[0]
    assert proc.stdout.splitlines() == ["['R-1', 'R-2', 'R-3', 'R-4', 'R-5', 'R-6']"]
    assert said == proc.stdout.strip()
