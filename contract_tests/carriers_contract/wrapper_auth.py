"""Schemathesis auth backed by the ``carriers`` facades.

Operations that declare the carrier's JWT scheme (``CarrierInfo.jwt_scheme``) get
a JWT minted by the facade, exactly as a user's code would get it, with the
headers its auth flow sets. Schemathesis caches it for 50 minutes and asks again
after a refusal; asking again drops the token that was refused (only if it is
still the facade's current one), so the next call mints a fresh one instead of
replaying the refused token. Operations that declare only the key's scheme
(``CarrierInfo.api_key_scheme``: Shipyo's token route) get the headers the flow
sets on its public requests. Both are hook providers: a schemathesis config with
an ``[auth]`` section would unregister them.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import httpx
import schemathesis
from carriers import registry
from schemathesis import Case
from schemathesis.auths import AuthContext

REFRESH_SECONDS = 50 * 60


def declares(scheme: str) -> Any:
    """A schemathesis matcher: the operation's security names ``scheme``."""

    def match(ctx: Any) -> bool:
        operation = ctx.operation
        security = operation.definition.raw.get(
            "security", operation.schema.raw_schema.get("security", [])
        )
        return any(scheme in requirement for requirement in security)

    return match


class WrapperJWT:
    """The run's facade; its auth flow mints the token and says which headers carry it."""

    facade: Any
    """Set on the subclass that ``register`` makes (schemathesis instantiates it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: str | None = None

    def get(self, case: Case[Any], ctx: AuthContext) -> str:
        with self._lock:
            if self._last is not None:
                self.facade.auth.invalidate(self._last)
            self._last = token = str(self.facade.jwt())
            return token

    def set(self, case: Case[Any], data: str, ctx: AuthContext) -> None:
        request = httpx.Request("GET", str(self.facade.base_url) + "/")
        self.facade.auth.apply_token(request, data)
        _copy_headers(request, case)


class WrapperKey:
    """The key's headers, as the facade's flow sets them on a public request."""

    facade: Any

    def get(self, case: Case[Any], ctx: AuthContext) -> str:
        return "key"

    def set(self, case: Case[Any], data: str, ctx: AuthContext) -> None:
        request = httpx.Request("GET", str(self.facade.base_url) + "/")
        self.facade.auth.apply_public(request)
        _copy_headers(request, case, keep_examples=True)


def _example_headers() -> set[tuple[str, str]]:
    """(name, value) of the headers the run's explicit examples set (``CONTRACT_EXAMPLES``)."""
    examples = json.loads(os.environ.get("CONTRACT_EXAMPLES") or "[]")
    return {
        (str(e["name"]).lower(), str(e["value"])) for e in examples if e.get("location") == "header"
    }


def _copy_headers(request: httpx.Request, case: Case[Any], *, keep_examples: bool = False) -> None:
    """The flow's headers onto the case. ``keep_examples`` leaves a header an explicit
    example set (a fixture key that answers a documented error) as it is; a value
    schemathesis generated is replaced like any other."""
    examples = _example_headers() if keep_examples else set()
    present = {(name.lower(), value) for name, value in (case.headers or {}).items()}
    for raw_name, raw_value in request.headers.raw:  # names as the flow wrote them
        name = raw_name.decode("latin-1")
        if name.lower() == "host":
            continue
        if any(item in examples for item in present if item[0] == name.lower()):
            continue
        case.headers[name] = raw_value.decode("latin-1")


def declares_only(scheme: str, other: str) -> Any:
    """A matcher: the operation's security names ``scheme`` and not ``other``."""
    has, has_other = declares(scheme), declares(other)
    return lambda ctx: has(ctx) and not has_other(ctx)


def register() -> None:
    """Register the provider for the carrier under test (called from the hooks module)."""
    info = registry.get(os.environ["CONTRACT_CARRIER"])
    facade = info.facade_class()(
        api_key=os.environ["CONTRACT_API_KEY"],
        base_url=os.environ["CONTRACT_BASE_URL"],
        strict_responses=True,  # the suite judges servers: nothing read leniently
    )
    provider = type(f"{info.title.replace(' ', '')}JWT", (WrapperJWT,), {"facade": facade})
    statuses = sorted(facade.auth.token_failure_statuses)
    schemathesis.auth(refresh_interval=REFRESH_SECONDS, retry_on=statuses).apply_to(
        declares(info.jwt_scheme)
    )(provider)
    if info.api_key_scheme:
        key_provider = type(f"{provider.__name__}Key", (WrapperKey,), {"facade": facade})
        schemathesis.auth().apply_to(declares_only(info.api_key_scheme, info.jwt_scheme))(
            key_provider
        )
