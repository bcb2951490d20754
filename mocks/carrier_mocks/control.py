"""The mock-only routes under ``/__mock__/``: reset, time travel, faults, stats, revoke, state.

They are not part of either API and not in the specs; tests and the pytest
plugin drive the mocks through them, over HTTP or in-process alike. Their errors
are ``{"error": "..."}`` with status 400.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from carrier_mocks.faults import parse_fault
from carrier_mocks.parsing import BadInput, as_float, read_body, read_json_object
from carrier_mocks.runtime import Runtime

__all__ = ["MOCK_PREFIX", "WHOAMI_ROUTE", "control_routes"]

MOCK_PREFIX = "/__mock__"
#: A state document may hold many records: far more room than an API body.
STATE_BYTES = 16 * 1024 * 1024
#: The stats key of the JWT-protected probe route, counted like an API operation.
WHOAMI_ROUTE = f"GET {MOCK_PREFIX}/whoami"


def _error(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _json_document(request: Request) -> Any:
    raw = await read_body(request, STATE_BYTES)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadInput("the body must be a JSON document") from None


async def _body(request: Request) -> dict[str, Any]:
    return await read_json_object(request) or {}


def control_routes(runtime: Runtime, whoami: Route) -> BaseRoute:
    """The ``/__mock__`` mount for one mock; ``whoami`` is the API-specific probe."""

    async def reset(request: Request) -> Response:
        runtime.reset()
        return JSONResponse({"reset": True})

    async def clock(request: Request) -> Response:
        try:
            body = await _body(request)
        except BadInput as exc:
            return _error(exc.message)
        unknown = sorted(set(body) - {"advance_seconds"})
        if unknown:
            return _error(f"unknown field {unknown[0]!r}")
        seconds = as_float(body.get("advance_seconds"))
        if seconds is None or not seconds >= 0:  # NaN too
            return _error("'advance_seconds' must be a non-negative number")
        try:
            runtime.clock.advance(seconds)
        except ValueError as exc:
            return _error(f"'advance_seconds' is too large: {exc}")
        now = runtime.clock.utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
        return JSONResponse({"now": now, "offset_seconds": runtime.clock.offset})

    async def faults(request: Request) -> Response:
        try:
            route, fault = parse_fault(await _body(request), runtime.stats.routes)
        except BadInput as exc:
            return _error(exc.message)
        except ValueError as exc:
            return _error(str(exc))
        runtime.faults.add(route, fault)
        return JSONResponse({"pending": runtime.faults.pending()})

    async def stats(request: Request) -> Response:
        return JSONResponse(runtime.stats.snapshot())

    async def state(request: Request) -> Response:
        records = runtime.records
        if records is None:
            return _error("this mock keeps no records")
        if request.method == "GET":
            return JSONResponse(records.export())
        try:
            document = await _json_document(request)
            imported, deleted = records.load(document)
        except BadInput as exc:
            return _error(exc.message)
        except ValueError as exc:  # StateError: the message names the entry
            return _error(str(exc))
        return JSONResponse({"records": imported, "deleted": deleted})

    async def revoke(request: Request) -> Response:
        runtime.revoke_tokens()
        return JSONResponse({"revoked": True})

    return Mount(
        MOCK_PREFIX,
        routes=[
            Route("/reset", reset, methods=["POST"]),
            Route("/clock", clock, methods=["POST"]),
            Route("/faults", faults, methods=["POST"]),
            Route("/stats", stats, methods=["GET"]),
            Route("/revoke", revoke, methods=["POST"]),
            Route("/state", state, methods=["GET", "PUT", "POST"]),
            whoami,
        ],
    )
