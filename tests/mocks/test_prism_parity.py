"""The spec-driven mock answers as Stoplight Prism does, on the same spec and requests.

Prism (npm ``@stoplight/prism-cli``, installed on first use into .cache/prism) and
the built-in mock both serve the Nova Post spec vendored with the test pages;
each request goes to both and the statuses must agree, and the bodies where the
spec fixes them (its examples). Two differences are by design and not asked
here: Prism only checks that a credential is present (the mock verifies the
JWT), and Prism routes an undeclared method on a fixed path to a templated
path that declares it (the mock answers 405, as OpenAPI's path matching says).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from carrier_mocks.server import serve

from tests.specs.whole_api import vendor_whole_api
from tools import prism

from .support import NP_KEY

SHIPMENT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PARTY = {"name": "Ola Nowak", "phone": "48600300400", "pointId": 2291}

# (method, path, query, headers, body)
REQUESTS: list[tuple[str, str, dict[str, str], dict[str, str], Any]] = [
    ("GET", "/dictionaries/currencies", {}, {}, None),
    ("GET", "/dictionaries/currencies", {}, {"Prefer": "code=503"}, None),
    ("GET", "/dictionaries/currencies", {}, {"Prefer": "code=418"}, None),
    ("GET", "/dictionaries/currencies", {}, {"Prefer": "example=nope"}, None),
    ("GET", "/dictionaries/cities", {"name": "Wars"}, {}, None),
    ("GET", "/dictionaries/cities", {"name": "W"}, {}, None),
    ("GET", "/dictionaries/cities", {}, {"Prefer": "code=200"}, None),
    ("GET", "/dictionaries/points", {"cityId": "seven"}, {}, None),
    ("GET", "/dictionaries/points", {"cityId": "7", "limit": "101"}, {}, None),
    ("GET", "/dictionaries/points/abc", {}, {}, None),
    ("GET", "/dictionaries/points/12", {}, {}, None),
    ("GET", f"/shipments/{SHIPMENT}", {}, {}, None),
    ("GET", f"/shipments/{SHIPMENT}", {}, {"Prefer": "code=404, example=notFound"}, None),
    ("GET", f"/shipments/{SHIPMENT}", {}, {"Prefer": "example=delivered"}, None),
    ("GET", f"/shipments/{SHIPMENT}", {"__code": "404"}, {}, None),
    ("GET", f"/shipments/{SHIPMENT}", {"__example": "accepted"}, {}, None),
    ("GET", "/shipments/not-a-uuid", {}, {}, None),
    ("GET", "/shipments", {"page": "0"}, {}, None),
    ("GET", f"/shipments/{SHIPMENT}/label", {"size": "A4"}, {}, None),
    ("GET", f"/shipments/{SHIPMENT}/label", {"size": "A5"}, {}, None),
    ("POST", "/shipments", {}, {}, [{"sender": PARTY, "recipient": PARTY, "parcels": []}]),
    ("POST", "/shipments", {}, {}, {"sender": PARTY}),
    ("POST", "/shipments", {}, {"Prefer": "code=422"}, [{"sender": PARTY}]),
    ("POST", "/webhooks", {}, {}, {"url": "https://shop.example/h", "events": ["a"]}),
    ("POST", "/webhooks", {}, {}, {"url": "https://shop.example/h"}),
    ("DELETE", f"/webhooks/{SHIPMENT}", {}, {}, None),
    ("DELETE", f"/webhooks/{SHIPMENT}", {}, {"Prefer": "code=404"}, None),
    ("PUT", "/webhooks", {}, {}, None),
]


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vendor_whole_api(tmp_path_factory.mktemp("parity"))


@pytest.fixture(scope="module")
def prism_url(spec_file: Path) -> Iterator[str]:
    try:
        with prism.serve(spec_file) as url:
            yield url
    except prism.PrismUnavailable as exc:
        pytest.skip(f"Prism is not available here: {exc}")


@pytest.fixture(scope="module")
def mock_url(spec_file: Path) -> Iterator[str]:
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    with serve("novapost", spec=spec) as server:
        yield server.base_url


#: Operations whose default answer is an example of the spec (the first, when named).
DEFAULT_EXAMPLES = {"/dictionaries/currencies", f"/shipments/{SHIPMENT}"}


def _fixed_by_the_spec(request: tuple[Any, ...]) -> bool:
    """Whether the spec fixes the body: a documented example asked for by name, or the
    default answer of an operation with examples (no code asked for)."""
    _, path, query, headers, _ = request
    prefer = headers.get("Prefer", "")
    if "nope" in prefer or "code=418" in prefer:
        return False  # Prism's 404 problem bodies are its own
    if "example=" in prefer or "__example" in query:
        return True
    return path in DEFAULT_EXAMPLES and not prefer and "__code" not in query


def _send(client: httpx.Client, url: str, request: tuple[Any, ...], token: str) -> httpx.Response:
    method, path, query, headers, body = request
    return client.request(
        method,
        url + path,
        params=query,
        headers={"Authorization": token, **headers},
        json=body,
    )


def test_statuses_and_fixed_bodies_agree_with_prism(prism_url: str, mock_url: str) -> None:
    with httpx.Client(timeout=30) as client:
        token = client.get(f"{mock_url}/clients/authorization", params={"apiKey": NP_KEY})
        jwt = token.json()["jwt"]
        disagreements = []
        compared = 0
        for request in REQUESTS:
            theirs = _send(client, prism_url, request, jwt)
            ours = _send(client, mock_url, request, jwt)
            if theirs.status_code != ours.status_code:
                disagreements.append(
                    f"{request}: Prism {theirs.status_code}, mock {ours.status_code}"
                )
                continue
            if _fixed_by_the_spec(request):
                compared += 1
                assert ours.json() == theirs.json(), request
        assert not disagreements, "\n".join(disagreements)
    assert compared == 5  # two defaults, three examples asked for by name


def test_the_comparison_sees_a_difference(prism_url: str, mock_url: str) -> None:
    """The two servers are really compared: a by-design difference shows."""
    request = ("GET", "/shipments/cancellation", {}, {}, None)
    with httpx.Client(timeout=30) as client:
        theirs = _send(client, prism_url, request, "any-token")
        ours = _send(client, mock_url, request, "any-token")
    assert theirs.status_code == 422  # Prism: GET /shipments/{id} with a bad uuid
    assert ours.status_code == 405  # the mock: GET is not declared on /shipments/cancellation
