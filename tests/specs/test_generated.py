"""generated/ is exactly what `make generate` produces, and the clients import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from carriers import registry

from tools import generate

ROOT = Path(__file__).resolve().parents[2]


def test_generated_is_not_stale() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.generate", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_staleness_check_sees_an_edit(tmp_path: Path) -> None:
    fresh = generate.generate_into(
        "shipyo_client", generate.clients()["shipyo_client"], tmp_path / "a"
    )
    copy = tmp_path / "b" / "shipyo_client"
    copy.parent.mkdir()
    shutil.copytree(fresh, copy)
    assert generate.diff_trees(fresh, copy) == []
    (copy / "client.py").write_text("# edited by hand\n", encoding="utf-8")
    (copy / "extra.py").write_text("", encoding="utf-8")
    (copy / "types.py").unlink()
    assert generate.diff_trees(fresh, copy) == ["client.py", "extra.py", "types.py"]


def test_generation_is_idempotent(tmp_path: Path) -> None:
    spec = generate.clients()["novapost_client"]
    first = generate.generate_into("novapost_client", spec, tmp_path / "one")
    second = generate.generate_into("novapost_client", spec, tmp_path / "two")
    assert generate.diff_trees(first, second) == []


@pytest.mark.parametrize("package", ["novapost_client", "shipyo_client"])
def test_clients_import_and_are_typed(package: str) -> None:
    module = __import__(package)
    assert hasattr(module, "AuthenticatedClient") and hasattr(module, "Client")
    assert (Path(module.__file__).parent / "py.typed").exists()


@pytest.mark.parametrize("info", [registry.NOVAPOST, registry.SHIPYO], ids=lambda i: i.name)
def test_each_client_ships_the_spec_it_was_generated_from(info: registry.CarrierInfo) -> None:
    """Installed, the contract suite and the mocks read the spec from the client package."""
    source = (ROOT / "specs" / info.name / info.spec).read_text(encoding="utf-8")
    assert info.spec_text() == source
    with info.spec_path() as path:
        assert path.read_text(encoding="utf-8") == source


def test_a_spec_edit_without_regeneration_is_stale(tmp_path: Path) -> None:
    spec = generate.clients()["shipyo_client"]
    fresh = generate.generate_into("shipyo_client", spec, tmp_path / "a")
    copy = tmp_path / "b" / "shipyo_client"
    shutil.copytree(fresh, copy)
    (copy / spec.name).write_text(spec.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert generate.diff_trees(fresh, copy) == [spec.name]
