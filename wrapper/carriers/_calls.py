"""Calling a generated endpoint so that the result is a typed model or a typed error.

The generated functions trust the body: ``from_dict`` raises ``KeyError``,
``TypeError`` or ``ValueError`` on a missing field or a bad date, and silently keeps
a number where the model says ``str``. Here those failures, and type mismatches
found by checking the parsed model against its annotations, become
``ResponseValidationError``. Unknown extra fields are tolerated (the models keep them
in ``additional_properties``). So is JSON nested deeper than the parser or the
checks can recurse (``"[" * 100000``): its ``RecursionError`` is the body's fault.
"""

from __future__ import annotations

import datetime
import importlib
import io
import json
import sys
import types
import typing
from collections.abc import Callable, Mapping
from http import HTTPStatus
from types import ModuleType
from typing import Any, Literal, Protocol, TypeVar

import attrs

from ._http import Capture, capturing
from .errors import ResponseValidationError
from .redaction import sanitized

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
    """A parsed value does not have the type its model declares."""


def _resolve(endpoint: object, variant: str, package: str) -> Callable[..., Any]:
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
    function = getattr(module, variant, None)
    if not callable(function):
        raise TypeError(f"{module.__name__} has no {variant}()")
    return typing.cast("Callable[..., Any]", function)


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args:
        return f"missing required field {error.args[0]!r}"
    if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
        return f"body is not JSON ({error})"
    if isinstance(error, RecursionError):
        return "body is nested too deeply to parse"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _invalid(capture: Capture, detail: str) -> Exception:
    response = capture.response
    assert response is not None
    where = f"{response.request.method} {response.request.url.path}"
    return ResponseValidationError(
        f"HTTP {response.status_code} from {where} does not match the spec: {detail}",
        request=response.request,
        status_code=response.status_code,
    )


def _finish(result: Parsed[Any], capture: Capture) -> Any:
    parsed = result.parsed
    try:
        check_value(parsed)
    except ModelMismatch as error:
        raise _invalid(capture, str(error)) from None
    except RecursionError:
        raise _invalid(capture, "body is nested too deeply to check") from None
    return parsed


def call_endpoint(client: Any, endpoint: object, package: str, kwargs: Mapping[str, Any]) -> Any:
    """Run ``endpoint.sync_detailed(client=client, **kwargs)`` and return the checked model."""
    function = _resolve(endpoint, "sync_detailed", package)
    failure: Exception | None = None
    with capturing() as capture:
        try:
            result = function(client=client, **kwargs)
        except _PARSE_ERRORS as error:
            if capture.response is None:  # nothing was received: the arguments are wrong
                raise
            failure = _invalid(capture, _describe(error))
            failure.__cause__ = sanitized(error)
        except Exception as error:
            if type(error).__name__ != "UnexpectedStatus" or capture.response is None:
                raise
            failure = _invalid(capture, "status not documented in the spec")
        if failure is not None:  # raised outside the handler: the raw error is not kept
            raise failure
        return _finish(result, capture)


async def acall_endpoint(
    client: Any, endpoint: object, package: str, kwargs: Mapping[str, Any]
) -> Any:
    """Run ``endpoint.asyncio_detailed(client=client, **kwargs)`` and return the checked model."""
    function = _resolve(endpoint, "asyncio_detailed", package)
    failure: Exception | None = None
    with capturing() as capture:
        try:
            result = await function(client=client, **kwargs)
        except _PARSE_ERRORS as error:
            if capture.response is None:  # nothing was received: the arguments are wrong
                raise
            failure = _invalid(capture, _describe(error))
            failure.__cause__ = sanitized(error)
        except Exception as error:
            if type(error).__name__ != "UnexpectedStatus" or capture.response is None:
                raise
            failure = _invalid(capture, "status not documented in the spec")
        if failure is not None:  # raised outside the handler: the raw error is not kept
            raise failure
        return _finish(result, capture)


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
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_value(value: Any, hint: Any = Any, path: str = "$") -> None:
    """Raise ``ModelMismatch`` when ``value`` does not fit ``hint`` (recursing into models).

    Only what JSON can express is checked; anything unknown is accepted.
    """
    if attrs.has(type(value)) and hint is Any:
        hint = type(value)
    if hint is Any or isinstance(hint, TypeVar):
        if isinstance(value, list):
            for index, item in enumerate(value):
                check_value(item, Any, f"{path}[{index}]")
        return
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arm in args:
            try:
                check_value(value, arm, path)
            except ModelMismatch:
                continue
            return
        expected = " | ".join(_type_name(a) for a in args)
        raise ModelMismatch(f"{path}: expected {expected}, got {type(value).__name__}")
    if origin is Literal:
        if value not in args:
            raise ModelMismatch(f"{path}: not one of the allowed values {list(args)!r}")
        return
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            raise ModelMismatch(f"{path}: expected a list, got {type(value).__name__}")
        item_hint = args[0] if args else Any
        for index, item in enumerate(value):
            check_value(item, item_hint, f"{path}[{index}]")
        return
    if origin in (dict, typing.Dict, Mapping):  # noqa: UP006
        if not isinstance(value, dict):
            raise ModelMismatch(f"{path}: expected an object, got {type(value).__name__}")
        value_hint = args[1] if len(args) == 2 else Any
        for key, item in value.items():
            check_value(item, value_hint, f"{path}.{key}")
        return
    if hint is type(None) or hint is None:
        if value is not None:
            raise ModelMismatch(f"{path}: expected null, got {type(value).__name__}")
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
        ok = isinstance(value, hint)
    elif hint in (typing.BinaryIO, typing.IO):
        # A file's payload (BytesIO): typing.BinaryIO is no runtime base class of it.
        ok = isinstance(value, io.IOBase)
    elif isinstance(hint, type):
        ok = isinstance(value, hint)
        if ok and attrs.has(hint):
            _check_model(value, path)
            return
    else:
        return
    if not ok:
        raise ModelMismatch(f"{path}: expected {_type_name(hint)}, got {type(value).__name__}")


def _check_model(model: Any, path: str) -> None:
    hints = _hints(type(model))
    for attribute in attrs.fields(type(model)):
        name = attribute.name
        if name == "additional_properties" or name not in hints:
            continue
        check_value(getattr(model, name), hints[name], f"{path}.{attribute.alias or name}")
