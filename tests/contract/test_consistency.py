"""The consistency checks and the inferred links, on the whole API, both ways.

Schemathesis cases are sent to the mock serving the whole vendored API over
HTTP and judged by the checks as a run would: the mock passes; a server that
answers DELETE without deleting, or a read with another record, fails, naming
what is wrong.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
import schemathesis
from carrier_mocks.server import serve
from carriers_contract import consistency
from carriers_contract.resources import with_links
from schemathesis import CheckContext
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.specs.whole_api import vendor_whole_api

NP_KEY = "np_test_4f1c2b9e8a7d6c5b"
PICKUP = {
    "date": "2025-04-02",
    "address": {"city": "Gdynia", "street": "Morska 5"},
    "contactPhone": "48500100200",
    "comment": "Gate B",
}
NO_CONTEXT = cast(CheckContext, None)  # the checks read the case and the response only


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = vendor_whole_api(tmp_path_factory.mktemp("consistency"))
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def forgets_deletes(app: ASGIApp) -> ASGIApp:
    """Answers every DELETE 204 without passing it on."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "DELETE":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return wrapped


def reads_the_next_record(app: ASGIApp) -> ASGIApp:
    """A read of pickup N answers pickup N + 1."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        match = re.fullmatch(r"(/v\.1\.0/pickups/)([0-9]+)", scope.get("path", ""))
        if scope["type"] == "http" and scope["method"] == "GET" and match:
            path = f"{match.group(1)}{int(match.group(2)) + 1}"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return wrapped


def run_session(spec: dict[str, Any], wrap: Callable[[ASGIApp], ASGIApp] | None) -> list[str]:
    """Create, read, delete and read a pickup through schemathesis cases; the failures."""
    consistency.use_spec(spec, "novapost")
    schema = schemathesis.openapi.from_dict(spec)
    item = schema["/pickups/{id}"]
    failures: list[str] = []

    def judge(case: Any, response: Any) -> None:  # as a run does, right after each answer
        for check in consistency.CHECKS:
            try:
                check(NO_CONTEXT, response, case)
            except AssertionError as exc:
                failures.append(f"{check.__name__}: {exc}")

    with serve("novapost", spec=spec, wrap=wrap) as server:
        token = httpx.get(server.base_url + "/clients/authorization", params={"apiKey": NP_KEY})
        headers = {"Authorization": token.json()["jwt"]}
        create = schema["/pickups"]["POST"].Case(body=PICKUP, headers=headers)
        made = create.call(base_url=server.base_url)
        judge(create, made)
        pickup = {"id": made.json()["id"]}
        for method in ("GET", "DELETE", "GET"):
            case = item[method].Case(path_parameters=pickup, headers=headers)
            judge(case, case.call(base_url=server.base_url))
    return failures


def test_the_mock_keeps_what_it_answers(spec: dict[str, Any]) -> None:
    assert run_session(spec, None) == []


def test_a_server_that_does_not_delete_fails_deleted_item_is_gone(spec: dict[str, Any]) -> None:
    failures = run_session(spec, forgets_deletes)
    assert len(failures) == 1 and failures[0].startswith("deleted_item_is_gone: ")
    assert "which a DELETE had removed" in failures[0]


def test_a_server_that_reads_another_record_fails_created_item_reads_back(
    spec: dict[str, Any],
) -> None:
    failures = run_session(spec, reads_the_next_record)
    assert failures and failures[0].startswith("created_item_reads_back: ")
    assert "comment" in failures[0] and "id" in failures[0]


def test_links_carry_the_id_to_every_operation_on_the_item(spec: dict[str, Any]) -> None:
    linked, added = with_links(spec, "novapost")
    links = linked["paths"]["/pickups"]["post"]["responses"]["200"]["links"]
    assert set(links) == {
        "GetPickupsId",
        "PutPickupsId",
        "DeletePickupsId",
        "PutPickupsIdStatus",
        "GetPickupsIdShipments",
        "PostPickupsIdShipments",
        "DeletePickupsIdShipmentsShipmentId",  # the pickup's id; the member's is generated
    }
    assert all(link["parameters"] == {"path.id": "$response.body#/id"} for link in links.values())
    shipments = linked["paths"]["/shipments"]["post"]["responses"]["200"]["links"]
    assert shipments["GetShipmentsId"]["parameters"] == {"path.id": "$response.body#/0/id"}
    registers = linked["paths"]["/registers"]["post"]["responses"]["200"]["links"]
    assert {name: link["parameters"] for name, link in registers.items()} == {
        "DeleteRegistersRegisterId": {"path.registerId": "$response.body#/id"},
        "PostRegistersRegisterIdRename": {"path.registerId": "$response.body#/id"},
    }
    assert added == 12
    assert "links" not in spec["paths"]["/pickups"]["post"]["responses"]["200"]  # a copy


def test_a_link_is_not_made_when_the_id_types_differ(spec: dict[str, Any]) -> None:
    changed = json.loads(json.dumps(spec))
    changed["components"]["schemas"]["Pickup"]["properties"]["id"] = {"type": "string"}
    linked, _ = with_links(changed, "novapost")
    assert "links" not in linked["paths"]["/pickups"]["post"]["responses"]["200"]


def test_a_read_from_another_worker_is_judged_only_well_after_the_delete(
    spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks run as each answer comes; another worker's delete may have been answered
    just after this worker sent its read, so only a read sent SLACK later is judged."""
    monkeypatch.setattr(consistency, "SLACK", 0.5)  # far above any pause of a loaded machine
    consistency.use_spec(spec, "novapost")
    schema = schemathesis.openapi.from_dict(spec)
    with serve("novapost", spec=spec, wrap=forgets_deletes) as server:
        token = httpx.get(server.base_url + "/clients/authorization", params={"apiKey": NP_KEY})
        headers = {"Authorization": token.json()["jwt"]}
        made = schema["/pickups"]["POST"].Case(body=PICKUP, headers=headers)
        pickup = {"id": made.call(base_url=server.base_url).json()["id"]}
        read = schema["/pickups/{id}"]["GET"].Case(path_parameters=pickup, headers=headers)
        delete = schema["/pickups/{id}"]["DELETE"].Case(path_parameters=pickup, headers=headers)
        other_worker = threading.Thread(
            target=lambda: consistency.deleted_item_is_gone(
                NO_CONTEXT, delete.call(base_url=server.base_url), delete
            )
        )
        other_worker.start()
        other_worker.join()
        verdicts = []
        for wait in (0.0, consistency.SLACK + 0.1):
            time.sleep(wait)
            try:
                consistency.deleted_item_is_gone(
                    NO_CONTEXT, read.call(base_url=server.base_url), read
                )
                verdicts.append("not judged")
            except AssertionError:
                verdicts.append("failed")
    assert verdicts == ["not judged", "failed"]
