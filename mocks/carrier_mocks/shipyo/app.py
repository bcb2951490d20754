"""The Shipyo mock: ``GET /api/Token/generate-from-apikey`` at the origin's root.

Every body, errors included, is the envelope ``{success, data, message, errors}``
of the spec, with ``errors`` null on success. Tokens are HS256 JWTs living one
hour (the docs leave the lifetime to ``exp``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carrier_mocks.appkit import build_app
from carrier_mocks.clock import Clock
from carrier_mocks.control import MOCK_PREFIX
from carrier_mocks.faults import Fault, reason_phrase
from carrier_mocks.fixtures import Fixtures, default_fixtures
from carrier_mocks.openapi import SpecRoutes
from carrier_mocks.openapi.resources import load_overrides
from carrier_mocks.parsing import BadInput, query_params, single_header
from carrier_mocks.runtime import Runtime
from carrier_mocks.shipyo.registry import KeyCheckError, ShipyoKeys
from carrier_mocks.tokens import InvalidToken, TokenSigner

__all__ = ["OPERATIONS", "create_app"]

OPERATIONS = ("GET /api/Token/generate-from-apikey",)
#: What the resource rules cannot infer for this API (see carrier_mocks.openapi.resources).
OVERRIDES = Path(__file__).with_name("resources.json")
_ISSUER = "shipyo"


def envelope(
    status: int,
    *,
    message: str,
    data: Any = None,
    errors: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The spec's envelope; ``success`` mirrors the status, which is authoritative."""
    body = {"success": status < 400, "data": data, "message": message, "errors": errors}
    return JSONResponse(body, status_code=status, headers=headers)


def _error_response(status: int, message: str) -> Response:
    return envelope(status, message=message, errors=[message])


def _fault_response(route: str, fault: Fault) -> Response:
    status = fault.status or 500
    headers = None if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    return envelope(
        status, message=reason_phrase(status), errors=["Injected fault"], headers=headers
    )


def _refusal(exc: KeyCheckError) -> Response:
    headers = exc.rate.headers() if exc.rate else None
    return envelope(exc.status, message=exc.message, errors=[exc.error], headers=headers)


def _bad_request(error: str) -> Response:
    return envelope(400, message="Bad request", errors=[error])


def _error_body(status: int, field: str, message: str) -> dict[str, Any]:
    return {"success": False, "data": None, "message": message, "errors": [message]}


def _packaged_spec() -> dict[str, Any]:
    from carriers import registry

    spec: dict[str, Any] = yaml.safe_load(registry.get("shipyo").spec_text())
    return spec


class _Shipyo:
    """Request handlers over one key store and runtime."""

    def __init__(self, keys: ShipyoKeys, runtime: Runtime) -> None:
        self.keys = keys
        self.runtime = runtime

    async def generate_from_apikey(self, request: Request) -> Response:
        _, query_errors = query_params(request, allowed=())
        if query_errors:
            return _bad_request(query_errors[0][1])
        try:
            api_key = single_header(request, "x-api-key")
        except BadInput as exc:  # "Incorrect header format" is one of the docs' 401 cases
            return envelope(401, message="Invalid x-api-key header.", errors=[exc.message])
        try:
            tenant_id = single_header(request, "x-tenant-id")
        except BadInput as exc:
            return _bad_request(exc.message)
        host = request.client.host if request.client else None
        try:
            state, rate = self.keys.check_for_token(api_key, client_host=host, tenant_id=tenant_id)
        except KeyCheckError as exc:
            return _refusal(exc)
        claims: dict[str, Any] = {"sub": state.seed.name, "jti": secrets.token_hex(8)}
        if state.seed.tenant_id is not None:
            claims["tenant_id"] = state.seed.tenant_id
        token = self.runtime.signer.issue(claims)
        return envelope(
            200,
            data=token,
            message="Token generated successfully",
            headers=rate.headers() if rate else None,
        )

    def jwt_refusal(self, token: str) -> str | None:
        try:
            self.runtime.signer.verify(token)
        except InvalidToken as exc:
            return exc.reason.capitalize()
        return None

    def owner(self, request: Request) -> str:
        """The key a request acts for, by its fixture name (never the key itself)."""
        try:
            return self.keys.identify(single_header(request, "x-api-key")).seed.name
        except (BadInput, KeyCheckError):
            return ""

    def key_refusal(self, api_key: str) -> str | None:
        try:
            self.keys.identify(api_key)
        except KeyCheckError as exc:
            return exc.error
        return None

    async def whoami(self, request: Request) -> Response:
        """Guarded like any authorized call: ``x-api-key`` plus ``Authorization: Bearer``."""
        try:
            api_key = single_header(request, "x-api-key")
            authorization = single_header(request, "authorization")
            state = self.keys.identify(api_key)
        except BadInput as exc:
            return envelope(401, message="Unauthorized", errors=[exc.message])
        except KeyCheckError as exc:
            return _refusal(exc)
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return envelope(401, message="Unauthorized", errors=["Missing bearer token"])
        try:
            claims = self.runtime.signer.verify(token.strip())
        except InvalidToken as exc:
            return envelope(401, message="Unauthorized", errors=[exc.reason.capitalize()])
        if claims.get("sub") != state.seed.name:
            return envelope(401, message="Unauthorized", errors=["Token not issued for this key"])
        data = {"key": state.seed.name, "tenantId": state.seed.tenant_id, "exp": claims["exp"]}
        return envelope(200, message="Authenticated", data=data)


def create_app(
    fixtures: Fixtures | None = None,
    clock: Clock | None = None,
    spec: Mapping[str, Any] | None = None,
) -> Starlette:
    """The Shipyo mock, seeded from ``fixtures`` (default: the packaged file).

    The token route is hand-written and stateful; any other operation of ``spec``
    (default: the spec the client ships) is served from the spec, its ``x-api-key``
    and bearer JWT checked against this mock's keys and tokens.
    """
    fixtures = fixtures or default_fixtures()
    clock = clock or Clock()
    keys = ShipyoKeys(fixtures.shipyo, clock)
    generic = SpecRoutes(
        _packaged_spec() if spec is None else spec,
        exclude=OPERATIONS,
        error_body=_error_body,
        overrides=load_overrides(OVERRIDES),
    )
    runtime = Runtime(
        clock=clock,
        signer=TokenSigner(clock, issuer=_ISSUER),
        routes=[*OPERATIONS, *generic.keys, f"GET {MOCK_PREFIX}/whoami"],
        reset_data=keys.reset,
        records=generic.stateful,
    )
    handlers = _Shipyo(keys, runtime)
    checks = {"BearerJWT": handlers.jwt_refusal, "ApiKeyHeader": handlers.key_refusal}
    api = [
        Route("/api/Token/generate-from-apikey", handlers.generate_from_apikey, methods=["GET"]),
        *generic.routes(checks, owner=handlers.owner),
    ]
    return build_app(
        runtime=runtime,
        api_prefix="",
        api_routes=api,
        operations=[*OPERATIONS, *generic.keys],
        spec_driven=generic.keys,
        whoami=Route("/whoami", handlers.whoami, methods=["GET"]),
        error_response=_error_response,
        fault_response=_fault_response,
    )
