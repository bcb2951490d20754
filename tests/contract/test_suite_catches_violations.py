"""The contract suite itself: run against deliberately broken servers, it must fail.

Each server is the real mock with exactly one violation (see broken_servers.py),
served over HTTP on a free local port; `python -m carriers_contract` (what `make
contract` runs) is pointed at it and must exit 1, naming the violation. A suite
that passes any of them is broken. The intact mock must pass under the same budget.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from carrier_mocks.server import serve

from tests.contract.broken_servers import BREAKAGES, Breakage

BUDGET = {"MAX_EXAMPLES": "25", "SEED": "1"}


def run_contract(api: str, base_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL") and k != "TARGET"}
    env.update(BUDGET)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "carriers_contract",
            f"--{api}-url",
            base_url,
            "--report-dir",
            str(tmp_path / "reports"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda b: b.name)
def test_contract_run_fails_on_broken_server(breakage: Breakage, tmp_path: Path) -> None:
    with serve(breakage.api, wrap=breakage.wrap) as server:  # type: ignore[arg-type]
        proc = run_contract(breakage.api, server.base_url, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "contract: FAILED" in out
    for words in breakage.expect:
        assert words in out, f"{breakage.name}: expected {words!r} in the output\n{out[-3000:]}"
    # Every failure comes with a way to reproduce it.
    assert "curl -X" in out
    assert (tmp_path / "reports" / f"{breakage.api}-junit.xml").exists()


@pytest.mark.parametrize("api", ["novapost", "shipyo"])
def test_intact_mock_passes_under_the_same_budget(api: str, tmp_path: Path) -> None:
    with serve(api) as server:  # type: ignore[arg-type]
        proc = run_contract(api, server.base_url, tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "contract: passed" in proc.stdout
