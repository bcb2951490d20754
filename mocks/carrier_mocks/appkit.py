"""Assembly shared by both mocks: routes, mock-only routes, error handling, middleware."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from carrier_mocks.control import WHOAMI_ROUTE, control_routes
from carrier_mocks.middleware import FaultResponse, MockMiddleware
from carrier_mocks.runtime import Runtime

__all__ = ["ErrorResponse", "build_app", "error_response_of"]

ErrorResponse = Callable[[int, str], Response]

_TEMPLATE = re.compile(r"\\\{[^/]*?\\\}")
"""A path parameter such as ``{parcel_id}`` once ``re.escape`` has escaped its braces."""


def build_app(
    *,
    runtime: Runtime,
    api_prefix: str,
    api_routes: Sequence[BaseRoute],
    operations: Collection[str],
    spec_driven: Collection[str] = (),
    whoami: Route,
    error_response: ErrorResponse,
    fault_response: FaultResponse,
) -> Starlette:
    """A Starlette app whose every answer, errors included, has the API's body shape.

    ``operations`` are the spec's ``"METHOD /path"`` keys, relative to ``api_prefix``;
    ``spec_driven`` are those served from the spec, which read ``Prefer`` themselves.
    """

    templated = [
        (key, re.compile(_TEMPLATE.sub("[^/]+", re.escape(key)) + "$"))
        for key in operations
        if "{" in key
    ]

    def route_of(method: str, path: str) -> str | None:
        # HEAD runs the GET handler (a token is minted, just not sent), so it counts as GET.
        method = "GET" if method == "HEAD" else method
        if path.startswith(f"{api_prefix}/"):
            key = f"{method} {path[len(api_prefix) :]}"
            if key in operations:
                return key
            for operation, pattern in templated:  # "GET /parcels/{parcel_id}"
                if pattern.match(key):
                    return operation
        key = f"{method} {path}"
        return key if key == WHOAMI_ROUTE else None

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = error_response(exc.status_code, exc.detail)
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # Starlette keeps methods in a set: give a stable order
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        response.headers.update(headers)
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(500, "Internal server error")

    middleware = Middleware(
        MockMiddleware,
        route_of=route_of,
        stats=runtime.stats,
        faults=runtime.faults,
        fault_response=fault_response,
        reads_prefer=frozenset(spec_driven),
    )
    app = Starlette(
        routes=[*api_routes, control_routes(runtime, whoami)],
        middleware=[middleware],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    # A trailing slash is another path, as on the real servers: 404, not a redirect.
    routers = [app.router]
    while routers:
        router = routers.pop()
        router.redirect_slashes = False
        routers.extend(
            r.app for r in router.routes if isinstance(r, Mount) and isinstance(r.app, Router)
        )
    app.state.runtime = runtime
    app.state.error_response = error_response  # the server's protocol errors use it too
    return app


def _plain_error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def error_response_of(app: object) -> ErrorResponse:
    """The API's error renderer of an app from :func:`build_app`; ``{"error": ...}`` otherwise."""
    renderer: ErrorResponse = getattr(getattr(app, "state", None), "error_response", _plain_error)
    return renderer
