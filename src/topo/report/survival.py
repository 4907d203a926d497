"""Kaplan-Meier: how long members take to reach something, when some of them have not yet.

A member still on the way when the run ends has not failed to arrive; it has only been
watched for a while. Counting it as "never" would make every journey look slow, and leaving
it out would make it look fast. The product-limit estimator counts it as at risk until it was
last seen (censored), which is what the report's time figures use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Curve", "kaplan_meier"]

_EPSILON = 1e-12  # survival products are rounded floats; 0.5 must match 0.5


@dataclass(frozen=True)
class Curve:
    """A Kaplan-Meier survival curve: ``survival[i]`` is S(t) just after ``times[i]``.

    S(t) is the share of the population that has *not* yet arrived at time t.
    """

    times: tuple[float, ...]
    survival: tuple[float, ...]
    arrived: int
    censored: int

    def quantile(self, share: float) -> float | None:
        """The time by which ``share`` of the population has arrived: the first event time at
        which S(t) <= 1 - share; None when the curve never gets that low (too many members
        still on the way)."""
        if not 0 < share < 1:
            raise ValueError(f"a quantile's share lies strictly between 0 and 1, not {share}")
        for time, level in zip(self.times, self.survival, strict=True):
            if level <= 1 - share + _EPSILON:
                return time
        return None

    def quartiles(self) -> tuple[float | None, float | None, float | None]:
        """The first quartile, the median and the third quartile of the time to arrive."""
        return self.quantile(0.25), self.quantile(0.5), self.quantile(0.75)


def kaplan_meier(durations: Sequence[float], arrived: Sequence[bool]) -> Curve:
    """The product-limit estimate from each subject's time watched and whether it arrived then.

    At each time t at which d subjects arrive, with n still at risk (not arrived and not
    censored before t), S falls by the factor (1 - d/n). A subject censored at exactly t is
    still at risk at t (the usual convention: arrivals before censorings at a tie).
    """
    if len(durations) != len(arrived):
        raise ValueError("durations and arrived must have the same length")
    time = np.asarray(durations, dtype=float)
    event = np.asarray(arrived, dtype=bool)
    if time.size and (np.isnan(time).any() or (time < 0).any()):
        raise ValueError("durations are non-negative numbers")
    # Sorted once: at each distinct time, those at risk are the ones from its first place on,
    # and its arrivals a sum over its run (one pass, not a count over everyone per time).
    order = np.argsort(time, kind="stable")
    ordered, arrivals_ordered = time[order], event[order].astype(np.int64)
    distinct, first = np.unique(ordered, return_index=True)
    arrivals = np.add.reduceat(arrivals_ordered, first) if first.size else first
    at_risk = time.size - first
    some = arrivals > 0
    survival = np.cumprod(1 - arrivals[some] / at_risk[some])
    return Curve(
        times=tuple(distinct[some].tolist()),
        survival=tuple(survival.tolist()),
        arrived=int(event.sum()),
        censored=int((~event).sum()),
    )
