"""Injected faults: the next N requests of a route fail, stall or lose their connection.

Faults let client tests exercise retries, timeouts and reconnects against a mock
that otherwise always answers correctly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from carrier_mocks.parsing import as_float

__all__ = ["MAX_DELAY_SECONDS", "Fault", "FaultBook", "parse_fault", "reason_phrase"]

#: Long enough to trip any client timeout, short enough never to wedge a server.
MAX_DELAY_SECONDS = 300.0
_MAX_COUNT = 1_000_000
_FIELDS = {"route", "count", "status", "delay", "drop", "retry_after"}


@dataclass(frozen=True)
class Fault:
    """What happens to each of the next ``count`` requests of a route.

    ``delay`` seconds pass first; then the connection is dropped (``drop``), or
    the request is answered with ``status`` (and ``Retry-After``), or, with only
    a delay, handled normally.
    """

    count: int = 1
    status: int | None = None
    delay: float = 0.0
    drop: bool = False
    retry_after: int | None = None


class FaultBook:
    """Pending faults per route, applied first in, first out."""

    def __init__(self) -> None:
        self._pending: dict[str, deque[Fault]] = {}

    def add(self, route: str, fault: Fault) -> None:
        self._pending.setdefault(route, deque()).append(fault)

    def take(self, route: str) -> Fault | None:
        """Use up one request's worth of the oldest fault of ``route``."""
        queue = self._pending.get(route)
        if not queue:
            return None
        fault = queue[0]
        if fault.count <= 1:
            queue.popleft()
        else:
            queue[0] = replace(fault, count=fault.count - 1)
        return replace(fault, count=1)

    def pending(self) -> dict[str, int]:
        """Requests still to be faulted, per route."""
        return {
            route: sum(f.count for f in queue) for route, queue in self._pending.items() if queue
        }

    def clear(self) -> None:
        self._pending.clear()


def reason_phrase(status: int) -> str:
    """The standard phrase of a status, which injected error bodies carry as their message."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _seconds(data: dict[str, Any], name: str, high: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    seconds = as_float(value)
    if seconds is None or not 0 <= seconds <= high:
        raise ValueError(f"'{name}' must be a number of seconds from 0 to {high:g}")
    return seconds


def _integer(data: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"'{name}' must be an integer from {low} to {high}")
    return value


def parse_fault(data: object, routes: Collection[str]) -> tuple[str, Fault]:
    """Check a ``POST /__mock__/faults`` body; :class:`ValueError` says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    route = data.get("route")
    if not isinstance(route, str) or route not in routes:
        raise ValueError(f"'route' must be one of: {', '.join(sorted(routes))}")
    count = _integer(data, "count", 1, _MAX_COUNT)
    status = _integer(data, "status", 400, 599)
    retry_after = _integer(data, "retry_after", 0, 86400)
    delay = _seconds(data, "delay", MAX_DELAY_SECONDS)
    drop = data.get("drop", False)
    if not isinstance(drop, bool):
        raise ValueError("'drop' must be true or false")
    if drop and status is not None:
        raise ValueError("'drop' and 'status' exclude each other")
    if retry_after is not None and status is None:
        raise ValueError("'retry_after' needs a 'status'")
    if status is None and not drop and not delay:
        raise ValueError("give a 'status', a 'delay' or 'drop': true")
    fault = Fault(
        count=1 if count is None else count,
        status=status,
        delay=delay or 0.0,
        drop=drop,
        retry_after=retry_after,
    )
    return route, fault
