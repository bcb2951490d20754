"""Adding a carrier from outside: the mock server, the pytest plugin and the contract
suite pick Acme up from its entry point alone, in processes that merely have it on
``PYTHONPATH``, as they would after ``pip install acme-carrier``.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.registry.support import KEY, site_environment

pytestmark = pytest.mark.slow

GUARD_SECONDS = 60  # bounds a broken run only; nothing asserts on time
MOCK_COMMAND = ["-m", "carrier_mocks", "--novapost-port", "0", "--shipyo-port", "0"]


def run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = GUARD_SECONDS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_site_is_an_installed_carrier(
    site_env: dict[str, str], tmp_path: Path, acme_site: Path
) -> None:
    """What the other tests rely on: the entry point, the client and its spec."""
    script = (
        "import importlib.metadata as m, json\n"
        "from carriers import registry\n"
        "info = registry.get('acme')\n"
        "print(json.dumps({'names': registry.names(), 'dist': m.distribution('acme-carrier')"
        ".version, 'spec': info.spec_text().startswith('# Acme'),"
        " 'facade': info.facade_class().__name__}))\n"
    )
    result = run(["-c", script], site_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "names": ["novapost", "shipyo", "acme"],
        "dist": "0.1",
        "spec": True,
        "facade": "Acme",
    }
    assert (acme_site / "acme_client" / "openapi.yaml").is_file()


class Lines:
    """A process's stdout lines, read by a thread so that waiting on them can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._process = process
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, pattern: str) -> tuple[re.Match[str], list[str]]:
        """Lines up to the first that matches ``pattern``, and that match."""
        seen: list[str] = []
        while True:
            line = self._queue.get(timeout=GUARD_SECONDS)
            if line is None:
                pytest.fail(f"no line matched {pattern!r} before the end:\n" + "\n".join(seen))
            seen.append(line)
            match = re.fullmatch(pattern, line)
            if match:
                return match, seen


@pytest.fixture
def mock_process(site_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, *MOCK_COMMAND, "--acme-port", "0"],
        cwd=tmp_path,
        env=site_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(GUARD_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_mock_command_serves_acme(mock_process: subprocess.Popen[str]) -> None:
    match, lines = Lines(mock_process).until(r"Acme mock: +(http://127\.0\.0\.1:\d+)")
    assert [line.split(":")[0] for line in lines] == ["Nova Post mock", "Shipyo mock", "Acme mock"]
    url = match.group(1)
    response = httpx.get(f"{url}/auth/token", headers={"X-Acme-Key": KEY}, timeout=10)
    assert response.status_code == 200 and set(response.json()) == {"token"}
    mock_process.terminate()
    assert mock_process.wait(GUARD_SECONDS) == 0


def test_mock_command_offers_the_acme_port_option(site_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["-m", "carrier_mocks", "--help"], site_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"--acme-port PORT\s+Acme \(default a free port", result.stdout)


USER_TESTS = '''
"""A user's tests of their Acme integration, using the fixture the plugin provides."""

import pytest
from acme_client.api.parcels import get_parcel
from acme_carrier import DOCS_API_KEY as KEY
from acme_carrier.facade import Acme
from carriers.errors import AuthenticationError, NotFoundError


def test_parcel_through_the_facade(acme_mock):
    with Acme(api_key=KEY, base_url=acme_mock.base_url) as acme:
        assert acme.jwt().count(".") == 2
        parcel = acme.call(get_parcel, parcel_id="ACME000001")
        assert (parcel.id, parcel.status, parcel.weight_grams) == ("ACME000001", "in_transit", 1200)
        with pytest.raises(NotFoundError, match="Parcel not found"):
            acme.call(get_parcel, parcel_id="ACME999999")
        assert acme.auth.mint_count == 1
    assert acme_mock.stats()["GET /auth/token"] == 1


def test_a_revoked_jwt_is_replaced_once(acme_mock):
    with Acme(api_key=KEY, base_url=acme_mock.base_url) as acme:
        acme.call(get_parcel, parcel_id="ACME000002")
        acme_mock.revoke_tokens()
        assert acme.call(get_parcel, parcel_id="ACME000002").status == "delivered"
        assert acme.auth.mint_count == 2


def test_a_wrong_key_is_an_authentication_error(carrier_mock):
    server = carrier_mock("acme")
    with Acme(api_key="acme_test_wrong", base_url=server.base_url) as acme:
        with pytest.raises(AuthenticationError, match="Unknown API key"):
            acme.call(get_parcel, parcel_id="ACME000001")


def test_the_environment_names_the_key(acme_mock, monkeypatch):
    monkeypatch.setenv("ACME_API_KEY", KEY)
    with Acme(base_url=acme_mock.base_url) as acme:
        assert acme.environment == "sandbox"
        assert acme.call(get_parcel, parcel_id="ACME000001").id == "ACME000001"
'''


def test_user_tests_get_the_acme_mock_fixture(site_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "test_acme_user.py").write_text(textwrap.dedent(USER_TESTS), encoding="utf-8")
    result = run(
        ["-m", "pytest", "-p", "no:cacheprovider", "-q", "test_acme_user.py"], site_env, tmp_path
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout


@dataclass
class ContractRun:
    result: subprocess.CompletedProcess[str]
    reports: Path

    def statuses_seen(self, title: str) -> dict[str, list[str]]:
        """Operation -> the statuses its row of the carrier's summary table says were seen."""
        lines = self.result.stdout.split("=== Contract summary ===", 1)[1].splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{title} ("))
        header, rows = lines[start + 1], []
        for line in lines[start + 2 :]:
            if not line.strip() or line.startswith("2xx reached:"):
                break
            rows.append(line)
        seen = slice(header.index("statuses seen"), header.index("documented, not seen"))
        return {row.split()[0] + " " + row.split()[1]: row[seen].split() for row in rows}


@pytest.fixture(scope="module")
def contract_run(acme_site: Path, tmp_path_factory: pytest.TempPathFactory) -> ContractRun:
    """One contract run of every registered carrier (Acme and the built-in ones) against
    its built-in mock, shared by the tests that read its outcome."""
    work = tmp_path_factory.mktemp("contract")
    env = {**site_environment(acme_site), "SEED": "1"}
    reports = work / "reports"
    result = run(
        ["-m", "carriers_contract", "--max-examples", "10", "--report-dir", str(reports)],
        env,
        work,
        timeout=300,
    )
    return ContractRun(result, reports)


def test_contract_suite_tests_acme(contract_run: ContractRun) -> None:
    result = contract_run.result
    output = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    assert re.search(r"^Acme \(mock, http://127\.0\.0\.1:\d+\): passed$", result.stdout, re.M)
    assert "contract: passed" in result.stdout
    assert (contract_run.reports / "acme-junit.xml").is_file()
    assert (contract_run.reports / "acme.json").is_file()
    seen = contract_run.statuses_seen("Acme")
    assert set(seen) == {"GET /auth/token", "GET /parcels/{parcel_id}"}
    assert {"200", "401"} <= set(seen["GET /auth/token"])
    assert "2xx reached: 2 of 2 operations" in result.stdout


def test_contract_suite_reaches_the_jwt_protected_success(contract_run: ContractRun) -> None:
    assert "200" in contract_run.statuses_seen("Acme")["GET /parcels/{parcel_id}"]


HOOK_PROBE = """
import json, os, sys
os.environ["CONTRACT_EXAMPLES"] = json.dumps([{
    "operation": "GET /parcels/{parcel_id}", "location": "path",
    "name": "parcel_id", "value": "ACME000001",
}])
import schemathesis
from carriers import registry
from carriers_contract import hooks

with registry.get("acme").spec_path() as spec:
    operation = schemathesis.openapi.from_path(spec)["/parcels/{parcel_id}"]["GET"]
examples = []
hooks.before_add_examples(schemathesis.HookContext(operation=operation), examples)
print(json.dumps([case.path_parameters for case in examples]))
"""


def test_a_known_path_input_becomes_an_example(site_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["-c", HOOK_PROBE], site_env, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [{"parcel_id": "ACME000001"}]
