"""What the README promises once a docs section is added: `make vendor generate`, then use it.

The test pages are vendored with the real one and generated as ``novapost_client``
itself, first on the path of a fresh interpreter, as after `make vendor generate`
in a checkout. There the facade calls the new operations typed, the mock serves
them from the spec, and the README's `Prefer` example prints what it says.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.fresh import readme_blocks, run_python
from tests.specs.whole_api import vendor_whole_api
from tools import generate

FACADE_SCRIPT = """
import uuid
from carriers import NovaPost
from carriers.errors import NotFoundError
from carrier_mocks import serve
from novapost_client.api.shipments import get_shipments_id, get_shipments_id_label

with serve("novapost") as server:
    np = NovaPost(api_key="np_test_4f1c2b9e8a7d6c5b", base_url=server.base_url)
    shipment = np.call(get_shipments_id, id=uuid.UUID("3fa85f64-5717-4562-b3fc-2c963f66afa6"))
    print(type(shipment).__name__, shipment.status)
    label = np.call(get_shipments_id_label, id="20450012345678")
    print(type(label).__name__, label.payload.read()[:5])
    server_stats = server.stats()
    print(server_stats["GET /shipments/{id}"], server_stats["GET /clients/authorization"])
"""

# The three flows shop integrations test first, through the generated client of the
# whole API: the mock keeps what is created, finds it by id, and forgets what is deleted.
FLOWS_SCRIPT = """
import datetime
from carriers import NovaPost
from carriers.errors import NotFoundError
from carrier_mocks import serve
from novapost_client.api.pickups import delete_pickups_id, get_pickups, get_pickups_id, post_pickups
from novapost_client.api.shipments import create_shipments, get_shipments
from novapost_client.api.webhooks import delete_webhooks_id, get_webhooks, post_webhooks
from novapost_client.models import Party, PickupAddress, PickupRequest, PostWebhooksBody, ShipmentRequest

with serve("novapost") as server:
    np = NovaPost(api_key="np_test_4f1c2b9e8a7d6c5b", base_url=server.base_url)
    party = Party(name="Ola Nowak", phone="48600300400", point_id=2291)
    sent = ShipmentRequest(sender=party, recipient=party, parcels=[], client_reference="ORD-9")
    created = np.call(create_shipments, body=[sent, sent])
    found = np.call(get_shipments, ids=[created[1].id])
    print(len(created), [s.id for s in found.items] == [created[1].id], found.items[0].client_reference)
    address = PickupAddress(city="Gdynia", street="Morska 5")
    order = PickupRequest(date=datetime.date(2025, 4, 2), address=address, contact_phone="48500100200")
    pickup = np.call(post_pickups, body=order)
    print(type(pickup.id).__name__, pickup.number[:2], np.call(get_pickups).total)
    np.call(delete_pickups_id, id=pickup.id)
    print(np.call(get_pickups, ids=[pickup.id]).total)
    try:
        np.call(get_pickups_id, id=pickup.id)
    except NotFoundError as exc:
        print(exc.status_code, exc.messages)
    hook = np.call(post_webhooks, body=PostWebhooksBody(url="https://shop.example/h", events=["status.changed"]))
    print([s.id for s in np.call(get_webhooks)] == [hook.id])
    np.call(delete_webhooks_id, id=hook.id)
    print(len(np.call(get_webhooks)))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the whole API generated as ``novapost_client``."""
    tmp = tmp_path_factory.mktemp("added-section")
    spec = vendor_whole_api(tmp)
    generate.generate_into("novapost_client", spec, tmp / "site")
    return tmp / "site"


def run(code: str, site: Path, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(site), "CARRIERS_KEY_STORE": str(tmp_path / "k")}
    return run_python("-c", code, env=env, cwd=tmp_path).stdout


def test_the_facade_calls_the_new_operations_typed(site: Path, tmp_path: Path) -> None:
    out = run(FACADE_SCRIPT, site, tmp_path).splitlines()
    assert out == ["Shipment accepted", "File b'%PDF-'", "1 1"]


def test_the_readme_prefer_example_prints_what_it_says(site: Path, tmp_path: Path) -> None:
    (block,) = [b for b in readme_blocks() if "Prefer" in b and "carrier_mocks import serve" in b]
    said = [line.split("#", 1)[1].strip() for line in block.splitlines() if "print(" in line]
    out = run(block, site, tmp_path).splitlines()
    assert out == [
        "accepted",
        "404 {'errors': {'id': 'Shipment not found'}}",
        "200",
        "422",
        "401",
        "5",
    ]
    # each printed line is the start of the comment beside its print()
    for printed, comment in zip(out, said, strict=True):
        assert comment.startswith(printed.split(" {")[0]), (printed, comment)


def test_the_generated_client_creates_finds_and_deletes_on_the_mock(
    site: Path, tmp_path: Path
) -> None:
    out = run(FLOWS_SCRIPT, site, tmp_path).splitlines()
    assert out == [
        "2 True ORD-9",
        "int PU 1",
        "0",
        "404 ['id: Pickup not found']",
        "True",
        "0",
    ]
