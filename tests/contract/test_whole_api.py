"""``carriers contract`` on the whole Nova Post API: the test pages vendored beside the real one.

The spec is vendored from the published Authorization page plus the test pages
(tests/specs/pages), generated into a client package of its own and put in the
registry in place of Nova Post's. The built-in mock then serves every operation
from that spec, and the suite must pass with every documented status reached
and a 2xx for every operation; the JWT-protected ones get the wrapper's tokens.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from carriers import registry
from carriers_contract import cli, summary

from tests.specs.whole_api import vendor_whole_api
from tools import generate

PACKAGE = "whole_api_client"


@pytest.fixture(scope="module")
def whole_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Nova Post's registry entry pointing at the whole API; yields its operation count."""
    tmp = tmp_path_factory.mktemp("whole-api")
    spec = vendor_whole_api(tmp)
    generate.generate_into(PACKAGE, spec, tmp / "generated")
    sys.path.insert(0, str(tmp / "generated"))
    importlib.invalidate_caches()
    original = registry.get("novapost")
    registry.register(dataclasses.replace(original, package=PACKAGE), replace=True)
    try:
        yield len(summary.documented_statuses(spec.read_text(encoding="utf-8"), spec.name))
    finally:
        registry.register(original, replace=True)
        sys.path.remove(str(tmp / "generated"))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_whole_api_passes_against_the_mock(
    whole_api: int,
    seed: int,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    status = cli.main(["--max-examples", "20", "--seed", str(seed)])
    out = capfd.readouterr().out
    start = out.index("Nova Post (mock")
    nova_post = out[start : out.index("\n\n", start)]
    assert status == 0, out[-6000:]
    assert "contract: passed" in out
    assert whole_api == 33
    assert f"2xx reached: {whole_api} of {whole_api} operations" in nova_post
    rows = [
        line for line in nova_post.splitlines() if re.match(r"(GET|POST|PUT|PATCH|DELETE) /", line)
    ]
    assert len(rows) == whole_api
    for row in rows:
        assert row.rstrip().endswith("-"), f"a documented status was not reached: {row}"
    # The JWT-protected operations were called with the wrapper's token: a 2xx each.
    for label in ("GET /shipments/{id}/label", "POST /webhooks", "DELETE /webhooks/{id}"):
        (row,) = [r for r in rows if r.startswith(label + " ")]
        assert re.search(r"\s2\d\d\s", row), row
    assert "documented but never reached" not in out
    assert (tmp_path / "reports" / "contract" / "index.html").is_file()
