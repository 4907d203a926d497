"""Control groups: which members an incentive's ``holdout`` keeps back.

The contract fixes the rule so that every run, machine and implementation agrees: member M is
held out of incentive I when the first 8 bytes of ``sha256("I:M")`` (UTF-8), read as a
big-endian unsigned integer and divided by 2^64, are below the share. The comparison here is
exact (rational numbers), so a member on the very edge is decided the same way everywhere.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

__all__ = ["held_out", "holdout_point"]

_SPAN = 2**64


def holdout_point(incentive: str, member: str) -> Fraction:
    """Where a member falls for an incentive, in [0, 1): the same on every run and machine."""
    digest = hashlib.sha256(f"{incentive}:{member}".encode()).digest()
    return Fraction(int.from_bytes(digest[:8], "big"), _SPAN)


def held_out(incentive: str, member: str, share: float) -> bool:
    """Whether ``member`` is in the control group of ``incentive`` with this share (0 to 1).

    The share is compared as the decimal it was written as (``10%`` is exactly 1/10), so
    raising it only adds members to the control group.
    """
    if share <= 0:
        return False
    return holdout_point(incentive, member) < Fraction(repr(share))
