"""Invariants of the evaluator on generated event streams over the shipped journeys."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import topo
from conftest import fail_at, kept_states
from topo.engine.compiled import compile_journey

JOURNEY = compile_journey(topo.load_journey("journeys/retail-tiers.yaml"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TYPES = sorted(JOURNEY.journey.events)


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any] | datetime]:
    """Events of a few members (mostly in time order, some late, some repeated), and ticks."""
    items: list[dict[str, Any] | datetime] = []
    clock = draw(st.integers(0, 10))
    for n in range(draw(st.integers(1, 40))):
        clock += draw(st.integers(0, 40 * 24))  # hours
        if draw(st.integers(0, 9)) == 0:
            items.append(T0 + timedelta(hours=clock))  # a tick
            continue
        at = T0 + timedelta(hours=clock - draw(st.sampled_from([0, 0, 0, 0, 48])))
        kind = draw(st.sampled_from(TYPES))
        event: dict[str, Any] = {
            "id": f"e-{draw(st.integers(0, n))}",  # some ids repeat
            "member": draw(st.sampled_from(["a", "b", "c"])),
            "type": kind,
            "at": at.isoformat(),
        }
        for name, spec in JOURNEY.journey.events[kind].fields.items():
            if spec.type == "float":
                event[name] = draw(st.floats(0, 5000, allow_nan=False))
            elif spec.type == "int":
                event[name] = draw(st.integers(0, 10))
            elif spec.one_of:
                event[name] = draw(st.sampled_from(spec.one_of))
            elif spec.type == "str":
                event[name] = "web"
        items.append(event)
    return items


def run(
    items: list[dict[str, Any] | datetime], explain: bool = True
) -> tuple[list[dict[str, Any]], topo.Engine]:
    engine = topo.Engine(JOURNEY, explain=explain)
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, datetime):
            out += [t.to_dict() for t in engine.tick(item)]
            continue
        with contextlib.suppress(topo.InvalidEvent):  # rejects (duplicates, late) change nothing
            out += [t.to_dict() for t in engine.process(item)]
    return out, engine


class TestInvariants:
    """What must hold for any stream."""

    @settings(max_examples=60)
    @given(streams())
    def test_deterministic(self, items: list[dict[str, Any] | datetime]) -> None:
        """The same stream gives the same triggers, ids included."""
        assert run(items)[0] == run(items)[0]

    @settings(max_examples=60)
    @given(streams())
    def test_explain_false_changes_only_explanations(
        self, items: list[dict[str, Any] | datetime]
    ) -> None:
        """Without explanations, the same triggers and states; explain() says how to keep
        them."""
        kept, with_explain = run(items)
        dropped, without = run(items, explain=False)
        assert dropped == kept
        for member in ("a", "b", "c"):
            assert without.state(member) == with_explain.state(member)
            with pytest.raises(topo.UsageError, match="explain=True"):
                without.explain(member)

    @settings(max_examples=60)
    @given(streams())
    def test_process_many_is_process(self, items: list[dict[str, Any] | datetime]) -> None:
        """Without ticks, process_many gives what process gives one by one."""
        events = [i for i in items if not isinstance(i, datetime)]
        bulk = topo.Engine(JOURNEY).process_many(events, on_reject=lambda e, error: None)
        assert [t.to_dict() for t in bulk] == run(events)[0]

    @settings(max_examples=60)
    @given(streams())
    def test_caps_and_exits(self, items: list[dict[str, Any] | datetime]) -> None:
        """A once incentive is granted at most once a member; ids are unique; exits are final."""
        triggers, engine = run(items)
        once = {i for i, inc in JOURNEY.incentives.items() if inc.once}
        counts = Counter((t["member"], t["incentive"]) for t in triggers if t["incentive"] in once)
        assert all(n == 1 for n in counts.values())
        assert len({t["id"] for t in triggers}) == len(triggers)
        for member in ("a", "b", "c"):
            state = engine.state(member)
            if state is None:
                continue
            moves = [r for r in state["history"] if "move" in r]
            exits = [i for i, r in enumerate(moves) if r["to"] in JOURNEY.exits]
            assert not exits or exits[0] == len(moves) - 1

    @settings(max_examples=60)
    @given(streams(), st.integers(0, 60), st.sampled_from(["_grant", "_explain", "_keep"]))
    def test_a_failure_changes_nothing(
        self, items: list[dict[str, Any] | datetime], failing: int, method: str
    ) -> None:
        """Whichever step fails (an exception as Ctrl-C raises), the event or tick that failed
        leaves every member as it was, and the stream goes on as if it had never been sent."""
        engine = topo.Engine(JOURNEY, explain=True)
        fail_at(engine, method, failing)
        survived: list[dict[str, Any] | datetime] = []
        for item in items:
            before = kept_states(engine)
            try:
                if isinstance(item, datetime):
                    engine.tick(item)
                else:
                    engine.process(item)
            except topo.InvalidEvent:
                pass
            except KeyboardInterrupt:
                assert kept_states(engine) == before
                continue
            survived.append(item)
        assert kept_states(engine) == kept_states(run(survived)[1])
