"""The API changelog: each class of change, built by hand on the whole vendored API,
is reported where it happened with the rule and the classification written here."""

from __future__ import annotations

import copy
import json
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools import changelog, vendor
from tools.changelog import Changelog, compare

from .whole_api import REAL_PAGES, TEST_PAGES, vendor_whole_api

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Json:
    spec: Json = json.loads(vendor_whole_api(tmp_path_factory.mktemp("api")).read_text("utf-8"))
    return spec


def schemas(spec: Json) -> Json:
    found: Json = spec["components"]["schemas"]
    return found


def op(spec: Json, name: str) -> Json:
    method, path = name.split(" ", 1)
    found: Json = spec["paths"][path][method.lower()]
    return found


def body_schema(spec: Json, name: str) -> Json:
    found: Json = op(spec, name)["requestBody"]["content"]["application/json"]["schema"]
    return found


def param(spec: Json, name: str, pname: str) -> Json:
    return next(p for p in op(spec, name)["parameters"] if p.get("name") == pname)


def found(old: Json, new: Json) -> set[tuple[str, str, str]]:
    changes = compare(old, new)
    assert len(changes) == len(set(changes)), "a change is reported twice"
    return {(c.rule, c.operation, c.where) for c in changes}


# --------------------------------------------------------------------------- one class each

Mutation = Callable[[Json], None]
BODY = "request body application/json"
OK = "response 200 application/json"


def _add(target: Json, name: str, schema: Json, required: bool = False) -> None:
    target["properties"][name] = schema
    if required:
        target.setdefault("required", []).append(name)


def _pop_param(spec: Json, name: str, pname: str) -> None:
    params = op(spec, name)["parameters"]
    params.remove(param(spec, name, pname))


def _points_type_gone(s: Json) -> None:
    del schemas(s)["Point"]["properties"]["type"]
    schemas(s)["Point"]["required"].remove("type")


CASES: list[tuple[str, Mutation, set[tuple[str, str, str]], tuple[bool, bool]]] = [
    (
        "new optional request field",
        lambda s: _add(schemas(s)["ShipmentRequest"], "packingType", {"type": "string"}),
        {("new-optional-request-property", "POST /shipments", f"{BODY}: [].packingType")},
        (False, True),
    ),
    (
        "new required request field",
        lambda s: _add(schemas(s)["ShipmentRequest"], "tariffType", {"type": "string"}, True),
        {("new-required-request-property", "POST /shipments", f"{BODY}: [].tariffType")},
        (True, False),
    ),
    (
        "request field removed, from a component used twice",
        lambda s: schemas(s)["Party"]["properties"].pop("address"),
        {
            ("request-property-removed", "POST /shipments", f"{BODY}: [].sender.address"),
            ("request-property-removed", "POST /shipments", f"{BODY}: [].recipient.address"),
        },
        (True, False),
    ),
    (
        "request field made required",
        lambda s: schemas(s)["ShipmentRequest"]["required"].append("clientReference"),
        {
            (
                "request-property-became-required",
                "POST /shipments",
                f"{BODY}: [].clientReference",
            )
        },
        (True, False),
    ),
    (
        "request field made optional",
        lambda s: body_schema(s, "POST /webhooks")["required"].remove("events"),
        {("request-property-became-optional", "POST /webhooks", f"{BODY}: events")},
        (False, True),
    ),
    (
        "request field type changed",
        lambda s: schemas(s)["Party"]["properties"]["pointId"].update(type="string"),
        {
            ("request-property-type-changed", "POST /shipments", f"{BODY}: [].sender.pointId"),
            (
                "request-property-type-changed",
                "POST /shipments",
                f"{BODY}: [].recipient.pointId",
            ),
        },
        (True, True),
    ),
    (
        "request field format changed",
        lambda s: body_schema(s, "POST /webhooks")["properties"]["url"].pop("format"),
        {("request-property-format-changed", "POST /webhooks", f"{BODY}: url")},
        (True, True),
    ),
    (
        "request field accepts null",
        lambda s: schemas(s)["ShipmentRequest"]["properties"]["currency"].update(nullable=True),
        {("request-property-became-nullable", "POST /shipments", f"{BODY}: [].currency")},
        (False, True),
    ),
    (
        "request enum value added",
        lambda s: schemas(s)["ShipmentRequest"]["properties"]["payer"]["enum"].append("shop"),
        {("request-property-enum-value-added", "POST /shipments", f"{BODY}: [].payer")},
        (False, True),
    ),
    (
        "request enum value removed",
        lambda s: schemas(s)["ShipmentRequest"]["properties"]["payer"]["enum"].remove("thirdParty"),
        {("request-property-enum-value-removed", "POST /shipments", f"{BODY}: [].payer")},
        (True, False),
    ),
    (
        "response enum value added, in a component used by three operations",
        lambda s: schemas(s)["Shipment"]["properties"]["status"]["enum"].append("returned"),
        {
            ("response-property-enum-value-added", "GET /shipments", f"{OK}: items[].status"),
            ("response-property-enum-value-added", "POST /shipments", f"{OK}: [].status"),
            ("response-property-enum-value-added", "GET /shipments/{id}", f"{OK}: status"),
        },
        (True, False),
    ),
    (
        "response enum value removed",
        lambda s: schemas(s)["City"]["properties"]["type"]["enum"].remove("village"),
        {
            (
                "response-property-enum-value-removed",
                "GET /dictionaries/cities",
                f"{OK}: items[].type",
            )
        },
        (False, True),
    ),
    (
        "new required response field",
        lambda s: _add(schemas(s)["JwtResponse"], "expiresAt", {"type": "string"}, True),
        {("response-required-property-added", "GET /clients/authorization", f"{OK}: expiresAt")},
        (False, True),
    ),
    (
        "new optional response field",
        lambda s: _add(schemas(s)["JwtResponse"], "customerNumber", {"type": "string"}),
        {
            (
                "response-optional-property-added",
                "GET /clients/authorization",
                f"{OK}: customerNumber",
            )
        },
        (False, False),
    ),
    (
        "required response field removed",
        lambda s: (
            schemas(s)["TestApiKeyResponse"]["properties"].pop("createdAt"),
            schemas(s)["TestApiKeyResponse"]["required"].remove("createdAt"),
        ),
        {("response-required-property-removed", "POST /test-api-keys", f"{OK}: createdAt")},
        (True, False),
    ),
    (
        "optional response field removed",
        lambda s: schemas(s)["Shipment"]["properties"].pop("cost"),
        {
            ("response-optional-property-removed", "GET /shipments", f"{OK}: items[].cost"),
            ("response-optional-property-removed", "POST /shipments", f"{OK}: [].cost"),
            ("response-optional-property-removed", "GET /shipments/{id}", f"{OK}: cost"),
        },
        (False, False),
    ),
    (
        "an object field removed: its own fields are not reported again",
        _points_type_gone,
        {
            (
                "response-required-property-removed",
                "GET /dictionaries/points",
                f"{OK}: items[].type",
            ),
            ("response-required-property-removed", "GET /dictionaries/points/{id}", f"{OK}: type"),
        },
        (True, False),
    ),
    (
        "response field may be missing",
        lambda s: schemas(s)["TestApiKeyResponse"]["required"].remove("expDate"),
        {("response-property-became-optional", "POST /test-api-keys", f"{OK}: expDate")},
        (True, False),
    ),
    (
        "response field always sent",
        lambda s: schemas(s)["Currency"]["required"].append("name"),
        {("response-property-became-required", "GET /dictionaries/currencies", f"{OK}: [].name")},
        (False, True),
    ),
    (
        "response field may be null",
        lambda s: schemas(s)["Subscription"]["properties"]["createdAt"].update(nullable=True),
        {
            (
                "response-property-became-nullable",
                "POST /webhooks",
                "response 201 application/json: createdAt",
            ),
            ("response-property-became-nullable", "GET /webhooks", f"{OK}: [].createdAt"),
        },
        (True, False),
    ),
    (
        "response field never null",
        lambda s: schemas(s)["City"]["properties"]["region"].pop("nullable"),
        {
            (
                "response-property-became-not-nullable",
                "GET /dictionaries/cities",
                f"{OK}: items[].region",
            )
        },
        (False, True),
    ),
    (
        "response field type changed (its enum is not reported again)",
        lambda s: schemas(s)["Currency"]["properties"]["decimals"].update(type="string"),
        {("response-property-type-changed", "GET /dictionaries/currencies", f"{OK}: [].decimals")},
        (True, True),
    ),
    (
        "response field format changed",
        lambda s: schemas(s)["Shipment"]["properties"]["id"].update(format="ulid"),
        {
            ("response-property-format-changed", "GET /shipments", f"{OK}: items[].id"),
            ("response-property-format-changed", "POST /shipments", f"{OK}: [].id"),
            ("response-property-format-changed", "GET /shipments/{id}", f"{OK}: id"),
        },
        (True, True),
    ),
    (
        "response body type changed",
        lambda s: op(s, "GET /webhooks")["responses"]["200"]["content"]["application/json"].update(
            schema={"$ref": "#/components/schemas/Subscription"}
        ),
        {("response-body-type-changed", "GET /webhooks", f"{OK}: (body)")},
        (True, True),
    ),
    (
        "new required parameter",
        lambda s: op(s, "GET /shipments")["parameters"].append(
            {"in": "query", "name": "status", "required": True, "schema": {"type": "string"}}
        ),
        {("new-required-request-parameter", "GET /shipments", "query parameter status")},
        (True, False),
    ),
    (
        "new optional parameter",
        lambda s: op(s, "GET /shipments")["parameters"].append(
            {"in": "query", "name": "customerNumber", "schema": {"type": "string"}}
        ),
        {("new-optional-request-parameter", "GET /shipments", "query parameter customerNumber")},
        (False, True),
    ),
    (
        "parameter removed",
        lambda s: _pop_param(s, "GET /shipments", "createdFrom"),
        {("request-parameter-removed", "GET /shipments", "query parameter createdFrom")},
        (True, False),
    ),
    (
        "parameter made required",
        lambda s: param(s, "GET /shipments", "limit").update(required=True),
        {("request-parameter-became-required", "GET /shipments", "query parameter limit")},
        (True, False),
    ),
    (
        "parameter made optional",
        lambda s: param(s, "GET /dictionaries/cities", "name").pop("required"),
        {("request-parameter-became-optional", "GET /dictionaries/cities", "query parameter name")},
        (False, True),
    ),
    (
        "parameter type changed",
        lambda s: param(s, "GET /shipments", "page")["schema"].update(type="string"),
        {("request-parameter-type-changed", "GET /shipments", "query parameter page")},
        (True, True),
    ),
    (
        "parameter enum value added",
        lambda s: param(s, "GET /shipments/{id}/label", "size")["schema"]["enum"].append("A5"),
        {
            (
                "request-parameter-enum-value-added",
                "GET /shipments/{id}/label",
                "query parameter size",
            )
        },
        (False, True),
    ),
    (
        "parameter enum value removed",
        lambda s: param(s, "GET /shipments/{id}/label", "size")["schema"]["enum"].remove("100"),
        {
            (
                "request-parameter-enum-value-removed",
                "GET /shipments/{id}/label",
                "query parameter size",
            )
        },
        (True, False),
    ),
    (
        "parameter of the path item changed",
        lambda s: s["paths"]["/shipments/{id}/label"]["parameters"][0]["schema"].update(
            type="integer"
        ),
        {("request-parameter-type-changed", "GET /shipments/{id}/label", "path parameter id")},
        (True, True),
    ),
    (
        "success status added",
        lambda s: op(s, "DELETE /webhooks/{id}")["responses"].update(
            {"200": {"description": "Unsubscribed, with the subscription"}}
        ),
        {("response-success-status-added", "DELETE /webhooks/{id}", "response 200")},
        (True, False),
    ),
    (
        "success status removed",
        lambda s: op(s, "DELETE /webhooks/{id}")["responses"].pop("204"),
        {("response-success-status-removed", "DELETE /webhooks/{id}", "response 204")},
        (False, True),
    ),
    (
        "error status added",
        lambda s: op(s, "GET /webhooks")["responses"].update({"429": {"description": "Slow down"}}),
        {("response-non-success-status-added", "GET /webhooks", "response 429")},
        (False, False),
    ),
    (
        "error status removed",
        lambda s: op(s, "GET /shipments/{id}")["responses"].pop("404"),
        {("response-non-success-status-removed", "GET /shipments/{id}", "response 404")},
        (False, False),
    ),
    (
        "response media type added",
        lambda s: op(s, "GET /shipments/{id}/label")["responses"]["200"]["content"].update(
            {"image/png": {"schema": {"type": "string", "format": "binary"}}}
        ),
        {("response-media-type-added", "GET /shipments/{id}/label", "response 200 image/png")},
        (True, False),
    ),
    (
        "request media type removed",
        lambda s: op(s, "POST /webhooks")["requestBody"]["content"].update(
            {
                "application/xml": op(s, "POST /webhooks")["requestBody"]["content"].pop(
                    "application/json"
                )
            }
        ),
        {
            ("request-body-media-type-removed", "POST /webhooks", "request body application/json"),
            ("request-body-media-type-added", "POST /webhooks", "request body application/xml"),
        },
        (True, True),
    ),
    (
        "request body made optional",
        lambda s: op(s, "POST /webhooks")["requestBody"].update(required=False),
        {("request-body-became-optional", "POST /webhooks", "request body")},
        (False, True),
    ),
    (
        "new required request body (a DELETE with a JSON body)",
        lambda s: op(s, "DELETE /webhooks/{id}").update(
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        ),
        {("added-required-request-body", "DELETE /webhooks/{id}", "request body")},
        (True, False),
    ),
    (
        "request body removed",
        lambda s: op(s, "POST /shipments/cancellation").pop("requestBody"),
        {("request-body-removed", "POST /shipments/cancellation", "request body")},
        (True, False),
    ),
    (
        "new operation",
        lambda s: s["paths"].update(
            {
                "/fulfillment/{countrycode}/orders": {
                    "get": {
                        "parameters": [
                            {
                                "in": "path",
                                "name": "countrycode",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        ],
                        "responses": {"200": {"description": "Orders"}},
                    }
                }
            }
        ),
        {("endpoint-added", "GET /fulfillment/{countrycode}/orders", "operation")},
        (False, True),
    ),
    (
        "operation removed",
        lambda s: s["paths"]["/webhooks/{id}"].pop("delete"),
        {("api-removed-without-deprecation", "DELETE /webhooks/{id}", "operation")},
        (True, False),
    ),
    (
        "operation deprecated",
        lambda s: op(s, "GET /shipments").update(deprecated=True),
        {("endpoint-deprecated", "GET /shipments", "operation")},
        (False, False),
    ),
    (
        "operation needs a security scheme",
        lambda s: op(s, "POST /test-api-keys").update(security=[{"ApiKeyAuth": []}]),
        {("api-security-added", "POST /test-api-keys", "security")},
        (True, False),
    ),
    (
        "operation no longer needs one",
        lambda s: op(s, "GET /webhooks").update(security=[]),
        {("api-security-removed", "GET /webhooks", "security")},
        (False, True),
    ),
    (
        "security scheme changed",
        lambda s: s["components"]["securitySchemes"]["JWT"].update(name="X-Token"),
        {("api-security-component-changed", "", "security scheme JWT")},
        (True, True),
    ),
    (
        "security scheme added",
        lambda s: s["components"]["securitySchemes"].update(
            {"Bearer": {"type": "http", "scheme": "bearer"}}
        ),
        {("api-security-component-added", "", "security scheme Bearer")},
        (False, False),
    ),
    (
        "descriptions, examples and summaries are no change",
        lambda s: (
            schemas(s)["Shipment"].update(description="Another text"),
            op(s, "GET /shipments").update(summary="Other"),
            schemas(s)["Currency"]["properties"]["code"].update(example="978"),
        ),
        set(),
        (False, False),
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected", "breaks"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_class_of_change_is_found_and_classified(
    base: Json,
    mutate: Mutation,
    expected: set[tuple[str, str, str]],
    breaks: tuple[bool, bool],
) -> None:
    new = copy.deepcopy(base)
    mutate(new)
    assert found(base, new) == expected
    log = Changelog(compare(base, new))
    client, server = breaks
    assert bool(log.breaking("client")) == client
    assert bool(log.breaking("server")) == server


def test_every_rule_is_exercised_by_a_case() -> None:
    """The table above names a case for nearly every rule; the rest are listed here."""
    covered = {rule for _, _, expected, _ in CASES for rule, _, _ in expected}
    elsewhere = {  # tested below, or the mirror image of a case above
        "api-removed-with-deprecation",
        "endpoint-reactivated",
        "added-optional-request-body",
        "request-body-became-required",
        "request-body-type-changed",
        "request-parameter-format-changed",
        "request-parameter-became-nullable",
        "request-parameter-became-not-nullable",
        "request-property-became-not-nullable",
        "response-media-type-removed",
        "api-security-component-removed",
    }
    assert set(changelog.RULES) - covered == elsewhere


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda s: op(s, "GET /webhooks").update(requestBody={"content": {}}), "added-optional-request-body"),
        (lambda s: op(s, "POST /shipments/cancellation")["requestBody"].update(required=True), "request-body-became-required"),
        (lambda s: body_schema(s, "POST /webhooks").update(type="array"), "request-body-type-changed"),
        (lambda s: param(s, "GET /shipments", "createdFrom")["schema"].update(format="date"), "request-parameter-format-changed"),
        (lambda s: param(s, "GET /shipments", "page")["schema"].update(nullable=True), "request-parameter-became-nullable"),
        (lambda s: op(s, "GET /shipments/{id}/label")["responses"]["200"].pop("content"), "response-media-type-removed"),
        (lambda s: s["components"]["securitySchemes"].pop("ApiKeyAuth"), "api-security-component-removed"),
    ],
)  # fmt: skip
def test_the_other_rules(base: Json, mutate: Mutation, rule: str) -> None:
    new = copy.deepcopy(base)
    mutate(new)
    assert [c.rule for c in compare(base, new)] == [rule]
    # and back again: the mirror rule, exactly once
    assert len(compare(new, base)) == 1


def test_header_names_in_any_case_are_one_parameter(base: Json) -> None:
    old, new = copy.deepcopy(base), copy.deepcopy(base)
    header = {"in": "header", "name": "X-Request-Id", "schema": {"type": "string"}}
    op(old, "GET /webhooks")["parameters"] = [header]
    op(new, "GET /webhooks")["parameters"] = [{**header, "name": "x-request-id"}]
    assert compare(old, new) == []
    op(new, "GET /webhooks")["parameters"][0]["required"] = True
    assert found(old, new) == {
        ("request-parameter-became-required", "GET /webhooks", "header parameter x-request-id")
    }


def test_mirror_images(base: Json) -> None:
    nullable = copy.deepcopy(base)
    param(nullable, "GET /shipments", "page")["schema"]["nullable"] = True
    assert [c.rule for c in compare(nullable, base)] == ["request-parameter-became-not-nullable"]
    schemas(nullable)["ShipmentRequest"]["properties"]["currency"]["nullable"] = True
    assert "request-property-became-not-nullable" in {c.rule for c in compare(nullable, base)}
    deprecated = copy.deepcopy(base)
    op(deprecated, "GET /shipments").update(deprecated=True)
    assert [c.rule for c in compare(deprecated, base)] == ["endpoint-reactivated"]
    gone = copy.deepcopy(deprecated)
    del gone["paths"]["/shipments"]["get"]
    assert [c.rule for c in compare(deprecated, gone)] == ["api-removed-with-deprecation"]


def test_a_change_to_a_shared_component_is_reported_at_every_operation(base: Json) -> None:
    new = copy.deepcopy(base)
    schemas(new)["Error"]["properties"]["errors"]["additionalProperties"]["type"] = "integer"
    changes = compare(base, new)
    assert {c.rule for c in changes} == {"response-property-type-changed"}
    assert {c.where.split(" application/json: ")[1] for c in changes} == {"errors.{*}"}
    # every operation that documents a 503 answers it with the Error schema (Time-out)
    operations = {
        f"{m.upper()} {p}"
        for p, i in base["paths"].items()
        for m, op in i.items()
        if m != "parameters" and "503" in op["responses"]
    }
    assert len(operations) >= 20
    assert {c.operation for c in changes if c.where.startswith("response 503")} == operations
    assert len(changes) == len(set(changes))


def test_a_combination_is_the_union_of_its_parts(base: Json) -> None:
    """A realistic update: each part is found once, nothing else is."""
    parts = [c for c in CASES if c[0] in {
        "new optional request field",
        "response enum value added, in a component used by three operations",
        "required response field removed",
        "new operation",
        "parameter made required",
    }]  # fmt: skip
    assert len(parts) == 5
    new = copy.deepcopy(base)
    for _, mutate, _, _ in parts:
        mutate(new)
    expected = set().union(*(c[2] for c in parts))
    assert found(base, new) == expected
    log = Changelog(compare(base, new))
    assert len(log.changes) == 7
    assert len(log.breaking("client")) == 5 and len(log.breaking("server")) == 2


def test_recursive_schemas_end_and_compare(base: Json) -> None:
    old = copy.deepcopy(base)
    schemas(old)["Node"] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            "parent": {"allOf": [{"$ref": "#/components/schemas/Node"}]},
        },
    }
    op(old, "GET /webhooks")["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Node"
    }
    assert compare(old, copy.deepcopy(old)) == []
    new = copy.deepcopy(old)
    schemas(new)["Node"]["properties"]["name"]["type"] = "integer"
    assert found(old, new) == {("response-property-type-changed", "GET /webhooks", f"{OK}: name")}


def test_specs_compared_with_themselves_have_no_change(base: Json) -> None:
    assert compare(base, copy.deepcopy(base)) == []
    for spec in (
        ROOT / "specs" / "novapost" / "openapi.json",
        ROOT / "specs" / "shipyo" / "openapi.yaml",
    ):
        doc = changelog.load(spec)
        assert compare(doc, doc) == []
        assert len(compare({}, doc)) == sum(
            1 for item in doc["paths"].values() for m in item if m in vendor.HTTP_METHODS
        ) + len(doc["components"].get("securitySchemes", {}))


# --------------------------------------------------------------------------- output and CLI


def realistic(base: Json) -> Json:
    new = copy.deepcopy(base)
    _add(schemas(new)["ShipmentRequest"], "packingType", {"type": "string"})
    schemas(new)["Shipment"]["properties"]["status"]["enum"].append("returned")
    param(new, "GET /shipments", "limit")["required"] = True
    return new


def test_text_output(base: Json) -> None:
    text = changelog.render_text(Changelog(compare(base, realistic(base))))
    lines = text.splitlines()
    assert lines[0] == "API changelog: 5 changes, 4 breaking for a client, 1 breaking for a server"
    assert "GET /shipments" in lines
    assert (
        "  ! request-parameter-became-required: query parameter limit  [breaking: client]" in lines
    )
    assert (
        "  ! new-optional-request-property: request body application/json: [].packingType "
        "(string)  [breaking: server]"
    ) in lines
    assert changelog.render_text(Changelog()) == "API changelog: no change\n"
    compared = Changelog(client=[])
    assert changelog.render_text(compared).splitlines()[-1] == "Generated client: no change"
    assert changelog.render_markdown(compared).splitlines()[-1] == "No change."
    assert json.loads(changelog.render_json(compared))["generated_client"] == []
    assert json.loads(changelog.render_json(Changelog()))["generated_client"] is None


def test_markdown_output(base: Json) -> None:
    md = changelog.render_markdown(Changelog(compare(base, realistic(base))))
    assert md.startswith("## API changelog: 5 changes")
    assert "| operation | change | rule | breaks a client | breaks a server |" in md
    assert (
        "| GET /shipments | query parameter limit | `request-parameter-became-required` "
        "| **yes** | no |"
    ) in md


def test_json_output(base: Json) -> None:
    doc = json.loads(changelog.render_json(Changelog(compare(base, realistic(base)))))
    assert doc["summary"] == {"changes": 5, "breaking_for_client": 4, "breaking_for_server": 1}
    assert {
        "rule": "request-parameter-became-required",
        "operation": "GET /shipments",
        "where": "query parameter limit",
        "detail": "",
        "client_breaking": True,
        "server_breaking": False,
    } in doc["changes"]


def test_command_line_formats_and_fail_on(
    base: Json, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, same = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "same.json"
    old.write_text(json.dumps(base), "utf-8")
    same.write_text(json.dumps(base), "utf-8")
    new.write_text(json.dumps(realistic(base)), "utf-8")
    assert changelog.main([str(old), str(new)]) == 0
    assert capsys.readouterr().out.startswith("API changelog: 5 changes")
    assert changelog.main([str(old), str(new), "--format", "json", "--fail-on", "breaking"]) == 3
    assert json.loads(capsys.readouterr().out)["summary"]["changes"] == 5
    assert changelog.main([str(old), str(same), "--fail-on", "any"]) == 0
    capsys.readouterr()
    # only a server-side break: --fail-on client passes, --fail-on server fails
    server_only = copy.deepcopy(base)
    _add(schemas(server_only)["ShipmentRequest"], "packingType", {"type": "string"})
    new.write_text(json.dumps(server_only), "utf-8")
    assert changelog.main([str(old), str(new), "--fail-on", "client"]) == 0
    assert changelog.main([str(old), str(new), "--fail-on", "server"]) == 3
    (tmp_path / "bad.json").write_text("[1]", "utf-8")
    assert changelog.main([str(old), str(tmp_path / "bad.json")]) == 1
    assert "bad.json is not an OpenAPI document" in capsys.readouterr().err
    assert changelog.main([str(old), str(tmp_path / "typo.json")]) == 1
    assert "typo.json: cannot read" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text('{"openapi": ', "utf-8")
    assert changelog.main([str(tmp_path / "broken.json"), str(new)]) == 1
    assert "broken.json: not JSON or YAML: Expecting value" in capsys.readouterr().err


def test_make_vendor_prints_the_changelog_against_the_committed_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pages, out = tmp_path / "pages", tmp_path / "openapi.json"
    pages.mkdir()
    (pages / "authorization.md").write_bytes((REAL_PAGES / "authorization.md").read_bytes())
    out.write_bytes((ROOT / "specs" / "novapost" / "openapi.json").read_bytes())
    assert vendor.main(["--pages", str(pages), "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "API changelog: no change"
    (pages / "webhooks.md").write_bytes((TEST_PAGES / "webhooks.md").read_bytes())
    assert vendor.main(["--pages", str(pages), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[1] == (
        "API changelog: 3 changes, 0 breaking for a client, 3 breaking for a server"
    )
    assert "  ! endpoint-added: operation  [breaking: server]" in text
    (pages / "webhooks.md").unlink()
    assert vendor.main(["--pages", str(pages), "--out", str(out), "--fail-on", "breaking"]) == 3
    text = capsys.readouterr().out
    assert "api-removed-without-deprecation: operation  [breaking: client]" in text
    assert "DELETE /webhooks/{id}" in text
    assert vendor.main(["--pages", str(pages), "--out", str(out), "--fail-on", "breaking"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "API changelog: no change"


def test_make_vendor_lists_the_generated_clients_changes_beside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `make vendor` runs it: --client generated/novapost_client."""
    pages, out = tmp_path / "pages", tmp_path / "openapi.json"
    pages.mkdir()
    page = (REAL_PAGES / "authorization.md").read_text("utf-8")
    new_field = '"customerNumber":{"type":"string"},"apiKey":{"type":"string"'
    (pages / "authorization.md").write_text(
        page.replace('"apiKey":{"type":"string"', new_field, 1), "utf-8"
    )
    out.write_bytes((ROOT / "specs" / "novapost" / "openapi.json").read_bytes())
    client = ROOT / "generated" / "novapost_client"
    assert vendor.main(["--pages", str(pages), "--out", str(out), "--client", str(client)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "API changelog: 1 change, 0 breaking for a client, 0 breaking for a server",
        "",
        "POST /test-api-keys",
        "    response-optional-property-added: response 200 application/json: customerNumber  "
        "[breaking: -]",
        "",
        "Generated client: 1 change(s)",
        "  field-added: models.test_api_key_response.TestApiKeyResponse.customer_number "
        "(str | Unset)",
    ]


# --------------------------------------------------------------------------- property


def inline(spec: Json, node: Any) -> Any:
    """``node`` with every $ref replaced by a copy of its target (the test API has no cycle)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return inline(spec, vendor.resolve(spec, node["$ref"]))
        return {k: inline(spec, v) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(spec, v) for v in node]
    return node


def objects(schema: Json) -> list[Json]:
    """Every object schema with properties, found by walking properties and items."""
    out = [schema] if isinstance(schema.get("properties"), dict) and schema["properties"] else []
    for sub in (schema.get("properties") or {}).values():
        out += objects(sub)
    if isinstance(schema.get("items"), dict):
        out += objects(schema["items"])
    return out


Draw = Callable[[st.SearchStrategy[Any]], Any]
Expected = list[tuple[str, str]]


def body_places(spec: Json) -> list[tuple[str, str, list[str]]]:
    """(operation, side, keys to the JSON media) of every body with an object in it."""
    out = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in vendor.HTTP_METHODS:
                continue
            name = f"{method.upper()} {path}"
            media = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if media and objects(inline(spec, media["schema"])):
                out.append((name, "request", ["requestBody"]))
            for status, response in operation["responses"].items():
                media = inline(spec, response).get("content", {}).get("application/json")
                if status.startswith("2") and media and objects(inline(spec, media["schema"])):
                    out.append((name, "response", ["responses", status]))
    return out


def _media(spec: Json, name: str, keys: list[str]) -> Json:
    node = op(spec, name)
    for key in keys:
        node = node[key]
    if keys[0] == "responses":  # this response on its own: no change to the others
        resolved = inline(spec, copy.deepcopy(node))
        node.clear()
        node.update(resolved)
        return node["content"]["application/json"]  # type: ignore[no-any-return]
    found_media: Json = node["content"]["application/json"]
    return found_media


def mutate(spec: Json, places: list[tuple[str, str, list[str]]], draw: Draw) -> Expected:
    """Up to three changes to ``spec``, each on an operation of its own, and the
    (rule, operation) that each must be reported as."""
    new = spec
    operations = sorted(
        {
            f"{m.upper()} {p}"
            for p, i in spec["paths"].items()
            for m in i
            if m in vendor.HTTP_METHODS
        }
    )
    chosen = draw(st.lists(st.sampled_from(operations), min_size=0, max_size=3, unique=True))
    expected: list[tuple[str, str]] = []
    for name in chosen:
        at_op = [p for p in places if p[0] == name]
        kinds = ["remove-operation", "add-status", "add-parameter", "deprecate"]
        if at_op:
            kinds += ["add-field", "remove-field", "retype-field", "nullable-field", "enum-value"]
        if op(new, name).get("parameters"):
            kinds.append("toggle-parameter")
        kind = draw(st.sampled_from(kinds))
        operation = op(new, name)
        if kind == "remove-operation":
            method, path = name.split(" ", 1)
            del new["paths"][path][method.lower()]
            expected.append(("api-removed-without-deprecation", name))
        elif kind == "add-status":
            operation["responses"]["418"] = {"description": "Teapot"}
            expected.append(("response-non-success-status-added", name))
        elif kind == "deprecate":
            operation["deprecated"] = True
            expected.append(("endpoint-deprecated", name))
        elif kind == "add-parameter":
            required = draw(st.booleans())
            operation.setdefault("parameters", []).append(
                {
                    "in": "header",
                    "name": "X-Extra",
                    "required": required,
                    "schema": {"type": "string"},
                }
            )
            how = "required" if required else "optional"
            expected.append((f"new-{how}-request-parameter", name))
        elif kind == "toggle-parameter":
            p = draw(st.sampled_from(operation["parameters"]))
            if "$ref" in p or p.get("in") == "path":
                p.setdefault("description", "")  # a path parameter stays required: no change
                continue
            p["required"] = not p.get("required", False)
            how = "required" if p["required"] else "optional"
            expected.append((f"request-parameter-became-{how}", name))
        else:
            _, side, keys = draw(st.sampled_from(at_op))
            media = _media(new, name, keys)
            media["schema"] = inline(new, media["schema"])
            target = draw(st.sampled_from(objects(media["schema"])))
            props = target["properties"]
            prop = draw(st.sampled_from(sorted(props)))
            required = prop in (target.get("required") or [])
            if kind == "add-field":
                props["zzNew"] = {"type": "string"}
                rule = (
                    "new-optional-request-property"
                    if side == "request"
                    else "response-optional-property-added"
                )
            elif kind == "remove-field":
                del props[prop]
                if required:
                    target["required"].remove(prop)
                how = "required" if required else "optional"
                rule = (
                    "request-property-removed"
                    if side == "request"
                    else f"response-{how}-property-removed"
                )
            elif kind == "retype-field":
                props[prop] = {
                    "type": "boolean" if props[prop].get("type") != "boolean" else "string"
                }
                rule = f"{side}-property-type-changed"
            elif kind == "nullable-field":
                if props[prop].get("nullable") or "type" not in props[prop]:
                    continue
                props[prop]["nullable"] = True
                rule = f"{side}-property-became-nullable"
            else:
                enums = [s for s in props.values() if isinstance(s.get("enum"), list)]
                if not enums:
                    continue
                draw(st.sampled_from(enums))["enum"].append("zz-new")
                rule = f"{side}-property-enum-value-added"
            expected.append((rule, name))
    return expected


class WholeApi:
    """The spec and its body places, with a short repr for hypothesis' reports."""

    def __init__(self, spec: Json) -> None:
        self.spec, self.places = spec, body_places(spec)

    def __repr__(self) -> str:
        return "WholeApi()"


@pytest.fixture(scope="module")
def whole(base: Json) -> WholeApi:
    return WholeApi(base)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_change_is_reported_exactly_once(whole: WholeApi, data: st.DataObject) -> None:
    new = copy.deepcopy(whole.spec)
    expected = mutate(new, whole.places, data.draw)
    assert compare(new, copy.deepcopy(new)) == []
    changes = compare(whole.spec, new)
    assert sorted((c.rule, c.operation) for c in changes) == sorted(expected)


def test_the_readme_ci_command_runs(base: Json, tmp_path: Path) -> None:
    """The command of "Keeping up with the API", as written, on a spec with a breaking change."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Keeping up with the API", 1)[1].split("\n## ", 1)[0]
    line = next(
        x for x in section.splitlines() if x.startswith(".venv/bin/python -m tools.changelog")
    )
    old = tmp_path / "old-openapi.json"
    old.write_text(json.dumps(base), "utf-8")
    new = tmp_path / "new.json"
    new.write_text(json.dumps(realistic(base)), "utf-8")
    args = shlex.split(line)
    assert args[:3] == [".venv/bin/python", "-m", "tools.changelog"]
    args = [sys.executable, *args[1:]]
    args[args.index("old-openapi.json")] = str(old)
    args[args.index("specs/novapost/openapi.json")] = str(new)
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 3, proc.stderr  # --fail-on client: limit became required
    assert proc.stdout.startswith("## API changelog: 5 changes, 4 breaking for a client")


def test_an_enum_that_appears_narrows_and_one_that_goes_widens(base: Json) -> None:
    limited = copy.deepcopy(base)
    param(limited, "GET /shipments", "createdFrom")["schema"]["enum"] = ["2026-01-01T00:00:00Z"]
    schemas(limited)["JwtResponse"]["properties"]["jwt"]["enum"] = ["a", "b"]
    changes = compare(base, limited)
    assert {(c.rule, c.detail) for c in changes} == {
        ("request-parameter-enum-value-removed", "now limited to an enum"),
        ("response-property-enum-value-removed", "now limited to an enum"),
    }
    assert {(c.rule, c.detail) for c in compare(limited, base)} == {
        ("request-parameter-enum-value-added", "no longer limited to an enum"),
        ("response-property-enum-value-added", "no longer limited to an enum"),
    }


def test_union_branches_and_items_are_told_apart(base: Json) -> None:
    old = copy.deepcopy(base)
    schemas(old)["JwtResponse"]["properties"]["jwt"] = {"oneOf": [{"type": "string"}]}
    new = copy.deepcopy(old)
    new_jwt = schemas(new)["JwtResponse"]["properties"]["jwt"]
    new_jwt["oneOf"] += [{"type": "integer"}, {"type": "boolean"}]
    assert sorted((c.rule, c.where, c.detail) for c in compare(old, new)) == [
        ("response-property-type-changed", f"{OK}: jwt", "oneOf 2 schema added"),
        ("response-property-type-changed", f"{OK}: jwt", "oneOf 3 schema added"),
    ]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["type", "properties", "items", "required", "enum", "$ref", "allOf", "oneOf", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(old=JSONISH, new=JSONISH)
def test_any_shape_of_schema_compares_without_error(old: Any, new: Any) -> None:
    """Whatever a page puts where a schema goes, the comparison ends with changes, no crash."""

    def spec(schema: Any) -> Json:
        return {
            "paths": {
                "/x": {
                    "post": {
                        "requestBody": {"content": {"application/json": {"schema": schema}}},
                        "responses": {"200": {"content": {"application/json": {"schema": schema}}}},
                    }
                }
            },
            "components": {"schemas": {"A": schema}},
        }

    assert compare(spec(old), spec(old)) == []
    for change in compare(spec(old), spec(new)):
        assert change.rule in changelog.RULES


def test_the_readme_lists_every_rule_as_classified(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert changelog.main(["--rules"]) == 0
    table = capsys.readouterr().out
    assert table == changelog.rules_markdown()
    assert table in readme
    assert len(table.splitlines()) == len(changelog.RULES) + 2
