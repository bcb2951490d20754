"""The mocks' notion of "now": real time plus an offset that tests can advance.

Every expiry the mocks implement (JWT lifetime, per-day limits, key expiry and
cleanup, rate-limit windows) reads this clock, so a test can cross an hour or a
day boundary without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["MAX_OFFSET_SECONDS", "Clock"]

#: Upper bound on the total offset (about 100 years), far before datetime overflows.
MAX_OFFSET_SECONDS = 100 * 366 * 86400.0


class Clock:
    """Wall-clock time shifted by an offset that only moves forward.

    ``source`` returns Unix seconds; tests pass a constant (see :meth:`fixed`) to
    place "now" exactly on a boundary.
    """

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0

    @classmethod
    def fixed(cls, at: datetime) -> Clock:
        """A clock frozen at ``at`` (timezone-aware) that moves only when advanced."""
        if at.tzinfo is None:
            raise ValueError("the instant must be timezone-aware")
        instant = at.timestamp()
        return cls(lambda: instant)

    @property
    def offset(self) -> float:
        """Seconds added to the source so far."""
        return self._offset

    def now(self) -> float:
        """Current Unix time in seconds, offset included."""
        return self._source() + self._offset

    def utcnow(self) -> datetime:
        """Current time as an aware UTC datetime, offset included."""
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> None:
        """Move time forward; backwards jumps would break the expiry rules."""
        if not seconds >= 0:  # also rejects NaN
            raise ValueError("seconds must be a non-negative number")
        if self._offset + seconds > MAX_OFFSET_SECONDS:
            raise ValueError("the clock cannot be advanced that far")
        self._offset += seconds

    def reset(self) -> None:
        """Drop the offset: back to the source's time."""
        self._offset = 0.0
