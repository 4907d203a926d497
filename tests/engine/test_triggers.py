"""Triggers and messages: the contract's shape, deterministic ids, messages as written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.engine.triggers import Trigger, timer_cause, trigger_id
from topo.journey.templates import compile_template

AT = datetime(2026, 3, 1, 10, 15, tzinfo=timezone(timedelta(hours=8)))


class TestTrigger:
    """A trigger written as the contract shows it."""

    def test_shape(self) -> None:
        """Exactly the contract's keys, ``from`` included, ``at`` with its own offset."""
        trigger = Trigger(
            "t1", "m-42", "vip_gift", "email", "enter", "regular", "vip", "vip", AT,
            "2026-03-01T10:15:00+08:00", "e-1001", "Welcome", 500.0,
        )  # fmt: skip
        assert trigger.to_dict() == {
            "id": "t1", "member": "m-42", "incentive": "vip_gift", "channel": "email",
            "reason": "enter", "from": "regular", "to": "vip", "node": "vip",
            "at": "2026-03-01T10:15:00+08:00", "cause": "e-1001", "message": "Welcome",
            "cost": 500.0,
        }  # fmt: skip

    def test_timer_cause(self) -> None:
        """A timer's cause names its due time and move."""
        assert timer_cause("2027-03-01T10:15:00+08:00", "vip_requalify") == (
            "timer:2027-03-01T10:15:00+08:00:vip_requalify"
        )


class TestTriggerIds:
    """Ids are deterministic and tell grants apart."""

    AT = "2026-03-01T10:15:00+08:00"

    def test_known_value(self) -> None:
        """The id is pinned: sha256 of the fields joined by U+001F, first 32 hex digits."""
        import hashlib

        fields = ("club", "3", "m-42", "e-1001", self.AT, "vip_gift", "enter", "0")
        expected = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]
        assert trigger_id("club", 3, "m-42", "e-1001", self.AT, "vip_gift", "enter", 0) == expected

    @given(st.text(), st.text(), st.integers(0, 5))
    def test_same_inputs_same_id(self, member: str, cause: str, place: int) -> None:
        """The same grant gives the same id twice."""
        first = trigger_id("j", 1, member, cause, self.AT, "gift", "move", place)
        assert first == trigger_id("j", 1, member, cause, self.AT, "gift", "move", place)
        assert len(first) == 32 and int(first, 16) >= 0

    def test_fields_do_not_run_together(self) -> None:
        """('a', 'bc') and ('ab', 'c') are different grants."""
        first = trigger_id("j", 1, "a", "bc", self.AT, "g", "move", 0)
        assert first != trigger_id("j", 1, "ab", "c", self.AT, "g", "move", 0)

    def test_place_tells_repeated_grants_apart(self) -> None:
        """Two grants of one incentive by one cause get two ids."""
        first = trigger_id("j", 1, "m", "e", self.AT, "g", "move", 0)
        assert first != trigger_id("j", 1, "m", "e", self.AT, "g", "move", 1)

    def test_a_reused_event_id_gives_new_trigger_ids(self) -> None:
        """Two events sharing an id (allowed after the dedup window) give different ids."""
        first = trigger_id("j", 1, "m", "e-0", "2026-01-01T00:00:00+00:00", "g", "move", 0)
        assert first != trigger_id("j", 1, "m", "e-0", "2026-03-02T00:00:00+00:00", "g", "move", 0)


class TestMessages:
    """Messages: str() values, RFC 3339 times, null as empty text, braces doubled, and
    ``.Nf`` as Python's ``format(value, ".Nf")``."""

    @pytest.mark.parametrize(
        "template,values,expected",
        [
            ("Hi {node}", {"node": "vip"}, "Hi vip"),
            ("{spend}", {"spend": 245.32}, "245.32"),
            ("{count} orders", {"count": 3}, "3 orders"),
            ("since {at}", {"at": AT}, "since 2026-03-01T10:15:00+08:00"),
            ("on {day}", {"day": date(2026, 3, 1)}, "on 2026-03-01"),
            ("[{missing}]", {"missing": None}, "[]"),
            ("[{absent}]", {}, "[]"),
            ("{{literal}} {node}", {"node": "n"}, "{literal} n"),
            ("{ node }", {"node": "n"}, "n"),
            ("{flag}", {"flag": True}, "True"),
            ("{spend:.2f}", {"spend": 0.1 + 0.2}, "0.30"),
            ("{spend}", {"spend": 0.1 + 0.2}, "0.30000000000000004"),
            ("{spend:.2f}", {"spend": 2.675}, "2.67"),  # the binary value is 2.67499999...
            ("{spend:.1f}", {"spend": 0.25}, "0.2"),  # ties go to even, as format() does
            ("{goal:.0f}", {"goal": 500}, "500"),
            ("{goal:.2f}", {"goal": 7}, "7.00"),
            ("{goal:.0f}", {"goal": -3}, "-3"),
            ("{spend:.3f}", {"spend": 1e-9}, "0.000"),
            ("{spend:.0f}", {"spend": 2.5}, "2"),
            ("{spend:.9f}", {"spend": 1 / 3}, "0.333333333"),
            ("[{spend:.2f}]", {"spend": None}, "[]"),
            ("[{spend:.2f}]", {}, "[]"),
            ("{{x:.2f}} {spend:.1f}", {"spend": 1}, "{x:.2f} 1.0"),
            ("{ spend :.1f}", {"spend": 1.25}, "1.2"),
        ],
    )
    def test_rendering(self, template: str, values: dict[str, object], expected: str) -> None:
        """Each kind of value is written as the contract says."""
        assert compile_template(template)(values) == expected

    def test_an_integer_past_the_floats_keeps_its_digits(self) -> None:
        """``format()`` of an int with ``.Nf`` goes through a float; one too large for a float
        (a sum may grow past any bound) is written exactly instead of failing the event."""
        big = 10**400
        assert compile_template("{n:.1f}")({"n": big}) == str(big) + ".0"

    def test_invalid_template_is_refused(self) -> None:
        """A template with an unclosed brace cannot be compiled."""
        with pytest.raises(ValueError):
            compile_template("Hi {node")

    def test_utc_time(self) -> None:
        """A UTC timestamp keeps its +00:00 offset."""
        assert (
            compile_template("{t}")({"t": datetime(2026, 1, 1, tzinfo=UTC)})
            == "2026-01-01T00:00:00+00:00"
        )
