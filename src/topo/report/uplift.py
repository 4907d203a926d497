"""Control-group statistics: did members who got an incentive reach its goal more often?

Two groups, granted (1) and held out (2), with ``reached`` members of ``members`` each. The
figures, at 95% confidence and, for the detectable difference, 80% power (two-sided):

- difference d = p1 - p2, with p = reached / members;
- its Wald interval d ± z_0.975 · sqrt(p1(1-p1)/n1 + p2(1-p2)/n2);
- the two-sided p-value of the pooled two-proportion z-test: z = d / SE0 with
  SE0 = sqrt(pbar(1-pbar)(1/n1 + 1/n2)), pbar = (x1 + x2)/(n1 + n2), p = erfc(|z|/sqrt 2);
- the minimum detectable difference (z_0.975 + z_0.80) · SE0.

Only :mod:`math`: the normal quantiles are constants, the tail is ``math.erfc``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Z_80", "Z_975", "Comparison", "compare"]

Z_975 = 1.959963984540054
"""The standard normal's 97.5% quantile (two-sided 5%)."""
Z_80 = 0.8416212335729143
"""The standard normal's 80% quantile (80% power)."""


@dataclass(frozen=True)
class Comparison:
    """Granted vs held out. Figures that the group sizes do not allow are None: every figure
    needs members in both groups; the p-value and the detectable difference also need a
    pooled share strictly between 0 and 1."""

    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    detectable: float | None


def compare(reached_1: int, members_1: int, reached_2: int, members_2: int) -> Comparison:
    """Group 1 (granted) against group 2 (held out)."""
    if not (0 <= reached_1 <= members_1 and 0 <= reached_2 <= members_2):
        raise ValueError("each group's reached members lie between 0 and its members")
    if members_1 == 0 or members_2 == 0:
        return Comparison(None, None, None, None, None)
    p1, p2 = reached_1 / members_1, reached_2 / members_2
    difference = p1 - p2
    spread = math.sqrt(p1 * (1 - p1) / members_1 + p2 * (1 - p2) / members_2)
    low, high = difference - Z_975 * spread, difference + Z_975 * spread
    pooled = (reached_1 + reached_2) / (members_1 + members_2)
    null_spread = math.sqrt(pooled * (1 - pooled) * (1 / members_1 + 1 / members_2))
    if null_spread == 0:
        return Comparison(difference, low, high, None, None)
    z = difference / null_spread
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return Comparison(difference, low, high, p_value, (Z_975 + Z_80) * null_spread)
