"""The evaluator, rule by rule of the contract's evaluation order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import topo
from conftest import ROOT, dedent, fail_at, kept_states
from topo.engine.engine import DuplicateEvent, Engine, LateEvent
from topo.validation import load_journey

JOURNEY = (
    dedent(
        """
    topo: 1
    journey: club
    version: 1
    owners: {crm: {}}
    attributes:
      region: {type: str}
      phone: {type: str, pii: true}
    events:
      purchase: {fields: {amount: {type: float, min: 0}}}
      quit: {}
    metrics:
      spend: {sum: purchase.amount}
      spend_30d: {sum: purchase.amount, window: 30d}
      orders: {count: purchase}
    nodes:
      visitor: {kind: start, owner: crm, on_enter: [hello]}
      buyer: {kind: checkpoint, owner: crm, on_enter: [welcome]}
      regular: {kind: checkpoint, owner: crm}
      vip: {kind: peak, owner: crm, on_enter: [gift]}
      gone: {kind: exit, owner: crm}
    moves:
      - {from: visitor, to: buyer, on: purchase, incentives: [thanks]}
      - {from: buyer, to: regular, on: purchase, when: "orders >= 2 or spend >= 500"}
      - {from: regular, to: vip, on: purchase, when: "spend >= 1000"}
      - {id: review, from: vip, to: regular, after: 30d, when: "spend_30d < 1000"}
      - {id: lapse, from: [buyer, regular], to: visitor2, after: 60d, since: activity}
      - {from: visitor2, to: buyer, on: purchase}
      - {from: [visitor, buyer, regular, vip, visitor2], to: gone, on: quit}
    incentives:
      hello: {kind: content, channel: email, message: "Hello {node}"}
      welcome: {kind: coupon, channel: sms, cost: 5, once: true,
                message: "Welcome, {orders} order(s)"}
      thanks: {kind: points, channel: app, cooldown: 10d}
      gift: {kind: gift, channel: mail, cost: 50}
      nudge: {kind: content, channel: push}
      keep: {kind: coupon, channel: email}
    reminders:
      - {at: regular, toward: vip, when: "spend >= 600", incentive: nudge}
      - {at: vip, ahead_of: review, by: 5d, when: "spend_30d < 1000", incentive: keep}
    """
    )
    .replace("to: visitor2,", "to: lapsed,")
    .replace("from: visitor2,", "from: lapsed,")
    .replace("vip, visitor2]", "vip, lapsed]")
    .replace("  vip: {kind: peak", "  lapsed: {kind: checkpoint, owner: crm}\n  vip: {kind: peak")
)

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Any) -> Engine:
    path = tmp_path / "club.yaml"
    path.write_text(JOURNEY, encoding="utf-8")
    return Engine(load_journey(path), explain=True)


def purchase(n: int, days: float, amount: float = 100.0, member: str = "m-1") -> dict[str, Any]:
    at = (T0 + timedelta(days=days)).isoformat()
    return {"id": f"e-{n}", "member": member, "type": "purchase", "at": at, "amount": amount}


def names(triggers: list[topo.engine.triggers.Trigger]) -> list[tuple[str, str]]:
    return [(t.incentive, t.reason) for t in triggers]


class TestJoining:
    """A new member starts at the start node with its on_enter, then the event is evaluated."""

    def test_first_event(self, engine: Engine) -> None:
        """hello (enter, from null) first, then the move's thanks, then buyer's welcome."""
        triggers = engine.process(purchase(1, 0))
        assert names(triggers) == [("hello", "enter"), ("thanks", "move"), ("welcome", "enter")]
        assert triggers[0].from_node is None and triggers[0].message == "Hello visitor"
        assert triggers[2].message == "Welcome, 1 order(s)"
        assert engine.state("m-1")["node"] == "buyer"  # type: ignore[index]


class TestRejects:
    """Steps 1 and 2: duplicates and late events change nothing."""

    def test_duplicate(self, engine: Engine) -> None:
        """The same id again is a duplicate, and the state is unchanged."""
        engine.process(purchase(1, 0))
        before = engine.state("m-1")
        with pytest.raises(DuplicateEvent):
            engine.process(purchase(1, 1))
        assert engine.state("m-1") == before

    def test_only_recent_ids_arekept_states(self, engine: Engine) -> None:
        """An id sent again after a timer moved the clock on is kept as the newest; the
        expired ids behind it are let go (the store keeps only the dedup window's ids)."""
        engine.process(purchase(1, 0))
        engine.process(purchase(2, 1))
        engine.tick(T0 + timedelta(days=70))  # the lapse fires at day 61: the clock moves on
        engine.process(purchase(1, 71))  # e-1 again: not a duplicate any more
        state = engine.store.get("m-1")
        assert state is not None and list(state.seen) == ["e-1"]

    def test_late(self, engine: Engine) -> None:
        """An event earlier than the member's clock is late."""
        engine.process(purchase(1, 5))
        with pytest.raises(LateEvent):
            engine.process(purchase(2, 4))

    def test_invalid_changes_nothing(self, engine: Engine) -> None:
        """An invalid event raises InvalidEvent and creates no member."""
        with pytest.raises(topo.InvalidEvent):
            engine.process({**purchase(1, 0), "amount": -5})
        assert engine.state("m-1") is None


class TestCascade:
    """Step 5: one event may carry a member over several checkpoints."""

    def test_big_purchase_cascades(self, engine: Engine) -> None:
        """A purchase of 1,000 takes visitor to buyer to regular to vip at once."""
        triggers = engine.process(purchase(1, 0, amount=1000))
        assert engine.state("m-1")["node"] == "vip"  # type: ignore[index]
        assert ("gift", "enter") in names(triggers)

    def test_stop_at_a_node_already_visited(self, engine: Engine) -> None:
        """A cascade never re-enters a node it has already been at."""
        engine.process(purchase(1, 0))
        assert [r["to"] for r in engine.state("m-1")["history"] if "move" in r] == ["buyer"]  # type: ignore[index]


class TestCaps:
    """Step 6: once, cooldown, and the stay of a reminder."""

    def test_once_is_withheld_with_its_reason(self, engine: Engine) -> None:
        """welcome is once: back at buyer after a lapse it is withheld, and the history says why."""
        engine.process(purchase(1, 0))
        triggers = engine.process(purchase(2, 61))  # lapsed at day 60, back to buyer now
        assert "welcome" not in [t.incentive for t in triggers]
        withheld = engine.state("m-1")["withheld"]  # type: ignore[index]
        assert [(w["withheld"], w["reason"]) for w in withheld] == [("welcome", "once")]


class TestTimers:
    """Step 3: timers due at or before an event fire first, as of their due time."""

    def test_lapse_after_activity(self, engine: Engine) -> None:
        """60 days without activity moves a buyer to lapsed before the next purchase."""
        engine.process(purchase(1, 0))
        triggers = engine.process(purchase(2, 61))
        moves = [r["to"] for r in engine.state("m-1")["history"] if "move" in r]  # type: ignore[index]
        assert moves == ["buyer", "lapsed", "buyer", "regular"]  # the cascade goes on: 2 orders
        assert triggers == [] or all(t.reason in ("move", "enter", "timer") for t in triggers)

    def test_timer_due_exactly_at_the_event_fires_first(self, engine: Engine) -> None:
        """A timer due at T fires before the event at T."""
        engine.process(purchase(1, 0))
        engine.process(purchase(2, 60))
        moves = [r["to"] for r in engine.state("m-1")["history"] if "move" in r]  # type: ignore[index]
        assert moves[:2] == ["buyer", "lapsed"]

    def test_tick_fires_across_members_in_order(self, engine: Engine) -> None:
        """tick fires timers of every member due by then."""
        engine.process(purchase(1, 0, member="a"))
        engine.process(purchase(1, 5, member="b"))
        engine.tick(T0 + timedelta(days=63))  # a's lapse is due at day 60, b's at day 65
        assert engine.state("a")["node"] == "lapsed"  # type: ignore[index]
        assert engine.state("b")["node"] == "buyer"  # type: ignore[index]
        engine.tick(T0 + timedelta(days=65))
        assert engine.state("b")["node"] == "lapsed"  # type: ignore[index]

    def test_requalification_and_ahead_of(self, engine: Engine) -> None:
        """A VIP below the bar is nudged 5 days ahead, then moved back when the review is due."""
        engine.process(purchase(1, 0, amount=600))  # visitor -> buyer -> regular at once
        engine.process(purchase(2, 20, amount=500))  # spend 1,100: regular -> vip at day 20
        assert engine.tick(T0 + timedelta(days=44)) == []  # the nudge is due at day 45
        triggers = engine.tick(T0 + timedelta(days=51))
        # day 45: 30-day spend is 500 < 1000, nudge; day 50: the review moves the VIP back,
        # and the regular's reminder (spend >= 600) fires in the new stay
        assert names(triggers) == [("keep", "reminder"), ("nudge", "reminder")]
        assert triggers[0].at == T0 + timedelta(days=45) and triggers[0].to_node == "regular"
        assert engine.state("m-1")["node"] == "regular"  # type: ignore[index]


class TestDeterminism:
    """Same events, same journey: same triggers and ids."""

    def test_replay_gives_same_ids(self, tmp_path: Any) -> None:
        """Two engines fed the same events give identical triggers."""
        path = tmp_path / "club.yaml"
        path.write_text(JOURNEY, encoding="utf-8")
        events = [purchase(i, i * 3, amount=150.0 * i) for i in range(1, 8)]
        first = [t.to_dict() for t in Engine(load_journey(path)).process_many(events)]
        second = [t.to_dict() for t in Engine(load_journey(path)).process_many(events)]
        assert first == second and len(first) > 3

    def test_process_many_is_process_one_by_one(self, tmp_path: Any) -> None:
        """process_many gives what process gives, event by event."""
        path = tmp_path / "club.yaml"
        path.write_text(JOURNEY, encoding="utf-8")
        events = [purchase(i, i * 7, amount=200.0, member=f"m-{i % 3}") for i in range(1, 12)]
        bulk = Engine(load_journey(path)).process_many(events)
        single = Engine(load_journey(path))
        one_by_one = [t for e in events for t in single.process(e)]
        assert [t.to_dict() for t in bulk] == [t.to_dict() for t in one_by_one]


class TestStateAndExplanation:
    """What the engine says about a member never shows a pii attribute."""

    def test_pii_left_out(self, engine: Engine) -> None:
        """The phone set by a profile event is not in the state."""
        engine.process(purchase(1, 0))
        engine.process(
            {
                "id": "p-1",
                "member": "m-1",
                "type": "profile",
                "at": (T0 + timedelta(days=1)).isoformat(),
                "region": "north",
                "phone": "0912",
            }
        )
        state = engine.state("m-1")
        assert state is not None and state["attributes"] == {"region": "north"}
        assert "0912" not in repr(engine.explain("m-1"))

    def test_explanation_shows_guards_and_values(self, engine: Engine) -> None:
        """Each step lists the guards looked at, the values they saw, and the outcome."""
        engine.process(purchase(1, 0))
        engine.process(purchase(2, 1))
        last = engine.explain("m-1")[-1]
        assert last["outcome"] == "moved to regular"
        taken, looked = last["guards"]  # then, at regular, the way on to vip is looked at
        assert taken["when"] == "orders >= 2 or spend >= 500" and taken["holds"] is True
        assert taken["values"] == {"orders": 2, "spend": 200.0}
        assert looked == {
            "move": "moves[2]", "to": "vip", "when": "spend >= 1000",
            "values": {"spend": 200.0}, "holds": False,
        }  # fmt: skip

    def test_withheld_grants_are_explained(self, engine: Engine) -> None:
        """A grant a cap held back shows in the step's explanation, with the cap; so does
        what was granted."""
        engine.process(purchase(1, 0))
        engine.process(purchase(2, 61))  # lapsed at day 60, back to buyer: welcome is once
        step = engine.explain("m-1")[-1]
        assert step["withheld"] == [{"incentive": "welcome", "cap": "once"}]
        assert "granted" not in step
        joined = engine.explain("m-1")[0]
        assert joined["step"] == "joined" and joined["granted"] == [
            {"incentive": "hello", "reason": "enter"}
        ]

    def test_times_are_text_everywhere(self, engine: Engine) -> None:
        """state() and explain() hold plain JSON values: every time is RFC 3339 text, with
        the offset it came with (a first_at metric and a datetime attribute were objects)."""
        import json

        journey = engine.compiled.journey.model_copy(deep=True)  # with a time metric
        from topo.journey.model import Metric

        journey.metrics["first"] = Metric.model_validate({"first_at": "purchase"})
        timed = Engine(journey, explain=True)
        timed.process({**purchase(1, 0), "at": "2026-01-01T20:00:00+08:00"})
        state = timed.state("m-1")
        assert state is not None
        assert state["metrics"]["first"] == "2026-01-01T20:00:00+08:00"
        assert json.loads(json.dumps(state)) == state
        assert json.loads(json.dumps(timed.explain("m-1"))) == timed.explain("m-1")


class TestTheClockAsText:
    """tick and state(as_of=) take the times events carry, and the clock goes forward."""

    def test_rfc3339_text(self, engine: Engine) -> None:
        """RFC 3339 text is a time, as in events: the same as the datetime it says."""
        engine.process(purchase(1, 0))
        assert engine.tick((T0 + timedelta(days=59)).isoformat()) == []
        engine.tick("2026-03-02T20:00:00+08:00")  # day 60, in another offset
        assert engine.state("m-1")["node"] == "lapsed"  # type: ignore[index]
        later = engine.state("m-1", as_of="2026-04-01T00:00:00Z")
        assert later is not None and later["metrics"]["spend_30d"] == 0

    def test_backwards_is_refused(self, engine: Engine) -> None:
        """A tick earlier than the latest one raised nothing and fired nothing; now it says so,
        and a tick to the same time again is fine."""
        engine.tick(T0 + timedelta(days=10))
        with pytest.raises(topo.UsageError, match=r"tick goes forward only: the engine was "
                           r"ticked to 2026-01-11T12:00:00\+00:00 already"):  # fmt: skip
            engine.tick(T0 + timedelta(days=9))
        assert engine.tick(T0 + timedelta(days=10)) == []

    @pytest.mark.parametrize(
        "at,reason",
        [
            ("2026-03-01", "is a date without a time"),
            ("tomorrow", "is not an RFC 3339 timestamp"),
            (5, "is not an RFC 3339 timestamp"),
            (datetime(2026, 3, 1), "has no offset"),
        ],
    )
    def test_not_a_time(self, engine: Engine, at: Any, reason: str) -> None:
        """Anything else is a UsageError (a TopoError) saying what to pass, never a TypeError."""
        with pytest.raises(topo.UsageError, match=reason):
            engine.tick(at)


def engine_for(text: str, tmp_path: Any, **options: Any) -> Engine:
    path = tmp_path / "j.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return Engine(load_journey(path), **options)


LADDER = """
    topo: 1
    journey: ladder
    version: 1
    owners: {crm: {}}
    events: {tap: {}, quit: {}}
    nodes:
      a: {kind: start, owner: crm}
      b: {kind: checkpoint, owner: crm}
      c: {kind: checkpoint, owner: crm}
      d: {kind: peak, owner: crm}
      x: {kind: exit, owner: crm}
    moves:
      - {from: a, to: b, on: tap}
      - {from: b, to: c, on: tap}
      - {from: c, to: d, on: tap}
      - {from: d, to: b, on: tap}
      - {from: [a, b, c, d], to: x, on: quit}
    settings: {max_cascade: 2}
    """


def tap(n: int, days: float, member: str = "m", kind: str = "tap") -> dict[str, Any]:
    return {
        "id": f"e-{n}",
        "member": member,
        "type": kind,
        "at": (T0 + timedelta(days=days)).isoformat(),
    }


class TestCascadeStops:
    """A cascade stops at max_cascade moves, or before re-entering a node."""

    def test_max_cascade(self, tmp_path: Any) -> None:
        """With max_cascade 2, one tap moves a -> b -> c and stops."""
        engine = engine_for(LADDER, tmp_path)
        engine.process(tap(1, 0))
        assert engine.state("m")["node"] == "c"  # type: ignore[index]

    def test_no_reentry(self, tmp_path: Any) -> None:
        """A cascade stops before a move back into a node it has been at (d -> b here)."""
        engine = engine_for(LADDER.replace("max_cascade: 2", "max_cascade: 10"), tmp_path)
        engine.process(tap(1, 0))  # a -> b -> c -> d, then d -> b would re-enter b: stop at d
        assert engine.state("m")["node"] == "d"  # type: ignore[index]


class TestExit:
    """At an exit a member gets no moves, incentives or reminders; metrics still count."""

    def test_exit_is_final(self, tmp_path: Any) -> None:
        """After quit, taps change nothing but the metrics."""
        text = LADDER.replace("nodes:", "metrics: {taps: {count: tap}}\n    nodes:")
        engine = engine_for(text, tmp_path)
        engine.process(tap(1, 0, kind="quit"))
        engine.process(tap(2, 1))
        state = engine.state("m")
        assert state is not None and state["node"] == "x" and state["metrics"]["taps"] == 1


class TestPolicies:
    """Backfill, the dedup window and late events per settings."""

    def test_backfill_records_without_triggers(self, tmp_path: Any) -> None:
        """In backfill, grants are recorded (once holds afterwards) but nothing is emitted."""
        path = tmp_path / "club.yaml"
        path.write_text(JOURNEY, encoding="utf-8")
        journey = load_journey(path)
        store = topo.MemoryStore()
        assert Engine(journey, store, backfill=True).process(purchase(1, 0)) == []
        live = Engine(journey, store)
        live.process(purchase(2, 61))  # back to buyer after a lapse: welcome is once
        assert ("welcome", "once") in [
            (w["withheld"], w["reason"]) for w in live.state("m-1")["withheld"]
        ]  # type: ignore[index]

    def test_an_old_id_can_come_again(self, engine: Engine) -> None:
        """Ids are remembered within the dedup window (30 days) of the member's clock."""
        engine.process(purchase(1, 0))
        with pytest.raises(DuplicateEvent):
            engine.process(purchase(1, 40))  # the clock is still at day 0: e-1 is remembered
        engine.process(purchase(2, 35))  # the clock moves on: e-1 falls out of the window
        engine.process(purchase(1, 40))  # the same id is now a new event
        assert engine.state("m-1")["metrics"]["orders"] == 3  # type: ignore[index]

    def test_late_events_ignored_by_setting(self, tmp_path: Any) -> None:
        """With late_events: ignore, a late event is dropped without an error."""
        engine = engine_for(
            LADDER.replace("max_cascade: 2}", "max_cascade: 2, late_events: ignore}"), tmp_path
        )
        engine.process(tap(1, 5))
        assert engine.process(tap(2, 4)) == []


class TestTimerRules:
    """The restart rule, and the time a timer's triggers carry."""

    def test_false_guard_restarts_the_clock(self, engine: Engine) -> None:
        """A VIP who still qualifies at the review stays, and is reviewed again 30 days later."""
        engine.process(purchase(1, 0, amount=1000))  # vip at day 0; spend_30d 1000
        engine.process(purchase(2, 29, amount=1000))  # still 1000 in the 30 days to day 30
        engine.tick(T0 + timedelta(days=31))
        assert engine.state("m-1")["node"] == "vip"  # type: ignore[index]
        engine.tick(T0 + timedelta(days=61))  # the next review, 30 days after the restart
        assert engine.state("m-1")["node"] == "regular"  # type: ignore[index]

    def test_timer_trigger_time_and_offset(self, tmp_path: Any) -> None:
        """A timer's trigger is at its due time, written with the offset it was computed from."""
        path = tmp_path / "club.yaml"
        path.write_text(
            JOURNEY.replace(
                "incentives: [thanks]}",
                "incentives: [thanks]}\n"
                "  - {from: lapsed, to: buyer, after: 1d, incentives: [gift]}",
            ).replace("  - {from: lapsed, to: buyer, on: purchase}\n", ""),
            encoding="utf-8",
        )
        engine = Engine(load_journey(path))
        at = datetime(2026, 1, 1, 20, tzinfo=timezone(timedelta(hours=8)))
        engine.process(
            {"id": "e-1", "member": "m", "type": "purchase", "at": at.isoformat(), "amount": 10.0}
        )
        triggers = engine.tick(at + timedelta(days=62))
        gift = next(t for t in triggers if t.incentive == "gift")
        # lapsed 60 days after the purchase (2 March), back to buyer a day later
        assert gift.reason == "timer" and gift.at_text == "2026-03-03T20:00:00+08:00"


class TestTickOrder:
    """tick goes in due-time order across members; ties by member id."""

    def test_ties_by_member(self, engine: Engine) -> None:
        """Two members due at the same instant: the smaller member id first."""
        for member in ("b", "a"):
            engine.process(purchase(1, 0, member=member))
        triggers = engine.tick(T0 + timedelta(days=60))
        assert [t.member for t in triggers] == sorted(t.member for t in triggers) or triggers == []
        assert engine.state("a")["node"] == engine.state("b")["node"] == "lapsed"  # type: ignore[index]


PING_PONG = """
    topo: 1
    journey: pingpong
    version: 1
    owners: {crm: {}}
    events: {tap: {}, win: {}}
    nodes:
      a: {kind: start, owner: crm}
      b: {kind: checkpoint, owner: crm}
      c: {kind: checkpoint, owner: crm}
      d: {kind: peak, owner: crm}
    moves:
      - {from: a, to: b, on: tap, incentives: [point]}
      - {from: b, to: c, on: tap, incentives: [point]}
      - {from: c, to: b, on: tap, incentives: [point]}
      - {from: [b, c], to: d, on: win}
    incentives:
      point: {kind: points, channel: app}
    """


class TestTriggerIdsOfReusedEventIds:
    """Found by the property tests: an event id reused after the dedup window."""

    def test_reused_event_id_gives_new_trigger_ids(self, tmp_path: Any) -> None:
        """Two different events with one id (40 days apart) never share a trigger id."""
        engine = engine_for(PING_PONG, tmp_path)
        first = engine.process(tap(1, 0))  # a -> b -> c: two points
        engine.process(tap(2, 35))  # c -> b: the clock moves on, e-1 is forgotten
        second = engine.process(tap(1, 40))  # b -> c: a point, caused by "e-1" again
        assert [t.cause for t in first + second] == ["e-1", "e-1", "e-1"]
        ids = [t.id for t in first + second]
        assert len(set(ids)) == 3


TWO_TIMERS = """
    topo: 1
    journey: twotimers
    version: 1
    owners: {crm: {}}
    events: {tap: {}}
    metrics: {taps: {count: tap}}
    nodes:
      a: {kind: start, owner: crm}
      b: {kind: checkpoint, owner: crm}
      c: {kind: peak, owner: crm}
    moves:
      - {from: a, to: b, on: tap}
      - {id: promote, from: b, to: c, after: 10d, when: "taps >= 5"}
      - {id: settle, from: b, to: c, after: 10d, since: activity}
    """


class TestTimerIndex:
    """tick's index holds one entry per due time of a member; stale entries are skipped."""

    def test_two_timers_due_at_one_instant(self, tmp_path: Any) -> None:
        """The first timer's guard is false (its clock starts again); the second, due at the
        same instant, still fires in the same tick."""
        engine = engine_for(TWO_TIMERS, tmp_path)
        engine.process(tap(1, 0))
        engine.tick(T0 + timedelta(days=10))
        state = engine.state("m")
        assert state is not None and state["node"] == "c"
        assert [r["move"] for r in state["history"] if "move" in r] == ["moves[0]", "settle"]

    def test_a_timer_pushed_back_does_not_fire_at_its_old_time(self, tmp_path: Any) -> None:
        """Activity at day 5 moves settle's due time from day 10 to day 15."""
        engine = engine_for(TWO_TIMERS.replace('when: "taps >= 5"', 'when: "taps >= 9"'), tmp_path)
        engine.process(tap(1, 0))
        engine.process(tap(2, 5))
        engine.tick(T0 + timedelta(days=14))
        assert engine.state("m")["node"] == "b"  # type: ignore[index]
        engine.tick(T0 + timedelta(days=15))
        assert engine.state("m")["node"] == "c"  # type: ignore[index]


class TestHistoryTimes:
    """The history writes a time as the trigger it goes with does (RFC 3339, with an offset)."""

    def test_z_is_written_as_an_offset(self, engine: Engine) -> None:
        """An event at ...Z: its move and its grants say +00:00 in the history, like triggers."""
        event = {**purchase(1, 0), "at": "2026-01-01T12:00:00Z"}
        triggers = engine.process(event)
        history = engine.state("m-1")["history"]  # type: ignore[index]
        assert {r["at"] for r in history} == {t.at_text for t in triggers}
        assert {r["at"] for r in history} == {"2026-01-01T12:00:00+00:00"}


HELLO_TWICE = """
    topo: 1
    journey: hellotwice
    version: 1
    owners: {crm: {}}
    events: {tap: {}}
    nodes:
      a: {kind: start, owner: crm, on_enter: [hello]}
      b: {kind: peak, owner: crm, on_enter: [hello]}
    moves:
      - {from: a, to: b, on: tap}
    incentives:
      hello: {kind: content, channel: email}
    """


class TestGrantPlaces:
    """A member's first event counts its grants once: joining, then its moves."""

    def test_start_on_enter_and_the_first_cascade_have_distinct_ids(self, tmp_path: Any) -> None:
        """hello on joining a and hello on entering b, both caused by e-1 at one time and with
        the reason enter, are two grants: their places (0 and 1) keep their ids apart."""
        engine = engine_for(HELLO_TWICE, tmp_path)
        triggers = engine.process(tap(1, 0))
        assert names(triggers) == [("hello", "enter"), ("hello", "enter")]
        assert len({t.id for t in triggers}) == 2


class TestTriggerFields:
    """Every field of a trigger, as the contract lists them, from real grants."""

    def test_a_move_and_an_enter(self, engine: Engine) -> None:
        """visitor -> buyer on e-1: thanks is the move's, welcome buyer's on_enter."""
        _, thanks, welcome = engine.process(purchase(1, 0))
        at = "2026-01-01T12:00:00+00:00"
        assert thanks.to_dict() == {
            "id": topo.engine.triggers.trigger_id("club", 1, "m-1", "e-1", at, "thanks", "move", 1),
            "member": "m-1",
            "incentive": "thanks",
            "channel": "app",
            "reason": "move",
            "from": "visitor",
            "to": "buyer",
            "node": "buyer",
            "at": at,
            "cause": "e-1",
            "message": "",
            "cost": 0.0,
        }
        assert welcome.to_dict() == {
            "id": topo.engine.triggers.trigger_id(
                "club", 1, "m-1", "e-1", at, "welcome", "enter", 2
            ),
            "member": "m-1",
            "incentive": "welcome",
            "channel": "sms",
            "reason": "enter",
            "from": "visitor",
            "to": "buyer",
            "node": "buyer",
            "at": at,
            "cause": "e-1",
            "message": "Welcome, 1 order(s)",
            "cost": 5.0,
        }

    def test_a_reminder(self, engine: Engine) -> None:
        """A reminder's trigger goes from the member's node toward its target."""
        engine.process(purchase(1, 0, amount=300))  # buyer
        [nudge] = engine.process(purchase(2, 1, amount=300))  # regular (2 orders), spend 600
        assert (nudge.incentive, nudge.reason, nudge.from_node, nudge.to_node, nudge.node) == (
            "nudge", "reminder", "regular", "vip", "regular"
        )  # fmt: skip
        assert nudge.cause == "e-2" and nudge.at == T0 + timedelta(days=1)


class _CopyingStore:
    """A store that keeps copies, as a durable store does: what is read is never the object
    that was put."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def get(self, member: str) -> Any:
        import pickle

        found = self.kept.get(member)
        return None if found is None else pickle.loads(found)

    def put(self, state: Any, triggers: Any = ()) -> None:
        import pickle

        self.kept[state.member] = pickle.dumps(state)

    def members(self) -> Any:
        return iter(list(self.kept))

    def timers(self) -> Any:
        return ((s.due, s.member) for s in map(self.get, list(self.kept)) if s.due is not None)

    def bind(self, journey: Any, migrate: Any) -> None:
        pass


class TestStores:
    """Timers fire whatever the store, and whichever engine kept the member before."""

    def test_a_store_that_keeps_copies(self, tmp_path: Any) -> None:
        """The due time is kept with the state: tick and step 3 both find the timer."""
        for fire in ("tick", "event"):
            engine = Engine(engine_for(TWO_TIMERS, tmp_path).compiled, _CopyingStore())  # type: ignore[arg-type]
            engine.process(tap(1, 0))
            if fire == "tick":
                engine.tick(T0 + timedelta(days=10))
            else:
                engine.process(tap(2, 11))
            assert engine.state("m")["node"] == "c", fire  # type: ignore[index]

    def test_an_engine_over_a_kept_store(self, tmp_path: Any) -> None:
        """A backfill engine fills the store; a new engine over it ticks the members' timers."""
        compiled = engine_for(TWO_TIMERS, tmp_path).compiled
        store = topo.MemoryStore()
        Engine(compiled, store, backfill=True).process(tap(1, 0))
        live = Engine(compiled, store)
        live.tick(T0 + timedelta(days=10))
        assert live.state("m")["node"] == "c"  # type: ignore[index]

    def test_tick_order_with_ties(self, tmp_path: Any) -> None:
        """Two members due at one instant, one with two timers then: by member, then file
        order (promote before settle)."""
        engine = engine_for(
            dedent(TWO_TIMERS)
            .replace('when: "taps >= 5"}', 'when: "taps >= 1", incentives: [p]}')
            .replace("since: activity}", "since: activity, incentives: [s]}")
            + "incentives: {p: {kind: gift, channel: app}, s: {kind: gift, channel: app}}\n",
            tmp_path,
        )
        for member in ("b", "a"):
            engine.process(tap(1, 0, member=member))
        triggers = engine.tick(T0 + timedelta(days=10))
        assert [(t.member, t.incentive) for t in triggers] == [("a", "p"), ("b", "p")]


class TestReadingAsOfLater:
    """state(as_of=later) reads windows as of then without losing what they hold."""

    def test_a_later_read_changes_nothing(self, engine: Engine) -> None:
        engine.process(purchase(1, 0, amount=100))
        assert engine.state("m-1", as_of=T0 + timedelta(days=60))["metrics"]["spend_30d"] == 0  # type: ignore[index]
        engine.process(purchase(2, 1, amount=50))
        assert engine.state("m-1")["metrics"]["spend_30d"] == 150.0  # type: ignore[index]


ATTRIBUTE_MESSAGE = """
    topo: 1
    journey: hi
    version: 1
    owners: {crm: {}}
    attributes: {region: {type: str}, phone: {type: str, pii: true}}
    events: {tap: {}, go: {}}
    nodes:
      a: {kind: start, owner: crm}
      b: {kind: checkpoint, owner: crm}
      c: {kind: peak, owner: crm}
    moves:
      - {from: a, to: b, on: tap, incentives: [hi]}
      - {from: b, to: c, on: go}
      - {from: c, to: b, on: tap, incentives: [hi]}
    incentives:
      hi: {kind: content, channel: app, message: "Hi from {region}!"}
    """


class TestMessages:
    """A message shows an attribute while it is set, and empty text when it is not."""

    def test_set_unset_cleared(self, tmp_path: Any) -> None:
        engine = engine_for(ATTRIBUTE_MESSAGE, tmp_path)
        profile = {"member": "m", "type": "profile", "at": T0.isoformat()}
        assert [t.message for t in engine.process(tap(1, 0))] == ["Hi from !"]  # not set
        engine.process({**profile, "id": "p-1", "at": (T0 + timedelta(days=1)).isoformat(),
                        "region": "Lyon", "phone": "+33 6"})  # fmt: skip
        engine.process(tap(2, 2, kind="go"))  # on to c
        assert [t.message for t in engine.process(tap(3, 3))] == ["Hi from Lyon!"]
        engine.process({**profile, "id": "p-2", "at": (T0 + timedelta(days=4)).isoformat(),
                        "region": None})  # fmt: skip
        engine.process(tap(4, 5, kind="go"))
        assert [t.message for t in engine.process(tap(5, 6))] == ["Hi from !"]  # cleared


SPEND_MESSAGE = """
    topo: 1
    journey: spend
    version: 1
    owners: {crm: {}}
    attributes: {goal: {type: int}}
    events:
      purchase: {fields: {amount: {type: float, min: 0}}}
    metrics:
      spend: {sum: purchase.amount}
    nodes:
      a: {kind: start, owner: crm}
      b: {kind: peak, owner: crm}
    moves:
      - {from: a, to: b, on: purchase, when: "spend > 0.25", incentives: [progress]}
    incentives:
      progress: {kind: content, channel: app, message: "{spend:.2f} of {goal:.0f}"}
    """


class TestNumberFormats:
    """``{name:.Nf}`` writes a float sum as a customer reads it."""

    def test_a_float_sum_with_two_decimals(self, tmp_path: Any) -> None:
        """0.1 + 0.2 is 0.30000000000000004 as str() writes it, 0.30 with .2f; the goal, an
        int attribute, is 500 with .0f."""
        engine = engine_for(SPEND_MESSAGE, tmp_path)
        at = T0.isoformat()
        engine.process({"id": "p", "member": "m", "type": "profile", "at": at, "goal": 500})
        assert engine.process(purchase(1, 0, amount=0.1, member="m")) == []
        [trigger] = engine.process(purchase(2, 1, amount=0.2, member="m"))
        assert str(0.1 + 0.2) == "0.30000000000000004"
        assert trigger.message == "0.30 of 500"

    def test_null_is_empty_text(self, tmp_path: Any) -> None:
        engine = engine_for(SPEND_MESSAGE, tmp_path)
        [trigger] = engine.process(purchase(1, 0, amount=0.5, member="m"))
        assert trigger.message == "0.50 of "


class _Interrupted(BaseException):
    """What a failure injected halfway through a change raises (as Ctrl-C would)."""


class TestAllOrNothing:
    """An exception while a change is applied leaves every member as it was, with the memory
    store as with a durable one, so that a retry is not a "duplicate" whose trigger is lost."""

    @pytest.mark.parametrize("method", ["_grant", "_keep", "_explain", "_cascade", "_index_timer"])
    def test_process(self, engine: Engine, method: str) -> None:
        """A member halfway up the ladder: the failed event changes nothing, and sent again it
        gives the triggers an engine that never failed gives. (The compiled event path calls
        ``_grant`` only for a grant a cap withholds, and has no ``_cascade``: those two are
        the interpreter's.)"""
        if method in ("_grant", "_cascade"):
            engine = Engine(engine.compiled, explain=True, interpret=True)
        engine.process(purchase(1, 0))
        engine.process(purchase(2, 1, amount=700))
        before = kept_states(engine)
        fail_at(engine, method, 1, _Interrupted)
        with pytest.raises(_Interrupted):
            engine.process(purchase(3, 2, amount=400))
        assert kept_states(engine) == before
        delattr(engine, method)
        again = engine.process(purchase(3, 2, amount=400))
        assert names(again) == [("gift", "enter")]

    def test_process_many(self, engine: Engine) -> None:
        """A failure at the third event undoes the first two as well (their triggers would be
        lost with the call), members it created included."""
        engine.process(purchase(1, 0))
        before = kept_states(engine)
        fail_at(engine, "_keep", 3, _Interrupted)
        with pytest.raises(_Interrupted):
            engine.process_many(
                [purchase(2, 1, amount=700), purchase(1, 0, member="m-2"), purchase(3, 2)]
            )
        assert kept_states(engine) == before

    def test_process_many_stopped_by_an_invalid_event(self, engine: Engine) -> None:
        """Without on_reject an invalid event raises; the events before it are undone too."""
        before = kept_states(engine)
        with pytest.raises(topo.InvalidEvent):
            engine.process_many([purchase(1, 0), purchase(2, 1, amount=-5)])
        assert kept_states(engine) == before
        assert names(engine.process_many([purchase(1, 0)])) == [
            ("hello", "enter"), ("thanks", "move"), ("welcome", "enter")
        ]  # fmt: skip

    def test_tick(self, engine: Engine) -> None:
        """A tick that fails at its second member undoes the first member's timer too, and the
        timers are still found afterwards."""
        for member in ("a", "b"):
            engine.process(purchase(1, 0, member=member))
        before = kept_states(engine)
        fail_at(engine, "_fire", 2, _Interrupted)
        with pytest.raises(_Interrupted):
            engine.tick(T0 + timedelta(days=90))
        assert kept_states(engine) == before
        del engine._fire
        assert len(engine.tick(T0 + timedelta(days=90))) == 0
        assert {engine.state(m)["node"] for m in ("a", "b")} == {"lapsed"}  # type: ignore[index]

    def test_a_store_that_keeps_copies(self, engine: Engine) -> None:
        """A store whose get returns a copy is given the member back as it was."""
        copying = Engine(engine.compiled, _CopyingStore())  # type: ignore[arg-type]
        copying.process(purchase(1, 0))
        before = kept_states(copying)
        fail_at(copying, "_keep", 1, _Interrupted)
        with pytest.raises(_Interrupted):
            copying.process(purchase(2, 1))
        assert kept_states(copying) == before


class TestTickProgress:
    """tick tells a progress callback how far it has come."""

    def test_every_thousand_members(self, engine: Engine) -> None:
        """(members looked at, members due), every 1,000, up to all of them."""
        engine.process_many(purchase(1, 0, member=f"m{n:04}") for n in range(2500))
        told: list[tuple[int, ...]] = []
        engine.tick(T0 + timedelta(days=61), progress=lambda *counts: told.append(counts))
        assert told == [(1000, 2500), (2000, 2500)]
        assert all(engine.state(f"m{n:04}")["node"] == "lapsed" for n in range(2500))  # type: ignore[index]


class TestAllOrNothingDurably:
    """The same promise with the SQLite store: a failed call undoes itself, and only itself."""

    def test_an_earlier_call_of_the_batch_stays(self, engine: Engine, tmp_path: Any) -> None:
        """A Ctrl-C in member b's change used to discard the whole uncommitted batch: member a
        was gone and its trigger, already handed to the caller, never reached the outbox."""
        store = topo.SqliteStore(tmp_path / "s.db")
        durable = Engine(engine.compiled, store)
        handed = durable.process(purchase(1, 0, member="a"))
        fail_at(durable, "_keep", 1, _Interrupted)
        with pytest.raises(_Interrupted):
            durable.process(purchase(1, 0, member="b"))
        del durable._keep
        assert durable.state("a") is not None and durable.state("b") is None
        assert [t.id for t in durable.outbox.pending()] == [t.id for t in handed]
        store.close()

    def test_an_undo_commits_nothing(self, engine: Engine, tmp_path: Any) -> None:
        """Undoing a failed call writes nothing to the file: it used to read the timers back
        through the store, which committed the batch, and with it topo replay's note that the
        failed event was applied (a Ctrl-C then lost that event on resume)."""
        import sqlite3

        store = topo.SqliteStore(tmp_path / "s.db")
        durable = Engine(engine.compiled, store)
        durable.process(purchase(1, 0, member="a"))
        fail_at(durable, "_keep", 1, _Interrupted)
        with pytest.raises(_Interrupted):
            durable.process(purchase(1, 0, member="b"))
        with sqlite3.connect(tmp_path / "s.db") as db:
            assert db.execute("SELECT COUNT(*) FROM members").fetchone() == (0,)
        store.close(commit=False)

    def test_process_many_and_tick(self, engine: Engine, tmp_path: Any) -> None:
        """Each call is undone as a whole, before and after a commit in the store."""
        store = topo.SqliteStore(tmp_path / "s.db", batch_size=1000)
        durable = Engine(engine.compiled, store)
        durable.process_many(purchase(1, 0, member=f"m{n}") for n in range(3))
        before = kept_states(durable)
        fail_at(durable, "_fire", 2, _Interrupted)
        with pytest.raises(_Interrupted):
            durable.tick(T0 + timedelta(days=90))
        assert kept_states(durable) == before
        del durable._fire
        with pytest.raises(topo.InvalidEvent):
            durable.process_many([purchase(2, 1, member="m0"), purchase(2, 1, amount=-1)])
        assert kept_states(durable) == before
        store.close()

    def test_a_commit_during_the_call_stays(self, engine: Engine, tmp_path: Any) -> None:
        """A call that failed after the store committed part of it: what was committed stays,
        with its triggers in the outbox; the changes after the commit are undone."""
        store = topo.SqliteStore(tmp_path / "s.db", batch_size=2)
        durable = Engine(engine.compiled, store)
        fail_at(durable, "_keep", 3, _Interrupted)
        with pytest.raises(_Interrupted):
            durable.process_many(purchase(1, 0, member=f"m{n}") for n in range(4))
        del durable._keep
        assert [durable.state(f"m{n}") is not None for n in range(4)] == [1, 1, 0, 0]
        assert {t.member for t in durable.outbox.pending()} == {"m0", "m1"}
        store.close()


def test_a_timer_due_after_the_calendar_ends_is_never_due() -> None:
    """An event in the last days of year 9999 starts a 180-day lapse timer the calendar cannot
    hold: the event is processed (it was an OverflowError traceback) and the timer never fires."""
    engine = topo.Engine(topo.load_journey(ROOT / "journeys" / "cdnow.yaml"))
    event = {"id": "1", "member": "a", "type": "purchase", "at": "9999-12-30T10:00:00+00:00",
             "amount": 5.0, "cds": 1}  # fmt: skip
    assert [t.incentive for t in engine.process(event)]
    assert engine.tick("9999-12-31T23:59:59+00:00") == []
