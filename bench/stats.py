"""Small statistics for noisy machines: medians of per-round ratios.

A ratio is taken per round, between two sides timed back to back, so that a burst
of load from a neighbour slows both sides of that round alike; the median over the
rounds then discards the rounds a burst hit unevenly.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "RatioSummary",
    "interquartile_mean",
    "median",
    "round_order",
    "round_ratios",
    "summarize",
]


def median(values: Sequence[float]) -> float:
    """The median; an empty sequence is an error rather than a silent 0."""
    if not values:
        raise ValueError("the median of no values is undefined")
    return float(statistics.median(values))


def interquartile_mean(values: Sequence[float]) -> float:
    """The mean of the middle half: single slow calls (a neighbour's burst) drop out,
    while every call in the middle still counts, unlike in a median."""
    if not values:
        raise ValueError("the interquartile mean of no values is undefined")
    ordered = sorted(values)
    cut = len(ordered) // 4
    middle = ordered[cut : len(ordered) - cut]
    return sum(middle) / len(middle)


def round_order(index: int) -> tuple[str, str]:
    """Which side runs first in round ``index``: they alternate, so neither is always warm."""
    return ("wrapper", "plain") if index % 2 == 0 else ("plain", "wrapper")


def round_ratios(wrapper: Sequence[float], plain: Sequence[float]) -> list[float]:
    """Per-round ratios wrapper / plain of two equally long series of durations."""
    if len(wrapper) != len(plain):
        raise ValueError("both sides need one duration per round")
    if any(value <= 0 for value in plain):
        raise ValueError("durations must be positive")
    return [w / p for w, p in zip(wrapper, plain, strict=True)]


@dataclass(frozen=True)
class RatioSummary:
    """What one overhead measurement reports: the median ratio and the per-call medians."""

    ratio: float
    ratio_min: float
    ratio_max: float
    rounds: int
    calls_per_round: int
    wrapper_us: float
    plain_us: float


def summarize(wrapper: Sequence[float], plain: Sequence[float], calls: int) -> RatioSummary:
    """Summarize per-round durations (seconds for ``calls`` calls) of the two sides."""
    if calls <= 0:
        raise ValueError("calls must be positive")
    ratios = round_ratios(wrapper, plain)
    return RatioSummary(
        ratio=median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        rounds=len(ratios),
        calls_per_round=calls,
        wrapper_us=median(wrapper) / calls * 1e6,
        plain_us=median(plain) / calls * 1e6,
    )
