"""No false alarms: correct servers written from the docs, not from the mock, pass every run.

Each runs under five seeds, with the inputs a user would give (``<NAME>_API_KEY``,
the docs' phone). A Nova Post and a Shipyo server share a run to keep it short.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.correct_servers import CORRECT_SERVERS, CorrectServer, run_suite

SEEDS = (1, 2, 3, 4, 5)
PAIRS = (
    (CORRECT_SERVERS[0], CORRECT_SERVERS[2]),  # novapost-stdlib + shipyo-stdlib
    (CORRECT_SERVERS[1],),  # novapost-asgi
)


def run_against(servers: tuple[CorrectServer, ...], seed: int, tmp_path: Path) -> str:
    proc = run_suite(servers, tmp_path, MAX_EXAMPLES="15", SEED=str(seed))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"seed {seed}: false alarm on {servers}\n{out[-5000:]}"
    return proc.stdout


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("servers", PAIRS, ids=lambda pair: "+".join(s.name for s in pair))
def test_a_correct_server_passes_every_run(
    servers: tuple[CorrectServer, ...], seed: int, tmp_path: Path
) -> None:
    out = run_against(servers, seed, tmp_path)
    for server in servers:
        title = "Nova Post" if server.carrier == "novapost" else "Shipyo"
        assert f"{title} (url, http://127.0.0.1:" in out and "): passed" in out
    # The success paths were reached, not only the 4xx.
    rows = [line for line in out.splitlines() if line.startswith(("GET ", "POST "))]
    assert rows and all(" 200 " in f" {row} " for row in rows), rows
