"""Durations and percentages as the format writes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.journey.durations import format_duration, parse_duration, parse_percentage


class TestDurations:
    """A positive integer and one unit; no months, no years."""

    @pytest.mark.parametrize(
        "text,expected",
        [
            ("90d", timedelta(days=90)),
            ("12h", timedelta(hours=12)),
            ("15m", timedelta(minutes=15)),
            ("30s", timedelta(seconds=30)),
            ("2w", timedelta(weeks=2)),
        ],
    )
    def test_units(self, text: str, expected: timedelta) -> None:
        """Each unit means what the format says (m is minutes)."""
        assert parse_duration(text) == expected

    @pytest.mark.parametrize(
        "text", ["0d", "d", "1.5d", "-3d", "3", "3 d", "1y", "2M", "3 months", ""]
    )
    def test_rejected(self, text: str) -> None:
        """Anything else is a ValueError with a sentence."""
        with pytest.raises(ValueError, match=r"duration|zero"):
            parse_duration(text)

    def test_too_long(self) -> None:
        """A duration beyond what a date can carry is refused with a sentence, not a crash."""
        with pytest.raises(ValueError, match="longest duration"):
            parse_duration("10000000000w")

    def test_months_get_a_hint(self) -> None:
        """A month or year says there are none."""
        with pytest.raises(ValueError, match="no months or years"):
            parse_duration("3 months")

    @given(st.integers(1, 10**6), st.sampled_from("smhdw"))
    def test_format_round_trips(self, amount: int, unit: str) -> None:
        """Formatting a parsed duration and parsing it again gives the same duration."""
        duration = parse_duration(f"{amount}{unit}")
        assert parse_duration(format_duration(duration)) == duration


class TestPercentages:
    """A share written as 0% to 100%."""

    @pytest.mark.parametrize(
        "text,share", [("0%", 0.0), ("10%", 0.1), ("2.5%", 0.025), ("100%", 1.0), ("10 %", 0.1)]
    )
    def test_shares(self, text: str, share: float) -> None:
        """The percentage becomes a share of 1."""
        assert parse_percentage(text) == pytest.approx(share)

    @pytest.mark.parametrize("text", ["10", "0.1", "101%", "-1%", "ten%"])
    def test_rejected(self, text: str) -> None:
        """Anything else is a ValueError."""
        with pytest.raises(ValueError):
            parse_percentage(text)
