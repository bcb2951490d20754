"""The load generator's HTTP framing and the contract report reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.apis import CARRIERS, BenchCarrier, carrier
from bench.throughput import ContractRun, contract_cases, parse_head, request_bytes

NOVAPOST = carrier("novapost")
SHIPYO = carrier("shipyo")


def test_requests_carry_each_carriers_credential() -> None:
    novapost = request_bytes(NOVAPOST, "http://127.0.0.1:8010")
    assert novapost.startswith(
        b"GET /v.1.0/clients/authorization?apiKey=np_test_4f1c2b9e8a7d6c5b HTTP/1.1\r\n"
    )
    assert b"Host: 127.0.0.1:8010\r\n" in novapost
    assert novapost.endswith(b"\r\n\r\n")
    shipyo = request_bytes(SHIPYO, "http://127.0.0.1:8020")
    assert shipyo.startswith(b"GET /api/Token/generate-from-apikey HTTP/1.1\r\n")
    assert b"x-api-key: ak_1234567890abcdef\r\n" in shipyo


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.name)
def test_every_carrier_mints_at_its_registry_path(carrier: BenchCarrier) -> None:
    info = carrier.info
    request = request_bytes(carrier, "http://127.0.0.1:1")
    method, path = info.token_operation.split(" ", 1)
    assert request.startswith(f"{method} {info.mock_path}{path}".encode())
    assert info.docs_api_key.encode() in request
    assert request.count(b"\r\n\r\n") == 1 and request.endswith(b"\r\n\r\n")


def test_response_heads_give_status_and_length() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 42\r\n\r\n"
    assert parse_head(head) == (200, 42)
    assert parse_head(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n") == (401, 0)


def test_a_head_without_length_is_refused() -> None:
    with pytest.raises(ValueError, match="Content-Length"):
        parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")


def test_contract_cases_are_read_from_the_json_reports(tmp_path: Path) -> None:
    for api, generated, running in (("novapost", 443, 2.0), ("shipyo", 62, 0.5)):
        report = {"test_cases": {"generated": generated}, "running_time": running}
        (tmp_path / f"{api}.json").write_text(json.dumps(report))
    cases, seconds = contract_cases(tmp_path)
    assert cases == {"novapost": 443, "shipyo": 62}
    assert seconds == {"novapost": 2.0, "shipyo": 0.5}
    run = ContractRun(0, 4.0, cases, seconds)
    assert run.per_second == pytest.approx(505 / 2.5)


def test_a_missing_report_counts_nothing(tmp_path: Path) -> None:
    assert contract_cases(tmp_path) == ({}, {})
    assert ContractRun(1, 1.0, {}, {}).per_second == 0.0
