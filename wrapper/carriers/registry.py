"""The carrier registry: what one carrier is, in one place.

Generation, the facades, the mock servers and their pytest fixtures, the contract
suite, the benchmarks and the command line all read a carrier from here. A
carrier is its spec, one :class:`CarrierInfo`, an auth subclass if its token flow
differs, and its mock app. The built-in carriers are below; another package adds
one by naming its ``CarrierInfo`` under the ``carriers.registry`` entry-point
group (``[project.entry-points."carriers.registry"] acme = "acme:CARRIER"``), or
a program calls :func:`register`.

This module imports nothing heavier than the standard library: the facade and the
mock app are named by ``"module:attribute"`` strings and imported on first use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "ENTRY_POINT_GROUP",
    "CarrierInfo",
    "KnownInput",
    "RegistryError",
    "all_carriers",
    "get",
    "load_object",
    "names",
    "register",
    "unregister",
]

ENTRY_POINT_GROUP = "carriers.registry"

_NAME = re.compile(r"[a-z][a-z0-9]*")
"""A carrier name: it becomes ``<name>_mock``, ``--<name>-port`` and ``<NAME>_URL``."""


class RegistryError(LookupError, ValueError):
    """An unknown carrier, or a descriptor that cannot be registered."""


@dataclass(frozen=True, kw_only=True)
class KnownInput:
    """A request part a contract run sends as an explicit example of an operation.

    Its value comes from the environment variable ``env`` when that is set, else
    ``default`` (a value the mock's default fixtures know).
    """

    env: str | None = None
    default: str
    operation: str
    """``"METHOD /path"`` as the spec writes it."""
    location: str
    """``"query"``, ``"header"``, ``"path"`` or ``"body"`` (a JSON object property)."""
    name: str


@dataclass(frozen=True, kw_only=True)
class CarrierInfo:
    """One carrier: its API, its generated client, its servers and its mock."""

    name: str
    """Short lower-case name: ``carriers token NAME``, ``NAME_mock``, ``--NAME-port``."""
    title: str
    """How people write it: "Nova Post"."""
    package: str
    """The generated client package, which ships the spec it was generated from."""
    spec: str
    """The spec's file name: ``specs/<name>/<spec>`` in the source tree, and a
    resource of ``package`` once generated."""
    api_key_env: str
    """The environment variable the facade reads the API key from."""
    environments: Mapping[str, str]
    """Environment name -> base URL (without a trailing '/')."""
    default_environment: str
    test_environment: str
    """The environment a live contract run tests (a sandbox or staging)."""
    token_operation: str
    """The operation that mints the JWT, ``"METHOD /path"`` as the spec writes it."""
    jwt_scheme: str
    """The security scheme of the spec that operations needing the JWT declare."""
    api_key_scheme: str | None = None
    """The spec's security scheme carrying the API key, if the key is one (Shipyo's
    ``x-api-key``); ``None`` when the token operation takes it as a parameter."""
    facade: str
    """``"module:Class"`` of the facade."""
    mock_app: str
    """``"module:factory"``: ``factory(fixtures=None)`` returns the mock's ASGI app."""
    mock_path: str = ""
    """The API root under the mock's origin (``"/v.1.0"``), as on the real servers."""
    mock_port: int = 0
    """The port ``carriers mock`` serves it on by default (0: a free port)."""
    docs_api_key: str
    """A key the mock's default fixtures accept (the docs' example)."""
    known_inputs: tuple[KnownInput, ...] = ()
    """Inputs that reach success paths in every contract run (the API key of the
    token operation among them when it is a parameter)."""
    mock_inputs: tuple[KnownInput, ...] = ()
    """Inputs the mock's default fixtures answer with documented errors: sent in
    runs against the built-in mock, so those bodies are checked too."""
    sandbox_phone_env: str | None = None
    """Set when the facade can create its own sandbox key from a phone (``sandbox()``)."""
    live_exclude: tuple[str, ...] = ()
    """Operation ids a live contract run never fuzzes (daily-limited routes)."""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise RegistryError(
                f"carrier name {self.name!r} must be lower-case letters and digits, "
                "starting with a letter"
            )
        if self.default_environment not in self.environments:
            raise RegistryError(f"{self.name}: default_environment is not one of its environments")
        if self.test_environment not in self.environments:
            raise RegistryError(f"{self.name}: test_environment is not one of its environments")
        object.__setattr__(self, "environments", MappingProxyType(dict(self.environments)))

    @property
    def url_env(self) -> str:
        """The variable naming a running server for a contract run: ``NOVAPOST_URL``."""
        return f"{self.name.upper()}_URL"

    @property
    def test_url(self) -> str:
        return self.environments[self.test_environment]

    @property
    def token_path(self) -> str:
        return self.token_operation.split(" ", 1)[1]

    def spec_text(self) -> str:
        """The spec the client was generated from, read from the installed package."""
        return importlib.resources.files(self.package).joinpath(self.spec).read_text("utf-8")

    @contextmanager
    def spec_path(self) -> Iterator[Path]:
        """A file system path of the spec, for tools that want one (schemathesis)."""
        resource = importlib.resources.files(self.package).joinpath(self.spec)
        with importlib.resources.as_file(resource) as path:
            yield path

    def facade_class(self) -> Any:
        """The facade class (imported on first use)."""
        return load_object(self.facade)

    def mock_factory(self) -> Any:
        """The mock app factory (imported on first use: it needs ``carriers[mock]``)."""
        return load_object(self.mock_app)


def load_object(reference: str) -> Any:
    """Import ``"module:attribute"``."""
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise RegistryError(f"{module_name} has no {attribute!r}") from None


NOVAPOST = CarrierInfo(
    name="novapost",
    title="Nova Post",
    package="novapost_client",
    spec="openapi.json",
    api_key_env="NOVAPOST_API_KEY",
    environments={
        "sandbox": "https://api-stage.novapost.pl/v.1.0",
        "production": "https://api.novapost.com/v.1.0",
    },
    default_environment="sandbox",
    test_environment="sandbox",
    token_operation="GET /clients/authorization",
    jwt_scheme="JWT",
    facade="carriers.novapost:NovaPost",
    mock_app="carrier_mocks.novapost:create_app",
    mock_path="/v.1.0",
    mock_port=8010,
    docs_api_key="np_test_4f1c2b9e8a7d6c5b",
    known_inputs=(
        KnownInput(
            env="NOVAPOST_PHONE",
            default="498213437654",
            operation="POST /test-api-keys",
            location="body",
            name="phone",
        ),
        KnownInput(
            env="NOVAPOST_API_KEY",
            default="np_test_4f1c2b9e8a7d6c5b",
            operation="GET /clients/authorization",
            location="query",
            name="apiKey",
        ),
    ),
    mock_inputs=(
        KnownInput(  # two matching clients: 409
            default="491000000005", operation="POST /test-api-keys", location="body", name="phone"
        ),
        KnownInput(  # daily limit used: 429
            default="491000000006", operation="POST /test-api-keys", location="body", name="phone"
        ),
    ),
    sandbox_phone_env="NOVAPOST_PHONE",
    live_exclude=("post_test_api_keys",),
)

_SHIPYO_TOKEN = "GET /api/Token/generate-from-apikey"

SHIPYO = CarrierInfo(
    name="shipyo",
    title="Shipyo",
    package="shipyo_client",
    spec="openapi.yaml",
    api_key_env="SHIPYO_API_KEY",
    environments={"production": "https://shipyo.it", "staging": "https://staging.shipyo.it"},
    default_environment="production",
    test_environment="staging",
    token_operation=_SHIPYO_TOKEN,
    jwt_scheme="BearerJWT",
    api_key_scheme="ApiKeyHeader",
    facade="carriers.shipyo:Shipyo",
    mock_app="carrier_mocks.shipyo:create_app",
    mock_port=8020,
    docs_api_key="ak_1234567890abcdef",
    mock_inputs=tuple(
        KnownInput(default=key, operation=_SHIPYO_TOKEN, location="header", name="x-api-key")
        for key in (
            "ak_inactive00000000",  # 400: not active
            "ak_unknown000000000",  # 403: invalid
            "ak_iprestricted0000",  # 422: restrictions
        )
    ),
)

_lock = threading.Lock()
_registered: dict[str, CarrierInfo] = {NOVAPOST.name: NOVAPOST, SHIPYO.name: SHIPYO}
_entry_points_loaded = False


def register(info: CarrierInfo, *, replace: bool = False) -> CarrierInfo:
    """Add a carrier; a second one under a taken name is an error unless ``replace``."""
    if not isinstance(info, CarrierInfo):
        raise RegistryError(f"a carrier is registered as a CarrierInfo, not {type(info).__name__}")
    with _lock:
        current = _registered.get(info.name)
        if current is not None and current != info and not replace:
            raise RegistryError(f"a carrier named {info.name!r} is already registered")
        _registered[info.name] = info
    return info


def unregister(name: str) -> None:
    """Remove a carrier registered by :func:`register` (tests)."""
    with _lock:
        if name in (NOVAPOST.name, SHIPYO.name):
            raise RegistryError(f"{name!r} is built in")
        _registered.pop(name, None)


def _load_entry_points() -> None:
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            info = entry.load()
        except Exception as exc:  # a broken plugin must not break the built-in carriers
            raise RegistryError(
                f"cannot load carrier {entry.name!r} ({entry.value}): {type(exc).__name__}: {exc}"
            ) from None
        register(info)


def all_carriers() -> tuple[CarrierInfo, ...]:
    """Every carrier: the built-in ones first, then the others in name order."""
    _load_entry_points()
    with _lock:
        carriers = list(_registered.values())
    builtin = [c for c in carriers if c in (NOVAPOST, SHIPYO)]
    others = sorted((c for c in carriers if c not in builtin), key=lambda c: c.name)
    return (*builtin, *others)


def names() -> tuple[str, ...]:
    return tuple(c.name for c in all_carriers())


def get(name: str) -> CarrierInfo:
    """The carrier called ``name``; the error lists the known ones."""
    for info in all_carriers():
        if info.name == name:
            return info
    raise RegistryError(f"unknown carrier {name!r}; known: {', '.join(names())}")
