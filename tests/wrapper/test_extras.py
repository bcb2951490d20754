"""carriers.extras: a missing optional module becomes one line saying what to install."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.abc import MetaPathFinder
from typing import Any

import pytest
from carriers import errors
from carriers.extras import MissingExtraError, missing, require


class _Refuse(MetaPathFinder):
    def __init__(self, *names: str) -> None:
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [m for m in sys.modules if m.split(".")[0] == "uvicorn"]:
        monkeypatch.delitem(sys.modules, name)
    finder = _Refuse("uvicorn")
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def test_installed_extras_are_quiet() -> None:
    assert missing("mock") == [] and missing("contract") == []
    require("contract", "the contract suite")


def test_a_missing_module_names_the_extra_to_install(no_uvicorn: None) -> None:
    assert missing("mock") == ["uvicorn"]
    with pytest.raises(MissingExtraError) as caught:
        require("mock", "the mock servers")
    text = str(caught.value)
    assert text == (
        "the mock servers: the 'mock' extra is not installed (missing: uvicorn): "
        "pip install 'carriers[mock]'"
    )
    assert isinstance(caught.value, errors.ConfigurationError)
    assert isinstance(caught.value, ImportError)
