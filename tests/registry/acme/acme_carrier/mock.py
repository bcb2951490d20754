"""The Acme mock, assembled from ``carrier_mocks``' parts like the built-in ones.

It accepts only the docs' key; every malformed request gets a status the spec
documents for its operation (401 for credentials, 404 for an unknown or malformed
parcel id), never a 500.
"""

from __future__ import annotations

import secrets
from typing import Any

from carrier_mocks.appkit import build_app
from carrier_mocks.clock import Clock
from carrier_mocks.control import MOCK_PREFIX
from carrier_mocks.faults import Fault, reason_phrase
from carrier_mocks.parsing import BadInput, single_header
from carrier_mocks.runtime import Runtime
from carrier_mocks.tokens import InvalidToken, TokenSigner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from acme_carrier import DOCS_API_KEY

__all__ = ["OPERATIONS", "PARCELS", "create_app"]

OPERATIONS = ("GET /auth/token", "GET /parcels/{parcel_id}")
KEYS = {DOCS_API_KEY: "docs"}
"""API key -> the account name a JWT's ``sub`` carries (never the key itself)."""
PARCELS: dict[str, dict[str, Any]] = {
    "ACME000001": {"id": "ACME000001", "status": "in_transit", "weight_grams": 1200},
    "ACME000002": {"id": "ACME000002", "status": "delivered", "weight_grams": 350},
}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _fault_response(route: str, fault: Fault) -> Response:
    status = fault.status or 500
    headers = None if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    return _error(status, reason_phrase(status), headers)


class _Unauthorized(Exception):
    pass


class _Acme:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def token(self, request: Request) -> Response:
        try:
            key = single_header(request, "x-acme-key")
        except BadInput as exc:
            return _error(401, exc.message)
        if key is None or not key.strip():
            return _error(401, "Missing X-Acme-Key header")
        account = KEYS.get(key.strip())
        if account is None:
            return _error(401, "Unknown API key")
        token = self.runtime.signer.issue({"sub": account, "jti": secrets.token_hex(8)})
        return JSONResponse({"token": token})

    def _claims(self, request: Request) -> dict[str, Any]:
        """The JWT's claims, checked against ``X-Acme-Key`` when that is sent too."""
        try:
            authorization = single_header(request, "authorization")
            key = single_header(request, "x-acme-key")
        except BadInput as exc:
            raise _Unauthorized(exc.message) from None
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Unauthorized("Missing bearer token")
        try:
            claims = self.runtime.signer.verify(token.strip())
        except InvalidToken as exc:
            raise _Unauthorized(exc.reason.capitalize()) from None
        if key is not None and KEYS.get(key.strip()) != claims.get("sub"):
            raise _Unauthorized("Token not issued for this key")
        return claims

    async def parcel(self, request: Request) -> Response:
        try:
            self._claims(request)
        except _Unauthorized as exc:
            return _error(401, str(exc))
        parcel = PARCELS.get(request.path_params["parcel_id"])
        if parcel is None:
            return _error(404, "Parcel not found")
        return JSONResponse(parcel)

    async def whoami(self, request: Request) -> Response:
        try:
            claims = self._claims(request)
        except _Unauthorized as exc:
            return _error(401, str(exc))
        return JSONResponse({"account": claims["sub"], "exp": claims["exp"]})


def create_app(fixtures: object = None, clock: Clock | None = None) -> Starlette:
    """The Acme mock. ``fixtures`` is accepted for the registry's factory signature
    and ignored: the shared fixtures file has no section for a third carrier."""
    clock = clock or Clock()
    runtime = Runtime(
        clock=clock,
        signer=TokenSigner(clock, issuer="acme"),
        routes=[*OPERATIONS, f"GET {MOCK_PREFIX}/whoami"],
        reset_data=lambda: None,
    )
    handlers = _Acme(runtime)
    return build_app(
        runtime=runtime,
        api_prefix="",
        api_routes=[
            Route("/auth/token", handlers.token, methods=["GET"]),
            Route("/parcels/{parcel_id}", handlers.parcel, methods=["GET"]),
        ],
        operations=OPERATIONS,
        whoami=Route("/whoami", handlers.whoami, methods=["GET"]),
        error_response=_error,
        fault_response=_fault_response,
    )
