"""Answers that remember: create, list, read, change and delete records of the resource model.

Called by :class:`~.routes.SpecRoutes` for a valid, authorised request that asks
for no particular response (no ``Prefer``), when the operation has a role in the
:class:`~.resources.ResourceModel`. Bodies start from the answer the spec gives
(its example, else a value made from the schema) and carry the stored record;
every body sent is checked against the documented schema first.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from carrier_mocks.openapi.document import MediaType, Operation, ResponseDoc
from carrier_mocks.openapi.inputs import RequestValues, is_json
from carrier_mocks.openapi.resources import Filter, Resource, ResourceModel, Role, singular
from carrier_mocks.openapi.samples import sample, sample_without_examples
from carrier_mocks.openapi.state import DELETED, StateError, StateStore, id_key

if TYPE_CHECKING:
    from carrier_mocks.openapi.routes import SpecRoutes

__all__ = ["StatefulAnswers"]

_log = logging.getLogger(__name__)

_PAGE_FIELDS = {
    "total": ("total", "totalCount", "total_count", "totalItems", "total_items"),
    "page": ("current_page", "currentPage", "page"),
    "last": ("last_page", "lastPage", "totalPages", "total_pages", "pages"),
    "size": ("per_page", "perPage", "limit", "pageSize", "page_size"),
    "from": ("from",),
    "to": ("to",),
}
_PAGE_NAMES = frozenset(name for names in _PAGE_FIELDS.values() for name in names)
_LIMIT_PARAMS = ("limit", "per_page", "perPage", "pageSize", "page_size")
#: A number field without a pattern gets digits, as carriers' numbers are.
_DIGITS = {"type": "string", "pattern": "^[0-9]{14}$"}


def _equals(field: str, keys: set[str]) -> Callable[[dict[str, Any]], bool]:
    """An ``equals`` filter: the field is one of the values asked for."""
    return lambda record: id_key(record.get(field)) in keys


def _within(flt: Filter, bound: Any) -> Callable[[dict[str, Any]], bool]:
    """A ``from``/``to`` filter: the field at or after (before) the bound."""

    def test(record: dict[str, Any]) -> bool:
        have = record.get(flt.field)
        if have is None:
            return False
        try:
            return bool(have >= bound) if flt.match == "from" else bool(have <= bound)
        except TypeError:
            return False

    return test


class StatefulAnswers:
    """The remembering half of the spec-driven routes."""

    def __init__(self, routes: SpecRoutes, model: ResourceModel, store: StateStore) -> None:
        self.routes = routes
        self.schemas = routes.schemas
        self.model = model
        self.store = store

    # ------------------------------------------------------------------ helpers

    def _props(self, resource: Resource) -> dict[str, Any]:
        schema = self.schemas.resolve(resource.record_schema)
        props: dict[str, Any] = {}
        if isinstance(schema, dict):
            for part in schema.get("allOf") or []:
                part = self.schemas.resolve(part)
                if isinstance(part, dict) and isinstance(part.get("properties"), dict):
                    props.update(part["properties"])
            if isinstance(schema.get("properties"), dict):
                props.update(schema["properties"])
        return props

    def _success(self, op: Operation, accept: str) -> tuple[int, ResponseDoc, MediaType | None]:
        code = sorted(op.responses, key=lambda c: (not c.startswith("2"), c))[0]
        doc = op.responses[code]
        return int(code) if code.isdigit() else 200, doc, self.routes.media_for(doc, accept)

    def _send(
        self,
        op: Operation,
        accept: str,
        value: Any,
        record_of: Resource | None = None,
        *,
        checked: bool = False,
    ) -> Response | None:
        """``value`` as the documented 2xx, or None when it does not fit its schema.

        A stored record (``record_of``) fitted its schema when it was stored: where the
        answer's schema is that same schema, it is not checked again; ``checked`` says
        the caller checked the rest of ``value`` already.
        """
        status, doc, media = self._success(op, accept)
        if media is None or not is_json(media.name) or media.schema is None:
            return self.routes.with_body(op, doc, media, status, None).response()
        trusted = checked or (
            record_of is not None
            and isinstance(value, dict)
            and media.schema == record_of.record_schema
        )
        if not trusted and not self.schemas.is_valid(value, media.schema):
            _log.debug("%s: the stored value does not fit the documented answer", op.key)
            return None
        return self.routes.with_body(op, doc, media, status, value).response()

    def _spec_value(self, op: Operation, accept: str) -> Any:
        _, _, media = self._success(op, accept)
        return copy.deepcopy(self.routes.fixed_value(op, media))

    def _not_found(self, op: Operation, resource: Resource) -> Response:
        name = singular(resource.collection.rstrip("/").rsplit("/", 1)[-1]).capitalize()
        field = resource.id_param or resource.id_field
        return self.routes.error(op, 404, field, f"{name or 'Record'} not found")

    def _parent(
        self, op: Operation, resource: Resource, values: RequestValues, owner: str
    ) -> str | Response | None:
        """The parent's id key; a 404 when the parent is gone; None when unknown."""
        parent = resource.parent
        if parent is None or resource.parent_param is None:
            return ""
        key = id_key(values.get("path", resource.parent_param))
        found = self.store.get(owner, parent.collection, "", key)
        if found is DELETED or (
            found is None and self.store.held_by_other(owner, parent.collection, "", key)
        ):
            return self._not_found(op, parent)
        return key if found is not None else None

    # ------------------------------------------------------------------ dispatch

    def answer(
        self, op: Operation, role: Role, values: RequestValues, owner: str, accept: str
    ) -> Response | None:
        """The answer with state, or None to answer from the spec as before."""
        resource = role.resource
        if role.name == "action":
            return self._change(op, resource, "", values, owner, accept)
        parent = self._parent(op, resource, values, owner)
        if parent is None or isinstance(parent, Response):
            return parent
        if role.name == "create":
            return self._create(op, resource, parent, values, owner, accept)
        if role.name == "list":
            return self._list(op, role, parent, values, owner, accept)
        if role.name == "read":
            return self._read(op, resource, parent, values, owner, accept)
        if role.name == "update":
            return self._change(op, resource, parent, values, owner, accept)
        return self._delete(op, resource, parent, values, owner, accept)

    # ------------------------------------------------------------------ create

    def _template(self, op: Operation, resource: Resource, accept: str) -> dict[str, Any]:
        value = self._spec_value(op, accept)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            return value
        made = sample(resource.record_schema, self.schemas)
        return made if isinstance(made, dict) else {}

    def new_record(
        self, resource: Resource, template: dict[str, Any], sent: Any
    ) -> dict[str, Any] | None:
        """A record fitting its schema: ``template`` with the fields sent, a fresh id and
        number; ``None`` when no such record can be made (then nothing is stored)."""
        props = self._props(resource)
        schema = resource.record_schema
        fields = (
            {name: value for name, value in sent.items() if name in props}
            if isinstance(sent, dict)
            else {}
        )
        member_id = resource.parent is not None and fields.get(resource.id_field) is not None
        made: dict[str, Any] = {}
        if not member_id:  # a member may name what it is (a shipment's id); else a fresh id
            id_schema = resource.id_schema or self.schemas.resolve(props.get(resource.id_field, {}))
            made[resource.id_field] = self.store.fresh_value(resource.collection, id_schema)
        number = resource.number_field
        if number is not None and not (member_id and number in fields):
            pattern = self.schemas.resolve(props.get(number))
            pattern = pattern if isinstance(pattern, dict) and "pattern" in pattern else _DIGITS
            made[number] = self.store.fresh_value(f"{resource.collection}#{number}", pattern)
        record = {**copy.deepcopy(template), **fields, **made}
        if schema is None or self.schemas.is_valid(record, schema):
            return record
        # Some field does not fit the record: keep those that do, on the template...
        fitting = {n: v for n, v in fields.items() if self.schemas.is_valid(v, props[n])}
        record = {**copy.deepcopy(template), **fitting, **made}
        if self.schemas.is_valid(record, schema):
            return record
        # ...else on a value made from the schema alone (the template is what is wrong).
        plain = sample_without_examples(schema, self.schemas)
        if not isinstance(plain, dict):
            return None
        for name, value in record.items():
            trial = {**plain, name: value}
            if self.schemas.is_valid(trial, schema):
                plain = trial
        return plain if self.schemas.is_valid(plain, schema) else None

    def _create(
        self,
        op: Operation,
        resource: Resource,
        parent: str,
        values: RequestValues,
        owner: str,
        accept: str,
    ) -> Response | None:
        template = self._template(op, resource, accept)
        sent = values.body if values.has_body else {}
        entries = sent if isinstance(sent, list) else [sent]
        with self.store.lock:
            made = [self.new_record(resource, template, entry) for entry in entries]
            records = [record for record in made if record is not None]
            if len(records) != len(made):
                return None  # nothing stored: the spec's answer, as before
            _, _, media = self._success(op, accept)
            schema = self.schemas.resolve(media.schema) if media is not None else None
            many = isinstance(schema, dict) and schema.get("type") == "array"
            value: Any = records if many else (records[0] if records else None)
            response = self._send(op, accept, value, record_of=None if many else resource)
            if response is None:
                return None  # nothing stored: the spec's answer, as before
            for record in records:
                key = id_key(record.get(resource.id_field))
                self.store.put(owner, resource.collection, parent, key, record)
        return response

    # ------------------------------------------------------------------ list

    def _keep(
        self, role: Role, values: RequestValues
    ) -> tuple[set[str] | None, Callable[[dict[str, Any]], bool]]:
        """The ids asked for (when a filter names the id field), and a test for the rest."""
        ids: set[str] | None = None
        tests: list[Callable[[dict[str, Any]], bool]] = []
        for flt in role.filters:
            wanted = values.get("query", flt.param)
            if wanted is None or wanted == []:
                continue
            wanted_list = wanted if isinstance(wanted, list) else [wanted]
            if flt.match == "equals":
                keys = {id_key(w) for w in wanted_list}
                if flt.field == role.resource.id_field:
                    ids = keys if ids is None else ids & keys
                else:
                    tests.append(_equals(flt.field, keys))
            else:
                tests.append(_within(flt, wanted_list[0]))
        return ids, lambda record: all(test(record) for test in tests)

    def _list(
        self,
        op: Operation,
        role: Role,
        parent: str,
        values: RequestValues,
        owner: str,
        accept: str,
    ) -> Response | None:
        resource = role.resource
        ids, keep = self._keep(role, values)
        records = self.store.select(owner, resource.collection, parent, ids, keep)
        total = len(records)
        query = {name: value for (where, name), value in values.params.items() if where == "query"}
        declared = {p.name: p for p in op.parameters if p.location == "query"}
        limit_name = next((n for n in _LIMIT_PARAMS if n in declared), None)
        page = query.get("page", 1) if "page" in declared else 1
        if limit_name is not None:
            default = self.schemas.resolve(declared[limit_name].schema)
            fallback = default.get("default", 15) if isinstance(default, dict) else 15
            limit = query.get(limit_name, fallback)
        else:
            limit = max(total, 1)
        page = page if isinstance(page, int) and page >= 1 else 1
        limit = limit if isinstance(limit, int) and limit >= 1 else max(total, 1)
        offset = (page - 1) * limit
        shown = copy.deepcopy(records[offset : offset + limit])
        found = self.model.list_items(op)
        if found is None:
            return None
        prop, items = found
        if prop is None:
            return self._send(op, accept, shown)
        body = self._spec_value(op, accept)
        body = body if isinstance(body, dict) else {}
        numbers = {
            "total": total,
            "page": page,
            "last": max(1, math.ceil(total / limit)),
            "size": limit,
            "from": offset + 1 if shown else None,
            "to": offset + len(shown) if shown else None,
        }
        _, _, media = self._success(op, accept)
        self._set_paging(body, media.schema if media else None, numbers)
        if items == resource.record_schema and resource.record_schema is not None:
            # Stored records fit their schema: check the page around them, then add them.
            body[prop] = []
            fits = self._send(op, accept, body) is not None
            body[prop] = shown
            if fits:  # else (minItems...) the whole page is checked below
                return self._send(op, accept, body, record_of=resource, checked=True)
        body[prop] = shown
        return self._send(op, accept, body)

    def _set_paging(self, body: dict[str, Any], schema: Any, numbers: dict[str, Any]) -> None:
        """Write the page's figures into ``body`` and a nested object, where the schema has them."""
        schema = self.schemas.resolve(schema)
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        targets = [(body, props)]
        for name, prop in props.items():
            prop = self.schemas.resolve(prop)
            if isinstance(prop, dict) and isinstance(prop.get("properties"), dict):
                inner = body.get(name)
                if isinstance(inner, dict) or name not in body:
                    inner = inner if isinstance(inner, dict) else {}
                    if _PAGE_NAMES & set(prop["properties"]):
                        body[name] = inner
                        targets.append((inner, prop["properties"]))
        for target, known in targets:
            for what, names in _PAGE_FIELDS.items():
                for name in names:
                    if name in known:
                        value = numbers[what]
                        if value is None and not self.schemas.is_valid(None, known[name]):
                            value = 0
                        target[name] = value
                        break

    # ------------------------------------------------------------------ one record

    def _key(self, resource: Resource, values: RequestValues) -> str:
        return id_key(values.get("path", resource.id_param or resource.id_field))

    def _gone(self, owner: str, resource: Resource, parent: str, key: str) -> bool | None:
        """True: deleted or another owner's; False: stored; None: nobody's."""
        found = self.store.get(owner, resource.collection, parent, key)
        if found is DELETED:
            return True
        if found is not None:
            return False
        return True if self.store.held_by_other(owner, resource.collection, parent, key) else None

    def _read(
        self,
        op: Operation,
        resource: Resource,
        parent: str,
        values: RequestValues,
        owner: str,
        accept: str,
    ) -> Response | None:
        key = self._key(resource, values)
        found = self.store.get(owner, resource.collection, parent, key)
        if isinstance(found, dict):
            return self._send(op, accept, found, record_of=resource)
        if found is DELETED or self.store.held_by_other(owner, resource.collection, parent, key):
            return self._not_found(op, resource)
        return self._with_asked_id(op, resource, values, accept)

    def _with_asked_id(
        self, op: Operation, resource: Resource, values: RequestValues, accept: str
    ) -> Response | None:
        """unknown-id: the spec's answer; made from the schema, it carries the id asked
        rather than a made-up one (which a client, or a link, would take for a real id).
        The docs' own example is sent as written, as Prism sends it."""
        _, _, media = self._success(op, accept)
        if media is not None and (media.has_example or media.examples):
            return None
        value = self._spec_value(op, accept)
        if isinstance(value, dict) and resource.id_field in value:
            value[resource.id_field] = values.get("path", resource.id_param or "")
            return self._send(op, accept, value)
        return None

    def _change(
        self,
        op: Operation,
        resource: Resource,
        parent: str,
        values: RequestValues,
        owner: str,
        accept: str,
    ) -> Response | None:
        key = self._key(resource, values)
        gone = self._gone(owner, resource, parent, key)
        if gone is None:
            return self._with_asked_id(op, resource, values, accept)
        if gone:
            return self._not_found(op, resource)
        props = self._props(resource)
        sent = values.body if isinstance(values.body, dict) else {}

        def update(record: dict[str, Any]) -> dict[str, Any]:
            for name, value in sent.items():
                if name in props and name != resource.id_field:
                    trial = {**record, name: value}
                    if resource.record_schema is None or self.schemas.is_valid(
                        trial, resource.record_schema
                    ):
                        record = trial
            return record

        with self.store.lock:
            changed = self.store.change(owner, resource.collection, parent, key, update)
        if changed is None:
            return None
        _, _, media = self._success(op, accept)
        if media is not None and media.schema is not None and is_json(media.name):
            if self.schemas.is_valid(changed, media.schema):
                return self._send(op, accept, changed)
        return self.routes.answer_plain(op, accept)

    def _delete(
        self,
        op: Operation,
        resource: Resource,
        parent: str,
        values: RequestValues,
        owner: str,
        accept: str,
    ) -> Response | None:
        key = self._key(resource, values)
        with self.store.lock:
            if self._gone(owner, resource, parent, key):
                return self._not_found(op, resource)
            self.store.delete(owner, resource.collection, parent, key)
        return self.routes.answer_plain(op, accept)

    # ------------------------------------------------------------------ import

    def check_record(self, collection: str, record: dict[str, Any]) -> str | None:
        """The id key of an imported record, after checking it fits its collection."""
        resource = self.model.resource(collection)
        if resource is None:
            return None
        if resource.id_field not in record:
            raise StateError(f"a record of {collection!r} lacks its id field {resource.id_field!r}")
        if resource.record_schema is not None:
            problem = self.schemas.first_problem(record, resource.record_schema, "record")
            if problem is not None:
                raise StateError(f"a record of {collection!r}: {problem}")
        return id_key(record[resource.id_field])

    def clear(self) -> None:
        self.store.clear()

    def export(self) -> dict[str, Any]:
        document = self.store.export()
        document["collections"] = sorted(self.model.resources)
        return document

    def load(self, document: Any) -> tuple[int, int]:
        if isinstance(document, dict):
            document = {k: v for k, v in document.items() if k != "collections"}
        return self.store.load(document, self.check_record)
