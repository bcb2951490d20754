"""What a server keeps must hang together: created = read, deleted = gone. Named checks.

Registered by the hooks in every run (mock, URL, live) when the runner names the
spec (``CONTRACT_SPEC``). The resource model (``carriers_contract.resources``)
says which operation creates, reads, changes and deletes which records. Each 2xx
is remembered: a later read of a created record must carry its id and the
fields sent that the create echoed; a later read of a deleted one must not be a
2xx. Requests that started before the change they would contradict are not
judged (parallel workers), and a change (PUT, PATCH, an action) forgets what the
create said.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import schemathesis
import yaml
from carrier_mocks.openapi.resources import ResourceModel, Role
from carrier_mocks.openapi.state import id_key
from schemathesis import Case, CheckContext, Response

from carriers_contract.resources import model_of

__all__ = ["CHECKS", "created_item_reads_back", "deleted_item_is_gone", "register", "use_spec"]

Key = tuple[str, str, str]
"""(collection, parent id, id)."""
Moment = tuple[float, int]
"""When a change was answered, and the thread (one worker's sequence) that saw it."""
SLACK = 0.05
"""Seconds a read from another worker must start after a change to be judged by it."""


class _Memory:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: ResourceModel | None = None
        self.created: dict[Key, tuple[Moment, dict[str, Any]]] = {}
        self.deleted: dict[Key, Moment] = {}
        self.changed: dict[Key, Moment] = {}


_memory = _Memory()


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"")
    except (ValueError, RecursionError):
        return None


def _role(case: Case[Any]) -> Role | None:
    model = _memory.model
    return None if model is None else model.roles.get(str(case.operation.label))


def _parent(role: Role, case: Case[Any]) -> str:
    param = role.resource.parent_param
    return "" if param is None else id_key((case.path_parameters or {}).get(param))


def _key(role: Role, case: Case[Any]) -> Key:
    resource = role.resource
    value = (case.path_parameters or {}).get(resource.id_param or resource.id_field)
    return resource.collection, _parent(role, case), id_key(value)


def _observe(case: Case[Any], response: Response) -> Role | None:
    """Remember what a 2xx create, change or delete did; the role of the operation."""
    role = _role(case)
    if role is None or not 200 <= response.status_code < 300:
        return role
    now = (time.monotonic(), threading.get_ident())
    resource = role.resource
    if role.name == "create":
        body, sent = _json(response), case.body
        records = body if isinstance(body, list) else [body]
        entries = sent if isinstance(sent, list) else [sent] * len(records)
        with _memory.lock:
            for record, entry in zip(records, entries, strict=False):
                if not isinstance(record, dict) or resource.id_field not in record:
                    continue
                echoed = {
                    name: value
                    for name, value in (entry if isinstance(entry, dict) else {}).items()
                    if record.get(name) == value
                }
                echoed[resource.id_field] = record[resource.id_field]
                key = (resource.collection, _parent(role, case), id_key(record[resource.id_field]))
                _memory.created[key] = (now, echoed)
                _memory.deleted.pop(key, None)
    elif role.name in ("update", "action"):
        with _memory.lock:
            key = _key(role, case)
            _memory.created.pop(key, None)
            _memory.changed[key] = now
    elif role.name == "delete":
        with _memory.lock:
            key = _key(role, case)
            _memory.created.pop(key, None)
            _memory.deleted[key] = now
    return role


def _after(response: Response, moment: Moment | None) -> bool:
    """Whether the request was sent after ``moment``'s answer: surely in the same worker,
    with room for clocks and queues from another."""
    if moment is None:
        return True
    at, thread = moment
    if thread == threading.get_ident():
        return True
    return time.monotonic() - float(response.elapsed) - SLACK > at


def created_item_reads_back(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """A read of a created record returns its id and the fields the create was sent."""
    role = _observe(case, response)
    if role is None or role.name != "read" or not 200 <= response.status_code < 300:
        return
    key = _key(role, case)
    with _memory.lock:
        remembered = _memory.created.get(key)
        changed = _memory.changed.get(key)
    if remembered is None:
        return
    made, expected = remembered
    if not (_after(response, made) and _after(response, changed)):
        return  # perhaps sent before the create or a change was answered: not judged
    body = _json(response)
    if not isinstance(body, dict):
        raise AssertionError(f"{case.operation.label} of a created record is not an object")
    differ = sorted(name for name, value in expected.items() if body.get(name) != value)
    if differ:
        raise AssertionError(
            f"{case.operation.label} returned the record created with id {key[2]} with other "
            f"values for {', '.join(differ)} than the create was sent and returned"
        )


def deleted_item_is_gone(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """After a 2xx delete, a read of the same id is no longer a 2xx."""
    role = _observe(case, response)
    if role is None or role.name != "read" or not 200 <= response.status_code < 300:
        return
    key = _key(role, case)
    with _memory.lock:
        deleted = _memory.deleted.get(key)
    if deleted is not None and _after(response, deleted):
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code} for id {key[2]}, "
            "which a DELETE had removed"
        )


CHECKS = (created_item_reads_back, deleted_item_is_gone)


def use_spec(spec: dict[str, Any], carrier: str) -> None:
    """Judge by the resource model of ``spec``, with nothing remembered yet."""
    with _memory.lock:
        _memory.model = model_of(spec, carrier)
        _memory.created.clear()
        _memory.deleted.clear()
        _memory.changed.clear()


def register(spec_path: str, carrier: str) -> None:
    """Build the resource model of the spec under test and register the checks."""
    text = Path(spec_path).read_text(encoding="utf-8")
    use_spec(json.loads(text) if spec_path.endswith(".json") else yaml.safe_load(text), carrier)
    for check in CHECKS:
        schemathesis.check(check)
