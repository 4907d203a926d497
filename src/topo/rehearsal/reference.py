"""The reference machine: the same journey as a ``transitions`` state machine, written to be
obviously right rather than fast, so that the engine can be checked against it.

States are the journey's nodes, triggers its event types (and one trigger per timer move),
conditions the compiled guards, callbacks the grants. Everything else is done the plain way:
timers are found by scanning the journey's moves, caps by scanning every grant the member ever
had, duplicates by scanning every id. Only this module imports ``transitions``
(``auto_transitions=False``, so nothing can jump around the journey's graph); its errors stay
behind this wall.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from transitions import Machine

from topo.engine.compiled import compile_journey
from topo.engine.engine import DuplicateEvent, LateEvent
from topo.engine.evaluation import Context, Expression, compile_expression
from topo.engine.events import Event
from topo.engine.holdout import held_out
from topo.engine.metrics import microseconds
from topo.engine.triggers import Trigger, timer_cause, trigger_id
from topo.journey.model import Journey, Move

__all__ = ["ReferenceMachine"]


class _Stop(Exception):
    """The first matching move would re-enter a node of this cascade: the cascade ends."""


@dataclass
class _Member:
    """One member, as the reference machine keeps it (the model of the state machine)."""

    member: str
    state: str
    entered_at: datetime
    clock: int
    metrics: list[Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    ids: list[tuple[str, int]] = field(default_factory=list)
    grants: list[tuple[str, int, int | None]] = field(
        default_factory=list
    )  # (incentive, at, reminder)
    stay: set[int] = field(default_factory=set)
    restarts: dict[int, datetime] = field(default_factory=dict)
    considered: dict[int, int] = field(default_factory=dict)
    last_activity: datetime | None = None
    last_of_type: dict[str, datetime] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


class ReferenceMachine:
    """Runs a journey the plain way; same inputs and outputs as :class:`topo.Engine`."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey
        self.compiled = compile_journey(journey)  # the event check, metrics, messages, guards
        self.members: dict[str, _Member] = {}
        self.guards = {i: _guard(m.when) for i, m in enumerate(journey.moves)}
        self.reminder_guards = {i: _guard(r.when) for i, r in enumerate(journey.reminders)}
        self.machine = Machine(
            model=None,
            states=list(journey.nodes),
            initial=self.compiled.start,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=True,
        )
        for index, move in enumerate(journey.moves):
            for source in dict.fromkeys(move.from_):
                for trigger in move.on or [f"timer-{index}"]:
                    self.machine.add_transition(
                        trigger, source, move.to, conditions=[self._condition(index)],
                        before=[self._before], after=[self._after(index)],
                    )  # fmt: skip

    # -- events ------------------------------------------------------------------------------

    def process(self, raw: Mapping[str, Any] | Event) -> list[Trigger]:
        """One event, in the contract's order; rejects raise as the engine's do."""
        event = self.compiled.events.read(raw)
        at = microseconds(event.at)
        out: list[Trigger] = []
        member = self.members.get(event.member)
        place = [0]  # the grants of joining and of the event's cascade are numbered on
        if member is None:
            member = self._join(event, out, place)
        else:
            window = self.compiled.dedup_window
            if any(i == event.id and u >= member.clock - window for i, u in member.ids):
                raise DuplicateEvent("a duplicate", event_id=event.id)
            if at < member.clock:
                if self.journey.settings.late_events == "ignore":
                    return []
                raise LateEvent("late", event_id=event.id)
            self._timers_until(member, at, out)
        member.ids.append((event.id, at))
        if event.type == "profile":
            for name, value in event.fields.items():
                if value is None:
                    member.attributes.pop(name, None)
                else:
                    member.attributes[name] = value
        self.compiled.metrics.observe(
            member.metrics, event.type, event.at, event.fields, member.attributes
        )
        if member.state not in self.compiled.exits:
            self._cascade(member, event, out, place)
            self._remind(member, event.at, event.id, self._event[2], out)  # numbering goes on
        member.clock = at
        member.last_activity = event.at
        member.last_of_type[event.type] = event.at
        return out

    def process_many(self, events: Iterable[Mapping[str, Any] | Event]) -> list[Trigger]:
        out: list[Trigger] = []
        for event in events:
            out += self.process(event)
        return out

    def tick(self, at: datetime) -> list[Trigger]:
        """Every member's timers due by ``at``, in due order across members (ties: member id)."""
        limit = microseconds(at)
        out: list[Trigger] = []
        while True:
            due = [
                (t[0], m.member, t)
                for m in self.members.values()
                if (t := self._next(m)) and t[0] <= limit
            ]
            if not due:
                return out
            _, member, timer = min(due, key=lambda d: (d[0], d[1], d[2][1], d[2][2]))
            self._fire(self.members[member], timer, out)

    # -- the member's way ----------------------------------------------------------------------

    def _join(self, event: Event, out: list[Trigger], place: list[int]) -> _Member:
        c = self.compiled
        member = _Member(
            event.member, c.start, event.at, microseconds(event.at), c.metrics.new_state()
        )
        self.machine.add_model(member, initial=c.start)
        self.members[event.member] = member
        for incentive in self.journey.nodes[c.start].on_enter:
            self._grant(member, incentive, event.at, "enter", None, c.start, event.id, place, out)
        return member

    def _cascade(self, member: _Member, event: Event, out: list[Trigger], place: list[int]) -> None:
        self._event = (event, out, place, {member.state}, [0])
        while self._event[4][0] < self.compiled.max_cascade:
            try:
                moved = member.trigger(event.type, event=event)  # type: ignore[attr-defined]
            except _Stop:
                return
            if not moved:
                return

    def _condition(self, index: int) -> Any:
        def holds(data: Any) -> bool:
            member: _Member = data.model
            event = data.kwargs.get("event")
            at = event.at if event is not None else data.kwargs["due"]
            fields = event.fields if event is not None else {}
            guard = self.guards[index]
            return guard is None or guard.holds(self._context(member, at, fields))

        return holds

    def _before(self, data: Any) -> None:
        if data.kwargs.get("event") is not None and data.transition.dest in self._event[3]:
            raise _Stop

    def _after(self, index: int) -> Any:
        def after(data: Any) -> None:
            member: _Member = data.model
            move = self.journey.moves[index]
            source = data.transition.source
            event: Event | None = data.kwargs.get("event")
            at = event.at if event is not None else data.kwargs["due"]
            self._enter(member, move.to, at)
            label = move.id or f"moves[{index}]"
            if event is not None:
                _, out, place, visited, count = self._event
                visited.add(move.to)
                count[0] += 1
                cause, reason = event.id, "move"
            else:
                out, place = data.kwargs["out"], data.kwargs["place"]
                cause, reason = timer_cause(at.isoformat(), label), "timer"
            member.history.append({"move": label, "from": source, "to": move.to})
            for incentive in move.incentives:
                self._grant(member, incentive, at, reason, source, move.to, cause, place, out)
            for incentive in self.journey.nodes[move.to].on_enter:
                self._grant(
                    member,
                    incentive,
                    at,
                    "enter" if event is not None else "timer",
                    source,
                    move.to,
                    cause,
                    place,
                    out,
                )

        return after

    def _enter(self, member: _Member, node: str, at: datetime) -> None:
        member.entered_at = at
        member.restarts.clear()
        member.considered.clear()
        member.stay.clear()

    def _remind(
        self, member: _Member, at: datetime, cause: str, place: list[int], out: list[Trigger]
    ) -> None:
        for index, reminder in enumerate(self.journey.reminders):
            if reminder.ahead_of is not None or member.state not in reminder.at:
                continue
            guard = self.reminder_guards[index]
            if guard is None or guard.holds(self._context(member, at, {})):
                target = reminder.toward or member.state
                self._grant(
                    member,
                    reminder.incentive,
                    at,
                    "reminder",
                    member.state,
                    target,
                    cause,
                    place,
                    out,
                    index,
                )

    # -- timers ------------------------------------------------------------------------------

    def _next(self, member: _Member) -> tuple[int, int, int, datetime, datetime, Any] | None:
        if member.state in self.compiled.exits:
            return None
        found: list[tuple[int, int, int, datetime, datetime, Any]] = []
        for index, move in enumerate(self.journey.moves):
            if move.after is None or member.state not in move.from_:
                continue
            start = self._start(member, index, move)
            due = start + move.after
            found.append((microseconds(due), 0, index, due, start, move))
            for r_index, reminder in enumerate(self.journey.reminders):
                ahead = reminder.ahead_of == move.id and member.state in reminder.at
                fresh = member.considered.get(r_index) != microseconds(start)
                if ahead and fresh and reminder.by is not None:
                    early = due - reminder.by
                    found.append((microseconds(early), 1, r_index, early, start, reminder))
        return min(found, key=lambda t: t[:3]) if found else None

    def _start(self, member: _Member, index: int, move: Move) -> datetime:
        times = [member.entered_at]
        since = move.since or "entered"
        if since == "activity" and member.last_activity is not None:
            times.append(member.last_activity)
        elif since not in ("entered", "activity") and since in member.last_of_type:
            times.append(member.last_of_type[since])
        if index in member.restarts:
            times.append(member.restarts[index])
        return max(times)

    def _timers_until(self, member: _Member, limit: int, out: list[Trigger]) -> None:
        while (timer := self._next(member)) is not None and timer[0] <= limit:
            self._fire(member, timer, out)

    def _fire(self, member: _Member, timer: Any, out: list[Trigger]) -> None:
        due_us, kind, index, due, start, item = timer
        if kind == 1:
            member.considered[index] = microseconds(start)
            guard = self.reminder_guards[index]
            if guard is None or guard.holds(self._context(member, due, {})):
                move = next(m for m in self.journey.moves if m.id == item.ahead_of)
                cause = timer_cause(due.isoformat(), f"reminders[{index}]")
                self._grant(
                    member,
                    item.incentive,
                    due,
                    "reminder",
                    member.state,
                    move.to,
                    cause,
                    [0],
                    out,
                    index,
                )
        else:
            place = [0]
            fired = member.trigger(  # type: ignore[attr-defined]
                f"timer-{index}", due=due, out=out, place=place
            )
            if not fired:
                member.restarts[index] = due
            else:
                label = item.id or f"moves[{index}]"
                self._remind(member, due, timer_cause(due.isoformat(), label), place, out)
        member.clock = due_us

    # -- grants ------------------------------------------------------------------------------

    def _grant(
        self, member: _Member, incentive_id: str, at: datetime, reason: str, source: str | None,
        target: str, cause: str, place: list[int], out: list[Trigger], reminder: int | None = None,
    ) -> None:  # fmt: skip
        cap = self._cap(member, incentive_id, microseconds(at), reminder)
        if cap is not None:
            member.history.append({"withheld": incentive_id, "reason": cap})
            return
        member.grants.append((incentive_id, microseconds(at), reminder))
        if reminder is not None and self.journey.reminders[reminder].ahead_of is None:
            member.stay.add(reminder)
        member.history.append({"granted": incentive_id, "reason": reason})
        number = place[0]
        place[0] += 1
        incentive = self.compiled.incentives[incentive_id]
        message = ""
        if incentive.message is not None:
            values: dict[str, object] = dict(self.compiled.metrics.values(member.metrics, at))
            values.update(
                (k, v) for k, v in member.attributes.items() if k not in self.compiled.pii
            )
            values.update(node=member.state, offering=incentive.offering, incentive=incentive_id)
            message = incentive.message(values)
        c = self.compiled
        at_text = at.isoformat()
        ident = trigger_id(
            c.id, c.version, member.member, cause, at_text, incentive_id, reason, number
        )
        out.append(
            Trigger(
                ident,
                member.member, incentive_id, incentive.channel, reason,  # type: ignore[arg-type]
                source, target, member.state, at, at_text, cause, message, incentive.cost,
            )
        )  # fmt: skip

    def _cap(self, member: _Member, incentive_id: str, at: int, reminder: int | None) -> str | None:
        definition = self.journey.incentives[incentive_id]
        mine = [u for i, u, _ in member.grants if i == incentive_id]
        if definition.once and mine:
            return "once"
        if definition.cooldown is not None and any(at - u < _us(definition.cooldown) for u in mine):
            return "cooldown"
        if reminder is not None:
            spec = self.journey.reminders[reminder]
            if spec.cooldown is not None:
                if any(r == reminder and at - u < _us(spec.cooldown) for _, u, r in member.grants):
                    return "reminder-cooldown"
            elif spec.ahead_of is None and reminder in member.stay:
                return "once-per-stay"
        if definition.holdout and held_out(incentive_id, member.member, definition.holdout):
            return "holdout"
        pressure = self.journey.settings.pressure
        if pressure is None:
            return None
        recent = sum(1 for _, u, _ in member.grants if at - _us(pressure.per) < u <= at)
        return "pressure" if recent >= pressure.max else None

    def _context(self, member: _Member, at: datetime, fields: Mapping[str, Any]) -> Context:
        metrics = self.compiled.metrics.values(member.metrics, at)
        return Context(metrics, member.attributes, fields, member.state, at, member.entered_at)

    def node(self, member: str) -> str | None:
        """The member's node, or None for a member the machine has not seen."""
        found = self.members.get(member)
        return None if found is None else found.state


def _guard(text: str | None) -> Expression | None:
    return None if text is None else compile_expression(text)


def _us(duration: timedelta) -> int:
    return duration // timedelta(microseconds=1)
