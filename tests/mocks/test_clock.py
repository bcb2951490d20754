"""The injectable clock: real time plus an offset that only moves forward."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from carrier_mocks.clock import Clock

from .support import NOON


def test_fixed_clock_reads_its_instant() -> None:
    clock = Clock.fixed(NOON)
    assert clock.utcnow() == NOON
    assert clock.now() == NOON.timestamp()


def test_advance_moves_now_and_reset_drops_the_offset() -> None:
    clock = Clock.fixed(NOON)
    clock.advance(90)
    clock.advance(0.5)
    assert clock.utcnow() == NOON + timedelta(seconds=90.5)
    assert clock.offset == 90.5
    clock.reset()
    assert clock.utcnow() == NOON


def test_default_source_is_the_wall_clock() -> None:
    clock = Clock(source=lambda: 1000.0)
    clock.advance(86400)
    assert clock.now() == 1000.0 + 86400
    assert Clock().utcnow().tzinfo is UTC


@pytest.mark.parametrize("seconds", [-1, math.nan, math.inf, 1e12])
def test_advance_rejects_backwards_or_absurd_jumps(seconds: float) -> None:
    clock = Clock.fixed(NOON)
    with pytest.raises(ValueError):
        clock.advance(seconds)
    assert clock.offset == 0


def test_fixed_clock_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock.fixed(datetime(2025, 1, 1))
