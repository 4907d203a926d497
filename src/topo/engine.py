"""The evaluator: members move along a journey on their events, and incentives are granted.

:class:`Engine` follows the contract's evaluation order for each valid event of member M at T:

1. a duplicate id (within ``dedup_window`` of M's clock) changes nothing: :class:`DuplicateEvent`;
2. an event earlier than M's clock changes nothing: :class:`LateEvent` (or dropped, with
   ``settings.late_events: ignore``);
3. M's timers due at or before T fire first, in due-time order, each as of its due time;
4. the metrics take in the event (a ``profile`` event first sets the attributes it carries);
5. moves: the first move out of M's node whose ``on`` matches and whose guard holds, then again
   from the new node (a cascade) until none matches, the match would re-enter a node of this
   cascade, or ``max_cascade`` moves were made;
6. each move grants its incentives, then the target's ``on_enter``, subject to the caps;
7. the reminders of M's node (other than ``ahead_of`` ones) whose guard holds are granted;
8. the state and the triggers are kept together.

:meth:`Engine.tick` fires every member's timers due at or before a time, in due-time order
across members (ties: member id, then file order), from an index of due times, not a scan.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from topo.caps import record, withheld_by
from topo.compiled import CompiledJourney, CompiledMove, CompiledReminder, compile_journey
from topo.errors import InvalidEvent
from topo.evaluation import Context
from topo.events import Event
from topo.member_state import MemberState, Record
from topo.metrics import microseconds
from topo.model import Journey
from topo.stores import MemoryStore, Store
from topo.triggers import Reason, Trigger, timer_cause, trigger_id

__all__ = ["DuplicateEvent", "Engine", "LateEvent"]


class DuplicateEvent(InvalidEvent):
    """An event whose id the member already had: it changes nothing."""


class LateEvent(InvalidEvent):
    """An event earlier than the member's clock: it changes nothing."""


_MICRO = timedelta(microseconds=1)
Timer = tuple[int, int, int, datetime, datetime, CompiledMove | CompiledReminder]
"""(due, 0 for a move or 1 for a reminder, file index, due time, clock start, what fires)."""


class Engine:
    """Runs one journey for its members; their states live in ``store``."""

    def __init__(
        self,
        journey: Journey | CompiledJourney,
        store: Store | None = None,
        *,
        backfill: bool = False,
        explain: bool = True,
    ) -> None:
        self.compiled = (
            journey if isinstance(journey, CompiledJourney) else compile_journey(journey)
        )
        self.store: Store = store if store is not None else MemoryStore()
        self.backfill = backfill
        self.keep_explanations = explain
        self._index: list[tuple[int, str, int, int]] = []  # (due, member, order, version)
        self._versions: dict[str, int] = {}

    # -- the public surface ------------------------------------------------------------------

    def process(self, event: Mapping[str, Any] | Event) -> list[Trigger]:
        """Evaluate one event; raises :class:`topo.InvalidEvent` (and changes nothing) if it is
        invalid, a duplicate or late."""
        valid = self.compiled.events.read(event)
        out: list[Trigger] = []
        state = self.store.get(valid.member)
        if state is None:
            state = self._create(valid, out)
        elif self._rejected(state, valid):
            return []
        self._apply(state, valid, out)
        self._keep(state)
        return out

    def process_many(
        self,
        events: Iterable[Mapping[str, Any] | Event],
        on_reject: Callable[[Mapping[str, Any] | Event, InvalidEvent], object] | None = None,
    ) -> list[Trigger]:
        """Evaluate events in order: the same as :meth:`process` one by one. Rejected events
        go to ``on_reject`` (event, error) when given, and raise otherwise."""
        out: list[Trigger] = []
        for event in events:
            try:
                out += self.process(event)
            except InvalidEvent as error:
                if on_reject is None:
                    raise
                on_reject(event, error)
        return out

    def tick(self, at: datetime) -> list[Trigger]:
        """Fire every member's timers due at or before ``at``, in due-time order."""
        limit = microseconds(at)
        out: list[Trigger] = []
        while self._index and self._index[0][0] <= limit:
            due, member, _, version = heapq.heappop(self._index)
            state = self.store.get(member)
            if state is None or self._versions.get(member) != version:
                continue  # an older entry: the member's timers changed since
            timer = self._next_timer(state)
            if timer is None or timer[0] != due:
                continue
            self._fire(state, timer, out)
            self._keep(state)
        return out

    def state(self, member: str, as_of: datetime | None = None) -> dict[str, Any] | None:
        """What topo remembers of a member (pii attributes left out), or None.

        Windowed metrics are read as of the member's clock, or ``as_of`` when that is later.
        """
        state = self.store.get(member)
        if state is None:
            return None
        pii = self.compiled.pii
        clock = _at(state.clock, state.entered_at)
        if as_of is None or as_of < clock:
            as_of = clock
        return {
            "member": member,
            "node": state.node,
            "entered_at": state.entered_at.isoformat(),
            "metrics": self.compiled.metrics.values(state.metrics, as_of),
            "attributes": {k: v for k, v in state.attributes.items() if k not in pii},
            "history": [dict(r) for r in state.history],
            "withheld": [dict(r) for r in state.history if "withheld" in r],
        }

    def explain(self, member: str) -> list[Record]:
        """Each step of the member's way: the event or timer, every guard looked at with the
        values it saw, and the outcome."""
        state = self.store.get(member)
        return [] if state is None else [dict(r) for r in state.explanation]

    # -- steps -------------------------------------------------------------------------------

    def _create(self, event: Event, out: list[Trigger]) -> MemberState:
        """A new member at the start node, entered at the event's time; start's on_enter."""
        c = self.compiled
        state = MemberState(
            event.member, c.start, event.at, microseconds(event.at), c.metrics.new_state()
        )
        self._explain(
            state, {"step": "joined", "event": event.id, "at": event.at_text, "node": c.start}
        )
        place = [0]
        for incentive in c.on_enter.get(c.start, ()):
            self._grant(state, incentive, event.at, "enter", None, c.start, event.id, place, out)
        return state

    def _rejected(self, state: MemberState, event: Event) -> bool:
        """Steps 1 and 2: duplicates and late events change nothing."""
        seen = state.seen.get(event.id)
        if seen is not None and seen >= state.clock - self.compiled.dedup_window:
            raise DuplicateEvent(
                "a duplicate: the member already had an event with this id", event_id=event.id
            )
        if microseconds(event.at) < state.clock:
            if self.compiled.late_events == "ignore":
                return True
            raise LateEvent(
                "late: it is earlier than the member's last event or timer; events of one member "
                "must come in time order",
                event_id=event.id,
            )
        return False

    def _apply(self, state: MemberState, event: Event, out: list[Trigger]) -> None:
        c = self.compiled
        at = microseconds(event.at)
        self._fire_until(state, at, out)
        self._remember_id(state, event.id, at)
        if event.type == "profile":
            for name, value in event.fields.items():
                if value is None:
                    state.attributes.pop(name, None)
                else:
                    state.attributes[name] = value
        c.metrics.observe(state.metrics, event.type, event.at, event.fields, state.attributes)
        step: Record = {"step": "event", "event": event.id, "type": event.type, "at": event.at_text}
        if state.node not in c.exits:
            place = [0]
            self._cascade(state, event, step, place, out)
            self._remind(state, event.at, event.id, place, out)
        state.clock = at
        state.last_activity = event.at
        state.last_of_type[event.type] = event.at
        self._explain(state, step)

    def _cascade(
        self, state: MemberState, event: Event, step: Record, place: list[int], out: list[Trigger]
    ) -> None:
        """Step 5 and 6: take the first matching move, again and again."""
        c = self.compiled
        visited = {state.node}
        looked: list[Record] = []
        moved: list[str] = []
        while len(moved) < c.max_cascade:
            move = self._first_move(state, event, looked)
            if move is None or move.target in visited:
                break
            source = state.node
            state.enter(move.target, event.at)
            visited.add(move.target)
            moved.append(move.target)
            state.history.append(
                {
                    "move": move.label,
                    "from": source,
                    "to": move.target,
                    "at": event.at_text,
                    "cause": event.id,
                }
            )
            for incentive in move.incentives:
                self._grant(
                    state, incentive, event.at, "move", source, move.target, event.id, place, out
                )
            for incentive in c.on_enter.get(move.target, ()):
                self._grant(
                    state, incentive, event.at, "enter", source, move.target, event.id, place, out
                )
        step["guards"] = looked
        step["outcome"] = f"moved to {' then '.join(moved)}" if moved else f"stayed at {state.node}"

    def _first_move(
        self, state: MemberState, event: Event, looked: list[Record]
    ) -> CompiledMove | None:
        context = self._context(state, event.at, event.fields)
        for move in self.compiled.on_event.get((state.node, event.type), ()):
            holds = move.guard is None or move.guard.holds(context)
            if self.keep_explanations:  # what the guard saw costs a second read of its metrics
                looked.append(self._seen(move.label, move.target, move.guard, context, holds))
            if holds:
                return move
        return None

    def _remind(
        self, state: MemberState, at: datetime, cause: str, place: list[int], out: list[Trigger]
    ) -> None:
        """Step 7: the reminders of the member's node whose guard holds, in file order."""
        context = self._context(state, at, {})
        for reminder in self.compiled.reminders.get(state.node, ()):
            if reminder.guard is None or reminder.guard.holds(context):
                self._grant(
                    state,
                    reminder.incentive,
                    at,
                    "reminder",
                    state.node,
                    reminder.toward or state.node,
                    cause,
                    place,
                    out,
                    reminder,
                )

    # -- timers ------------------------------------------------------------------------------

    def _next_timer(self, state: MemberState) -> Timer | None:
        """The member's earliest due timer move or ``ahead_of`` reminder (ties: file order)."""
        c = self.compiled
        if state.node in c.exits:
            return None
        found: list[Timer] = []
        for move in c.timers.get(state.node, ()):
            start = self._clock_start(state, move)
            assert move.after is not None
            due = start + move.after * _MICRO
            found.append((microseconds(due), 0, move.index, due, start, move))
            for reminder in c.ahead_of.get(move.label, ()):
                if state.node in reminder.at and state.considered.get(
                    reminder.index
                ) != microseconds(start):
                    assert reminder.by is not None
                    early = due - reminder.by * _MICRO
                    found.append((microseconds(early), 1, reminder.index, early, start, reminder))
        return min(found, key=lambda t: t[:3]) if found else None

    def _clock_start(self, state: MemberState, move: CompiledMove) -> datetime:
        """When a timer move's clock started: entering, the last relevant event, a restart."""
        times = [state.entered_at]
        if move.since == "activity" and state.last_activity is not None:
            times.append(state.last_activity)
        elif move.since not in ("entered", "activity") and move.since in state.last_of_type:
            times.append(state.last_of_type[move.since])
        if move.label in state.restarts:
            times.append(state.restarts[move.label])
        return max(times)

    def _fire_until(self, state: MemberState, limit: int, out: list[Trigger]) -> None:
        """Step 3: every timer due at or before ``limit``, one at a time, in due order."""
        while (timer := self._next_timer(state)) is not None and timer[0] <= limit:
            self._fire(state, timer, out)

    def _fire(self, state: MemberState, timer: Timer, out: list[Trigger]) -> None:
        due_us, _, _, due, start, item = timer
        if isinstance(item, CompiledReminder):
            self._consider_ahead(state, item, due, start, out)
        else:
            self._timer_move(state, item, due, out)
        state.clock = due_us

    def _timer_move(
        self, state: MemberState, move: CompiledMove, due: datetime, out: list[Trigger]
    ) -> None:
        c = self.compiled
        context = self._context(state, due, {})
        holds = move.guard is None or move.guard.holds(context)
        step: Record = {"step": "timer", "move": move.label, "at": due.isoformat()}
        step["guards"] = [self._seen(move.label, move.target, move.guard, context, holds)]
        if not holds:
            state.restarts[move.label] = due
            step["outcome"] = f"stayed at {state.node}; the timer's clock starts again"
            self._explain(state, step)
            return
        source = state.node
        cause = timer_cause(due.isoformat(), move.label)
        state.enter(move.target, due)
        state.history.append(
            {
                "move": move.label,
                "from": source,
                "to": move.target,
                "at": due.isoformat(),
                "cause": cause,
            }
        )
        place = [0]
        for incentive in (*move.incentives, *c.on_enter.get(move.target, ())):
            self._grant(state, incentive, due, "timer", source, move.target, cause, place, out)
        step["outcome"] = f"moved to {move.target}"
        self._explain(state, step)
        self._remind(state, due, cause, place, out)

    def _consider_ahead(
        self,
        state: MemberState,
        reminder: CompiledReminder,
        due: datetime,
        start: datetime,
        out: list[Trigger],
    ) -> None:
        """An ``ahead_of`` reminder at its due time, once for each start of the move's clock."""
        state.considered[reminder.index] = microseconds(start)
        context = self._context(state, due, {})
        holds = reminder.guard is None or reminder.guard.holds(context)
        move = next(m for m in self.compiled.timers[state.node] if m.label == reminder.ahead_of)
        step: Record = {"step": "reminder", "reminder": reminder.index, "at": due.isoformat()}
        step["guards"] = [
            self._seen(f"reminders[{reminder.index}]", move.target, reminder.guard, context, holds)
        ]
        if holds:
            cause = timer_cause(due.isoformat(), f"reminders[{reminder.index}]")
            self._grant(
                state,
                reminder.incentive,
                due,
                "reminder",
                state.node,
                move.target,
                cause,
                [0],
                out,
                reminder,
            )
        step["outcome"] = "reminded" if holds else "not reminded: its guard does not hold"
        self._explain(state, step)

    # -- grants ------------------------------------------------------------------------------

    def _grant(
        self,
        state: MemberState,
        incentive_id: str,
        at: datetime,
        reason: Reason,
        source: str | None,
        target: str,
        cause: str,
        place: list[int],
        out: list[Trigger],
        reminder: CompiledReminder | None = None,
    ) -> None:
        """Step 6: grant an incentive, or record why a cap withholds it."""
        c = self.compiled
        incentive = c.incentives[incentive_id]
        at_us = microseconds(at)
        cap = withheld_by(state, incentive, at_us, reminder, c.pressure)
        if cap is not None:
            state.history.append(
                {"withheld": incentive_id, "reason": cap, "at": at.isoformat(), "cause": cause}
            )
            return
        record(state, incentive, at_us, reminder, c.pressure)
        state.history.append(
            {"granted": incentive_id, "reason": reason, "at": at.isoformat(), "cause": cause}
        )
        number = place[0]
        place[0] += 1
        if self.backfill:
            return
        message = (
            ""
            if incentive.message is None
            else incentive.message(self._message_values(state, at, incentive_id))
        )
        out.append(
            Trigger(
                id=trigger_id(
                    c.id,
                    c.version,
                    state.member,
                    cause,
                    at.isoformat(),
                    incentive_id,
                    reason,
                    number,
                ),
                member=state.member,
                incentive=incentive_id,
                channel=incentive.channel,
                reason=reason,
                from_node=source,
                to_node=target,
                node=state.node,
                at=at,
                at_text=at.isoformat(),
                cause=cause,
                message=message,
                cost=incentive.cost,
            )
        )

    def _message_values(
        self, state: MemberState, at: datetime, incentive_id: str
    ) -> dict[str, object]:
        c = self.compiled
        values: dict[str, object] = dict(c.metrics.values(state.metrics, at))
        values.update((k, v) for k, v in state.attributes.items() if k not in c.pii)
        values.update(
            node=state.node, offering=c.incentives[incentive_id].offering, incentive=incentive_id
        )
        return values

    # -- helpers -----------------------------------------------------------------------------

    def _context(self, state: MemberState, at: datetime, fields: Mapping[str, Any]) -> Context:
        metrics = self.compiled.metrics.view(state.metrics, at)
        return Context(metrics, state.attributes, fields, state.node, at, state.entered_at)

    def _seen(self, label: str, target: str, guard: Any, context: Context, holds: bool) -> Record:
        """What a guard saw, for the explanation (metric values only: never an attribute)."""
        if guard is None:
            return {"move": label, "to": target, "when": None, "holds": True}
        values = {name: context.metrics.get(name) for name in sorted(guard.metrics)}
        return {"move": label, "to": target, "when": guard.text, "values": values, "holds": holds}

    def _remember_id(self, state: MemberState, event_id: str, at: int) -> None:
        seen = state.seen
        seen.pop(event_id, None)  # a reused id moves to the end, so the dict stays in time order
        seen[event_id] = at
        oldest = at - self.compiled.dedup_window
        # Oldest first: drop the expired ids from the front, without copying the rest.
        while True:
            first = next(iter(seen))
            if seen[first] >= oldest:
                break
            del seen[first]

    def _explain(self, state: MemberState, step: Record) -> None:
        if self.keep_explanations:
            state.explanation.append(step)

    def _keep(self, state: MemberState) -> None:
        """Step 8: keep the state, and index its next timer for :meth:`tick`."""
        self.store.put(state)
        version = self._versions.get(state.member, 0) + 1
        self._versions[state.member] = version
        timer = self._next_timer(state)
        if timer is not None:
            heapq.heappush(
                self._index, (timer[0], state.member, timer[1] * 1_000_000 + timer[2], version)
            )


def _at(clock: int, near: datetime) -> datetime:
    """The member's clock as an aware time, written with the offset of ``near``."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + clock * _MICRO
    return moment.astimezone(timezone(near.utcoffset() or timedelta(0)))
