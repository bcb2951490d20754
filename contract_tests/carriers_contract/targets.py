"""Which servers a contract run tests: the built-in mocks, given URLs, or the live sandboxes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from carriers import registry
from carriers.registry import CarrierInfo, KnownInput

TargetKind = Literal["mock", "url", "live"]


@dataclass
class Target:
    """One carrier to test, or the one-line reason it is skipped."""

    carrier: CarrierInfo
    kind: TargetKind
    base_url: str | None = None
    skip_reason: str | None = None
    api_key: str | None = field(default=None, repr=False)
    """The credential: the JWT provider's key, and the key scheme's value."""
    examples: list[dict[str, Any]] = field(default_factory=list, repr=False)
    """Explicit examples: ``{"operation", "location", "name", "value"}``."""
    sandbox_phone: str | None = None
    """Live Nova Post with a phone only: the key comes from the key store."""


class UsageError(Exception):
    """A target that cannot be tested as asked: the message says how to fix it."""


def _check_url(info: CarrierInfo, url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"{info.url_env}={url!r} is not an http(s) URL")
    return url.rstrip("/")


def example(item: KnownInput, value: str) -> dict[str, Any]:
    """The run's form of an explicit example (``CONTRACT_EXAMPLES``, read by the hooks)."""
    return {
        "operation": item.operation,
        "location": item.location,
        "name": item.name,
        "value": value,
    }


def _examples(
    inputs: tuple[KnownInput, ...], env: Mapping[str, str], *, defaults: bool
) -> list[dict[str, Any]]:
    out = []
    for item in inputs:
        value = env.get(item.env) if item.env else None
        if value is None and defaults:
            value = item.default
        if value is not None:
            out.append(example(item, value))
    return out


def resolve(
    kind: TargetKind,
    env: Mapping[str, str] | None = None,
    urls: Mapping[str, str | None] | None = None,
    carriers: tuple[CarrierInfo, ...] | None = None,
) -> list[Target]:
    """Decide, per carrier, where to send requests and with which known-good inputs.

    ``urls`` (by carrier name) override the ``<NAME>_URL`` variables of ``env``.
    Given URLs with ``kind == "mock"`` switch to testing those servers, and a
    carrier without a URL is then skipped, saying so.
    """
    env = os.environ if env is None else env
    carriers = registry.all_carriers() if carriers is None else carriers
    given = {c.name: (urls or {}).get(c.name) or env.get(c.url_env) or None for c in carriers}
    if kind == "mock" and any(given.values()):
        kind = "url"
    targets: list[Target] = []
    for info in carriers:
        url = given[info.name]
        if kind == "mock":
            examples = _examples(info.known_inputs, {}, defaults=True)
            examples += _examples(info.mock_inputs, {}, defaults=True)
            targets.append(Target(info, kind, api_key=info.docs_api_key, examples=examples))
        elif kind == "url":
            if url is None:
                reason = f"no URL given (set {info.url_env}=http://host:port)"
                targets.append(Target(info, kind, skip_reason=reason))
                continue
            targets.append(
                Target(
                    info,
                    kind,
                    _check_url(info, url),
                    api_key=env.get(info.api_key_env) or info.docs_api_key,
                    examples=_examples(info.known_inputs, env, defaults=True),
                )
            )
        else:
            targets.append(_live(info, env, _check_url(info, url) if url else info.test_url))
    return targets


def _live(info: CarrierInfo, env: Mapping[str, str], url: str) -> Target:
    key = env.get(info.api_key_env) or None
    phone = env.get(info.sandbox_phone_env) if info.sandbox_phone_env else None
    if key is None and not phone:
        wanted = info.api_key_env
        if info.sandbox_phone_env:
            wanted += f", or {info.sandbox_phone_env} to use a sandbox key"
        return Target(info, "live", url, skip_reason=f"no credentials (set {wanted})")
    examples = _examples(info.known_inputs, env, defaults=False)
    return Target(
        info, "live", url, api_key=key, examples=examples, sandbox_phone=phone if not key else None
    )
