"""The mock remembers: the three flows shops test first, over real HTTP, written from the docs.

The mock serves the whole vendored API (the real page and the test pages) as a
real HTTP server; every call here is a plain httpx request built from what the
docs pages say (paths, bodies, ``ids[]``, the list page's fields), not our client.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from carrier_mocks.server import MockServer, serve

from tests.specs.whole_api import vendor_whole_api

from .support import NP_KEY

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OTHER_KEY = "np_test_expiring00000001"  # another client of the fixtures (cid 100005)
PARTY = {"name": "Ola Nowak", "phone": "48600300400", "pointId": 2291}
PICKUP = {
    "date": "2025-04-02",
    "timeFrom": "09:30",
    "address": {"city": "Gdynia", "street": "Morska 5"},
    "contactPhone": "48500100200",
    "comment": "Gate B",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    spec = json.loads(vendor_whole_api(tmp_path_factory.mktemp("stateful")).read_text("utf-8"))
    with serve("novapost", spec=spec) as running:
        yield running


def client_for(server: MockServer, key: str) -> httpx.Client:
    api = httpx.Client(base_url=server.base_url, timeout=10)
    token = api.get("/clients/authorization", params={"apiKey": key})
    assert token.status_code == 200, token.text
    api.headers["Authorization"] = token.json()["jwt"]
    return api


@pytest.fixture
def api(server: MockServer) -> Iterator[httpx.Client]:
    server.reset()
    client = client_for(server, NP_KEY)
    yield client
    client.close()


def new_pickup(api: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = api.post("/pickups", json={**PICKUP, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(api: httpx.Client, path: str, params: Any = None) -> list[Any]:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in (body if isinstance(body, list) else body["items"])]


def test_a_created_shipment_is_found_by_its_id(api: httpx.Client) -> None:
    sent = [
        {"clientReference": "ORD-1", "sender": PARTY, "recipient": PARTY, "parcels": []},
        {"clientReference": "ORD-2", "sender": PARTY, "recipient": PARTY, "parcels": []},
    ]
    created = api.post("/shipments", json=sent)
    assert created.status_code == 200, created.text
    first, second = created.json()
    assert first["id"] != second["id"]
    assert re.fullmatch(r"[0-9]{14}", first["number"]) and first["number"] != second["number"]
    assert [first["clientReference"], second["clientReference"]] == ["ORD-1", "ORD-2"]
    page = api.get("/shipments", params={"ids[]": first["id"]}).json()
    assert page["items"] == [first]
    assert page["pagination"]["total"] == 1
    assert api.get(f"/shipments/{first['id']}").json() == first
    both = listed(api, "/shipments", [("ids[0]", second["id"]), ("ids[1]", first["id"])])
    assert sorted(both) == sorted([first["id"], second["id"]])
    # createdFrom is a lower bound on createdAt (the overrides file says so)
    moment = first["createdAt"]
    assert len(listed(api, "/shipments", {"createdFrom": moment})) == 2
    assert listed(api, "/shipments", {"createdFrom": "2999-01-01T00:00:00Z"}) == []


def test_a_pickup_is_created_listed_paged_changed_and_deleted(api: httpx.Client) -> None:
    one, two, three = (new_pickup(api) for _ in range(3))
    assert len({one["id"], two["id"], three["id"]}) == 3
    assert isinstance(one["id"], int)
    assert one["number"].startswith("PU") and len(one["number"]) == 12
    assert one["address"] == PICKUP["address"] and one["comment"] == "Gate B"
    assert api.get(f"/pickups/{two['id']}").json() == two

    page = api.get("/pickups", params={"limit": 2, "page": 2}).json()
    assert {k: page[k] for k in ("current_page", "last_page", "per_page", "total")} == {
        "current_page": 2,
        "last_page": 2,
        "per_page": 2,
        "total": 3,
    }
    assert (page["from"], page["to"], [p["id"] for p in page["items"]]) == (3, 3, [three["id"]])
    assert listed(api, "/pickups", {"numbers[]": two["number"]}) == [two["id"]]

    moved = api.put(f"/pickups/{one['id']}", json={"date": "2025-04-03"})
    assert moved.status_code == 200 and moved.json()["date"] == "2025-04-03"
    confirmed = api.put(f"/pickups/{one['id']}/status", json={"status": "confirmed"})
    assert confirmed.json()["status"] == "confirmed"
    assert listed(api, "/pickups", {"statuses[]": "confirmed"}) == [one["id"]]

    assert api.delete(f"/pickups/{one['id']}").status_code == 204
    gone = api.get(f"/pickups/{one['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"errors": {"id": "Pickup not found"}}
    assert listed(api, "/pickups") == [two["id"], three["id"]]
    assert api.delete(f"/pickups/{one['id']}").status_code == 404
    assert api.put(f"/pickups/{one['id']}/status", json={"status": "cancelled"}).status_code == 404


def test_shipments_join_and_leave_a_pickup(api: httpx.Client) -> None:
    pickup = new_pickup(api)["id"]
    member = {"id": "0b7e6a52-3c1d-4f8e-9a2b-5d6c7e8f9012", "number": "20450012345678"}
    added = api.post(f"/pickups/{pickup}/shipments", json=member)
    assert added.json() == member
    page = api.get(f"/pickups/{pickup}/shipments").json()
    assert (page["total"], page["items"]) == (1, [member])
    assert api.delete(f"/pickups/{pickup}/shipments/{member['id']}").status_code == 204
    assert api.get(f"/pickups/{pickup}/shipments").json()["total"] == 0
    assert api.delete(f"/pickups/{pickup}/shipments/{member['id']}").status_code == 404


def test_a_webhook_subscription_is_listed_until_deleted(api: httpx.Client) -> None:
    sent = {"url": "https://shop.example/hooks", "events": ["status.changed"]}
    created = api.post("/webhooks", json=sent)
    assert created.status_code == 201
    subscription = created.json()
    assert {k: subscription[k] for k in sent} == sent
    assert listed(api, "/webhooks") == [subscription["id"]]
    assert api.delete(f"/webhooks/{subscription['id']}").status_code == 204
    assert listed(api, "/webhooks") == []
    assert api.delete(f"/webhooks/{subscription['id']}").status_code == 404


def test_records_belong_to_the_client_that_made_them(api: httpx.Client, server: MockServer) -> None:
    mine = new_pickup(api)
    other = client_for(server, OTHER_KEY)
    assert listed(other, "/pickups") == []
    assert other.get(f"/pickups/{mine['id']}").status_code == 404
    assert other.delete(f"/pickups/{mine['id']}").status_code == 404
    theirs = new_pickup(other)
    other.close()
    assert listed(api, "/pickups") == [mine["id"]]
    assert theirs["id"] != mine["id"]


def test_reset_forgets_and_state_exports_and_imports(api: httpx.Client, server: MockServer) -> None:
    pickup = new_pickup(api)
    control = httpx.Client(base_url=server.origin + "/__mock__")
    state = control.get("/state").json()
    assert [(r["owner"], r["collection"], r["record"]) for r in state["records"]] == [
        ("100001", "/pickups", pickup)
    ]
    server.reset()
    fresh = client_for(server, NP_KEY)
    assert listed(fresh, "/pickups") == []
    seeded = {**pickup, "id": 4321, "comment": "seeded"}
    state["records"][0]["record"] = seeded
    answer = control.put("/state", json=state)
    assert answer.json() == {"records": 1, "deleted": 0}
    assert fresh.get("/pickups/4321").json() == seeded
    again = control.post("/state", json=control.get("/state").json())  # POST imports too
    assert again.json() == {"records": 1, "deleted": 0}
    assert new_pickup(fresh)["id"] not in (4321, pickup["id"])
    broken = {"records": [{**state["records"][0], "record": {"id": 9, "status": "lost"}}]}
    refused = control.put("/state", json=broken)
    assert refused.status_code == 400
    assert "'/pickups'" in refused.json()["error"]
    assert fresh.get("/pickups/4321").status_code == 200  # all or nothing
    fresh.close()
    control.close()


def test_prefer_and_refused_requests_change_nothing(api: httpx.Client) -> None:
    kept = new_pickup(api)
    forced = api.post("/pickups", json=PICKUP, headers={"Prefer": "code=200"})
    assert forced.status_code == 200
    assert api.delete(f"/pickups/{kept['id']}", headers={"Prefer": "code=204"}).status_code == 204
    assert api.post("/pickups", json={**PICKUP, "date": "soon"}).status_code == 422
    assert api.post("/pickups", json=PICKUP, headers={"Authorization": "forged"}).status_code == 401
    assert api.post("/pickups", json=PICKUP, params={"__code": "422"}).status_code == 422
    bad_change = api.put(f"/pickups/{kept['id']}", json={"timeFrom": "nine"})
    assert bad_change.status_code == 422
    assert listed(api, "/pickups") == [kept["id"]]
    assert api.get(f"/pickups/{kept['id']}").json() == kept


def test_32_threads_creating_at_once_lose_nothing(api: httpx.Client, server: MockServer) -> None:
    ids: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(32)
    token = api.headers["Authorization"]

    def create() -> None:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": token}) as mine:
            start.wait()
            for _ in range(4):
                response = mine.post("/pickups", json=PICKUP)
                with lock:
                    if response.status_code == 200:
                        ids.append(response.json()["id"])
                    else:
                        errors.append(response.text)

    threads = [threading.Thread(target=create) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(ids) == 128 and len(set(ids)) == 128
    page = api.get("/pickups", params={"limit": 100, "page": 2}).json()
    assert (page["total"], page["last_page"], len(page["items"])) == (128, 2, 28)


def test_an_id_nobody_created_is_answered_from_the_spec_with_that_id(api: httpx.Client) -> None:
    answer = api.get("/pickups/777")
    assert answer.status_code == 200
    assert answer.json()["id"] == 777
    # a change or an action too: a made-up id (0) would be taken for a real one by links
    changed = api.put("/pickups/778/status", json={"status": "confirmed"})
    assert (changed.status_code, changed.json()["id"]) == (200, 778)
    assert listed(api, "/pickups") == []  # and nothing was stored
    assert api.get("/pickups/0").status_code == 422  # the id's schema still holds (minimum 1)


def test_the_readme_curl_session_prints_what_it_says(tmp_path: Path) -> None:
    """The README's setup (vendor the pages, serve them with --novapost-spec), then its
    session, against a fresh mock process: each line printed is the comment below it."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    (setup,) = [b for b in blocks if "--novapost-spec" in b and "tools.vendor" in b]
    (session,) = [b for b in blocks if "$NP/pickups" in b]
    for tool in ("curl", "jq", "bash"):
        assert shutil.which(tool), f"the README's session needs {tool}"
    prepare, serving = setup.strip().splitlines()[:2], setup.strip().splitlines()[2]
    script = (
        "\n".join(prepare)
        .replace("/tmp/", f"{tmp_path}/")
        .replace(".venv/bin/python", sys.executable)
    )
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, check=True, timeout=60)
    command = serving.split("#")[0].split()[1:]  # python -m carrier_mocks --novapost-spec FILE
    command = [arg.replace("/tmp/", f"{tmp_path}/") for arg in command]
    mock = subprocess.Popen(
        [sys.executable, *command, "--novapost-port", "0", "--shipyo-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert mock.stdout is not None
        base_url = mock.stdout.readline().split()[-1]  # "Nova Post mock: http://..."
        proc = subprocess.run(
            [
                "bash",
                "-euo",
                "pipefail",
                "-c",
                session.replace("http://127.0.0.1:8010/v.1.0", base_url),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        mock.terminate()
        mock.wait(10)
    assert proc.returncode == 0, proc.stderr
    expected = [line[2:] for line in session.splitlines() if line.startswith("# ")]
    assert proc.stdout.splitlines() == expected
