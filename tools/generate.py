"""Generate the typed clients in generated/ from specs/, or check that they are current.

One client per carrier of the registry (``carriers.registry``), from
``specs/<name>/<spec>``, with the project's template override
(``specs/templates``). The spec is copied into the package, so an installed
client carries the spec it was generated from. Each client is generated into a
scratch directory outside the tree and then swapped in, so ``make generate`` and
``--check`` run the very same steps and a failed run leaves generated/ as it was.

Usage: ``python -m tools.generate [--check]``
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from carriers import registry

from tools.vendor import HTTP_METHODS, is_binary, nodes

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "specs" / "openapi-python-client.yaml"
TEMPLATES = ROOT / "specs" / "templates"
GENERATED = ROOT / "generated"
GENERATOR_ENV = Path(os.environ.get("CARRIERS_GENERATOR_ENV", ROOT / ".venv-generate"))
"""The generator's own environment (``make venv`` builds it from requirements/generate.lock):
openapi-python-client pins an older httpx than the clients support, and ruff, which
formats its output, is pinned there so the output is the same bytes everywhere."""


def clients() -> dict[str, Path]:
    """Generated package -> the spec it is generated from, for every built-in carrier."""
    return {
        info.package: ROOT / "specs" / info.name / info.spec
        for info in registry.all_carriers()
        if (ROOT / "specs" / info.name / info.spec).is_file()
    }


class GenerateError(Exception):
    pass


BYTES = "application/octet-stream"


def load_spec(spec: Path) -> dict[str, Any]:
    text = spec.read_text(encoding="utf-8")
    doc = json.loads(text) if spec.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise GenerateError(f"{spec.name} is not an OpenAPI document")
    return doc


def binary_overrides(spec: dict[str, Any]) -> dict[str, str]:
    """Binary media types of the spec (PDF, images), read by the generator as bytes.

    openapi-python-client knows only application/octet-stream as bytes and omits
    a response of any other binary type.
    """
    return {
        node.loc[-1]: BYTES
        for node in nodes(spec)
        if node.kind == "media" and is_binary(node.loc[-1]) and node.loc[-1] != BYTES
    }


def config_for(spec: dict[str, Any], scratch: Path) -> Path:
    """The committed config, plus an override for each binary media type it does not list."""
    extra = binary_overrides(spec)
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    listed = config.get("content_type_overrides") or {}
    if set(extra) <= set(listed):
        return CONFIG
    config["content_type_overrides"] = {**extra, **listed}
    path = scratch / CONFIG.name
    path.write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
    return path


ROUTE = re.compile(r'"method": "(\w+)",\s*"url": "([^"]*)"')
STATUS = re.compile(r"response\.status_code == ([0-9]{3})\b")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def route_key(method: str, path: str) -> tuple[str, str]:
    """An operation as method and path with its parameter names left out.

    The generator writes Python names into its URL templates (``{shipmentNumber}``
    becomes ``{shipment_number}``, ``{class}`` becomes ``{class_}``); only the
    positions of the parameters say which operation a module is.
    """
    return method.lower(), PLACEHOLDER.sub("{}", path)


def missing_code(spec: dict[str, Any], package_dir: Path) -> list[str]:
    """Operations, and responses of them, that the spec has and the generated package lacks.

    The generator skips what it cannot parse with a warning, and loses some things
    without one: of two operationIds that make one module name ('getThing',
    'get_thing') only the last is written.
    """
    generated: dict[tuple[str, str], set[str]] = {}
    for module in (package_dir / "api").rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        if route := ROUTE.search(text):
            generated[route_key(route[1], route[2])] = set(STATUS.findall(text))
    missing: list[str] = []
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if not isinstance(item.get(method), dict):
                continue
            name = f"{method.upper()} {path}"
            written = generated.get(route_key(method, path))
            if written is None:
                missing.append(name)
                continue
            for status in map(str, item[method].get("responses", {})):  # YAML: 200 is an int
                if status.isdigit() and status not in written:
                    missing.append(f"{name} response {status}")
    return missing


def generate_into(package: str, spec: Path, out_root: Path) -> Path:
    """Run openapi-python-client for one spec; return the package directory it wrote."""
    doc = load_spec(spec)
    with tempfile.TemporaryDirectory(prefix="carriers-config-") as scratch:
        target = _run_generator(package, spec, out_root, config_for(doc, Path(scratch)))
    missing = missing_code(doc, target)
    if missing:
        raise GenerateError(f"generating {package}: no code for {', '.join(missing)}")
    (target / "py.typed").write_text("# Marker file for PEP 561\n", encoding="utf-8")
    shutil.copyfile(spec, target / spec.name)
    return target


def _run_generator(package: str, spec: Path, out_root: Path, config: Path) -> Path:
    target = out_root / package
    bin_dir = GENERATOR_ENV / "bin"
    if not (bin_dir / "openapi-python-client").is_file():
        raise GenerateError(
            f"the client generator is not installed in {GENERATOR_ENV}: run 'make venv' "
            "(or set CARRIERS_GENERATOR_ENV to an environment made from "
            "requirements/generate.lock)"
        )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [
        str(bin_dir / "openapi-python-client"),
        "generate",
        "--path",
        str(spec),
        "--meta",
        "none",
        "--config",
        str(config),
        "--custom-template-path",
        str(TEMPLATES),
        "--output-path",
        str(target),
        "--fail-on-warning",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0 or not (target / "__init__.py").exists():
        raise GenerateError(
            f"generating {package} from {spec.name} failed:\n{proc.stdout}{proc.stderr}"
        )
    return target


def diff_trees(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side or changed)."""
    out: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        out.extend(prefix + n for n in cmp.left_only + cmp.right_only + cmp.funny_files)
        for name in cmp.common_files:
            if (Path(cmp.left) / name).read_bytes() != (Path(cmp.right) / name).read_bytes():
                out.append(prefix + name)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=["__pycache__"]), "")
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generate", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated/ is stale")
    args = parser.parse_args(argv)
    stale: list[str] = []
    with tempfile.TemporaryDirectory(prefix="carriers-generate-") as scratch:
        for package, spec in clients().items():
            try:
                fresh = generate_into(package, spec, Path(scratch))
            except GenerateError as exc:
                print(f"generate: error: {exc}", file=sys.stderr)
                return 1
            current = GENERATED / package
            if args.check:
                if not current.is_dir():
                    stale.append(f"{package}/ (missing)")
                else:
                    stale.extend(f"{package}/{p}" for p in diff_trees(fresh, current))
                continue
            GENERATED.mkdir(exist_ok=True)
            old = GENERATED / f".{package}.old"
            shutil.rmtree(old, ignore_errors=True)
            if current.exists():
                current.rename(old)
            shutil.copytree(fresh, current)
            shutil.rmtree(old, ignore_errors=True)
            print(f"generate: wrote generated/{package}/ from {spec.relative_to(ROOT)}")
    if stale:
        print("generate: generated/ is stale; run 'make generate'. Differs:", file=sys.stderr)
        for path in stale:
            print(f"  {path}", file=sys.stderr)
        return 1
    if args.check:
        print("generate: generated/ is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
