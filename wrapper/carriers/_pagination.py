"""Walking a paged list: every item of every page, one ``call`` per page.

An operation is paged when it takes ``page`` and ``limit`` and its 2xx model has
``current_page``, ``last_page`` and ``items`` (Nova Post's lists). The walk starts
at the ``page`` given (default 1) and stops after ``last_page``, after a page
without items, or when the server does not say where it is (no ``last_page``).
Each page is its own call, under its own ``deadline``. A server that answers a page
that does not advance (the same ``current_page`` twice, or an earlier one) would
loop forever: the walk ends there, with ``ResponseValidationError`` under
``strict_responses=True`` and with one warning otherwise, the repeated page's items
not yielded again.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

import attrs

from .errors import ResponseValidationError
from .redaction import logger

__all__ = ["PagedEndpoint", "apaginate", "paginate"]

P = ParamSpec("P")
T_co = TypeVar("T_co", covariant=True)

PARAMETERS = ("page", "limit")
FIELDS = ("current_page", "last_page", "items")


class _UnsetLike(Protocol):
    """Each generated package's ``Unset``: falsy, whatever package it comes from."""

    def __bool__(self) -> Literal[False]: ...


class Page(Protocol[T_co]):
    """A page model: its ``items`` give the item type."""

    @property
    def items(self) -> Sequence[T_co] | _UnsetLike: ...


class PagedEndpoint(Protocol[P, T_co]):
    """A generated endpoint module whose 2xx model is a page of ``T_co`` items."""

    @property
    def facade_call(self) -> Callable[P, Page[T_co]]: ...


def check_paged(endpoint: object) -> str:
    """The operation's name, or a ``TypeError`` naming what makes it no paged list."""
    module = endpoint if isinstance(endpoint, ModuleType) else inspect.getmodule(endpoint)
    function = getattr(module, "sync_detailed", None)
    name = getattr(module, "__name__", repr(endpoint))
    if not callable(function):
        raise TypeError(f"paginate() takes a generated api module, not {name}")
    parameters = inspect.signature(function).parameters
    missing = [f"the argument {p!r}" for p in PARAMETERS if p not in parameters]
    models = _models(inspect.signature(function).return_annotation)
    if not any(all(field in names for field in FIELDS) for names in models):
        missing.append(f"a 2xx model with the fields {', '.join(FIELDS)}")
    if missing:
        raise TypeError(f"{name} is not a paged list: it has no {' and no '.join(missing)}")
    return name.rpartition(".")[2]


def _models(annotation: Any) -> list[set[str]]:
    """The field names of each model a ``Response[A | B]`` annotation names."""
    found: list[set[str]] = []
    for arm in typing.get_args(annotation) or (annotation,):
        for model in typing.get_args(arm) or (arm,):
            if isinstance(model, type) and attrs.has(model):
                found.append({field.name for field in attrs.fields(model)})
    return found


def _field(page: Any, name: str) -> Any:
    """A page field from the model, or from the JSON a lenient call fell back to."""
    return page.get(name) if isinstance(page, dict) else getattr(page, name, None)


class _Walk:
    """Where a walk is: the page to ask for next, and whether to stop."""

    def __init__(self, endpoint: object, arguments: dict[str, Any], strict: bool) -> None:
        self.operation = check_paged(endpoint)  # before any request
        self.arguments = arguments
        self.strict = strict
        start = arguments.get("page")
        self.number = start if isinstance(start, int) and not isinstance(start, bool) else 1
        self.previous: int | None = None
        self.done = False

    def request(self) -> dict[str, Any]:
        return {**self.arguments, "page": self.number}

    def items(self, page: Any) -> list[Any]:
        """The page's items to yield; sets ``done`` when there is no next page."""
        current = _field(page, "current_page")
        if not isinstance(current, int) or isinstance(current, bool):
            current = self.number  # the server did not say: the page asked for
        if self.previous is not None and current <= self.previous:
            self.done = True
            self._repeated(current)
            return []
        items = _field(page, "items")
        items = items if isinstance(items, list) else []
        last = _field(page, "last_page")
        if not items or not isinstance(last, int) or current >= last:
            self.done = True
        self.previous, self.number = current, current + 1
        return items

    def _repeated(self, current: int) -> None:
        detail = (
            f"{self.operation}: asked for page {self.number} after page {self.previous}, "
            f"the server answered current_page {current}; the pages do not advance"
        )
        if self.strict:
            raise ResponseValidationError(detail)
        logger.warning("%s: stopped paging (strict_responses=True raises instead)", detail)


def paginate(
    call: Callable[[object, dict[str, Any]], Any],
    endpoint: object,
    arguments: dict[str, Any],
    *,
    strict: bool,
) -> Iterator[Any]:
    """Every item of every page, each page fetched by ``call(endpoint, arguments)``.

    The endpoint is checked here, before the first page is asked for."""
    walk = _Walk(endpoint, arguments, strict)

    def pages() -> Iterator[Any]:
        while not walk.done:
            yield from walk.items(call(endpoint, walk.request()))

    return pages()


def apaginate(
    acall: Callable[[object, dict[str, Any]], Awaitable[Any]],
    endpoint: object,
    arguments: dict[str, Any],
    *,
    strict: bool,
) -> AsyncIterator[Any]:
    """``paginate`` for asyncio (``async for item in ...``)."""
    walk = _Walk(endpoint, arguments, strict)

    async def pages() -> AsyncIterator[Any]:
        while not walk.done:
            for item in walk.items(await acall(endpoint, walk.request())):
                yield item

    return pages()
