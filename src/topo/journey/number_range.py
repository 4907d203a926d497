"""The range of numbers topo accepts, in journeys and in events: that of a 64-bit signed integer.

A number outside it is not a number any of topo's outputs can carry: JSON consumers, SQLite and
Parquet hold 64-bit integers, and a sum of huge integers outgrows what Python will even write as
text. So an integer must lie in ``[-2**63, 2**63 - 1]``, and a float must be finite and lie in the
same range; a journey or an event with a number outside it is invalid, with a reason that says
so. Within it, sums stay exact and writable: a metric adding the largest value once a
microsecond for a thousand years is still far below the limits of floats and of text.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FLOAT_LIMIT", "LARGEST", "RANGE_TEXT", "SMALLEST", "in_range"]

SMALLEST: Final = -(2**63)
"""The smallest number accepted, -9,223,372,036,854,775,808."""
LARGEST: Final = 2**63 - 1
"""The largest integer accepted, 9,223,372,036,854,775,807 (a float may be 2**63, the float
that integer becomes)."""
RANGE_TEXT: Final = (
    "numbers must lie between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807 "
    "(a 64-bit integer)"
)
"""The rule in words, for reasons and diagnostics."""

FLOAT_LIMIT: Final = float(2**63)
"""A float is accepted when ``-FLOAT_LIMIT <= value <= FLOAT_LIMIT`` (NaN and the infinities
are not)."""


def in_range(value: int | float) -> bool:
    """Whether ``value`` (an int or a float; not a bool) is a number topo accepts."""
    if type(value) is float or isinstance(value, float):
        # NaN fails both comparisons; the infinities fail one.
        return -FLOAT_LIMIT <= value <= FLOAT_LIMIT
    return SMALLEST <= value <= LARGEST
