"""Every operation of a spec served from the spec: checked, secured, answered as documented.

For each request, in order:

1. its ``Prefer`` (or ``__code``/``__example``/``__dynamic``) is read;
2. security as the operation declares it: a missing or refused credential is a
   401 (the carrier's checks decide what a valid JWT or key is);
3. the request is checked against the spec; a problem is the operation's
   documented 4xx, as Prism picks it: 422, else 400, else another documented 4xx;
4. the documented response asked for (default: the lowest 2xx) is sent: a named
   example, a random value (``dynamic=true``), or the spec's example, else a
   value made from the schema. Bodies the mock makes are valid against it; a
   code or example the operation does not document is a 404 saying so.

Error bodies come from the carrier (``error_body``), in the API's own shape, and
are replaced by the documented response when they do not fit its schema.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from carrier_mocks.openapi.document import MediaType, Operation, ResponseDoc, operations
from carrier_mocks.openapi.inputs import InputProblem, is_json, read_request
from carrier_mocks.openapi.prefer import Preference, PreferenceError, preference
from carrier_mocks.openapi.resources import ResourceModel
from carrier_mocks.openapi.samples import binary_sample, sample, sample_without_examples
from carrier_mocks.openapi.schemas import SchemaSet
from carrier_mocks.openapi.state import StateStore
from carrier_mocks.openapi.stateful import StatefulAnswers

__all__ = ["CredentialCheck", "ErrorBody", "Owner", "SpecRoutes"]

_log = logging.getLogger(__name__)

#: ``(scheme name) -> check(value)``: ``None`` accepts the credential, else says why not.
CredentialCheck = Callable[[str], "str | None"]
#: ``(status, field, message)`` -> the API's error body for that problem.
ErrorBody = Callable[[int, str, str], Any]
#: Who a request acts for (a client id, a key's name; never the credential): records are theirs.
Owner = Callable[[Request], str]

_PARAM = re.compile(r"\{([^{}/]*)\}")
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]
_NO_BODY = frozenset({204, 205, 304})
_DYNAMIC_TRIES = 5


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    media_type: str | None
    headers: tuple[tuple[str, str], ...]

    def response(self) -> Response:
        response = Response(self.body, status_code=self.status, media_type=self.media_type)
        for name, value in self.headers:
            response.headers.append(name, value)
        return response


def _status_of(code: str) -> int:
    if code.isdigit():
        return int(code)
    return int(code[0]) * 100 if code[:1].isdigit() else 200


def _default_status(op: Operation) -> str | None:
    codes = sorted(op.responses, key=lambda c: (not c.startswith("2"), c))
    return codes[0] if codes else None


def _encode(value: Any, media_type: str) -> bytes:
    if is_json(media_type):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and (media_type.startswith("text/") or "xml" in media_type):
        return value.encode("utf-8")
    if isinstance(value, str) and value:
        return value.encode("utf-8")
    return binary_sample(media_type)


def _is_text(media_type: str) -> bool:
    """JSON, text or XML: a body made from the schema; anything else is a file's bytes."""
    return (
        is_json(media_type)
        or media_type.startswith("text/")
        or "xml" in media_type
        or media_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    )


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_header_text(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{k},{_header_text(v)}" for k, v in value.items())
    return str(value)


def _accepts(accept: str, media_type: str) -> bool:
    for part in accept.split(","):
        wanted = part.split(";", 1)[0].strip().lower()
        if wanted in ("*/*", "*", media_type) or (
            wanted.endswith("/*") and media_type.startswith(wanted[:-1])
        ):
            return True
    return False


class SpecRoutes:
    """The spec-driven routes of one mock, for every operation not in ``exclude``."""

    def __init__(
        self,
        spec: Mapping[str, Any],
        *,
        exclude: Collection[str] = (),
        error_body: ErrorBody,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.schemas = SchemaSet(spec)
        components = spec.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        self.schemes: Mapping[str, Any] = schemes if isinstance(schemes, dict) else {}
        self.checks: dict[str, CredentialCheck] = {}
        self.error_body = error_body
        self.operations = [op for op in operations(spec) if op.key not in exclude]
        # (operation, documented status, media type, status sent) -> the fixed answer
        self._static: dict[tuple[str, str, str | None, int], _Answer] = {}
        self._fixed_values: dict[tuple[str, str | None, int], Any] = {}
        self.model = ResourceModel(self.operations, self.schemas, overrides)
        self.state = StateStore()
        self.stateful = StatefulAnswers(self, self.model, self.state)
        self.owner: Owner = lambda request: ""

    @property
    def keys(self) -> list[str]:
        """``"METHOD /path"`` of every served operation, for stats and faults."""
        return [op.key for op in self.operations]

    def routes(
        self,
        checks: Mapping[str, CredentialCheck] | None = None,
        *,
        prefix: str = "",
        owner: Owner | None = None,
    ) -> list[Route]:
        """One Starlette route per path under ``prefix``; its methods are the spec's.

        ``checks`` decide, per security scheme name, whether a credential is valid
        (the mock's own JWTs and keys); a scheme without one only needs to be sent.
        The routes carry the prefix themselves rather than sit in a ``Mount``, whose
        pattern stops at a newline: a path parameter holding one must reach the
        operation and get its documented 4xx, not the app's 404.
        """
        self.checks.update(checks or {})
        if owner is not None:
            self.owner = owner
        by_path: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, {})[op.method] = op
        routes = []
        # Fixed paths first: /shipments/cancellation is not /shipments/{id}, even for
        # a method only the templated one has (its 405 must list the right methods).
        for path, ops in sorted(by_path.items(), key=lambda item: "{" in item[0]):
            aliases: dict[str, str] = {}

            def alias(match: re.Match[str], aliases: dict[str, str] = aliases) -> str:
                name = f"p{len(aliases)}"
                aliases[match.group(1)] = name
                return "{" + name + "}"

            route_path = prefix + _PARAM.sub(alias, path)
            # Every method: the path is this operation's, so another method is a 405 here
            # even where a templated path would take it (GET /shipments/cancellation).
            routes.append(Route(route_path, self._endpoint(ops, aliases), methods=_ALL_METHODS))
        return routes

    def _endpoint(
        self, ops: dict[str, Operation], aliases: dict[str, str]
    ) -> Callable[[Request], Any]:
        allowed = sorted({*ops, *(["HEAD"] if "GET" in ops else [])})

        async def endpoint(request: Request) -> Response:
            method = request.method
            op = ops.get(method) or (ops.get("GET") if method == "HEAD" else None)
            if op is None:
                raise HTTPException(405, headers={"Allow": ", ".join(allowed)})
            return await self.handle(op, request, aliases)

        return endpoint

    async def handle(self, op: Operation, request: Request, aliases: Mapping[str, str]) -> Response:
        try:
            wanted = preference(
                request.headers.getlist("prefer"), request.query_params.multi_items()
            )
        except PreferenceError as exc:
            return self.problem(op, InputProblem("header", "Prefer", str(exc)))
        refused = self.security_problem(op, request)
        if refused is not None:
            field, message = refused
            return self.error(op, 401, field, message)
        values = await read_request(op, request, self.schemas, aliases)
        if isinstance(values, InputProblem):
            return self.problem(op, values)
        accept = request.headers.get("accept", "")
        role = self.model.role(op)
        if role is not None and wanted.empty:  # a Prefer asks for the spec's answer: no state
            owner = self.owner(request) if op.security else ""
            remembered = self.stateful.answer(op, role, values, owner, accept)
            if remembered is not None:
                return remembered
        return self.answer(op, wanted, accept).response()

    def answer_plain(self, op: Operation, accept: str) -> Response:
        """The documented default answer, as without state."""
        return self.answer(op, Preference(), accept).response()

    # ------------------------------------------------------------------ security

    def _credential(self, scheme: Any, request: Request) -> tuple[str, str | None]:
        """``(where, value)`` of one scheme's credential; the value is None when absent."""
        scheme = scheme if isinstance(scheme, dict) else {}
        kind = scheme.get("type")
        if kind == "apiKey":
            name, place = str(scheme.get("name", "")), scheme.get("in")
            if place == "query":
                values = request.query_params.getlist(name)
            elif place == "cookie":
                values = [request.cookies[name]] if name in request.cookies else []
            else:
                values = request.headers.getlist(name)
            return name, values[0].strip() if len(values) == 1 and values[0].strip() else None
        values = request.headers.getlist("authorization")
        if len(values) != 1:
            return "Authorization", None
        prefix, _, value = values[0].strip().partition(" ")
        wanted = str(scheme.get("scheme", "bearer")).lower() if kind == "http" else "bearer"
        if prefix.lower() != wanted or not value.strip():
            return "Authorization", None
        return "Authorization", value.strip()

    def security_problem(self, op: Operation, request: Request) -> tuple[str, str] | None:
        """``(where, why)`` when no alternative of the operation's security is met."""
        first: tuple[str, str] | None = None
        for requirement in op.security or ({},):
            refused = None
            for name in requirement:
                where, value = self._credential(self.schemes.get(name), request)
                if value is None:
                    refused = (where, f"Missing credentials ({name})")
                    break
                check = self.checks.get(name)
                why = check(value) if check is not None else None
                if why is not None:
                    refused = (where, why)
                    break
            if refused is None:
                return None
            first = first or refused
        return first

    # ------------------------------------------------------------------ answers

    def problem(self, op: Operation, problem: InputProblem) -> Response:
        status = self._problem_status(op, problem)
        return self.error(op, status, problem.name, problem.message)

    def _problem_status(self, op: Operation, problem: InputProblem) -> int:
        special = {"unsupported-media-type": 415, "too-large": 413}.get(problem.kind)
        if special and op.documents_exactly(special):
            return special
        for status in (422, 400):
            if op.documents_exactly(status):
                return status
        documented = [c for c in op.responses if c[:1] == "4" and c not in ("401", "403")]
        return _status_of(sorted(documented)[0]) if documented else 400

    def error(self, op: Operation, status: int, field: str, message: str) -> Response:
        """The API's error body, or the documented answer for ``status`` when it does not fit."""
        doc = op.documents(status)
        body = self.error_body(status, field, message)
        media = self._media(doc, "") if doc is not None else None
        if (
            doc is not None
            and media is not None
            and media.schema is not None
            and is_json(media.name)
        ):
            if not self.schemas.is_valid(body, media.schema):
                return self._answer_for(op, doc, media, status, Preference()).response()
            return _Answer(status, _encode(body, media.name), media.name, ()).response()
        return _Answer(status, _encode(body, "application/json"), "application/json", ()).response()

    def media_for(self, doc: ResponseDoc, accept: str) -> MediaType | None:
        """The documented media type of ``doc`` that ``accept`` takes, else its first."""
        return self._media(doc, accept)

    def fixed_value(self, op: Operation, media: MediaType | None) -> Any:
        """The value the spec gives for ``media``: example, else one made from the schema.

        Made once per operation and media type (it is the same every time); callers
        copy it before changing it.
        """
        key = (op.key, media.name if media is not None else None, id(media))
        if key not in self._fixed_values:
            self._fixed_values[key] = self._fixed(op, media)
        return self._fixed_values[key]

    def with_body(
        self,
        op: Operation,
        doc: ResponseDoc,
        media: MediaType | None,
        status: int,
        value: Any,
    ) -> _Answer:
        return self._with_body(op, doc, media, status, value, dynamic=False)

    def _media(self, doc: ResponseDoc, accept: str) -> MediaType | None:
        if not doc.content:
            return None
        if accept:
            for media in doc.content:
                if _accepts(accept, media.name):
                    return media
        return doc.content[0]

    def answer(self, op: Operation, wanted: Preference, accept: str) -> _Answer:
        code = wanted.code or _default_status(op)
        if code is None:
            return self._not_found(op, f"{op.key} documents no response")
        doc = op.documents(code) if wanted.code else op.responses[code]
        if doc is None:
            documented = ", ".join(op.responses)
            return self._not_found(
                op, f"{op.key} documents no response with code {code} (documented: {documented})"
            )
        status = _status_of(code)
        media = self._media(doc, accept)
        if wanted.example is not None:
            if media is None or wanted.example not in media.examples:
                names = ", ".join(media.examples) if media is not None else ""
                return self._not_found(
                    op,
                    f"{op.key} has no example named {wanted.example!r} for {code}"
                    + (f" (examples: {names})" if names else " (it has no named examples)"),
                )
            value = media.examples[wanted.example]
            return self._with_body(op, doc, media, status, value, dynamic=False)
        return self._answer_for(op, doc, media, status, wanted)

    def _answer_for(
        self,
        op: Operation,
        doc: ResponseDoc,
        media: MediaType | None,
        status: int,
        wanted: Preference,
    ) -> _Answer:
        if wanted.dynamic:
            return self._with_body(op, doc, media, status, self._dynamic(media), dynamic=True)
        key = (op.key, doc.status, media.name if media else None, status)
        cached = self._static.get(key)
        if cached is None:
            cached = self._with_body(op, doc, media, status, self._fixed(op, media), dynamic=False)
            self._static[key] = cached
        return cached

    def _fixed(self, op: Operation, media: MediaType | None) -> Any:
        if media is None:
            return None
        candidates = []
        if media.has_example:
            candidates.append(media.example)
        candidates.extend(media.examples.values())
        if media.schema is None or not _is_text(media.name):
            return candidates[0] if candidates else None  # None: a file of the media type
        for value in candidates:
            if not is_json(media.name) or self.schemas.is_valid(value, media.schema):
                return value
        value = sample(media.schema, self.schemas)
        if self.schemas.is_valid(value, media.schema):
            return value
        plain = sample_without_examples(media.schema, self.schemas)
        if not self.schemas.is_valid(plain, media.schema) and is_json(media.name):
            _log.warning("%s: no value valid against the response schema could be made", op.key)
        return plain

    def _dynamic(self, media: MediaType | None) -> Any:
        if media is None or media.schema is None or not _is_text(media.name):
            return None
        rng = random.Random()
        for _ in range(_DYNAMIC_TRIES):
            value = sample(media.schema, self.schemas, rng)
            if self.schemas.is_valid(value, media.schema):
                return value
        return sample_without_examples(media.schema, self.schemas)

    def _with_body(
        self,
        op: Operation,
        doc: ResponseDoc,
        media: MediaType | None,
        status: int,
        value: Any,
        *,
        dynamic: bool,
    ) -> _Answer:
        rng = random.Random() if dynamic else None
        headers = tuple(
            (name, _header_text(sample(schema, self.schemas, rng)))
            for name, schema in doc.headers.items()
        )
        if media is None or status in _NO_BODY:
            return _Answer(status, b"", None, headers)
        if value is None and not is_json(media.name):
            value = binary_sample(media.name)
        return _Answer(status, _encode(value, media.name), media.name, headers)

    def _not_found(self, op: Operation, message: str) -> _Answer:
        body = self.error_body(404, "Prefer", message)
        return _Answer(404, _encode(body, "application/json"), "application/json", ())
