"""Calling a generated endpoint so that the result is a typed model or a typed error.

The generated functions trust the body: ``from_dict`` raises ``KeyError``,
``TypeError`` or ``ValueError`` on a missing field or a bad date, and silently keeps
a number where the model says ``str``. Here those failures, and type mismatches
found by checking the parsed model against its annotations, are either raised as
``ResponseValidationError`` (``strict_responses=True``, and always while minting)
or, by default, logged once as a warning while the call returns what it could
parse: the model as parsed when only the checks failed, the decoded JSON body (a
dict or list) when the generated parser itself gave up. A body that is not JSON at
all is an error either way: nothing could be parsed. Unknown extra fields are
tolerated (the models keep them in ``additional_properties``). So is JSON nested
deeper than the parser or the checks can recurse (``"[" * 100000``): its
``RecursionError`` is the body's fault.

Either way the message names the deepest mismatching path, in the body's own field
names (``$.items[0].responsiblePerson: expected int, got str``): found in the parsed
model, or, when the parser gave up, by checking the decoded body against the models
the endpoint may return (:func:`locate`).
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import io
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping
from http import HTTPStatus
from types import ModuleType
from typing import Any, Literal, Protocol, TypeVar

import attrs
import httpx

from . import _strictness
from ._loop import Sending, asend, send
from ._raw import RawResponse
from .errors import ResponseValidationError
from .redaction import logger, sanitized

__all__ = ["ModelMismatch", "Parsed", "acall_endpoint", "call_endpoint", "check_value"]

T_co = TypeVar("T_co", covariant=True)

_PARSE_ERRORS = (LookupError, TypeError, ValueError, AttributeError, RecursionError)
_VARIANTS = ("sync_detailed", "asyncio_detailed", "sync", "asyncio")


class Parsed(Protocol[T_co]):
    """What the generated ``*_detailed`` functions return (``types.Response``)."""

    @property
    def status_code(self) -> HTTPStatus: ...

    @property
    def parsed(self) -> T_co | None: ...


class ModelMismatch(Exception):
    """A parsed value does not have the type its model declares.

    ``path`` leads from the body's root to the mismatch (field names, list indexes).
    """

    def __init__(self, path: tuple[str | int, ...], problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{render_path(self.path)}: {self.problem}"


def render_path(path: tuple[str | int, ...]) -> str:
    """``("items", 0, "name")`` -> ``$.items[0].name``."""
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


def _resolve(endpoint: object, variant: str, package: str) -> ModuleType:
    """The generated module of ``endpoint`` (a module, or one of its functions)."""
    if isinstance(endpoint, ModuleType):
        module = endpoint
    elif callable(endpoint) and getattr(endpoint, "__name__", None) in _VARIANTS:
        module = sys.modules[endpoint.__module__]
    else:
        raise TypeError(
            "endpoint must be a generated api module (e.g. "
            f"{package}.api.<tag>.<operation>) or one of its functions {_VARIANTS}"
        )
    if not module.__name__.startswith(f"{package}.api."):
        raise TypeError(f"{module.__name__} is not an endpoint of {package}")
    for needed in (variant, "build_request", "parse_response"):
        if not callable(getattr(module, needed, None)):
            raise TypeError(f"{module.__name__} has no {needed}()")
    return module


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args:
        return f"missing required field {error.args[0]!r}"
    if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
        return f"body is not JSON ({error})"
    if isinstance(error, RecursionError):
        return "body is nested too deeply to parse"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class _Unparsed:
    """The generated function received a 2xx body and could not parse it."""

    __slots__ = ("cause", "detail")

    def __init__(self, detail: str, cause: BaseException | None) -> None:
        self.detail = detail
        self.cause = cause


def _unparsed(error: Exception, unexpected: type[Exception]) -> _Unparsed | None:
    """What an exception of the generated parser means; None: not the body's fault."""
    if isinstance(error, unexpected):
        return _Unparsed("status not documented in the spec", None)
    if isinstance(error, _PARSE_ERRORS):
        return _Unparsed(_describe(error), sanitized(error))
    return None


def _where(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path}"


def _invalid(response: httpx.Response, detail: str) -> ResponseValidationError:
    return ResponseValidationError(
        f"HTTP {response.status_code} from {_where(response)} does not match the spec: {detail}",
        request=response.request,
        status_code=response.status_code,
    )


def _warn(function: Callable[..., Any], response: httpx.Response, detail: str) -> None:
    """The one warning of a lenient call (through the redacting filter of ``carriers``)."""
    operation = function.__module__.rpartition(".")[2]
    logger.warning(
        "%s (%s): HTTP %s body does not match the spec: %s; returning what could be parsed "
        "(strict_responses=True raises instead)",
        operation,
        _where(response),
        response.status_code,
        detail,
    )


def _decoded(response: httpx.Response) -> tuple[bool, Any]:
    """(True, the body as JSON) or (False, None): not JSON, an empty body included."""
    try:
        return True, json.loads(response.content)
    except (ValueError, RecursionError):
        return False, None


def _deepest(function: Callable[..., Any], body: Any, outcome: _Unparsed) -> str:
    """The parser's complaint, led by the deepest path where the body breaks its model
    (not for an undocumented status: no model was tried)."""
    detail = outcome.detail
    where = locate(function, body) if outcome.cause is not None else None
    return detail if where is None else f"{where} ({detail})"


def _settle(
    function: Callable[..., Any],
    response: httpx.Response,
    outcome: Parsed[Any] | _Unparsed,
    strict: bool,
) -> RawResponse[Any]:
    """The call's result once the generated parser has run: checked, warned or raised."""
    strict = strict or _strictness.forced()
    if isinstance(outcome, _Unparsed):
        decoded, parsed = _decoded(response)
        detail = _deepest(function, parsed, outcome) if decoded else outcome.detail
        if strict or not decoded:  # not JSON: nothing to return
            failure = _invalid(response, detail)
            failure.__cause__ = outcome.cause
            raise failure
        _warn(function, response, detail)
        return RawResponse(response, parsed)
    parsed = outcome.parsed
    try:
        check_value(parsed)
    except ModelMismatch as mismatch:
        detail = _body_named(mismatch, response)
    except RecursionError:
        detail = "body is nested too deeply to check"
    else:
        return RawResponse(response, parsed)
    if strict:
        raise _invalid(response, detail) from None
    _warn(function, response, detail)
    return RawResponse(response, parsed)


def _parse(module: ModuleType, response: httpx.Response, strict: bool) -> RawResponse[Any]:
    """The generated parser's reading of a received 2xx ``response``, settled."""
    parse: Callable[..., Any] = module.parse_response
    try:
        outcome: Parsed[Any] | _Unparsed = parse(response, raise_on_unexpected_status=True)
    except Exception as error:
        unparsed = _unparsed(error, _unexpected_status(module))
        if unparsed is None:
            raise
        outcome = unparsed
    return _settle(parse, response, outcome, strict)


def _unexpected_status(module: ModuleType) -> type[Exception]:
    """The generated package's ``errors.UnexpectedStatus``."""
    package = module.__name__.partition(".api.")[0]
    found: type[Exception] = importlib.import_module(f"{package}.errors").UnexpectedStatus
    return found


def call_endpoint(
    http: httpx.Client,
    how: Sending,
    endpoint: object,
    package: str,
    kwargs: Mapping[str, Any],
    *,
    strict: bool = True,
) -> RawResponse[Any]:
    """Build ``endpoint``'s request from ``kwargs``, send it through the request loop,
    parse the response with the generated parser: the response and its model.

    ``strict``: a body that does not fit the spec raises ``ResponseValidationError``;
    otherwise it is returned as far as it parsed, with a warning.
    """
    module = _resolve(endpoint, "sync_detailed", package)
    response = send(http, how, module.build_request(**kwargs))
    return _parse(module, response, strict)


async def acall_endpoint(
    http: httpx.AsyncClient,
    how: Sending,
    endpoint: object,
    package: str,
    kwargs: Mapping[str, Any],
    *,
    strict: bool = True,
) -> RawResponse[Any]:
    """``call_endpoint`` for asyncio."""
    module = _resolve(endpoint, "asyncio_detailed", package)
    response = await asend(http, how, module.build_request(**kwargs))
    return _parse(module, response, strict)


# --- naming a mismatch in the body's own field names -----------------------------------

_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def _body_named(mismatch: ModelMismatch, response: httpx.Response) -> str:
    """The mismatch with each model attribute replaced by the body's key it came from
    (``responsible_person`` -> ``responsiblePerson``), found by name without case or
    punctuation; a step the body does not show keeps the attribute's name."""
    try:
        node: Any = response.json()
    except (ValueError, RecursionError):
        return str(mismatch)
    steps: list[str | int] = []
    for step in mismatch.path:
        if isinstance(step, str) and isinstance(node, dict):
            key = _key_for(step, node)
            steps.append(key if key is not None else step)
            node = node.get(key) if key is not None else None
        else:
            steps.append(step)
            ok = isinstance(node, list) and isinstance(step, int) and step < len(node)
            node = node[step] if ok else None
    return f"{render_path(tuple(steps))}: {mismatch.problem}"


def _key_for(attribute: str, body: dict[Any, Any]) -> str | None:
    if attribute in body:
        return attribute
    wanted = _NOT_ALNUM.sub("", attribute.lower())
    for key in body:
        if isinstance(key, str) and _NOT_ALNUM.sub("", key.lower()) == wanted:
            return key
    return None


# --- checking a parsed model against its annotations ---------------------------------


_hint_cache: dict[type[Any], Mapping[str, Any]] = {}


def _hints(cls: type[Any]) -> Mapping[str, Any]:
    cached = _hint_cache.get(cls)
    if cached is None:
        cached = _hint_cache[cls] = _resolve_hints(cls)
    return cached


def _resolve_hints(cls: type[Any]) -> Mapping[str, Any]:
    module = sys.modules.get(cls.__module__)
    globalns = dict(vars(module)) if module is not None else {}
    package = cls.__module__.rpartition(".")[0]
    try:
        globalns.update(vars(importlib.import_module(package)))
    except ImportError:
        pass
    try:
        return typing.get_type_hints(cls, globalns=globalns)
    except Exception:  # an annotation we cannot resolve: check nothing rather than guess
        return {}


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _is_unset(tp: Any) -> bool:
    """The generated ``Unset`` of any package: "absent" is no type a body can have."""
    return isinstance(tp, type) and tp.__name__ == "Unset"


Path = tuple[str | int, ...]


def check_value(value: Any, hint: Any = Any, path: Path = (), *, body: bool = False) -> None:
    """Raise ``ModelMismatch`` when ``value`` does not fit ``hint`` (recursing into models).

    Only what JSON can express is checked; anything unknown is accepted. When no arm
    of a union fits, the failure of the arm that got deepest is raised (``list[Item]
    | Unset`` holding a bad item names the item's field, not the union). ``body``:
    ``value`` is the decoded JSON a model is built from (objects for models, strings
    for dates), as when the generated parser gave up on it.
    """
    if not body and attrs.has(type(value)) and hint is Any:
        hint = type(value)
    if hint is Any or isinstance(hint, TypeVar):
        if isinstance(value, list):
            for index, item in enumerate(value):
                check_value(item, Any, (*path, index), body=body)
        return
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        failures: list[ModelMismatch] = []
        for arm in args:
            try:
                check_value(value, arm, path, body=body)
            except ModelMismatch as failure:
                if not _is_unset(arm):  # "absent" explains nothing about a value
                    failures.append(failure)
                continue
            return
        expected = " | ".join(_type_name(a) for a in args if not _is_unset(a))
        problem = f"expected {expected}, got {type(value).__name__}"
        deepest = max(failures, key=lambda failure: len(failure.path), default=None)
        if deepest is not None and (len(deepest.path) > len(path) or len(failures) == 1):
            raise deepest
        raise ModelMismatch(path, problem)
    if origin is Literal:
        if value not in args:
            raise ModelMismatch(path, f"not one of the allowed values {list(args)!r}")
        return
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            raise ModelMismatch(path, f"expected a list, got {type(value).__name__}")
        item_hint = args[0] if args else Any
        for index, item in enumerate(value):
            check_value(item, item_hint, (*path, index), body=body)
        return
    if origin in (dict, typing.Dict, Mapping):  # noqa: UP006
        if not isinstance(value, dict):
            raise ModelMismatch(path, f"expected an object, got {type(value).__name__}")
        value_hint = args[1] if len(args) == 2 else Any
        for key, item in value.items():
            check_value(item, value_hint, (*path, key), body=body)
        return
    if hint is type(None) or hint is None:
        if value is not None:
            raise ModelMismatch(path, f"expected null, got {type(value).__name__}")
        return
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    elif hint in (datetime.datetime, datetime.date):
        if body and not _is_iso(value, hint):
            raise ModelMismatch(path, f"expected an ISO 8601 {hint.__name__} string")
        ok = body or isinstance(value, hint)
    elif hint in (typing.BinaryIO, typing.IO):
        # A file's payload (BytesIO): typing.BinaryIO is no runtime base class of it.
        ok = isinstance(value, io.IOBase)
    elif body and isinstance(hint, type) and attrs.has(hint):
        _check_object(value, hint, path)
        return
    elif isinstance(hint, type):
        ok = isinstance(value, hint)
        if ok and attrs.has(hint):
            _check_model(value, path)
            return
    else:
        return
    if not ok:
        raise ModelMismatch(path, f"expected {_type_name(hint)}, got {type(value).__name__}")


def _check_model(model: Any, path: Path) -> None:
    hints = _hints(type(model))
    for attribute in attrs.fields(type(model)):
        name = attribute.name
        if name == "additional_properties" or name not in hints:
            continue
        check_value(getattr(model, name), hints[name], (*path, name))


def _is_iso(value: Any, hint: type[datetime.date]) -> bool:
    """Whether a body's value is a date (or date-time) string the generated parser reads."""
    try:
        hint.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _check_object(value: Any, model: type[Any], path: Path) -> None:
    """The decoded JSON of a model: an object with its required fields, each fitting."""
    if not isinstance(value, dict):
        raise ModelMismatch(path, f"expected an object, got {type(value).__name__}")
    hints = _hints(model)
    for attribute in attrs.fields(model):
        name = attribute.name
        if name == "additional_properties" or name not in hints:
            continue
        key = _key_for(name, value)
        if key is None:
            if attribute.default is attrs.NOTHING:
                raise ModelMismatch(path, f"missing required field {name!r}")
            continue
        check_value(value[key], hints[name], (*path, key), body=True)


def locate(function: Callable[..., Any], body: Any) -> ModelMismatch | None:
    """Where a body the generated parser gave up on breaks the model it was parsed into.

    The parser does not say which model it was building; ``function``'s annotation
    (``Response[A | B]``) names the candidates. Those the body fits cannot be it; of
    the others, the deepest failure is the one reported.
    """
    annotation = inspect.signature(function).return_annotation
    failures: list[ModelMismatch] = []
    for union in typing.get_args(annotation):
        for model in typing.get_args(union) or (union,):
            try:
                check_value(body, model, body=True)
            except ModelMismatch as failure:
                failures.append(failure)
            except RecursionError:
                return None
    return max(failures, key=lambda failure: len(failure.path)) if failures else None
