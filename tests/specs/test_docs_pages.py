"""Three more docs sections (tests/specs/pages/) vendored with the real page and generated.

The pages are written in the portal's style and carry every upstream quirk the
fixes are for, so that adding a real section is known to need no code change.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.specs.whole_api import TEST_PAGES, vendor_whole_api
from tools import generate, vendor

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "pages_client"

OPERATIONS = {
    ("post", "/test-api-keys"): "authorization.post_test_api_keys",
    ("get", "/clients/authorization"): "authorization.get_clients_authorization",
    ("get", "/dictionaries/cities"): "dictionaries.get_dictionaries_cities",
    ("get", "/dictionaries/points"): "dictionaries.get_dictionaries_points",
    ("get", "/dictionaries/points/{id}"): "dictionaries.get_dictionaries_points_id",
    ("get", "/dictionaries/currencies"): "dictionaries.get_dictionaries_currencies",
    ("post", "/shipments"): "shipments.create_shipments",
    ("get", "/shipments"): "shipments.get_shipments",
    ("get", "/shipments/{id}"): "shipments.get_shipments_id",
    ("post", "/shipments/cancellation"): "shipments.post_shipments_cancellation",
    ("get", "/shipments/{id}/label"): "shipments.get_shipments_id_label",
    ("get", "/shipments/{id}/customs-declaration"): (
        "shipments.get_shipments_id_customs_declaration"
    ),
    ("get", "/shipments/{id}/barcode"): "shipments.get_shipments_id_barcode",
    ("post", "/webhooks"): "webhooks.post_webhooks",
    ("get", "/webhooks"): "webhooks.get_webhooks",
    ("delete", "/webhooks/{id}"): "webhooks.delete_webhooks_id",
    ("get", "/registers"): "registers.get_registers",
    ("post", "/registers"): "registers.post_registers",
    ("post", "/registers/{registerId}/rename"): "registers.post_registers_register_id_rename",
    ("delete", "/registers/{registerId}"): "registers.delete_registers_register_id",
    ("get", "/registers/{registerId}/document"): "registers.get_registers_register_id_document",
    ("get", "/tracking/{shipmentNumber}"): "tracking.get_tracking_shipment_number",
    ("get", "/dictionaries/exchange-rates"): "tracking.get_dictionaries_exchange_rates",
    ("patch", "/sdk/php"): "tracking.patch_sdk_php",
    ("post", "/pickups"): "pickups.post_pickups",
    ("get", "/pickups"): "pickups.get_pickups",
    ("get", "/pickups/{id}"): "pickups.get_pickups_id",
    ("put", "/pickups/{id}"): "pickups.put_pickups_id",
    ("delete", "/pickups/{id}"): "pickups.delete_pickups_id",
    ("put", "/pickups/{id}/status"): "pickups.put_pickups_id_status",
    ("get", "/pickups/{id}/shipments"): "pickups.get_pickups_id_shipments",
    ("post", "/pickups/{id}/shipments"): "pickups.post_pickups_id_shipments",
    ("delete", "/pickups/{id}/shipments/{shipmentId}"): (
        "pickups.delete_pickups_id_shipments_shipment_id"
    ),
}


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vendor_whole_api(tmp_path_factory.mktemp("vendored"))


@pytest.fixture(scope="module")
def spec(spec_file: Path) -> dict[str, Any]:
    return json.loads(spec_file.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def client_root(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The merged spec generated into a package of its own, importable for the module."""
    root = tmp_path_factory.mktemp("generated")
    generate.generate_into(PACKAGE, spec_file, root)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def endpoint(module: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.{module}")


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- vendoring


def test_every_operation_is_vendored_and_named(spec: dict[str, Any]) -> None:
    found = {
        (method, path): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in vendor.HTTP_METHODS
    }
    assert set(found) == set(OPERATIONS)
    assert found[("post", "/shipments")] == "createShipments"  # the one the page names
    assert found[("get", "/dictionaries/points/{id}")] == "get_dictionaries_points_id"


def test_every_fix_is_recorded(spec: dict[str, Any]) -> None:
    assert list(spec["x-vendored-fixes"]) == [f.name for f in vendor.FIXES]


def test_security_and_servers(spec: dict[str, Any]) -> None:
    for (method, path), _ in OPERATIONS.items():
        security = spec["paths"][path][method]["security"]
        public = path in {"/test-api-keys", "/clients/authorization"}
        assert security == ([] if public else [{"JWT": []}]), (method, path)
    assert [s["url"] for s in spec["servers"]] == [
        "https://api-stage.novapost.pl/v.1.0",
        "https://api.novapost.com/v.1.0",
    ]


def test_components_repeated_across_pages_merge(spec: dict[str, Any]) -> None:
    assert set(spec["components"]["responses"]) == {
        "Unauthorized",
        "Validation",
        "Time-out",
        "NotFound",
        "PickupValidation",
        "PickupNotFound",
    }
    assert schema(spec, "Pagination")["required"] == ["page", "limit", "total"]
    errors = schema(spec, "Error")["properties"]["errors"]
    assert errors == {"type": "object", "additionalProperties": {"type": "string"}}


def test_property_named_type_stays_a_property(spec: dict[str, Any]) -> None:
    point_type = schema(spec, "Point")["properties"]["type"]
    assert point_type["type"] == "object" and "code" in point_type["properties"]
    assert schema(spec, "Point")["properties"]["items"]["items"] == {"type": "string"}
    assert schema(spec, "City")["properties"]["type"]["enum"] == ["city", "town", "village"]


def test_example_beside_examples(spec: dict[str, Any]) -> None:
    name = spec["paths"]["/dictionaries/cities"]["get"]["parameters"][0]
    assert "example" not in name and set(name["examples"]) == {"prefix", "full"}
    body = spec["paths"]["/shipments"]["post"]["requestBody"]["content"]["application/json"]
    assert "example" not in body and set(body["examples"]) == {"one"}


def test_values_of_the_wrong_type(spec: dict[str, Any]) -> None:
    request = schema(spec, "ShipmentRequest")["properties"]
    assert request["insuranceCost"]["default"] == "0"
    assert schema(spec, "Shipment")["properties"]["cost"]["default"] == 0
    assert schema(spec, "Subscription")["properties"]["active"]["default"] is True
    assert schema(spec, "Currency")["properties"]["decimals"]["enum"] == [0, 2, 3]
    assert schema(spec, "Currency")["properties"]["code"]["example"] == "985"
    size = spec["paths"]["/shipments/{id}/label"]["get"]["parameters"][0]["schema"]
    assert size["enum"] == ["A6", "A4", "100"]


def test_arrays_without_items(spec: dict[str, Any]) -> None:
    assert schema(spec, "ShipmentRequest")["properties"]["parcels"]["items"] == {}
    cancel = spec["paths"]["/shipments/cancellation"]["post"]["requestBody"]
    assert cancel["content"]["application/json"]["schema"]["properties"]["ids"]["items"] == {}


def test_binary_responses(spec: dict[str, Any]) -> None:
    binary = {"type": "string", "format": "binary"}
    for path, media in [
        ("/shipments/{id}/label", "application/pdf"),
        ("/shipments/{id}/customs-declaration", "application/pdf"),
        ("/shipments/{id}/barcode", "image/png"),
    ]:
        assert spec["paths"][path]["get"]["responses"]["200"]["content"][media]["schema"] == binary


def test_formats_and_php_array_queries(spec: dict[str, Any]) -> None:
    assert schema(spec, "Shipment")["properties"]["createdAt"]["format"] == "date-time"
    params = {p["name"]: p for p in spec["paths"]["/shipments"]["get"]["parameters"]}
    assert params["ids[]"]["schema"] == {
        "type": "array",
        "items": {"type": "string", "format": "uuid"},
    }
    assert params["createdFrom"]["schema"]["format"] == "date-time"
    points = {p["name"]: p for p in spec["paths"]["/dictionaries/points"]["get"]["parameters"]}
    assert points["pointTypes[]"]["schema"]["type"] == "array"


def test_info_title_comes_from_the_fix_without_the_authorization_page() -> None:
    """The test pages, like most upstream fragments, carry no info.title."""
    alone = json.loads(vendor.build(TEST_PAGES))
    assert alone["info"] == {"version": "1.0.0", "title": "API Nova Post"}


# --------------------------------------------------------------------------- generation


def test_every_operation_is_generated_and_imports(client_root: Path) -> None:
    for module in OPERATIONS.values():
        assert callable(endpoint(module).sync_detailed), module
    spec = json.loads((client_root / PACKAGE / "openapi.json").read_text(encoding="utf-8"))
    assert generate.missing_code(spec, client_root / PACKAGE) == []


def _response(status: int, content: bytes, content_type: str) -> httpx.Response:
    request = httpx.Request("GET", "https://api.invalid/")
    return httpx.Response(
        status, content=content, headers={"content-type": content_type}, request=request
    )


@pytest.mark.parametrize(
    ("module", "media_type"),
    [
        ("shipments.get_shipments_id_label", "application/pdf"),
        ("shipments.get_shipments_id_customs_declaration", "application/pdf"),
        ("shipments.get_shipments_id_barcode", "image/png"),
    ],
)
def test_binary_downloads_return_the_bytes(client_root: Path, module: str, media_type: str) -> None:
    client = importlib.import_module(PACKAGE).Client(base_url="https://api.invalid")
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" if media_type == "application/pdf" else b"\x89PNG\r\n"
    parsed = endpoint(module)._parse_response(
        client=client, response=_response(200, body, media_type)
    )
    assert parsed.payload.read() == body


def test_array_body_create_sends_a_list(client_root: Path) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    entry = models.ShipmentRequest(
        sender=models.Party(name="Hanna Kowal", phone="48500100200"),
        recipient=models.Party(name="Ola Nowak", phone="48600300400", point_id=2291),
        parcels=[{"weight": 1.2}],
    )
    kwargs = endpoint("shipments.create_shipments")._get_kwargs(body=[entry, entry])
    assert kwargs["method"] == "post" and kwargs["url"] == "/shipments"
    sent = kwargs["json"]
    assert isinstance(sent, list) and len(sent) == 2
    assert sent[0]["parcels"] == [{"weight": 1.2}] and sent[0]["recipient"]["pointId"] == 2291
    assert sent[0]["insuranceCost"] == "0"  # the coerced default


def test_missing_code_names_what_the_generator_skipped(client_root: Path) -> None:
    spec = json.loads((client_root / PACKAGE / "openapi.json").read_text(encoding="utf-8"))
    spec["paths"]["/shipments/{id}/label"]["get"]["responses"]["418"] = {"description": "x"}
    spec["paths"]["/nowhere"] = {"get": {"responses": {"200": {"description": "x"}}}}
    assert generate.missing_code(spec, client_root / PACKAGE) == [
        "GET /shipments/{id}/label response 418",
        "GET /nowhere",
    ]


def test_binary_media_types_are_read_as_bytes(spec: dict[str, Any], tmp_path: Path) -> None:
    assert generate.binary_overrides(spec) == {
        "application/pdf": "application/octet-stream",
        "image/png": "application/octet-stream",
    }
    config = generate.config_for(spec, tmp_path)
    assert config != generate.CONFIG  # image/png is not in the committed config
    assert "image/png: application/octet-stream" in config.read_text(encoding="utf-8")


def test_an_operation_the_generator_overwrites_fails_generation(tmp_path: Path) -> None:
    """'getThing' and 'get_thing' share a module: the generator keeps one and warns of nothing."""
    ok = {"responses": {"200": {"description": "ok"}}}
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"get": {"operationId": "getThing", **ok}},
            "/b": {"get": {"operationId": "get_thing", **ok}},
        },
    }
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(generate.GenerateError, match=r"no code for GET /a$"):
        generate.generate_into("twins_client", path, tmp_path / "out")


def test_widened_fields_read_what_the_docs_show(client_root: Path) -> None:
    """The README's promise: int | str, RegisterShipment | str, TrackingInvoice | None."""
    models = importlib.import_module(f"{PACKAGE}.models")
    shipment = "5c0e2d9a-7b41-4e36-9f0a-2a8b6c1d3e45"
    register = models.Register.from_dict(
        {
            "id": 7,
            "name": "Evening",
            "responsiblePerson": "Marta Zielińska",
            "shipments": [shipment, {"id": shipment}],
            "closedAt": None,
        }
    )
    assert register.responsible_person == "Marta Zielińska"
    assert register.shipments[0] == shipment
    assert isinstance(register.shipments[1], models.RegisterShipment)
    assert register.closed_at is None
    assert (
        models.Register.from_dict(
            {"id": 7, "name": "n", "shipments": [], "responsiblePerson": 3}
        ).responsible_person
        == 3
    )
    tracking = models.Tracking.from_dict(
        {"number": "1", "status": "returnedToSender", "invoice": None}
    )
    assert tracking.invoice is None
    paid = models.Tracking.from_dict(
        {"number": "1", "status": "accepted", "invoice": {"amount": 5}}
    )
    assert isinstance(paid.invoice, models.TrackingInvoice)
