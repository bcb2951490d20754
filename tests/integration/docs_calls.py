"""Call every operation of the generated ``novapost_client`` as the docs show; print outcomes.

Run in a fresh interpreter whose path puts a whole-API ``novapost_client`` first
(as after ``make vendor generate``): ``python -m tests.integration.docs_calls SPEC``.
Prints one JSON object: operation module name -> the result's type, or the error.
"""

from __future__ import annotations

import copy
import datetime
import importlib
import inspect
import json
import re
import sys
import types
import typing
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import novapost_client
from carriers import NovaPost
from carriers.errors import CarrierError
from dateutil.parser import isoparse

from tests.integration.docs_server import described, docs_server
from tests.specs.whole_api import REAL_PAGES, TEST_PAGES
from tools import generate, vendor

API_KEY = "np_test_docs_faithful_1"


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _docs_example(node: dict[str, Any], spec: dict[str, Any]) -> Any:
    """The docs' own example of a parameter or media type, if they give one."""
    if "example" in node:
        return node["example"]
    for example in (node.get("examples") or {}).values():
        ref = example.get("$ref", "")
        return vendor.resolve(spec, ref)["value"] if ref else example.get("value")
    return None


def _as(hint: Any, value: Any) -> Any:
    """A JSON value as the Python type the generated signature asks for."""
    hint_args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in hint_args if getattr(a, "__name__", "") != "Unset")
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        return [_as(item, v) for v in (value if isinstance(value, list) else [value])]
    if hint is uuid.UUID:
        return uuid.UUID(str(value))
    if hint is datetime.datetime:
        return isoparse(value)
    if attrs.has(hint):
        return hint.from_dict(copy.deepcopy(value))
    return value


def operation_of(module: ModuleType, spec: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The spec's operation that ``module`` calls, and its parameters (the path's too)."""
    source = inspect.getsource(module)
    found = re.search(r'"method": "(\w+)",\s*"url": "([^"]*)"', source)
    assert found is not None, module.__name__
    method, path = found.groups()
    for template, item in spec["paths"].items():
        if generate.route_key(method, template) == generate.route_key(method, path):
            op = item[method]
            return op, [*item.get("parameters", []), *op.get("parameters", [])]
    raise LookupError(f"{method.upper()} {path} is not in the spec")


def arguments(module: ModuleType, spec: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``module``'s operation, from the docs' request examples (from
    the schema where the docs give none)."""
    op, parameters = operation_of(module, spec)
    params = {_key(p["name"]): p for p in parameters}
    hints = typing.get_type_hints(module.sync_detailed)
    kwargs: dict[str, Any] = {}
    for name, parameter in inspect.signature(module.sync_detailed).parameters.items():
        if name == "client":
            continue
        hint = hints[name]
        if name == "body":
            media = op["requestBody"]["content"]["application/json"]
            example = _docs_example(media, spec)
            if example is None:
                example = described(spec, media["schema"])
            kwargs[name] = _as(hint, example)
            continue
        spec_param = params[_key(name)]
        example = _docs_example(spec_param, spec)
        if example is not None:
            kwargs[name] = _as(hint, example)
        elif parameter.default is inspect.Parameter.empty:
            kwargs[name] = _as(hint, described(spec, spec_param.get("schema", {})))
    return kwargs


def no_content(op: dict[str, Any]) -> bool:
    return all(
        not response.get("content")
        for status, response in op["responses"].items()
        if status.startswith("2")
    )


def operations() -> list[ModuleType]:
    api = Path(novapost_client.__file__).parent / "api"
    return [
        importlib.import_module(f"novapost_client.api.{module.parent.name}.{module.stem}")
        for module in sorted(api.glob("*/*.py"))
        if module.stem != "__init__"
    ]


def typed(result: Any) -> bool:
    if result is None:
        return False
    if isinstance(result, list):
        return all(typed(item) or isinstance(item, str | int) for item in result)
    return attrs.has(type(result))


def call_all(spec: dict[str, Any]) -> dict[str, str]:
    """Each operation's outcome: the result's type, or the error that replaced it."""
    outcomes: dict[str, str] = {}
    with docs_server(REAL_PAGES, TEST_PAGES) as url:
        np = NovaPost(api_key=API_KEY, base_url=url, max_retries=0, strict_responses=True)
        for module in operations():
            name = module.__name__.rpartition(".")[2]
            try:
                kwargs = arguments(module, spec)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                outcomes[name] = f"RequestModelError: {type(error).__name__}: {error}"
                continue
            try:
                result = np.call(module, **kwargs)
            except CarrierError as error:
                outcomes[name] = f"{type(error).__name__}: {error}"
                continue
            op, _ = operation_of(module, spec)
            ok = typed(result) or (result is None and no_content(op))
            outcomes[name] = type(result).__name__ if ok else f"untyped {result!r}"
    return outcomes


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(json.dumps(call_all(spec)))


if __name__ == "__main__":
    main()
