"""The Nova Post sandbox mock (API v.1.0), mounted under ``/v.1.0`` like the real servers.

Bodies follow the vendored spec: ``ErrorResponse`` (``{"success": false, "errors":
[...]}``) for ``POST /test-api-keys``, the ``Error`` map (``{"errors": {name: text}}``)
for ``GET /clients/authorization``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carrier_mocks.appkit import build_app
from carrier_mocks.clock import Clock
from carrier_mocks.control import MOCK_PREFIX
from carrier_mocks.faults import Fault, reason_phrase
from carrier_mocks.fixtures import Fixtures, default_fixtures
from carrier_mocks.novapost.registry import KeyRegistry, RuleError
from carrier_mocks.openapi import SpecRoutes
from carrier_mocks.openapi.resources import load_overrides
from carrier_mocks.parsing import BadInput, printable, query_params, read_json_object
from carrier_mocks.runtime import Runtime
from carrier_mocks.tokens import InvalidToken, TokenSigner

__all__ = ["API_PREFIX", "OPERATIONS", "create_app"]

API_PREFIX = "/v.1.0"
#: What the resource rules cannot infer for this API (see carrier_mocks.openapi.resources).
OVERRIDES = Path(__file__).with_name("resources.json")
OPERATIONS = ("POST /test-api-keys", "GET /clients/authorization")
#: Operations whose documented errors are ``ErrorResponse``, by status.
_ERROR_RESPONSE_STATUSES = {"POST /test-api-keys": {400, 404, 409, 429}}

_PHONE = re.compile(r"49[0-9]{9,10}")  # the documented 49XXXXXXXXX, no '+'
_UA_PREFIXES = ("380", "+380")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_list(status: int, *messages: str) -> JSONResponse:
    """The spec's ``ErrorResponse``."""
    return JSONResponse({"success": False, "errors": list(messages)}, status_code=status)


def error_map(status: int, errors: dict[str, str]) -> JSONResponse:
    """The spec's ``Error``: a map from parameter (or topic) to message."""
    return JSONResponse({"errors": errors}, status_code=status)


def _fault_response(route: str, fault: Fault) -> Response:
    status = fault.status or 503
    reason = reason_phrase(status)
    if status in _ERROR_RESPONSE_STATUSES.get(route, set()):
        response = error_list(status, reason)
    else:
        response = error_map(status, {"server": reason})
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


def _phone_errors(body: dict[str, Any] | None) -> list[str]:
    body = body or {}
    errors = [f"Unknown parameter: {printable(name)}" for name in body if name != "phone"]
    phone = body.get("phone")
    if phone is None and "phone" not in body:
        errors.append("Missing required parameter: phone")
    elif isinstance(phone, str) and phone.startswith(_UA_PREFIXES):
        errors.append("UA key generation is currently not supported")
    elif not isinstance(phone, str) or not _PHONE.fullmatch(phone):
        errors.append("Invalid phone format")
    return errors


class _NovaPost:
    """Request handlers over one registry and runtime."""

    def __init__(self, registry: KeyRegistry, runtime: Runtime) -> None:
        self.registry = registry
        self.runtime = runtime

    async def test_api_keys(self, request: Request) -> Response:
        _, query_errors = query_params(request, allowed=())
        try:
            body = await read_json_object(request)
        except BadInput as exc:
            return error_list(400, exc.message)
        errors = [message for _, message in query_errors] + _phone_errors(body)
        if errors:
            return error_list(400, *errors)
        assert body is not None
        try:
            key = self.registry.request_key(body["phone"])
        except RuleError as exc:
            return error_list(exc.status, exc.message)
        now = self.runtime.clock.utcnow()
        return JSONResponse(
            {
                "apiKey": key.value,
                "createdAt": _iso(key.created_at),
                "expDate": _iso(key.exp_date),
                "status": "Active" if key.is_active(now) else "Expired",
            }
        )

    async def authorization(self, request: Request) -> Response:
        params, errors = query_params(request, allowed=("apiKey",))
        problems = dict(errors)
        if "apiKey" not in params and "apiKey" not in problems:
            problems["apiKey"] = "Missing required parameter: apiKey"
        elif params.get("apiKey") == "":  # an empty key is as missing as no key (minLength 1)
            problems["apiKey"] = "The apiKey must not be empty"
        if problems:
            return error_map(422, problems)
        try:
            client = self.registry.authorize(params["apiKey"])
        except RuleError as exc:
            return error_map(exc.status, {"apiKey": exc.message})
        token = self.runtime.signer.issue({"cid": client.cid, "ref": secrets.token_hex(8)})
        return JSONResponse({"jwt": token})

    def jwt_refusal(self, token: str) -> tuple[str | None, dict[str, Any]]:
        """Why ``token`` (the raw ``Authorization`` value) is refused, else its claims."""
        if token.lower().startswith("bearer "):
            return "Send the raw JWT, without 'Bearer '", {}
        try:
            claims = self.runtime.signer.verify(token)
        except InvalidToken as exc:
            return exc.reason.capitalize(), {}
        if self.registry.client(str(claims.get("cid"))) is None:
            return "Invalid token", {}
        return None, claims

    def owner(self, request: Request) -> str:
        """The client a request acts for: the ``cid`` of its (already checked) JWT."""
        values = request.headers.getlist("authorization")
        if len(values) != 1:
            return ""
        refusal, claims = self.jwt_refusal(values[0].strip())
        return "" if refusal is not None else str(claims.get("cid", ""))

    def key_refusal(self, api_key: str) -> str | None:
        try:
            self.registry.authorize(api_key)
        except RuleError as exc:
            return exc.message
        return None

    async def whoami(self, request: Request) -> Response:
        """Guarded like any authorized call: the raw JWT in ``Authorization``."""
        values = request.headers.getlist("authorization")
        if len(values) != 1 or not values[0].strip():
            return error_map(401, {"Authorization": "Missing JWT"})
        refusal, claims = self.jwt_refusal(values[0].strip())
        if refusal is not None:
            return error_map(401, {"Authorization": refusal})
        client = self.registry.client(str(claims.get("cid")))
        assert client is not None
        expires = datetime.fromtimestamp(claims["exp"], tz=UTC)
        return JSONResponse({"cid": client.cid, "name": client.name, "expiresAt": _iso(expires)})


def _error_response(status: int, message: str) -> Response:
    return error_list(status, message)


def _error_body(status: int, field: str, message: str) -> dict[str, Any]:
    """The ``Error`` map, the shape of the spec's errors beyond ``POST /test-api-keys``."""
    return {"errors": {field: message}}


def _packaged_spec() -> dict[str, Any]:
    from carriers import registry

    spec: dict[str, Any] = json.loads(registry.get("novapost").spec_text())
    return spec


def create_app(
    fixtures: Fixtures | None = None,
    clock: Clock | None = None,
    spec: Mapping[str, Any] | None = None,
) -> Starlette:
    """The Nova Post mock, seeded from ``fixtures`` (default: the packaged file).

    The two auth routes are hand-written and stateful; every other operation of
    ``spec`` (default: the spec the client ships) is served from the spec, with the
    JWT and the API key checked against this mock's own tokens and keys.
    """
    fixtures = fixtures or default_fixtures()
    clock = clock or Clock()
    registry = KeyRegistry(fixtures.novapost, clock)
    generic = SpecRoutes(
        _packaged_spec() if spec is None else spec,
        exclude=OPERATIONS,
        error_body=_error_body,
        overrides=load_overrides(OVERRIDES),
    )
    runtime = Runtime(
        clock=clock,
        signer=TokenSigner(clock, issuer="np"),
        routes=[*OPERATIONS, *generic.keys, f"GET {MOCK_PREFIX}/whoami"],
        reset_data=registry.reset,
        records=generic.stateful,
    )
    handlers = _NovaPost(registry, runtime)
    checks = {
        "JWT": lambda token: handlers.jwt_refusal(token)[0],
        "ApiKeyAuth": handlers.key_refusal,
    }
    # Prefixed paths rather than a Mount: a Mount's pattern stops at a newline, so a
    # path parameter holding one would miss its operation (see SpecRoutes.routes).
    api = [
        Route(f"{API_PREFIX}/test-api-keys", handlers.test_api_keys, methods=["POST"]),
        Route(f"{API_PREFIX}/clients/authorization", handlers.authorization, methods=["GET"]),
        *generic.routes(checks, prefix=API_PREFIX, owner=handlers.owner),
    ]
    return build_app(
        runtime=runtime,
        api_prefix=API_PREFIX,
        api_routes=api,
        operations=[*OPERATIONS, *generic.keys],
        spec_driven=generic.keys,
        whoami=Route("/whoami", handlers.whoami, methods=["GET"]),
        error_response=_error_response,
        fault_response=_fault_response,
    )
