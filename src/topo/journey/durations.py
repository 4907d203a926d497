"""Durations (``90d``, ``12h``) and percentages (``10%``) as the journey format writes them."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration", "parse_percentage"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LONGEST = timedelta.max.days * 86400  # the longest duration a timedelta can hold
_DURATION = re.compile(r"^([0-9]+)([smhdw])$")
_CALENDAR = re.compile(r"(?i)month|year|[0-9]\s*(?:mo|y|yr|M)$")
_PERCENTAGE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*%$")


def parse_duration(text: str) -> timedelta:
    """``"90d"`` as a timedelta; raises ValueError with a sentence for anything else.

    A duration is a positive integer and one unit: ``s`` seconds, ``m`` minutes, ``h`` hours,
    ``d`` days, ``w`` weeks. There are no months or years (``365d`` is 365 days).
    """
    match = _DURATION.match(text.strip())
    if match is None:
        calendar = _CALENDAR.search(text) is not None
        hint = " (there are no months or years: write 30d or 365d)" if calendar else ""
        raise ValueError(
            f"{text!r} is not a duration; write a positive whole number and a unit "
            f"s, m, h, d or w, such as 90d or 12h{hint}"
        )
    digits = match.group(1).lstrip("0")
    if len(digits) > len(str(_LONGEST)):  # longer than any duration (and than int() reads)
        raise ValueError(
            f"{_shortened(text)} is longer than {_LONGEST // 86400:,} days, the longest duration"
        )
    amount = int(digits or "0")
    if amount == 0:
        raise ValueError(f"{text!r} is zero; a duration must be positive")
    seconds = amount * _UNITS[match.group(2)]
    if seconds > _LONGEST:
        raise ValueError(
            f"{_shortened(text)} is longer than {_LONGEST // 86400:,} days, the longest duration"
        )
    return timedelta(seconds=seconds)


def _shortened(text: str) -> str:
    """The text as written, in quotes, cut short when it is long."""
    return repr(text) if len(text) <= 30 else f"{text[:24]!r}… ({len(text)} characters)"


def format_duration(duration: timedelta) -> str:
    """A timedelta in the format's own words, with the largest unit that divides it."""
    seconds = int(duration.total_seconds())
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if unit != "w" and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_percentage(text: str) -> float:
    """``"10%"`` as the share ``0.1``; raises ValueError with a sentence for anything else."""
    match = _PERCENTAGE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a percentage; write it like 10% or 2.5%")
    share = float(match.group(1)) / 100
    if share > 1:
        raise ValueError(f"{text!r} is more than 100%")
    return share
