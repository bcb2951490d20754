"""A third carrier, Acme, installed the way a third-party package would be.

``acme/`` holds its sources: a spec, a ``CarrierInfo`` with its facade and mock,
and a dist-info naming the ``CarrierInfo`` under the ``carriers.registry`` entry
point. The site built here is a directory holding those plus the client generated
from the spec; a process with it on ``PYTHONPATH`` finds Acme through
``importlib.metadata`` alone, with nothing in the project naming it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.support import ACME_SOURCES, DIST_INFO, site_environment
from tools.generate import generate_into


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts other processes (mock servers, pytest, schemathesis)"
    )


@pytest.fixture(scope="session")
def acme_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that, on ``PYTHONPATH``, installs the Acme carrier and its client."""
    site = tmp_path_factory.mktemp("acme-site")
    shutil.copytree(
        ACME_SOURCES / "acme_carrier",
        site / "acme_carrier",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(ACME_SOURCES / DIST_INFO, site / DIST_INFO)
    generate_into("acme_client", ACME_SOURCES / "openapi.yaml", site)
    return site


@pytest.fixture
def site_env(acme_site: Path) -> dict[str, str]:
    """The environment of a process that sees Acme as installed."""
    return site_environment(acme_site)


@pytest.fixture
def acme_modules(acme_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Acme's modules importable in this process for one test, then forgotten again."""
    monkeypatch.syspath_prepend(str(acme_site))
    try:
        yield
    finally:
        for name in list(sys.modules):
            if name.split(".")[0] in ("acme_carrier", "acme_client"):
                del sys.modules[name]
