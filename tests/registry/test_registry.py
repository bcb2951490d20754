"""The registry's own rules, which every carrier added from outside relies on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from carriers import registry
from carriers.registry import CarrierInfo, RegistryError


def info(name: str = "zeta", **changes: object) -> CarrierInfo:
    fields: dict[str, object] = {
        "name": name,
        "title": "Zeta",
        "package": "zeta_client",
        "spec": "openapi.yaml",
        "api_key_env": "ZETA_API_KEY",
        "environments": {"production": "https://zeta.example"},
        "default_environment": "production",
        "test_environment": "production",
        "token_operation": "GET /token",
        "jwt_scheme": "JWT",
        "facade": "zeta:Zeta",
        "mock_app": "zeta.mock:create_app",
        "docs_api_key": "zeta_docs",
    }
    fields.update(changes)
    return CarrierInfo(**fields)  # type: ignore[arg-type]


@pytest.fixture
def zeta() -> Iterator[CarrierInfo]:
    """A carrier registered for one test only."""
    carrier = registry.register(info())
    try:
        yield carrier
    finally:
        registry.unregister(carrier.name)


def test_registered_carrier_is_known_everywhere_names_are_read(zeta: CarrierInfo) -> None:
    assert registry.get("zeta") is zeta
    assert registry.names()[:2] == ("novapost", "shipyo")
    assert "zeta" in registry.names()


def test_registering_the_same_carrier_again_is_harmless(zeta: CarrierInfo) -> None:
    assert registry.register(info()) == zeta
    assert registry.get("zeta") == zeta


def test_a_different_carrier_under_a_taken_name_is_refused(zeta: CarrierInfo) -> None:
    with pytest.raises(RegistryError, match="'zeta' is already registered"):
        registry.register(info(title="Another Zeta"))
    assert registry.get("zeta").title == "Zeta"


def test_a_built_in_name_cannot_be_taken_over_by_accident() -> None:
    impostor = dataclasses.replace(registry.get("shipyo"), title="Not Shipyo")
    with pytest.raises(RegistryError, match="'shipyo' is already registered"):
        registry.register(impostor)
    with pytest.raises(RegistryError, match="built in"):
        registry.unregister("shipyo")
    assert registry.get("shipyo").title == "Shipyo"


def test_replace_is_the_explicit_way_to_swap_a_carrier(zeta: CarrierInfo) -> None:
    registry.register(info(title="Zeta 2"), replace=True)
    assert registry.get("zeta").title == "Zeta 2"


@pytest.mark.parametrize("name", ["Acme", "ACME", "acme-post", "acme_post", "9acme", "", "acme "])
def test_names_are_lower_case_letters_and_digits(name: str) -> None:
    """A name becomes ``<name>_mock``, ``--<name>-port`` and ``<NAME>_URL``."""
    with pytest.raises(RegistryError, match="lower-case letters and digits"):
        info(name)


def test_environments_must_name_the_default_and_test_ones() -> None:
    with pytest.raises(RegistryError, match="default_environment"):
        info(default_environment="staging")
    with pytest.raises(RegistryError, match="test_environment"):
        info(test_environment="staging")


def test_only_a_carrier_info_can_be_registered() -> None:
    with pytest.raises(RegistryError, match="not dict"):
        registry.register({"name": "zeta"})  # type: ignore[arg-type]


def test_unknown_name_lists_the_known_ones(zeta: CarrierInfo) -> None:
    with pytest.raises(RegistryError) as caught:
        registry.get("nope")
    message = str(caught.value)
    assert message.startswith("unknown carrier 'nope'; known: ")
    for name in ("novapost", "shipyo", "zeta"):
        assert name in message
