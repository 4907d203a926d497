"""The timer index: one entry per member, taken in (due, member) order, whatever the updates."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import topo
from topo.engine.timer_index import TimerIndex

HOUR = 3_600_000_000
members = st.sampled_from([f"m{i}" for i in range(6)])
dues = st.integers(0, 6 * HOUR)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), members, st.one_of(st.none(), dues)),
        st.tuples(st.just("pop"), dues, st.just(None)),
        st.tuples(st.just("pause"), st.just(0), st.just(None)),
    ),
    max_size=80,
)


class TestAgainstAPlainDictionary:
    @given(operations)
    def test_same_entries_in_the_same_order(self, steps: list[tuple[str, Any, Any]]) -> None:
        """Setting, replacing, removing and taking entries: the index gives what a plain
        dictionary searched for its smallest (due, member) gives, and holds one entry per
        member."""
        index, plain = TimerIndex(), {}
        for kind, first, second in steps:
            if kind == "set":
                index.set(first, second)
                if second is None:
                    plain.pop(first, None)
                else:
                    plain[first] = second
            elif kind == "pop":
                due = [(d, m) for m, d in plain.items() if d <= first]
                expected = min(due) if due else None
                assert index.pop(first) == expected
                if expected is not None:
                    del plain[expected[1]]
            else:
                index.pause()
            assert dict((m, d) for d, m in index) == plain
            assert len(index) == len(plain)


def test_timers_that_restart_on_every_event_keep_one_entry_per_member() -> None:
    """``since: activity`` moves a member's due time with every event: the index used to gain
    an entry per event (old ones left until popped); it holds one per member."""
    journey = topo.load_journey("journeys/cdnow.yaml")
    engine = topo.Engine(journey)
    assert any(m.since == "activity" for m in journey.moves if m.after is not None)
    events = [
        {"id": f"{m}-{n}", "member": f"m{m}", "type": "purchase", "amount": 10.0, "cds": 1,
         "at": f"1997-01-{1 + n:02}T00:00:00+00:00"}
        for n in range(12)
        for m in range(50)
    ]  # fmt: skip
    engine.process_many(events)
    assert len(engine._index) == 50
    fired = engine.tick("1998-01-01T00:00:00+00:00")
    assert {engine.state(f"m{m}")["node"] for m in range(50)} == {"lapsed"}  # type: ignore[index]
    assert [t.incentive for t in fired] == ["winback_coupon"] * 50
    assert len(engine._index) <= 50  # the next timers of the lapsed, if any
