"""The resource model inferred from the whole vendored API: which path is what, and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from carrier_mocks.novapost.app import OVERRIDES
from carrier_mocks.openapi.document import Operation, operations
from carrier_mocks.openapi.resources import (
    RULES,
    Filter,
    OverridesError,
    ResourceModel,
    load_overrides,
)
from carrier_mocks.openapi.schemas import SchemaSet

from tests.specs.whole_api import vendor_whole_api

TOKEN_ROUTES = ("POST /test-api-keys", "GET /clients/authorization")


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = vendor_whole_api(tmp_path_factory.mktemp("resources"))
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def served(spec: dict[str, Any]) -> list[Operation]:
    return [op for op in operations(spec) if op.key not in TOKEN_ROUTES]


@pytest.fixture(scope="module")
def model(spec: dict[str, Any]) -> ResourceModel:
    return ResourceModel(served(spec), SchemaSet(spec), load_overrides(OVERRIDES))


def test_each_path_gets_the_kind_its_shape_says(model: ResourceModel) -> None:
    kinds = {path: text.split(" ")[0] for path, text in model.describe().items()}
    assert kinds["/pickups"] == "collection"
    assert kinds["/pickups/{id}"] == "item"
    assert kinds["/pickups/{id}/shipments"] == "sub-collection"
    assert kinds["/pickups/{id}/shipments/{shipmentId}"] == "item"
    assert kinds["/pickups/{id}/status"] == "action"
    assert kinds["/shipments"] == "collection"
    assert kinds["/shipments/{id}/label"] == "view"
    assert kinds["/shipments/cancellation"] == "collection-action"
    assert kinds["/webhooks/{id}"] == "item"
    assert kinds["/dictionaries/points"] == "read-only"
    assert kinds["/dictionaries/points/{id}"] == "read-only"


def test_roles_ids_and_numbers_come_from_the_spec(model: ResourceModel) -> None:
    roles = {key: role.name for key, role in model.roles.items()}
    assert roles == {
        "POST /pickups": "create",
        "GET /pickups": "list",
        "GET /pickups/{id}": "read",
        "PUT /pickups/{id}": "update",
        "DELETE /pickups/{id}": "delete",
        "PUT /pickups/{id}/status": "action",
        "POST /pickups/{id}/shipments": "create",
        "GET /pickups/{id}/shipments": "list",
        "DELETE /pickups/{id}/shipments/{shipmentId}": "delete",
        "POST /shipments": "create",
        "GET /shipments": "list",
        "GET /shipments/{id}": "read",
        "POST /webhooks": "create",
        "GET /webhooks": "list",
        "DELETE /webhooks/{id}": "delete",
        "POST /registers": "create",
        "GET /registers": "list",
        "POST /registers/{registerId}/rename": "action",
        "DELETE /registers/{registerId}": "delete",
    }
    pickups = model.resources["/pickups"]
    assert (pickups.id_param, pickups.id_field, pickups.number_field) == ("id", "id", "number")
    assert pickups.id_schema["type"] == "integer"
    assert model.resources["/shipments"].id_schema["format"] == "uuid"
    members = model.resources["/pickups/{id}/shipments"]
    assert members.parent is pickups and members.parent_param == "id"
    assert members.id_param == "shipmentId" and members.id_field == "id"


def test_list_filters_match_fields_and_the_overrides(model: ResourceModel) -> None:
    assert model.roles["GET /pickups"].filters == (
        Filter("ids[]", "id"),
        Filter("numbers[]", "number"),
        Filter("statuses[]", "status"),
    )
    assert model.roles["GET /shipments"].filters == (
        Filter("ids[]", "id"),
        Filter("createdFrom", "createdAt", "from", "override"),
    )


def test_an_override_changes_what_the_rules_infer(spec: dict[str, Any]) -> None:
    overrides = {"paths": {"/pickups/{id}/status": {"kind": "view", "why": "a test"}}}
    model = ResourceModel(served(spec), SchemaSet(spec), overrides)
    assert "PUT /pickups/{id}/status" not in model.roles
    assert model.describe()["/pickups/{id}/status"] == "view (override)"


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"paths": {"/a": {"kind": "item"}}}, "paths['/a']: 'why' must say"),
        ({"paths": {"/a": {"why": "x", "kind": "thing"}}}, "'kind' must be one of"),
        ({"paths": {"/a": {"why": "x", "idfield": "id"}}}, "unknown field 'idfield'"),
        ({"paths": {"/a": {"why": "x", "filters": {"q": {"field": 1}}}}}, "filters['q']"),
        ({"resources": {}}, "expected an object with 'paths'"),
    ],
)
def test_a_bad_overrides_file_is_refused_naming_the_entry(
    tmp_path: Path, document: dict[str, Any], says: str
) -> None:
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(OverridesError, match=r"resources\.json") as caught:
        load_overrides(path)
    assert says in str(caught.value)


def test_every_rule_is_listed_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name, text in RULES.items() if f"| `{name}` | {text} |" not in readme]
    assert missing == []
