"""Which operations of a spec create, list, read, change and delete the same records.

The model is inferred from paths, methods and schemas alone, by the named rules
of :data:`RULES`; a small overrides file per carrier settles what the rules
cannot (see :func:`load_overrides`). Operations no rule claims are answered from
the spec, as before, and keep nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from carrier_mocks.openapi.document import Operation
from carrier_mocks.openapi.inputs import is_json
from carrier_mocks.openapi.schemas import SchemaSet

__all__ = [
    "RULES",
    "Filter",
    "OverridesError",
    "Resource",
    "ResourceModel",
    "Role",
    "load_overrides",
    "singular",
]

#: Every rule the inference uses, by name: what it recognises and what follows.
RULES: dict[str, str] = {
    "collection": "a path ending in a fixed segment with a POST whose 2xx is JSON: "
    "the POST creates records, a GET on the same path lists them",
    "item": "a collection's path plus one '{param}': GET reads, PUT/PATCH change, "
    "DELETE removes the record whose id is the parameter",
    "sub-collection": "an item's path plus a fixed segment with a POST and a list GET or a "
    "'{param}' below it: members of one record, added, listed and removed",
    "action": "an item's path plus a fixed segment with only POST/PUT/PATCH: its body's fields "
    "that the record has change the record; it answers the record when its 2xx fits",
    "collection-action": "a fixed segment beside a collection's '{param}' "
    "(/shipments/cancellation): answered from the spec",
    "read-only": "a path without a create operation (dictionaries): answered from the spec",
    "view": "a GET on a fixed segment under an item that is no list (a label, a barcode): "
    "answered from the spec",
    "record-schema": "the record's schema is the item GET's 2xx, else the create's 2xx "
    "(an array's items), else the list's items",
    "id-field": "the record field holding the id is named like the item's path parameter, "
    "else 'id'; fresh ids have the parameter's type (integer: counted; uuid: random; "
    "pattern: a string matching it)",
    "number-field": "a string field 'number' gets a fresh value: matching its pattern, "
    "else 14 digits",
    "filter-by-field": "a list's query parameter names a record field, as is or in the plural "
    "('ids[]' -> 'id', 'numbers[]' -> 'number', 'statuses[]' -> 'status'): records whose "
    "field equals one of the values",
    "paging": "'page' and 'limit' (or 'per_page', 'pageSize') cut the filtered list; the "
    "answer's page fields (total, current_page or page, last_page, per_page or limit, from, "
    "to), at its top or in one nested object, are set from it",
    "unknown-id": "an id nobody created answers from the spec (the docs' example as written, "
    "else a value made from the schema with the id asked); one deleted, or created with "
    "another key, is the documented 404",
}

Kind = Literal[
    "collection", "item", "sub-collection", "action", "collection-action", "read-only", "view"
]
_KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
RoleName = Literal["create", "list", "read", "update", "delete", "action"]

_TEMPLATE = re.compile(r"^\{([^{}/]+)\}$")
_PAGE_PARAMS = {"page": "page", "limit": "limit", "per_page": "limit", "perPage": "limit"}
_PAGE_PARAMS |= {"pageSize": "limit", "page_size": "limit"}
_WRITES = ("POST", "PUT", "PATCH")


class OverridesError(ValueError):
    """An overrides file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Filter:
    """A list's query parameter applied to a record field: equal to one value, or a bound."""

    param: str
    field: str
    match: Literal["equals", "from", "to"] = "equals"
    rule: str = "filter-by-field"


@dataclass
class Resource:
    """Records stored under one collection path (a sub-collection has a parent)."""

    collection: str
    item: str | None = None
    id_param: str | None = None
    id_schema: Any = field(default_factory=dict)
    id_field: str = "id"
    number_field: str | None = None
    record_schema: Any = None
    parent: Resource | None = None
    parent_param: str | None = None
    """The parent's id parameter in this collection's path."""
    rules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Role:
    """What one operation does to one resource."""

    name: RoleName
    resource: Resource
    rule: str
    filters: tuple[Filter, ...] = ()


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _template(segment: str) -> str | None:
    match = _TEMPLATE.match(segment)
    return match.group(1) if match else None


def singular(name: str) -> str:
    """``pickups`` -> ``pickup``, ``addresses`` -> ``address``, ``entries`` -> ``entry``."""
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _singular(name: str) -> list[str]:
    out = [name]
    if name.endswith("ies"):
        out.append(name[:-3] + "y")
    if name.endswith("es"):
        out.append(name[:-2])
    if name.endswith("s"):
        out.append(name[:-1])
    return out


def _json_schema(op: Operation, *, response: bool) -> Any:
    """The JSON schema of the lowest 2xx response (or of the request body)."""
    if not response:
        sent = [m for m in op.body if is_json(m.name)]
        return sent[0].schema if sent else None
    for code in sorted(op.responses):
        if code.startswith("2"):
            for media in op.responses[code].content:
                if is_json(media.name) and media.schema is not None:
                    return media.schema
            return None
    return None


class ResourceModel:
    """Resources and the role of each served operation, inferred from ``operations``."""

    def __init__(
        self,
        operations: Iterable[Operation],
        schemas: SchemaSet,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.schemas = schemas
        self.overrides: Mapping[str, Mapping[str, Any]] = (overrides or {}).get("paths", {})
        self.by_path: dict[str, dict[str, Operation]] = {}
        for op in operations:
            self.by_path.setdefault(op.path, {})[op.method] = op
        self.kinds: dict[str, tuple[Kind, str]] = {}
        self.resources: dict[str, Resource] = {}
        self.roles: dict[str, Role] = {}
        self._infer()

    # ------------------------------------------------------------------ lookup

    def role(self, op: Operation) -> Role | None:
        return self.roles.get(op.key)

    def resource(self, collection: str) -> Resource | None:
        return self.resources.get(collection)

    def describe(self) -> dict[str, str]:
        """``path -> "kind (rule)"`` for every path, to show what was inferred."""
        return {path: f"{kind} ({why})" for path, (kind, why) in sorted(self.kinds.items())}

    # ------------------------------------------------------------------ inference

    def _kind(self, path: str) -> tuple[Kind, str] | None:
        override = self.overrides.get(path, {}).get("kind")
        if override is not None:
            return override, "override"
        ops = self.by_path[path]
        parts = _segments(path)
        if not parts:
            return None
        last = parts[-1]
        if _template(last) is not None:
            parent = "/" + "/".join(parts[:-1])
            known = self.kinds.get(parent)
            if known is not None and known[0] in ("collection", "sub-collection"):
                return "item", "item"
            return "read-only", "read-only"
        parent = "/" + "/".join(parts[:-1]) if len(parts) > 1 else ""
        parent_kind = self._kind_of(parent)
        if parent_kind == "collection" and any(
            _template(_segments(p)[-1]) for p in self.by_path if p.startswith(parent + "/{")
        ):
            return "collection-action", "collection-action"
        creates = "POST" in ops and _json_schema(ops["POST"], response=True) is not None
        if parent_kind == "item":
            child = any(
                p.startswith(path + "/{") and len(_segments(p)) == len(parts) + 1
                for p in self.by_path
            )
            lists = "GET" in ops and self.list_items(ops["GET"]) is not None
            if "POST" in ops and (child or lists):
                return "sub-collection", "sub-collection"
            if set(ops) <= set(_WRITES):
                return "action", "action"
            return "view", "view"
        if creates:
            return "collection", "collection"
        return "read-only", "read-only"

    def _kind_of(self, path: str) -> str | None:
        """A path's kind, also for an item path the spec has no operation on."""
        known = self.kinds.get(path)
        if known is not None:
            return known[0]
        parts = _segments(path)
        if parts and _template(parts[-1]) is not None:
            above = self.kinds.get("/" + "/".join(parts[:-1]))
            if above is not None and above[0] in ("collection", "sub-collection"):
                return "item"
        return None

    def _infer(self) -> None:
        # Shorter paths first: an item's kind depends on its collection's.
        for path in sorted(self.by_path, key=lambda p: (len(_segments(p)), p)):
            found = self._kind(path)
            if found is not None:
                self.kinds[path] = found
        for path, (kind, _) in self.kinds.items():
            if kind in ("collection", "sub-collection"):
                self.resources[path] = self._resource(path, kind)
        for path, (kind, why) in self.kinds.items():
            ops = self.by_path[path]
            if kind in ("collection", "sub-collection"):
                resource = self.resources[path]
                if "POST" in ops:
                    self.roles[ops["POST"].key] = Role("create", resource, why)
                if "GET" in ops and self.list_items(ops["GET"]) is not None:
                    filters = self._filters(ops["GET"], resource)
                    self.roles[ops["GET"].key] = Role("list", resource, why, filters)
            elif kind == "item":
                held = self.resources.get("/" + "/".join(_segments(path)[:-1]))
                if held is None:
                    continue
                roles: tuple[tuple[str, RoleName], ...] = (
                    ("GET", "read"),
                    ("PUT", "update"),
                    ("PATCH", "update"),
                    ("DELETE", "delete"),
                )
                for method, name in roles:
                    if method in ops:
                        self.roles[ops[method].key] = Role(name, held, why)
            elif kind == "action":
                owner = self._owner_of("/" + "/".join(_segments(path)[:-1]))
                if owner is not None:
                    for method in _WRITES:
                        if method in ops:
                            self.roles[ops[method].key] = Role("action", owner, why)

    def _owner_of(self, item_path: str) -> Resource | None:
        collection = "/" + "/".join(_segments(item_path)[:-1])
        return self.resources.get(collection)

    def _resource(self, path: str, kind: str) -> Resource:
        settings = self.overrides.get(path, {})
        item = next(
            (
                p
                for p in self.by_path
                if p.startswith(path + "/{") and len(_segments(p)) == len(_segments(path)) + 1
            ),
            None,
        )
        id_param = _template(_segments(item)[-1]) if item else None
        record = self._record_schema(path, item)
        properties = self._properties(record)
        id_field = settings.get("idField") or (
            id_param if id_param in properties else "id" if "id" in properties else None
        )
        id_schema: Any = {}
        if item is not None and id_param is not None:
            for op in self.by_path[item].values():
                for param in op.parameters:
                    if param.location == "path" and param.name == id_param:
                        id_schema = self.schemas.resolve(param.schema)
        if not id_schema and id_field in properties:
            id_schema = self.schemas.resolve(properties[id_field])
        number = settings.get("numberField")
        if number is None:
            candidate = self.schemas.resolve(properties.get("number"))
            if isinstance(candidate, dict) and candidate.get("type") == "string":
                number = "number"
        parent = parent_param = None
        rules = ["collection" if kind == "collection" else "sub-collection", "record-schema"]
        if kind == "sub-collection":
            item_path = "/" + "/".join(_segments(path)[:-1])
            parent = self._owner_of(item_path)
            parent_param = _template(_segments(item_path)[-1])
        return Resource(
            collection=path,
            item=item,
            id_param=id_param,
            id_schema=id_schema if isinstance(id_schema, dict) else {},
            id_field=id_field or "id",
            number_field=number if number in properties else None,
            record_schema=record,
            parent=parent,
            parent_param=parent_param,
            rules=[*rules, "id-field", *(["number-field"] if number in properties else [])],
        )

    def _properties(self, schema: Any) -> dict[str, Any]:
        schema = self.schemas.resolve(schema)
        if not isinstance(schema, dict):
            return {}
        props: dict[str, Any] = {}
        for part in schema.get("allOf") or []:
            props.update(self._properties(part))
        own = schema.get("properties")
        if isinstance(own, dict):
            props.update(own)
        return props

    def _record_schema(self, path: str, item: str | None) -> Any:
        if item is not None and "GET" in self.by_path[item]:
            schema = _json_schema(self.by_path[item]["GET"], response=True)
            if self._properties(schema):
                return schema
        ops = self.by_path[path]
        if "POST" in ops:
            schema = self.schemas.resolve(_json_schema(ops["POST"], response=True))
            if isinstance(schema, dict) and schema.get("type") == "array":
                schema = schema.get("items")
            if self._properties(schema):
                return schema
        if "GET" in ops:
            found = self.list_items(ops["GET"])
            if found is not None:
                return found[1]
        return None

    def list_items(self, op: Operation) -> tuple[str | None, Any] | None:
        """``(array property or None for a bare array, item schema)`` of a list's 2xx."""
        schema = self.schemas.resolve(_json_schema(op, response=True))
        if not isinstance(schema, dict):
            return None
        if schema.get("type") == "array":
            return None, schema.get("items", {})
        arrays = {
            name: self.schemas.resolve(prop)
            for name, prop in self._properties(schema).items()
            if isinstance(self.schemas.resolve(prop), dict)
            and self.schemas.resolve(prop).get("type") == "array"
        }
        for name in ("items", "data", "results", "records"):
            if name in arrays:
                return name, arrays[name].get("items", {})
        if len(arrays) == 1:
            ((name, prop),) = arrays.items()
            return name, prop.get("items", {})
        return None

    def _filters(self, op: Operation, resource: Resource) -> tuple[Filter, ...]:
        fields = self._properties(resource.record_schema)
        declared = self.overrides.get(resource.collection, {}).get("filters", {})
        out = []
        for param in op.parameters:
            if param.location != "query":
                continue
            if param.name in declared:
                spec = declared[param.name]
                match = spec.get("match", "equals")
                out.append(Filter(param.name, spec["field"], match, "override"))
                continue
            base = param.name.removesuffix("[]")
            if base in _PAGE_PARAMS:
                continue
            for name in _singular(base):
                if name in fields:
                    out.append(Filter(param.name, name))
                    break
        return tuple(out)


# ---------------------------------------------------------------------- overrides

_ENTRY_KEYS = {"kind", "idField", "numberField", "filters", "why"}


def load_overrides(path: Path) -> dict[str, Any]:
    """The overrides file at ``path``, checked: ``{"paths": {path: entry}}``.

    An entry may set ``kind`` (one of the rules' kinds), ``idField``,
    ``numberField`` and ``filters`` (``{param: {"field": f, "match": "equals" |
    "from" | "to"}}``), and must say ``why``.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OverridesError(f"{path.name}: cannot read: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"paths", "$comment"}:
        raise OverridesError(f"{path.name}: expected an object with 'paths'")
    paths = data.get("paths", {})
    if not isinstance(paths, dict):
        raise OverridesError(f"{path.name}: 'paths' must be an object")
    for name, entry in paths.items():
        where = f"{path.name}: paths[{name!r}]"
        if not isinstance(entry, dict):
            raise OverridesError(f"{where} must be an object")
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise OverridesError(f"{where}: unknown field {unknown[0]!r}")
        if not isinstance(entry.get("why"), str) or not entry["why"].strip():
            raise OverridesError(f"{where}: 'why' must say why the rules are overridden")
        if "kind" in entry and entry["kind"] not in _KINDS:
            raise OverridesError(f"{where}: 'kind' must be one of {', '.join(_KINDS)}")
        for key in ("idField", "numberField"):
            if key in entry and not isinstance(entry[key], str):
                raise OverridesError(f"{where}: {key!r} must be a string")
        filters = entry.get("filters", {})
        if not isinstance(filters, dict):
            raise OverridesError(f"{where}: 'filters' must be an object")
        for param, spec in filters.items():
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("field"), str)
                or spec.get("match", "equals") not in ("equals", "from", "to")
                or set(spec) - {"field", "match"}
            ):
                raise OverridesError(
                    f"{where}: filters[{param!r}] must be "
                    '{"field": name, "match": "equals" | "from" | "to"}'
                )
    return data
