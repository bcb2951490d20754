"""The pytest plugin: fixtures that give running, reset servers, loaded as a plugin."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
from carrier_mocks.server import MockServer

PYTEST = [sys.executable, "-m", "pytest", "-q"]
INNER_TESTS = """
import httpx

def test_changes_state(novapost_mock, shipyo_mock):
    novapost_mock.advance(7200)
    novapost_mock.fault("GET /clients/authorization", count=5, status=503)
    shipyo_mock.fault("GET /api/Token/generate-from-apikey", status=500)
    response = httpx.get(novapost_mock.base_url + "/clients/authorization",
                         params={"apiKey": "np_test_4f1c2b9e8a7d6c5b"})
    assert response.status_code == 503

def test_sees_a_fresh_server(novapost_mock, shipyo_mock):
    assert set(novapost_mock.stats().values()) == {0}
    assert set(shipyo_mock.stats().values()) == {0}
    response = httpx.get(novapost_mock.base_url + "/clients/authorization",
                         params={"apiKey": "np_test_4f1c2b9e8a7d6c5b"})
    assert response.status_code == 200
    token = httpx.get(shipyo_mock.base_url + "/api/Token/generate-from-apikey",
                      headers={"x-api-key": "ak_mine"})
    assert token.status_code == 200
"""

INNER_CONFTEST = """
import pytest
from carrier_mocks.fixtures import default_fixtures, parse_fixtures
from dataclasses import replace

@pytest.fixture(scope="session")
def carrier_mocks_fixtures():
    mine = parse_fixtures('{"shipyo": {"keys": [{"api_key": "ak_mine", "name": "mine"}]}}')
    return replace(default_fixtures(), shipyo=mine.shipyo)
"""


def test_fixtures_give_running_servers(novapost_mock: MockServer, shipyo_mock: MockServer) -> None:
    assert httpx.get(novapost_mock.base_url + "/clients/authorization").status_code == 422
    token = httpx.get(
        shipyo_mock.base_url + "/api/Token/generate-from-apikey",
        headers={"x-api-key": "ak_1234567890abcdef"},
    )
    assert token.status_code == 200


def test_as_a_plugin_servers_are_reset_between_tests_and_fixtures_overridable(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS), encoding="utf-8")
    (tmp_path / "conftest.py").write_text(textwrap.dedent(INNER_CONFTEST), encoding="utf-8")
    # No -p: the installed entry point must be enough for a user's own suite.
    plugin = ["-p", "no:cacheprovider"]
    result = subprocess.run(
        [*PYTEST, *plugin, str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_plugin_import_leaves_starlette_and_uvicorn_alone() -> None:
    code = (
        "import sys, carrier_mocks.pytest_plugin\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn')]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
