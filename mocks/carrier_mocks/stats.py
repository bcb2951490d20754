"""Request counts per operation, so a test can assert how often a client called."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Stats"]


class Stats:
    """Counts keyed ``"METHOD /path"`` as the spec writes them; every route starts at 0."""

    def __init__(self, routes: Iterable[str]) -> None:
        self._routes = tuple(routes)
        self._counts = dict.fromkeys(self._routes, 0)

    @property
    def routes(self) -> tuple[str, ...]:
        """The counted routes, the only ones faults can target."""
        return self._routes

    def hit(self, route: str) -> None:
        self._counts[route] += 1

    def snapshot(self) -> dict[str, int]:
        return dict(self._counts)

    def clear(self) -> None:
        self._counts = dict.fromkeys(self._routes, 0)
