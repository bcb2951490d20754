"""The mock's resource model, for the suite: links for the stateful phase from the same rules.

A create's 2xx links to every operation on the item it made (read, change,
delete, its actions and sub-collections), its id taken from the answer's id
field. A link is only made where the id field's type is the path parameter's:
an integer id never reaches a path as the text ``string``.
"""

from __future__ import annotations

import copy
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from carrier_mocks.openapi.document import Operation, operations
from carrier_mocks.openapi.resources import Resource, ResourceModel, load_overrides
from carrier_mocks.openapi.schemas import SchemaSet

__all__ = ["model_of", "with_links"]


def _overrides(carrier: str) -> dict[str, Any]:
    """The carrier's overrides file beside its mock, when it has one."""
    path = Path(str(package_files.files("carrier_mocks"))) / carrier / "resources.json"
    return load_overrides(path) if path.is_file() else {}


def model_of(spec: dict[str, Any], carrier: str) -> ResourceModel:
    return ResourceModel(list(operations(spec)), SchemaSet(spec), _overrides(carrier))


def _kind(schema: Any) -> str | None:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return kind if isinstance(kind, str) else None


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _id_pointer(model: ResourceModel, create: Operation, resource: Resource) -> str | None:
    """Where a create's 2xx holds the new id, when its type fits the path parameter."""
    codes = sorted(code for code in create.responses if code.startswith("2"))
    media = [m for m in create.responses[codes[0]].content if m.schema is not None] if codes else []
    if not media:
        return None
    schema = model.schemas.resolve(media[0].schema)
    prefix = "#"
    if _kind(schema) == "array":
        schema, prefix = model.schemas.resolve(schema.get("items")), "#/0"
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict) or resource.id_field not in props:
        return None
    id_type = _kind(model.schemas.resolve(props[resource.id_field]))
    if id_type is None or id_type != _kind(resource.id_schema):
        return None  # a link would carry a value of another type: not made
    return f"$response.body{prefix}/{_pointer(resource.id_field)}"


def _targets(model: ResourceModel, resource: Resource) -> list[tuple[Operation, str]]:
    """(operation, its path parameter holding the id) reached from a new record."""
    out = []
    for op_key, role in model.roles.items():
        method, path = op_key.split(" ", 1)
        op = model.by_path[path][method]
        if role.resource is resource and role.name in ("read", "update", "delete"):
            out.append((op, resource.id_param or resource.id_field))
        elif role.resource is resource and role.name == "action":
            out.append((op, resource.id_param or resource.id_field))
        elif role.resource.parent is resource and role.resource.parent_param is not None:
            out.append((op, role.resource.parent_param))
    return out


def with_links(spec: dict[str, Any], carrier: str) -> tuple[dict[str, Any], int]:
    """A copy of ``spec`` with the links the resource model infers, and how many were added."""
    model = model_of(spec, carrier)
    linked = copy.deepcopy(spec)
    added = 0
    for op_key, role in sorted(model.roles.items()):
        if role.name != "create" or role.resource.item is None:
            continue
        method, path = op_key.split(" ", 1)
        create = model.by_path[path][method]
        value = _id_pointer(model, create, role.resource)
        if value is None:
            continue
        responses = linked["paths"][path][method.lower()]["responses"]
        code = sorted(c for c in responses if str(c).startswith("2"))[0]
        response = responses[code]
        if not isinstance(response, dict) or "$ref" in response:
            continue
        links = response.setdefault("links", {})
        for target, param in _targets(model, role.resource):
            name = f"{target.method.title()}{_link_name(target.path)}"
            if name in links:
                continue
            ref = "#/paths/" + _pointer(target.path) + "/" + target.method.lower()
            links[name] = {"operationRef": ref, "parameters": {f"path.{param}": value}}
            added += 1
    return linked, added


def _link_name(path: str) -> str:
    words = [part.strip("{}") for part in path.split("/") if part]
    return "".join(word[:1].upper() + word[1:] for word in words).replace("-", "")
