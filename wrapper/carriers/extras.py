"""The optional parts of the package and what each needs installed.

``carriers[mock]`` brings the mock servers' Starlette and uvicorn,
``carriers[contract]`` schemathesis for the contract suite. Code that needs an
extra calls :func:`require` first, so a missing one is a one-line
:class:`MissingExtraError` that says what to install, never a bare
``ModuleNotFoundError`` from deep inside.
"""

from __future__ import annotations

import importlib.util

from .errors import ConfigurationError

__all__ = ["EXTRAS", "MissingExtraError", "missing", "require"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "mock": ("starlette", "uvicorn"),
    "contract": ("starlette", "uvicorn", "schemathesis", "yaml"),
    "redis": ("redis",),
    "aiohttp": ("aiohttp",),
}
"""Extra -> the modules it installs."""


class MissingExtraError(ConfigurationError, ImportError):
    """An optional part was used without its extra installed."""

    def __init__(self, extra: str, what: str, missing: list[str]) -> None:
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{what}: the '{extra}' extra is not installed "
            f"(missing: {', '.join(missing)}): pip install 'carriers[{extra}]'"
        )


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # an import hook refusing it, or a broken entry
        return False


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported."""
    return [name for name in EXTRAS[extra] if not _importable(name)]


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` naming ``what`` unless ``extra`` is installed."""
    absent = missing(extra)
    if absent:
        raise MissingExtraError(extra, what, absent)
