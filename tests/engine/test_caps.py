"""The caps, in the contract's order: once, cooldown, the reminder's own rule, holdout, pressure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from topo.engine.caps import record, withheld_by
from topo.engine.compiled import CompiledIncentive, CompiledReminder
from topo.engine.holdout import held_out
from topo.engine.member_state import MemberState

DAY = 86_400_000_000


def incentive(**caps: Any) -> CompiledIncentive:
    values = {"once": False, "cooldown": None, "holdout": 0.0, **caps}
    return CompiledIncentive("gift", "mail", 0.0, None, None, **values)


def state(member: str = "m-1") -> MemberState:
    return MemberState(member, "vip", datetime(2026, 1, 1, tzinfo=UTC), 0, [])


def reminder(cooldown: int | None = None, ahead: bool = False) -> CompiledReminder:
    return CompiledReminder(
        0, frozenset({"vip"}), None, None, "gift", cooldown, "m" if ahead else None, slot=1
    )


class TestEachCap:
    """Each cap withholds with its own name."""

    def test_once(self) -> None:
        """A once incentive granted before is withheld: once."""
        s, gift = state(), incentive(once=True)
        assert withheld_by(s, gift, 0) is None
        record(s, gift, 0)
        assert withheld_by(s, gift, 100 * DAY) == "once"

    @pytest.mark.parametrize("later,expected", [(10 * DAY - 1, "cooldown"), (10 * DAY, None)])
    def test_cooldown_boundary(self, later: int, expected: str | None) -> None:
        """t - u < cooldown withholds; exactly the cooldown later, it is granted."""
        s, gift = state(), incentive(cooldown=10 * DAY)
        record(s, gift, 0)
        assert withheld_by(s, gift, later) == expected

    def test_once_per_stay(self) -> None:
        """A reminder without a cooldown fires once a stay; entering again re-arms it."""
        s, gift, nudge = state(), incentive(), reminder()
        record(s, gift, 0, nudge)
        assert withheld_by(s, gift, DAY, nudge) == "once-per-stay"
        s.enter("vip", datetime(2026, 2, 1, tzinfo=UTC))
        assert withheld_by(s, gift, DAY, nudge) is None

    def test_reminder_cooldown(self) -> None:
        """A reminder with its own cooldown waits that long between its grants."""
        s, gift, nudge = state(), incentive(), reminder(cooldown=7 * DAY)
        record(s, gift, 0, nudge)
        assert withheld_by(s, gift, 6 * DAY, nudge) == "reminder-cooldown"
        assert withheld_by(s, gift, 7 * DAY, nudge) is None

    def test_holdout(self) -> None:
        """A member in the control group is withheld: holdout."""
        member = next(f"m-{i}" for i in range(1000) if held_out("gift", f"m-{i}", 0.5))
        assert withheld_by(state(member), incentive(holdout=0.5), 0) == "holdout"

    def test_pressure_window(self) -> None:
        """max grants at u with t - per < u <= t withhold the next; older ones do not count."""
        pressure, s, gift = (2, 7 * DAY), state(), incentive()
        record(s, gift, 0, pressure=pressure)
        record(s, gift, DAY, pressure=pressure)
        assert withheld_by(s, gift, 7 * DAY - 1, pressure=pressure) == "pressure"
        assert withheld_by(s, gift, 7 * DAY, pressure=pressure) is None


class TestOrder:
    """The first cap that fails names the reason."""

    def test_once_before_cooldown(self) -> None:
        """An incentive that is both once and cooling down is withheld as once."""
        s, gift = state(), incentive(once=True, cooldown=DAY)
        record(s, gift, 0)
        assert withheld_by(s, gift, 1) == "once"

    def test_withheld_grants_count_for_nothing(self) -> None:
        """Only recorded grants count: a withheld one does not start a cooldown."""
        s, gift = state(), incentive(cooldown=DAY)
        assert withheld_by(s, gift, 0) is None
        assert withheld_by(s, gift, 1) is None
