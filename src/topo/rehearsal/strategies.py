"""Hypothesis strategies for journeys, and a state machine that checks topo's rules on any journey.

In hypothesis's own style::

    from hypothesis import given
    from topo.rehearsal.strategies import from_journey

    @given(from_journey(journey, members=5, duplicates=True, advances=True))
    def test_no_vip_without_spend(items): ...

- :func:`from_journey` draws a stream for a journey: events of its declared types and
  ``profile`` events that set its attributes (and clock advances, as :class:`datetime` items)
  in time order, for a few members; options mix in invalid, duplicate and late events.
- :func:`events` draws single valid events of one type, ``profile`` included.
- :func:`journey_machine` gives a :class:`hypothesis.stateful.RuleBasedStateMachine` that feeds
  random events and clock advances to an engine and checks, after every step, the rules every
  journey must keep (see :class:`JourneyMachine`). A failure prints the shrunk steps as a
  scenario file (:func:`scenario_text`) to paste into ``journeys/scenarios/``.
- :data:`START` is where drawn streams start, unless told otherwise.

Attribute values are drawn of their declared types, half the time among the values the
journey's guards compare them with (:func:`topo.rehearsal.paths.attribute_values`), so that a move
guarded by ``member.region == 'north'`` is taken. pii attributes are drawn too, and printed in
a failure's scenario file like any value: they are synthetic (hypothesis prints its draws
anyway), and a placeholder such as ``***`` would not replay the failure.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from topo.engine.engine import Engine, rejection
from topo.engine.events import PROFILE
from topo.engine.member_state import MemberState
from topo.engine.triggers import Trigger
from topo.errors import InvalidEvent
from topo.journey.model import Attribute, EventField, Journey
from topo.rehearsal.paths import attribute_values
from topo.rehearsal.scenarios import scenario_step

__all__ = ["START", "JourneyMachine", "events", "from_journey", "journey_machine", "scenario_text"]

START = datetime(2026, 1, 1, tzinfo=UTC)
"""Where drawn streams start, unless told otherwise."""

_ABSENT = object()  # a field the drawn event leaves out (None is a null, which clears an attribute)


def events(
    journey: Journey,
    event_type: str,
    *,
    member: str | st.SearchStrategy[str] = "m",
    at: datetime | st.SearchStrategy[datetime] | None = None,
    amounts: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid events of ``event_type`` as the journey declares it: every required field, and
    each optional one or not, within its ``min``, ``max`` and ``one_of``. ``amounts`` draws
    the values of float fields (default: 0 to 500, in cents).

    ``event_type`` may be ``profile``: each attribute is then left out, set to a value of its
    type (often one a guard compares it with, see :func:`topo.rehearsal.paths.attribute_values`), or
    ``None``, which clears it."""
    if event_type != PROFILE and event_type not in journey.events:
        known = ", ".join([*sorted(journey.events), PROFILE])
        raise InvalidArgument(
            f"{event_type!r} is not an event type of the journey {journey.journey!r}; "
            f"choose one of {known}"
        )
    return _events(journey, event_type, member, at, amounts, attribute_values(journey))


def _events(
    journey: Journey,
    event_type: str,
    member: str | st.SearchStrategy[str],
    at: datetime | st.SearchStrategy[datetime] | None,
    amounts: st.SearchStrategy[float] | None,
    literals: Mapping[str, list[Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    """:func:`events`, with the attributes' values from the guards worked out once."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    if event_type == PROFILE:  # each attribute left out, cleared (null) or set
        for name, attribute in journey.attributes.items():
            value = _attribute(attribute, literals.get(name), amounts)
            fields[name] = st.just(_ABSENT) | st.none() | value
    else:
        for name, spec in journey.events[event_type].fields.items():
            value = _value(spec, amounts)
            fields[name] = value if spec.required else st.just(_ABSENT) | value
    return st.fixed_dictionaries(
        {
            "id": st.uuids().map(lambda u: f"e-{u.hex[:12]}"),
            "member": member if isinstance(member, st.SearchStrategy) else st.just(member),
            "type": st.just(event_type),
            "at": _times(at).map(datetime.isoformat),
            **fields,
        }
    ).map(lambda e: {k: v for k, v in e.items() if v is not _ABSENT})


def _kinds(journey: Journey) -> list[str]:
    """The event types a stream draws from: the declared ones, and ``profile`` when the
    journey has attributes for it to set."""
    return sorted(journey.events) + ([PROFILE] if journey.attributes else [])


def _attribute(
    spec: Attribute, literals: list[Any] | None, amounts: st.SearchStrategy[float] | None
) -> st.SearchStrategy[Any]:
    """A value of an attribute's type; half the time one its guards compare it with."""
    drawn = _value(EventField(type=spec.type), amounts)
    return st.sampled_from(literals) | drawn if literals else drawn


def from_journey(
    journey: Journey,
    *,
    members: int = 3,
    span: timedelta = timedelta(days=400),
    max_events: int = 30,
    start: datetime = START,
    amounts: st.SearchStrategy[float] | None = None,
    invalid: bool = False,
    duplicates: bool = False,
    late: bool = False,
    advances: bool = False,
) -> st.SearchStrategy[list[dict[str, Any] | datetime]]:
    """Streams for ``journey``: up to ``max_events`` events of its declared types (and
    ``profile`` events, when it has attributes; see :func:`events`) for ``members`` members,
    in time order within ``span`` after ``start``. Mix in ``invalid``
    events (a required field left out), ``duplicates`` (an event sent again), ``late`` events
    (earlier than the member's last) and clock ``advances`` (datetimes, for ``Engine.tick``)."""
    kinds = _kinds(journey)
    literals = attribute_values(journey)
    names = [f"m{i}" for i in range(max(1, members))]
    seconds = int(span.total_seconds())

    @st.composite
    def streams(draw: st.DrawFn) -> list[dict[str, Any] | datetime]:
        count = draw(st.integers(0, max_events))
        steps = sorted(draw(st.lists(st.integers(0, seconds), min_size=count, max_size=count)))
        items: list[dict[str, Any] | datetime] = []
        sent: list[dict[str, Any]] = []
        last: dict[str, datetime] = {}  # each member's latest event
        for offset in steps:
            at = start + timedelta(seconds=offset)
            roll = draw(st.integers(0, 9))
            if advances and roll == 0:
                items.append(at)
                continue
            if duplicates and roll == 1 and sent:
                items.append(dict(draw(st.sampled_from(sent))))
                continue
            member = draw(st.sampled_from(names))
            kind = draw(st.sampled_from(kinds))
            event = draw(_events(journey, kind, member, at, amounts, literals))
            if late and roll == 2 and member in last:  # before the member's last event
                early = last[member] - timedelta(days=draw(st.integers(1, 60)))
                event["at"] = early.isoformat()
            else:
                last[member] = at
            if invalid and roll == 3:
                declared = journey.events[kind].fields if kind != PROFILE else {}
                required = [n for n, f in declared.items() if f.required]
                event.pop(draw(st.sampled_from(required)) if required else "type")
            sent.append(event)
            items.append(event)
        return items

    return streams()


def _times(at: datetime | st.SearchStrategy[datetime] | None) -> st.SearchStrategy[datetime]:
    if isinstance(at, datetime):
        return st.just(at)
    if at is not None:
        return at
    return st.integers(0, 400 * 86_400).map(lambda s: START + timedelta(seconds=s))


def _value(spec: EventField, amounts: st.SearchStrategy[float] | None) -> st.SearchStrategy[Any]:
    if spec.one_of is not None:
        return st.sampled_from(spec.one_of)
    low = spec.min if spec.min is not None else 0
    high = spec.max if spec.max is not None else max(low, 0) + 500
    if spec.type == "int":
        return st.integers(int(low), int(high))
    if spec.type == "float":
        if amounts is not None:
            return amounts.filter(lambda v: low <= v <= high)
        return st.integers(int(low * 100), int(high * 100)).map(lambda c: c / 100)
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "date":
        return st.dates(date(2025, 1, 1), date(2027, 12, 31)).map(date.isoformat)
    if spec.type == "datetime":
        return _times(None).map(datetime.isoformat)
    return st.text(alphabet="abcdefghij", min_size=1, max_size=8)


def scenario_text(
    journey_path: str,
    items: list[dict[str, Any] | datetime],
    *,
    member: str = "m0",
    rejected: Mapping[int, str] | None = None,
) -> str:
    """``items`` (events and clock advances) as a scenario file to paste, one scenario about
    ``member``; ``rejected`` (item index -> invalid, duplicate or late) marks the events that
    were rejected, so that the scenario expects it. Values are written as they are, pii ones
    too, so that the scenario replays: it is meant for drawn (synthetic) events; pass real
    ones through :func:`topo.engine.events.redact` first."""
    lines = [f"journey: {json.dumps(journey_path)}", f"member: {json.dumps(member)}",
             "scenarios:", '  - name: "found by hypothesis"', "    steps:"]  # fmt: skip
    for number, item in enumerate(items):
        kind = (rejected or {}).get(number)
        lines.append(f"      - {scenario_step(item, {'rejected': kind} if kind else None)}")
    return "\n".join(lines) + "\n"


class JourneyMachine(RuleBasedStateMachine):
    """Random events (``profile`` ones too), resent events and clock advances through one
    journey, checking after every step that:

    - no member skips a node: every node change is a recorded move from the node it was at
      (a cascade records each of its moves);
    - a ``once`` incentive is never granted twice to one member;
    - an exit node is final;
    - a timer never fires early: a timer move comes at least ``after`` its node was entered,
      and never later than the clock;

    and, at the end, that the same events through a new engine give the same triggers (ids
    included), and that ``process_many`` gives what ``process`` one by one gave.

    Use :func:`journey_machine` to make one for a journey; it sets the class attributes
    ``journey`` (the journey run), ``journey_path`` (how a printed scenario file names it)
    and ``members`` (how many members the events are for).
    """

    journey: Journey
    journey_path = "JOURNEY.yaml"
    members = 3

    def __init__(self) -> None:
        """A new engine for the journey, with no member yet, its clock at :data:`START`."""
        super().__init__()
        self.engine = Engine(self.journey)
        self.items: list[dict[str, Any] | datetime] = []
        self.rejected: dict[int, str] = {}  # item index -> how it was rejected
        self.triggers: list[Trigger] = []
        self.clock = START
        self.joined: dict[str, datetime] = {}
        self.activity: dict[str, list[tuple[datetime, str]]] = {}  # processed events' times
        self.moves = {m.id or f"moves[{i}]": m for i, m in enumerate(self.journey.moves)}
        self.literals = attribute_values(self.journey)

    @rule(data=st.data(), hours=st.integers(0, 24 * 60))
    def event(self, data: st.DataObject, hours: int) -> None:
        """An event of a declared type, or a ``profile`` event, for one of the members."""
        self.clock += timedelta(hours=hours)
        kind = data.draw(st.sampled_from(_kinds(self.journey)))
        member = data.draw(st.sampled_from([f"m{i}" for i in range(self.members)]))
        item = data.draw(_events(self.journey, kind, member, self.clock, None, self.literals))
        self._feed(item)

    @precondition(lambda self: bool(self.items))
    @rule(data=st.data())
    def resend(self, data: st.DataObject) -> None:
        """An event sent again: a duplicate, or late."""
        sent = [i for i in self.items if isinstance(i, dict)]
        if sent:
            self._feed(dict(data.draw(st.sampled_from(sent))))

    @rule(days=st.integers(1, 400))
    def advance(self, days: int) -> None:
        """The clock moves on by whole days: every timer due by then fires."""
        self.clock += timedelta(days=days)
        self.items.append(self.clock)
        self.triggers += self.engine.tick(self.clock)

    def _feed(self, item: dict[str, Any]) -> None:
        self.items.append(item)
        try:
            self.triggers += self.engine.process(item)
        except InvalidEvent as error:
            self.rejected[len(self.items) - 1] = rejection(error)
            return
        at, member = datetime.fromisoformat(item["at"]), item["member"]
        self.joined.setdefault(member, at)
        self.activity.setdefault(member, []).append((at, item["type"]))

    def _history(self) -> Iterator[tuple[str, MemberState]]:
        for member in self.engine.store.members():
            state = self.engine.store.get(member)
            assert state is not None
            yield member, state

    @invariant()
    def no_member_skips_a_node(self) -> None:
        """Every node change is a recorded move, from the node the member was at, along a move
        the journey has."""
        for member, state in self._history():
            node = self.engine.compiled.start
            for entry in state.history:
                if entry[0] != "move":
                    continue
                move = self.moves.get(entry[1])
                self._check(move is not None, f"{member} took {entry[1]}, not a move", member)
                assert move is not None
                self._check(entry[2] == node and node in move.from_ and entry[3] == move.to,
                            f"{member} moved {entry[2]} -> {entry[3]} by {entry[1]} at {node}",
                            member)  # fmt: skip
                node = entry[3]
            self._check(node == state.node, f"{member} is at {state.node}, history says {node}",
                        member)  # fmt: skip

    @invariant()
    def once_is_once(self) -> None:
        """A ``once`` incentive is granted at most once to each member."""
        once = {i for i, spec in self.journey.incentives.items() if spec.once}
        seen: set[tuple[str, str]] = set()
        for trigger in self.triggers:
            if trigger.incentive in once:
                key = (trigger.member, trigger.incentive)
                self._check(key not in seen, f"{key[1]} granted twice to {key[0]}", key[0])
                seen.add(key)

    @invariant()
    def exits_are_final(self) -> None:
        """No move leaves an exit node, not even within a cascade."""
        exits = self.engine.compiled.exits
        for member, state in self._history():
            for entry in state.history:
                if entry[0] == "move":
                    self._check(entry[2] not in exits, f"{member} left the exit {entry[2]}",
                                member)  # fmt: skip

    @invariant()
    def timers_never_fire_early(self) -> None:
        """A timer move comes no earlier than ``after`` past the start of its clock (entering
        the node, or the member's last activity or event of the type ``since`` names, before
        it), and no later than the clock."""
        for member, state in self._history():
            entered = self.joined.get(member)
            for entry in state.history:
                if entry[0] != "move":
                    continue
                move, at = self.moves[entry[1]], entry[4]
                if move.after is not None and entered is not None:
                    start = entered
                    since = move.since or "entered"
                    for time, kind in self.activity.get(member, ()):
                        if time < at and (since == "activity" or since == kind):
                            start = max(start, time)
                    self._check(at - start >= move.after, f"{member}: {entry[1]} fired early",
                                member)  # fmt: skip
                    self._check(at <= self.clock, f"{member}: {entry[1]} in the future", member)
                entered = at

    def teardown(self) -> None:
        """At the end: the same events through a new engine give the same triggers (ids
        included), and ``process_many`` gives what ``process`` one by one gave."""
        again = Engine(self.journey)
        found: list[Trigger] = []
        for item in self.items:
            if isinstance(item, datetime):
                found += again.tick(item)
            else:
                with contextlib.suppress(InvalidEvent):
                    found += again.process(item)
        self._check(found == self.triggers, "the same events gave other triggers")
        bulk = Engine(self.journey)
        runs: list[Trigger] = []
        chunk: list[dict[str, Any]] = []
        ended: list[dict[str, Any] | datetime | None] = [*self.items, None]
        for step in ended:
            if isinstance(step, dict):
                chunk.append(step)
                continue
            runs += bulk.process_many(chunk, on_reject=lambda event, error: None)
            chunk = []
            if step is not None:
                runs += bulk.tick(step)
        self._check(runs == self.triggers, "process_many gave other triggers than process")

    def _check(self, holds: bool, what: str, member: str = "m0") -> None:
        if not holds:
            text = scenario_text(
                self.journey_path, self.items, member=member, rejected=self.rejected
            )
            raise AssertionError(f"{what}\nas a scenario file:\n{text}")


def journey_machine(
    journey: Journey, *, path: str = "JOURNEY.yaml", members: int = 3
) -> type[JourneyMachine]:
    """A :class:`JourneyMachine` for ``journey``; run it with its ``TestCase`` under pytest or
    unittest, or with :func:`hypothesis.stateful.run_state_machine_as_test`. ``path`` is how
    the printed scenario file names the journey."""
    return type(
        f"{journey.journey.title().replace('-', '')}Machine",
        (JourneyMachine,),
        {"journey": journey, "journey_path": path, "members": members},
    )
