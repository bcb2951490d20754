"""The declared Python floor is the real one: every place that states it agrees, and
what ships needs no newer Python (vermin reads the code, generated clients included)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [
    "wrapper/carriers",
    "generated",
    "mocks/carrier_mocks",
    "contract_tests/carriers_contract",
]


def project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def floor() -> str:
    requires = project()["project"]["requires-python"]
    assert requires.startswith(">="), requires
    return requires.removeprefix(">=")


def vermin(target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "vermin"),
            f"--target={target}-",
            "--no-tips",
            "--violations",
            "--eval-annotations",
            *SHIPPED,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_floor_is_stated_once_everywhere() -> None:
    config = project()
    major_minor = floor()
    assert config["tool"]["ruff"]["target-version"] == "py" + major_minor.replace(".", "")
    assert config["tool"]["mypy"]["python_version"] == major_minor
    assert f"Programming Language :: Python :: {major_minor}" in config["project"]["classifiers"]


def test_nothing_shipped_needs_a_newer_python_than_the_floor() -> None:
    proc = vermin(floor())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_floor_cannot_be_lowered() -> None:
    """One minor version lower fails: the generated clients use typing.Self (3.11)."""
    major, minor = floor().split(".")
    proc = vermin(f"{major}.{int(minor) - 1}")
    assert proc.returncode != 0
    assert "typing.Self" in proc.stdout
