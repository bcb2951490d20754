"""The lock files agree with pyproject.toml: what a fresh clone installs is what the ranges say.

``requirements/dev.lock`` (the development environment, newest versions) must pin
every declared dependency inside its range; ``requirements/lowest.lock`` (``make
test-lowest``) must pin each one at its floor; the Makefile must install from them.
A change of ranges without ``make lock`` fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOWEST_EXTRAS = ("mock", "contract", "redis", "test", "aiohttp")
ENVIRONMENT = {"python_version": "3.11", "sys_platform": "linux", "extra": ""}


def pins(lock: str) -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in (ROOT / "requirements" / lock).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)", line):
            found[match[1].lower().replace("_", "-")] = Version(match[2])
    return found


def declared(*extras: str) -> list[Requirement]:
    """The runtime requirements and those of ``extras``, without the package itself."""
    texts = list(PYPROJECT["dependencies"])
    for extra in extras:
        texts += PYPROJECT["optional-dependencies"][extra]
    found = [Requirement(text) for text in texts]
    return [
        r
        for r in found
        if r.name != "carriers" and (r.marker is None or r.marker.evaluate(ENVIRONMENT))
    ]


def key(requirement: Requirement) -> str:
    return requirement.name.lower().replace("_", "-")


def test_the_dev_lock_pins_every_dependency_inside_its_range() -> None:
    locked = pins("dev.lock")
    extras = tuple(PYPROJECT["optional-dependencies"])
    for requirement in declared(*extras):
        assert key(requirement) in locked, f"{requirement.name} is not in dev.lock: make lock"
        assert locked[key(requirement)] in requirement.specifier, (
            f"dev.lock has {requirement.name} {locked[key(requirement)]}, "
            f"outside {requirement.specifier}: make lock"
        )


def test_the_lowest_lock_pins_each_dependency_at_its_floor() -> None:
    locked = pins("lowest.lock")
    for requirement in declared(*LOWEST_EXTRAS):
        floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert floors, f"{requirement} has no floor to test"
        assert locked.get(key(requirement)) == max(floors), (
            f"lowest.lock has {requirement.name} {locked.get(key(requirement))}, "
            f"not its floor {max(floors)}: make lock"
        )


def test_the_generator_has_its_own_pinned_environment() -> None:
    wanted = [
        Requirement(line)
        for line in (ROOT / "requirements" / "generate.in").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    locked = pins("generate.lock")
    assert {"openapi-python-client", "ruff"} <= {key(r) for r in wanted}
    for requirement in wanted:
        assert locked[key(requirement)] in requirement.specifier, requirement
    development = {key(r) for r in declared(*PYPROJECT["optional-dependencies"])}
    assert "openapi-python-client" not in development  # its httpx pin would hold ours back


@pytest.mark.parametrize(
    ("stamp", "lock"),
    [
        ("$(STAMP)", "requirements/dev.lock"),
        ("$(GEN_STAMP)", "requirements/generate.lock"),
        ("$(LOW_STAMP)", "requirements/lowest.lock"),
    ],
)
def test_make_installs_from_the_locks_and_reinstalls_when_they_change(
    stamp: str, lock: str
) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(rf"^{re.escape(stamp)}:(.*)\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert rule is not None, f"no rule for {stamp}"
    assert lock in rule[1].split(), f"{stamp} does not depend on {lock}"
    assert lock in rule[2], f"{stamp} does not install from {lock}"
