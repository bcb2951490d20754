"""The generated client's own changes, read with ast from two package trees."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

from tools import changelog, generate
from tools.changelog import ClientChange
from tools.generated_diff import compare_packages

from .whole_api import vendor_whole_api


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), "utf-8")
    return root


MODEL = """
    from typing import Literal
    from attrs import define as _attrs_define

    Status = Literal["draft", "sent"]

    @_attrs_define
    class Thing:
        id: str
        weight: float | Unset = UNSET

        def to_dict(self) -> dict: ...

    class _Private:
        hidden: int
"""
CALL = """
    def _get_kwargs(id: str) -> dict: ...

    def sync(id: str, *, client: AuthenticatedClient, limit: int | Unset = UNSET) -> Thing: ...
"""


def test_modules_models_fields_enum_values_and_arguments(tmp_path: Path) -> None:
    old = tree(
        tmp_path / "old",
        {
            "models/thing.py": MODEL,
            "models/gone.py": "class Gone:\n    x: int\n",
            "api/t/get.py": CALL,
        },
    )
    new = tree(
        tmp_path / "new",
        {
            "models/thing.py": MODEL.replace('"sent"]', '"sent", "returned"]')
            .replace("weight: float | Unset = UNSET", "weight: str")
            .replace("id: str\n", "id: str\n        packing_type: str | Unset = UNSET\n")
            .replace("class _Private", "class Extra:\n        pass\n\n    class _Private"),
            "models/new.py": "class New:\n    y: int\n",
            "api/t/get.py": CALL.replace(", limit: int | Unset = UNSET", ", page: int"),
        },
    )
    assert compare_packages(old, new) == [
        ClientChange("argument-removed", "api.t.get.sync.limit", "int | Unset"),
        ClientChange("argument-added", "api.t.get.sync.page", "int"),
        ClientChange("module-removed", "models.gone"),
        ClientChange("module-added", "models.new"),
        ClientChange("model-added", "models.thing.Extra"),
        ClientChange("field-added", "models.thing.Thing.packing_type", "str | Unset"),
        ClientChange("field-type-changed", "models.thing.Thing.weight", "float | Unset -> str"),
        ClientChange("enum-value-added", "models.thing.Status", "'returned'"),
    ]
    assert compare_packages(old, old) == []


def test_a_realistic_update_regenerated(tmp_path: Path) -> None:
    """The new spec generated into a scratch directory and read against the old client."""
    base = vendor_whole_api(tmp_path)
    spec = json.loads(base.read_text("utf-8"))
    new = copy.deepcopy(spec)
    schemas = new["components"]["schemas"]
    schemas["ShipmentRequest"]["properties"]["packingType"] = {"type": "string"}
    schemas["Shipment"]["properties"]["status"]["enum"].append("returned")
    del schemas["Party"]["properties"]["address"]
    new["paths"]["/shipments/{id}/tracking"] = {
        "get": {
            "tags": ["Shipments"],
            "parameters": [
                {"in": "path", "name": "id", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {"200": {"description": "Events of the shipment"}},
        }
    }
    limit = next(p for p in new["paths"]["/shipments"]["get"]["parameters"] if p["name"] == "limit")
    limit["required"] = True
    (tmp_path / "new").mkdir()
    new_spec = tmp_path / "new" / "openapi.json"
    new_spec.write_text(json.dumps(new), "utf-8")
    old_package = generate.generate_into("novapost_client", base, tmp_path / "old")
    assert changelog.client_changes(new_spec, old_package) == [
        ClientChange("argument-type-changed", "api.shipments.get_shipments.sync.limit", "int | Unset -> int"),
        ClientChange("module-added", "api.shipments.get_shipments_id_tracking"),
        ClientChange("field-removed", "models.party.Party.address", "str | Unset"),
        ClientChange("field-added", "models.shipment_request.ShipmentRequest.packing_type", "str | Unset"),
        ClientChange("enum-value-added", "models.shipment_status.ShipmentStatus", "'returned'"),
    ]  # fmt: skip
