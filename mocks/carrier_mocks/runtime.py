"""The state every mock shares besides its business data: clock, tokens, stats, faults."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from carrier_mocks.clock import Clock
from carrier_mocks.faults import FaultBook
from carrier_mocks.stats import Stats
from carrier_mocks.tokens import TokenSigner

__all__ = ["Records", "Runtime"]


class Records(Protocol):
    """The records a mock keeps (``/__mock__/state``): cleared, exported, imported."""

    def clear(self) -> None: ...

    def export(self) -> dict[str, Any]: ...

    def load(self, document: Any) -> tuple[int, int]: ...


class Runtime:
    """One mock's moving parts, reset together so tests start from the fixtures."""

    def __init__(
        self,
        *,
        clock: Clock,
        signer: TokenSigner,
        routes: Iterable[str],
        reset_data: Callable[[], None],
        records: Records | None = None,
    ) -> None:
        self.clock = clock
        self.signer = signer
        self.stats = Stats(routes)
        self.faults = FaultBook()
        self._reset_data = reset_data
        self.records = records

    def reset(self) -> None:
        """Back to the state at start: real time, fixtures, no faults, no valid tokens."""
        self.clock.reset()
        self.stats.clear()
        self.faults.clear()
        self.signer.rotate()
        self._reset_data()
        if self.records is not None:
            self.records.clear()

    def revoke_tokens(self) -> None:
        """Invalidate every JWT issued so far; later ones are valid again."""
        self.signer.rotate()
