"""The package as users get it: built the ordinary way, installed into a fresh venv, used
from an empty directory far from the checkout.

One venv is made per run: first with the bare package (every optional part must say
which extra it needs), then with ``carriers[contract]`` added (the suite, the mock
fixtures and the typed calls must work from the installed files alone).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from carriers import __version__

ROOT = Path(__file__).resolve().parents[2]
INSTALL_SECONDS = 600


@dataclass
class Installed:
    bin: Path
    wheel: Path
    sdist: Path
    home: Path
    """An empty working directory outside the checkout."""

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        clean["PATH"] = f"{self.bin}{os.pathsep}{clean.get('PATH', '')}"
        clean.update(env)
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.home,
            env=clean,
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )

    def pip(self, *args: str) -> None:
        proc = self.run("python", "-m", "pip", "install", "--quiet", *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel, built by ``python -m build`` (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = out.glob("carriers-*.tar.gz")
    (wheel,) = out.glob("carriers-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def bare(dist: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh venv with the wheel and no extras (plus pytest, to load the plugin)."""
    sdist, wheel = dist
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    home = tmp_path_factory.mktemp("home")
    installed = Installed(env_dir / "bin", wheel, sdist, home)
    installed.pip(str(wheel), "pytest")
    return installed


@pytest.fixture(scope="module")
def full(bare: Installed) -> Iterator[Installed]:
    """The same venv once ``carriers[contract]`` (which includes ``[mock]``) is added."""
    bare.pip(f"{bare.wheel}[contract]", "mypy")
    yield bare


# --- what is in the archives -----------------------------------------------------------


def test_the_wheel_carries_the_specs_the_license_and_no_top_level_test_names(
    dist: tuple[Path, Path],
) -> None:
    _, wheel = dist
    names = zipfile.ZipFile(wheel).namelist()
    assert "novapost_client/openapi.json" in names
    assert "shipyo_client/openapi.yaml" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {
        "carriers",
        "carrier_mocks",
        "carriers_contract",
        "novapost_client",
        "shipyo_client",
    }
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Version: {__version__}" in text
    assert "Requires-Python: >=3.11" in text
    assert "Project-URL: " in text


def test_the_sdist_is_the_whole_project(dist: tuple[Path, Path]) -> None:
    sdist, _ = dist
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for needed in (
        "LICENSE",
        "Makefile",
        ".ci/run",
        "specs/novapost/openapi.json",
        "specs/templates/endpoint_module.py.jinja",
        "tools/generate.py",
        "requirements/dev.lock",
        "tests/packaging/test_installed.py",
        "contract_tests/carriers_contract/run.py",
        "bench/__main__.py",
    ):
        assert needed in names, needed


# --- without extras: each optional part says what to install ---------------------------


def test_without_extras_the_product_works_and_the_tools_name_their_extra(bare: Installed) -> None:
    version = bare.run("carriers", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"carriers {__version__}"
    mock = bare.run("carriers", "mock")
    assert mock.returncode == 2, mock.stderr
    assert "pip install 'carriers[mock]'" in mock.stderr and "Traceback" not in mock.stderr
    for module, extra in (("carrier_mocks", "mock"), ("carriers_contract", "contract")):
        proc = bare.run("python", "-m", module)
        assert proc.returncode == 2, proc.stderr
        assert f"pip install 'carriers[{extra}]'" in proc.stderr
        assert "Traceback" not in proc.stderr
    contract = bare.run("carriers", "contract")
    assert contract.returncode == 2 and "pip install 'carriers[contract]'" in contract.stderr
    (bare.home / "test_uses_the_mock.py").write_text(
        "def test_it(novapost_mock):\n    pass\n", encoding="utf-8"
    )
    fixture = bare.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert fixture.returncode == 1, fixture.stdout
    assert "pip install 'carriers[mock]'" in fixture.stdout
    assert "ModuleNotFoundError" not in fixture.stdout
    (bare.home / "test_uses_the_mock.py").unlink()


# --- with [contract]: the suite, the fixtures and the typed calls ----------------------

USER_TEST = textwrap.dedent(
    """
    from carriers import NovaPost
    from novapost_client.api.authorization import get_clients_authorization

    KEY = "np_test_4f1c2b9e8a7d6c5b"


    def test_a_jwt_from_the_mock(novapost_mock):
        with NovaPost(api_key=KEY, base_url=novapost_mock.base_url) as np:
            answer = np.call(get_clients_authorization, api_key=KEY)
            assert answer.jwt.count(".") == 2
        assert novapost_mock.stats()["GET /clients/authorization"] == 1
    """
)

USER_TYPED = textwrap.dedent(
    """
    from carriers import NovaPost, Shipyo
    from novapost_client.api.authorization import get_clients_authorization, post_test_api_keys
    from novapost_client.models import JwtResponse, PostTestApiKeysBody, TestApiKeyResponse
    from shipyo_client.api.token import generate_token_from_api_key
    from shipyo_client.models import TokenEnvelope


    def main() -> None:
        np = NovaPost(api_key="k", timeout=5)
        jwt: JwtResponse = np.call(get_clients_authorization, api_key="k")
        key: TestApiKeyResponse = np.with_options(max_retries=0).call(
            post_test_api_keys, body=PostTestApiKeysBody(phone="498213437654")
        )
        envelope: TokenEnvelope = Shipyo(api_key="ak").call(generate_token_from_api_key)
        print(jwt.jwt, key.api_key, envelope.data)
    """
)


def test_carriers_contract_from_an_empty_directory(full: Installed) -> None:
    proc = full.run("carriers", "contract", MAX_EXAMPLES="5", SEED="1")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Nova Post (mock, http://127.0.0.1:" in proc.stdout
    assert "Shipyo (mock, http://127.0.0.1:" in proc.stdout
    assert f"Reports: reports{os.sep}contract{os.sep}" in proc.stdout
    # Every documented status of every operation is reached on the mocks, even with
    # 5 examples: the fixture inputs, keys and Prefer outages are explicit examples.
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("GET /", "POST /"))]
    assert len(rows) == 3 and all(row.rstrip().endswith(" -") for row in rows), rows
    assert proc.stdout.rstrip().endswith(f"HTML report: reports{os.sep}contract{os.sep}index.html")
    for name in ("novapost-junit.xml", "shipyo-junit.xml", "novapost.json", "shipyo.json"):
        assert (full.home / "reports" / "contract" / name).is_file(), name
    site = full.bin.parent / "lib"
    assert not list(site.rglob("reports")), "reports must not land in site-packages"
    assert not list(site.rglob(".hypothesis")) and not list(site.rglob(".schemathesis"))


def test_a_users_pytest_file_gets_the_mock_fixture(full: Installed) -> None:
    (full.home / "test_user.py").write_text(USER_TEST, encoding="utf-8")
    try:
        proc = full.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py")
    finally:
        (full.home / "test_user.py").unlink()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "1 passed" in proc.stdout


def test_mypy_strict_types_calls_and_catches_a_misspelled_argument(full: Installed) -> None:
    (full.home / "typed.py").write_text(USER_TYPED, encoding="utf-8")
    ok = full.run("mypy", "--strict", "--no-incremental", "typed.py")
    assert ok.returncode == 0, ok.stdout
    (full.home / "typo.py").write_text(
        USER_TYPED.replace('api_key="k")\n', 'apikey="k")\n', 1), encoding="utf-8"
    )
    typo = full.run("mypy", "--strict", "--no-incremental", "typo.py")
    assert typo.returncode == 1, typo.stdout
    assert 'Unexpected keyword argument "apikey"' in typo.stdout or "No overload" in typo.stdout
    (full.home / "wrong.py").write_text(
        USER_TYPED.replace("key: TestApiKeyResponse", "key: JwtResponse"), encoding="utf-8"
    )
    wrong = full.run("mypy", "--strict", "--no-incremental", "wrong.py")
    assert wrong.returncode == 1 and "Incompatible types in assignment" in wrong.stdout


def test_package_entry_points_from_the_installed_files(full: Installed) -> None:
    version = full.run("python", "-m", "carriers", "--version")
    assert version.stdout.strip() == f"carriers {__version__}"
    serve = full.run(
        "python",
        "-c",
        "import carrier_mocks\nwith carrier_mocks.serve('shipyo') as s:\n    print(s.base_url)",
    )
    assert serve.returncode == 0 and serve.stdout.startswith("http://127.0.0.1:"), serve.stderr
    help_ = full.run("carriers", "mock", "--help")
    assert help_.returncode == 0 and "--novapost-port" in help_.stdout
