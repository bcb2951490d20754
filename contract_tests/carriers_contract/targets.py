"""Which servers a contract run tests: the built-in mocks, given URLs, or the live sandboxes."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent

TargetKind = Literal["mock", "url", "live"]


@dataclass(frozen=True)
class Api:
    """One carrier API: its spec and how users point the suite at it."""

    name: Literal["novapost", "shipyo"]
    title: str
    spec: Path
    url_env: str
    live_url: str


NOVAPOST = Api(
    name="novapost",
    title="Nova Post",
    spec=ROOT / "specs" / "novapost" / "openapi.json",
    url_env="NOVAPOST_URL",
    live_url="https://api-stage.novapost.pl/v.1.0",
)
SHIPYO = Api(
    name="shipyo",
    title="Shipyo",
    spec=ROOT / "specs" / "shipyo" / "openapi.yaml",
    url_env="SHIPYO_URL",
    live_url="https://staging.shipyo.it",
)
APIS = (NOVAPOST, SHIPYO)

# The docs' own examples; the default fixtures of the mocks know them.
DOCS_PHONE = "498213437654"
DOCS_SHIPYO_KEY = "ak_1234567890abcdef"
# The apiKey example the vendored spec carries (a key the mocks' default fixtures hold).
DOCS_NOVAPOST_KEY = "np_test_4f1c2b9e8a7d6c5b"


# Requests that the mocks' default fixtures answer with documented error statuses, so
# that their bodies are checked against the spec too (see the README's fixture tables).
MOCK_ERROR_EXAMPLES = json.dumps(
    {
        "POST /test-api-keys": [
            {"body": {"phone": "491000000005"}},  # 409 several clients
            {"body": {"phone": "491000000006"}},  # 429 daily limit
        ],
        # Shipyo's key is schemathesis' configured credential, which replaces any
        # example's x-api-key: its 400/403/422 are covered by the mock's own tests.
    }
)


@dataclass
class Target:
    """One API to test, or the one-line reason it is skipped."""

    api: Api
    kind: TargetKind
    base_url: str | None = None
    skip_reason: str | None = None
    known_good: dict[str, str] = field(default_factory=dict)


class UsageError(Exception):
    """A target that cannot be tested as asked: the message says how to fix it."""


def _check_url(api: Api, url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"{api.url_env}={url!r} is not an http(s) URL")
    return url.rstrip("/")


def resolve(
    kind: TargetKind,
    env: Mapping[str, str] | None = None,
    urls: Mapping[str, str | None] | None = None,
) -> list[Target]:
    """Decide, per API, where to send requests and with which known-good inputs.

    ``urls`` (by API name) override the ``*_URL`` variables of ``env``. Given URLs
    with ``kind == "mock"`` switch to testing those servers, and an API without a
    URL is then skipped, saying so.
    """
    env = os.environ if env is None else env
    given = {api.name: (urls or {}).get(api.name) or env.get(api.url_env) or None for api in APIS}
    if kind == "mock" and any(given.values()):
        kind = "url"
    targets: list[Target] = []
    for api in APIS:
        url = given[api.name]
        if kind == "mock":
            good = {**_url_known_good(api, {}), "CONTRACT_EXTRA_EXAMPLES": MOCK_ERROR_EXAMPLES}
            targets.append(Target(api, kind, known_good=good))
        elif kind == "url":
            if url is None:
                targets.append(
                    Target(
                        api, kind, skip_reason=f"no URL given (set {api.url_env}=http://host:port)"
                    )
                )
            else:
                targets.append(
                    Target(api, kind, _check_url(api, url), known_good=_url_known_good(api, env))
                )
        else:
            targets.append(_live(api, env, _check_url(api, url) if url else api.live_url))
    return targets


def _url_known_good(api: Api, env: Mapping[str, str]) -> dict[str, str]:
    if api is NOVAPOST:
        return {
            "CONTRACT_NOVAPOST_PHONE": env.get("NOVAPOST_PHONE", DOCS_PHONE),
            "CONTRACT_NOVAPOST_API_KEY": env.get("NOVAPOST_API_KEY", DOCS_NOVAPOST_KEY),
        }
    return {"CONTRACT_SHIPYO_API_KEY": env.get("SHIPYO_API_KEY", DOCS_SHIPYO_KEY)}


def _live(api: Api, env: Mapping[str, str], url: str) -> Target:
    if api is NOVAPOST:
        if not (env.get("NOVAPOST_API_KEY") or env.get("NOVAPOST_PHONE")):
            return Target(
                api,
                "live",
                url,
                skip_reason="no credentials "
                "(set NOVAPOST_API_KEY, or NOVAPOST_PHONE to use a sandbox key)",
            )
        good = {}
        if env.get("NOVAPOST_PHONE"):
            good["CONTRACT_NOVAPOST_PHONE"] = env["NOVAPOST_PHONE"]
        if env.get("NOVAPOST_API_KEY"):
            good["CONTRACT_NOVAPOST_API_KEY"] = env["NOVAPOST_API_KEY"]
        return Target(api, "live", url, known_good=good)
    if not env.get("SHIPYO_API_KEY"):
        return Target(api, "live", url, skip_reason="no credentials (set SHIPYO_API_KEY)")
    return Target(api, "live", url, known_good={"CONTRACT_SHIPYO_API_KEY": env["SHIPYO_API_KEY"]})
