"""Medians and per-round ratios: the arithmetic behind the overhead figures."""

from __future__ import annotations

import pytest

from bench.stats import interquartile_mean, median, round_order, round_ratios, summarize


def test_median_of_odd_and_even_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median([7.0]) == 7.0


def test_median_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_sides_alternate_which_goes_first() -> None:
    assert [round_order(i)[0] for i in range(4)] == ["wrapper", "plain", "wrapper", "plain"]
    assert all(sorted(round_order(i)) == ["plain", "wrapper"] for i in range(4))


def test_ratios_are_per_round() -> None:
    assert round_ratios([2.0, 3.0], [1.0, 2.0]) == [2.0, 1.5]


def test_ratios_need_matching_positive_series() -> None:
    with pytest.raises(ValueError, match="one duration per round"):
        round_ratios([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        round_ratios([1.0], [0.0])


def test_summary_takes_the_median_ratio_not_the_ratio_of_medians() -> None:
    # one round hit by a burst on the wrapper side only: the median ignores it
    wrapper = [1.0, 1.0, 5.0]
    plain = [1.0, 1.0, 1.0]
    result = summarize(wrapper, plain, calls=100)
    assert result.ratio == 1.0
    assert (result.ratio_min, result.ratio_max) == (1.0, 5.0)
    assert result.rounds == 3
    assert result.wrapper_us == pytest.approx(10_000.0)
    assert result.plain_us == pytest.approx(10_000.0)


def test_summary_needs_calls() -> None:
    with pytest.raises(ValueError, match="calls"):
        summarize([1.0], [1.0], calls=0)


def test_the_interquartile_mean_drops_the_slow_calls_a_burst_makes() -> None:
    assert interquartile_mean([1.0, 2.0, 3.0, 4.0]) == 2.5
    calls = [1.0] * 6 + [50.0, 60.0]  # two calls a neighbour's burst held up
    assert interquartile_mean(calls) == 1.0
    assert interquartile_mean([3.0]) == 3.0
    with pytest.raises(ValueError, match="no values"):
        interquartile_mean([])
