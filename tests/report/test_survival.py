"""Kaplan-Meier, checked against hand computations: members still on the way are censored,
not counted as never arriving."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.report.survival import kaplan_meier


class TestKaplanMeier:
    def test_no_censoring_is_the_empirical_curve(self) -> None:
        """Without censoring, S(t) is the share not yet arrived; the median is the middle."""
        curve = kaplan_meier([1, 2, 3, 4], [True] * 4)
        assert curve.survival == pytest.approx((0.75, 0.5, 0.25, 0.0))
        assert curve.quartiles() == (1.0, 2.0, 3.0)

    def test_censoring_by_hand(self) -> None:
        """Times 1, 2+, 3, 4, 5+ (+ censored): S = 4/5 at 1; at 3, 3 at risk: 4/5 * 2/3 =
        8/15; at 4, 2 at risk: 8/15 * 1/2 = 4/15. The median is 4 (S first <= 0.5)."""
        curve = kaplan_meier([1, 2, 3, 4, 5], [True, False, True, True, False])
        assert curve.times == (1.0, 3.0, 4.0)
        assert curve.survival == pytest.approx((4 / 5, 8 / 15, 4 / 15))
        assert curve.quantile(0.5) == 4.0
        assert curve.quantile(0.25) == 3.0
        assert curve.quantile(0.75) is None  # S never falls to 0.25
        assert (curve.arrived, curve.censored) == (3, 2)

    def test_censored_at_a_tie_is_still_at_risk(self) -> None:
        """A subject censored at t counts as at risk at t: 2 arrive at 2 of 4 at risk."""
        curve = kaplan_meier([2, 2, 2, 5], [True, True, False, True])
        assert curve.survival[0] == pytest.approx(0.5)
        assert curve.quantile(0.5) == 2.0

    def test_counting_censored_as_never_would_be_slower(self) -> None:
        """Half censored early: Kaplan-Meier still finds a median, where 'never' would not."""
        curve = kaplan_meier([1, 1, 1, 2, 3, 4], [False, False, False, True, True, True])
        assert curve.quantile(0.5) == 3.0

    def test_nobody_arrived(self) -> None:
        """With no arrival every quantile is None."""
        assert kaplan_meier([3, 4], [False, False]).quartiles() == (None, None, None)
        assert kaplan_meier([], []).quartiles() == (None, None, None)

    def test_bad_input(self) -> None:
        """Lengths must match, times be non-negative, shares lie in (0, 1)."""
        with pytest.raises(ValueError):
            kaplan_meier([1], [True, False])
        with pytest.raises(ValueError):
            kaplan_meier([-1], [True])
        with pytest.raises(ValueError):
            kaplan_meier([1], [True]).quantile(1.0)


def _by_definition(durations: list[float], arrived: list[bool]) -> tuple[list[float], list[float]]:
    """The product-limit estimate written as its definition: at each arrival time, the share
    still at risk that arrives (a count over everyone, for every time)."""
    times, survival, level = [], [], 1.0
    for t in sorted({d for d, a in zip(durations, arrived, strict=True) if a}):
        at_risk = sum(1 for d in durations if d >= t)
        arrivals = sum(1 for d, a in zip(durations, arrived, strict=True) if a and d == t)
        level *= 1 - arrivals / at_risk
        times.append(t)
        survival.append(level)
    return times, survival


@given(st.lists(st.tuples(st.integers(0, 12).map(lambda d: d / 4), st.booleans()), max_size=60))
def test_the_fast_estimate_is_the_definition(subjects: list[tuple[float, bool]]) -> None:
    """Sorted once and summed by runs (so a million members take a moment, not hours), the
    curve is the definition's, ties and censoring included."""
    durations = [d for d, _ in subjects]
    arrived = [a for _, a in subjects]
    curve = kaplan_meier(durations, arrived)
    times, survival = _by_definition(durations, arrived)
    assert list(curve.times) == times
    assert list(curve.survival) == pytest.approx(survival, rel=1e-12)
