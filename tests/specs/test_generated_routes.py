"""Every operation the generator writes is found, whatever its path parameters are named.

The generator writes Python names into its URL templates (``{shipmentNumber}``
becomes ``{shipment_number}``); the check that no operation was lost must not
mistake that for a missing operation, and must still report one that is gone.
"""

from __future__ import annotations

import json
import keyword
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools import generate

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)
CAMEL = st.builds(
    lambda head, tail: head + "".join(part.capitalize() for part in tail),
    WORD,
    st.lists(WORD, min_size=1, max_size=2),
)
KEBAB = st.builds(lambda parts: "-".join(parts), st.lists(WORD, min_size=2, max_size=3))
SNAKE = st.builds(lambda parts: "_".join(parts), st.lists(WORD, min_size=2, max_size=3))
KEYWORD = st.sampled_from(sorted(n for n in keyword.kwlist if n.islower()))
PARAMETER = st.one_of(CAMEL, KEBAB, SNAKE, KEYWORD, WORD)


@st.composite
def templates(draw: st.DrawFn) -> str:
    """A path of fixed segments and one to three parameters with distinct Python names."""
    names = draw(
        st.lists(PARAMETER, min_size=1, max_size=3, unique_by=generate_python_name),
    )
    segments: list[str] = []
    for name in names:
        segments.append(draw(st.one_of(WORD, KEBAB)))
        segments.append(f"{{{name}}}")
    if draw(st.booleans()):
        segments.append(draw(WORD))
    return "/" + "/".join(segments)


def generate_python_name(name: str) -> str:
    """What the generator makes of a parameter name, as far as telling two apart goes."""
    return name.replace("-", "_").lower().replace("_", "")


def spec_for(paths: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    for index, path in enumerate(paths):
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        doc["paths"][path] = {
            "get": {
                "operationId": f"operation{index}",
                "parameters": [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in names
                ],
                "responses": {"200": {"description": "ok"}, "404": {"description": "no"}},
            }
        }
    return doc


def unique_shapes(paths: list[str]) -> bool:
    return len({generate.route_key("get", p) for p in paths}) == len(paths)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    paths=st.lists(templates(), min_size=1, max_size=4).filter(unique_shapes),
    data=st.data(),
)
def test_every_written_operation_is_found_and_every_dropped_one_reported(
    paths: list[str], data: st.DataObject
) -> None:
    spec = spec_for(paths)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "openapi.json"
        source.write_text(json.dumps(spec), encoding="utf-8")
        package = generate.generate_into("routes_client", source, Path(scratch) / "out")
        assert generate.missing_code(spec, package) == []

        modules = {
            index: package / "api" / "default" / f"operation{index}.py"
            for index in range(len(paths))
        }
        assert all(module.is_file() for module in modules.values())
        dropped = data.draw(st.sets(st.sampled_from(sorted(modules)), min_size=1))
        for index in dropped:
            modules[index].unlink()
        assert generate.missing_code(spec, package) == [
            f"GET {paths[index]}" for index in sorted(dropped)
        ]
        shutil.rmtree(package)


def test_a_camel_case_parameter_is_not_reported_missing(tmp_path: Path) -> None:
    path = "/shipments/{shipmentNumber}/attachments/{fileId}"
    spec = spec_for([path])
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(spec), encoding="utf-8")
    package = generate.generate_into("camel_client", source, tmp_path / "out")
    text = (package / "api" / "default" / "operation0.py").read_text(encoding="utf-8")
    assert "{shipment_number}" in text  # what made the old check cry wolf
    assert generate.missing_code(spec, package) == []


def test_a_missing_status_is_still_reported_with_the_spec_path(tmp_path: Path) -> None:
    path = "/registers/{registerId}"
    spec = spec_for([path])
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(spec), encoding="utf-8")
    package = generate.generate_into("camel_client", source, tmp_path / "out")
    spec["paths"][path]["get"]["responses"]["418"] = {"description": "x"}
    assert generate.missing_code(spec, package) == [f"GET {path} response 418"]
