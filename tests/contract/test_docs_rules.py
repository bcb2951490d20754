"""The docs' rules in words, as checks: a server that fits every schema but breaks one rule
fails the suite, and the failure names that rule.

Each broken server is one of the correct servers with exactly one change; the
correct ones pass (test_correct_servers.py), so a failure here is the rule's doing.
A Nova Post and a Shipyo breaker share a run to keep it short.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.contract.correct_servers import RULE_BREAKERS, CorrectServer, run_suite

NOVAPOST = [b for b in RULE_BREAKERS if b[0].carrier == "novapost"]
SHIPYO = [b for b in RULE_BREAKERS if b[0].carrier == "shipyo"]
RUNS = [tuple(b for b in pair if b is not None) for pair in itertools.zip_longest(NOVAPOST, SHIPYO)]


def test_every_rule_has_a_breaker() -> None:
    from carriers_contract.rules import RULES

    named = {rule.__name__ for rules in RULES.values() for rule in rules}
    assert named == {rule for _, rule in RULE_BREAKERS}


@pytest.mark.parametrize(
    "breakers", RUNS, ids=lambda run: "+".join(server.name for server, _ in run)
)
def test_a_broken_rule_fails_the_run_naming_it(
    breakers: tuple[tuple[CorrectServer, str], ...], tmp_path: Path
) -> None:
    proc = run_suite([server for server, _ in breakers], tmp_path, MAX_EXAMPLES="15", SEED="1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-4000:]
    for server, rule in breakers:
        title = "Nova Post" if server.carrier == "novapost" else "Shipyo"
        assert f"{title} (url, " in out and f"{title} (url, " in out.split("FAILED")[0] + out
        summary = out[out.index("=== Contract summary ===") :]
        block = summary[summary.index(f"{title} (url, ") :]
        assert block.splitlines()[0].endswith("FAILED"), block[:500]
        assert rule in block.split("\n\n")[0], f"{server.name}: {rule} not named\n{block[:1500]}"
