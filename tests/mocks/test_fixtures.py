"""Fixtures files: the packaged defaults, and errors that name the bad entry."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import carrier_mocks.fixtures as fixtures_module
import pytest
from carrier_mocks.fixtures import (
    DEFAULT_FIXTURES_NAME,
    FixturesError,
    default_fixtures,
    load_fixtures,
    parse_fixtures,
)
from carriers import registry

DEFAULT_FILE = Path(fixtures_module.__file__).with_name(DEFAULT_FIXTURES_NAME)


def default_data() -> dict[str, Any]:
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_defaults_carry_the_docs_examples() -> None:
    fixtures = default_fixtures()
    docs_key = next(k for k in fixtures.novapost.keys if k.api_key == "np_test_4f1c2b9e8a7d6c5b")
    assert docs_key.phone == "498213437654"
    assert docs_key.expires_in_days > 0
    shipyo_key = next(k for k in fixtures.shipyo.keys if k.api_key == "ak_1234567890abcdef")
    assert shipyo_key.active and shipyo_key.allowed_ips is None and shipyo_key.rate_limit is None


def test_load_fixtures_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "fixtures.json"
    path.write_text(DEFAULT_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_fixtures(path) == default_fixtures()


def test_reprs_never_show_api_keys() -> None:
    fixtures = default_fixtures()
    assert "np_test_" not in repr(fixtures)
    assert "ak_" not in repr(fixtures)


def test_an_empty_document_is_valid() -> None:
    fixtures = parse_fixtures("{}")
    assert fixtures.novapost.clients == () and fixtures.shipyo.keys == ()


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FixturesError, match="cannot read the fixtures file"):
        load_fixtures(tmp_path / "missing.json")


def test_invalid_json_is_reported_with_the_source(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"novapost": ', encoding="utf-8")
    with pytest.raises(FixturesError, match=r"broken\.json: not valid JSON"):
        load_fixtures(path)


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(default_data())
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


CASES = [
    (["shipyo", "color"], "x", r"shipyo: unknown field 'color'"),
    (["novapost", "clients", 1, "phon"], "1", r"novapost\.clients\[1\]: unknown field 'phon'"),
    (["novapost", "clients", 1, "cid"], KeyError, r"clients\[1\]: missing required field 'cid'"),
    (
        ["novapost", "clients", 1, "phones", 0],
        "+491000000001",
        r"clients\[1\] \(cid '100002'\): phones\[0\] must be 9 to 15 digits",
    ),
    (["novapost", "clients", 1, "phones"], [], r"clients\[1\].*at least one phone"),
    (
        ["novapost", "clients", 1, "cid"],
        "100001",
        r"clients\[1\].*repeats the cid of .*clients\[0\]",
    ),
    (["novapost", "clients", 7, "last_creation_days_ago"], -1, r"clients\[7\].*between 0"),
    (["novapost", "clients", 7, "last_creation_days_ago"], True, r"clients\[7\].*type integer"),
    (["novapost", "keys", 0, "phone"], "499999999999", r"keys\[0\].*belongs to no client"),
    (["novapost", "keys", 0, "phone"], "491000000005", r"keys\[0\].*belongs to several clients"),
    (["novapost", "keys", 1, "phone"], "498213437654", r"keys\[1\].*keys\[0\] is its key already"),
    (
        ["novapost", "keys", 1, "api_key"],
        "np_test_4f1c2b9e8a7d6c5b",
        r"keys\[1\].*repeats the api_key of novapost\.keys\[0\]",
    ),
    (["novapost", "keys", 1, "api_key"], "has space", r"keys\[1\].*printable ASCII"),
    (["novapost", "keys", 0, "expires_in_days"], -30, r"keys\[0\].*expire after it was created"),
    (["novapost", "keys", 0, "last_request_days_ago"], 31, r"keys\[0\].*before it was created"),
    (["shipyo", "keys", 1, "name"], "docs-example", r"shipyo\.keys\[1\].*repeats the name"),
    (["shipyo", "keys", 1, "api_key"], "ak_1234567890abcdef", r"keys\[1\].*repeats the api_key"),
    (["shipyo", "keys", 1, "active"], "no", r"keys\[1\] \(name 'inactive'\).*type boolean"),
    (["shipyo", "keys", 4, "allowed_ips", 0], "not-an-ip", r"keys\[4\].*allowed_ips\[0\]"),
    (["shipyo", "keys", 5, "rate_limit", "limit"], 0, r"keys\[5\].*rate_limit.*'limit'"),
    (["shipyo", "keys", 5, "rate_limit", "window"], 1, r"rate_limit: unknown field 'window'"),
    (["shipyo", "keys", 0], "ak_x", r"shipyo\.keys\[0\]: must be an object"),
]


@pytest.mark.parametrize(("path", "value", "message"), CASES)
def test_invalid_entries_are_named(path: list[Any], value: Any, message: str) -> None:
    text = json.dumps(_mutate(path, value))
    with pytest.raises(FixturesError, match=message) as caught:
        parse_fixtures(text, source="my.json")
    assert str(caught.value).startswith("my.json: ")


def test_error_messages_never_quote_api_keys() -> None:
    text = json.dumps(_mutate(["novapost", "keys", 1, "api_key"], "np_test_4f1c2b9e8a7d6c5b"))
    with pytest.raises(FixturesError) as caught:
        parse_fixtures(text)
    assert "np_test_4f1c2b9e8a7d6c5b" not in str(caught.value)


def test_duplicate_json_fields_are_rejected() -> None:
    with pytest.raises(FixturesError, match="duplicate field 'shipyo'"):
        parse_fixtures('{"shipyo": {}, "shipyo": {}}')


def test_other_registered_carriers_get_their_own_section() -> None:
    """A third carrier's mock reads its section; names no carrier has are still refused."""
    info = registry.CarrierInfo(
        name="zeta",
        title="Zeta",
        package="zeta_client",
        spec="openapi.yaml",
        api_key_env="ZETA_API_KEY",
        environments={"live": "https://zeta.invalid"},
        default_environment="live",
        test_environment="live",
        token_operation="GET /token",
        jwt_scheme="Bearer",
        facade="zeta:Zeta",
        mock_app="zeta:create_app",
        docs_api_key="z",
    )
    registry.register(info)
    try:
        parsed = parse_fixtures('{"zeta": {"keys": ["z1"]}}')
        assert parsed.others == {"zeta": {"keys": ["z1"]}}
        with pytest.raises(FixturesError, match="unknown field 'omega'"):
            parse_fixtures('{"omega": {}}')
    finally:
        registry.unregister("zeta")
    with pytest.raises(FixturesError, match="unknown field 'zeta'"):
        parse_fixtures('{"zeta": {}}')
