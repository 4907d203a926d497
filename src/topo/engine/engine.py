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

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from topo.engine.caps import record, withheld_by
from topo.engine.collector import paused
from topo.engine.compiled import (
    CompiledIncentive,
    CompiledJourney,
    CompiledMove,
    CompiledReminder,
    compile_journey,
)
from topo.engine.evaluation import NOTHING, Context
from topo.engine.events import PROFILE, Event
from topo.engine.field_values import Refusal, timestamp
from topo.engine.generated import Bulk, Path, compile_process
from topo.engine.json_values import json_ready
from topo.engine.member_state import (
    MemberState,
    Record,
    Snapshot,
    as_record,
    clock_time,
    last_of_type,
    note_type,
)
from topo.engine.metrics import microseconds
from topo.engine.migrations import Layout, carry_over, layout
from topo.engine.stores import MemoryStore, Outbox, Store
from topo.engine.timer_index import TimerIndex
from topo.engine.triggers import Reason, Trigger, new_trigger, timer_cause, trigger_id
from topo.errors import InvalidEvent, MigrationError, UsageError
from topo.journey.migration_problems import destination
from topo.journey.model import Journey

__all__ = [
    "EXPLAINED_STEPS",
    "DuplicateEvent",
    "Engine",
    "LateEvent",
    "interpreted_by_default",
    "rejection",
]


class DuplicateEvent(InvalidEvent):
    """An event whose id the member already had: it changes nothing."""


class LateEvent(InvalidEvent):
    """An event earlier than the member's clock: it changes nothing."""


def rejection(error: InvalidEvent) -> str:
    """How an event was rejected, in one word: ``duplicate``, ``late`` or ``invalid``."""
    if isinstance(error, DuplicateEvent):
        return "duplicate"
    return "late" if isinstance(error, LateEvent) else "invalid"


_MICRO = timedelta(microseconds=1)


EXPLAINED_STEPS = 20
"""How many of a member's latest steps an engine keeps for :meth:`Engine.explain` by default:
enough to see how the member came to its last triggers, bounded so that a member's memory
does not grow with its events (see ``docs/engine.md``)."""


def interpreted_by_default() -> bool:
    """Whether engines run the interpreter unless told: ``TOPO_ENGINE=interpreter`` in the
    environment (the fallback, should a compiled journey ever misbehave); unset, empty or
    ``compiled``, they run the journey compiled. Any other value is a :class:`UsageError`: a
    misspelt switch must not leave the engine silently as it was."""
    chosen = os.environ.get("TOPO_ENGINE", "").strip().lower()
    if chosen in ("", "compiled"):
        return False
    if chosen == "interpreter":
        return True
    raise UsageError(
        f"TOPO_ENGINE is {chosen!r}: set it to interpreter (or compiled), or leave it unset"
    )


Journal = dict[str, Snapshot | None]
"""The members a call changes, each as it was before (None: the call created it; ``_UNREAD``:
a tick took its timer off the index, before reading it)."""
_UNREAD: Snapshot = ("not read",)
Timer = tuple[int, int, int, datetime, datetime, CompiledMove | CompiledReminder]
"""(due, 0 for a move or 1 for a reminder, file index, due time, clock start, what fires)."""


class _Occasion:
    """One cause of grants (an event, or a timer that fired): its time three ways, its cause,
    and how many grants it made and withheld so far (each one's place, for its trigger id)."""

    __slots__ = ("at", "cause", "held", "made", "stamp", "text")

    def __init__(self, at: datetime, stamp: int, cause: str, text: str | None = None) -> None:
        self.at, self.stamp, self.cause, self.text = at, stamp, cause, text
        self.made = self.held = 0

    def written(self) -> str:
        """The time as RFC 3339, as triggers write it (worked out once, on the first grant)."""
        if self.text is None:
            self.text = self.at.isoformat()
        return self.text


class Engine:
    """Runs one journey for its members; their states live in ``store``.

    ::

        engine = topo.Engine(topo.load_journey("journeys/cdnow.yaml"), explain=True)
        triggers = engine.process(event)      # one event: the incentives to send
        triggers = engine.tick("1998-07-01T00:00:00+00:00")  # timers due by then
        engine.state("00001"), engine.explain("00001")
    """

    def __init__(
        self,
        journey: Journey | CompiledJourney,
        store: Store | None = None,
        *,
        backfill: bool = False,
        explain: bool | int = False,
        withheld: bool = False,
        interpret: bool | None = None,
    ) -> None:
        """An engine for ``journey`` (from :func:`topo.load_journey`).

        ``store``: where members live, :class:`topo.MemoryStore` (the default) or a durable
        :class:`topo.SqliteStore`. ``backfill=True`` records grants without emitting triggers,
        to bring an existing customer base in without messaging anyone about the past.
        ``explain``: how many of each member's latest steps :meth:`explain` keeps: ``True`` the
        last :data:`EXPLAINED_STEPS`, a number that many, ``False`` (the default) none, which
        is faster and keeps memory per member small, as ``topo replay`` runs.
        ``withheld=True`` keeps each grant a cap withheld as the trigger it would have been,
        with the cap, for :meth:`take_withheld` (what ``topo replay --withheld`` writes).
        ``interpret=True`` runs the interpreter instead of the journey compiled to Python (the
        same outputs, slower); the default is compiled, unless ``TOPO_ENGINE=interpreter`` is
        set in the environment (see ``docs/engine.md``).
        """
        if not isinstance(journey, Journey | CompiledJourney):
            raise TypeError(
                f"Engine runs a journey, got {type(journey).__name__}: load it first, "
                'as in topo.Engine(topo.load_journey("journeys/club.yaml"))'
            )
        self.compiled = (
            journey if isinstance(journey, CompiledJourney) else compile_journey(journey)
        )
        self.store: Store = store if store is not None else MemoryStore()
        self.backfill = backfill
        if isinstance(explain, bool):
            explain = EXPLAINED_STEPS if explain else 0
        if not isinstance(explain, int):
            raise TypeError(
                f"explain is True, False or a number of steps, got {type(explain).__name__}"
            )
        if explain < 0:
            raise UsageError(f"explain keeps a number of steps, 0 or more, got {explain}")
        self.explained_steps = explain
        self.keep_explanations = explain > 0
        self.keep_withheld = withheld
        self._withheld: list[tuple[Trigger, str]] = []
        self._withheld_mark = 0
        self._index = TimerIndex()  # each member's next due timer
        self._layout: Layout | None = None
        # A failed call is undone by the engine: it notes each member before it changes it;
        # a store that holds changes of its own (SqliteStore's pending triggers) goes back to a
        # savepoint taken when the call began.
        self._savepoint: Callable[[], object] | None = getattr(self.store, "savepoint", None)
        self._journal: Journal | None = None  # the members noted in process_many's call
        self._ticked: int | None = None  # the latest time ticked to, in microseconds
        self.store.bind(self.compiled, self._migrate)
        # Members kept by an earlier engine or run: their timers, as the store indexed them.
        for due, member in self.store.timers():
            self._index.set(member, due)
        if interpret is None:
            interpret = interpreted_by_default()
        self.interpreted = interpret
        # The event path as generated code (the rest stays interpreted), or None.
        self._path: Path | None = None
        self._bulk: Bulk | None = None
        made = None
        if not interpret:
            made = compile_process(
                self.compiled,
                backfill=backfill,
                explaining=self.keep_explanations,
                occasion=_Occasion,
            )
        if made is not None:
            self._path, self._bulk = made
        else:  # asked for, or a journey too large to compile: see compile_process
            self.interpreted = True

    # -- the public surface ------------------------------------------------------------------

    def process(self, event: Mapping[str, Any] | Event) -> list[Trigger]:
        """Evaluate one event; raises :class:`topo.InvalidEvent` (and changes nothing) if it is
        invalid, a duplicate or late.

        All or nothing: an exception while the event is applied (a bug, Ctrl-C, memory) leaves
        no member changed, whatever the store, so the event can be sent again."""
        journal = self._journal  # within process_many, its journal: it undoes the whole call
        if journal is not None:
            return self._process(event, journal)
        journal, point = {}, self._begin()
        try:
            return self._process(event, journal)
        except BaseException:
            self._undo(journal, point)
            raise

    def _process(self, event: Mapping[str, Any] | Event, journal: Journal) -> list[Trigger]:
        """One event: by the journey's generated event path, or interpreted."""
        path = self._path
        if path is not None:
            return path(self, event, journal)
        return self._interpret(event, journal)

    def _interpret(self, event: Mapping[str, Any] | Event, journal: Journal) -> list[Trigger]:
        """One event, interpreted: the reference the generated path is checked against, and
        what it hands every event but the common one (new members, profile events, invalid,
        duplicate and late events)."""
        c = self.compiled
        valid = c.events.read(event)
        stamp = microseconds(valid.at)
        out: list[Trigger] = []
        state = self.store.get(valid.member)
        joined: _Occasion | None = None  # the grants of joining and of the event are numbered on
        if state is None:
            journal.setdefault(valid.member, None)  # a member the call creates is forgotten
            state, joined = self._create(valid, stamp, out)
        else:  # steps 1 and 2: duplicates and late events change nothing
            seen = state.seen.get(valid.id)
            if seen is not None and seen >= state.clock - c.dedup_window:
                raise DuplicateEvent(
                    "a duplicate: the member already had an event with this id", event_id=valid.id
                )
            if stamp < state.clock:
                if c.late_events == "ignore":
                    return out
                raise LateEvent(
                    "late: it is earlier than the member's last event or timer; events of one "
                    "member must come in time order",
                    event_id=valid.id,
                )
            if valid.member not in journal:
                journal[valid.member] = state.snapshot()
        self._apply(state, valid, stamp, out, joined)
        self._keep(state, out)
        return out

    def process_many(
        self,
        events: Iterable[Mapping[str, Any] | Event],
        on_reject: Callable[[Mapping[str, Any] | Event, InvalidEvent], object] | None = None,
    ) -> list[Trigger]:
        """Evaluate events in order: the same as :meth:`process` one by one. Rejected events
        go to ``on_reject`` (event, error) when given, and raise otherwise.

        The call is all or nothing: when it raises, an invalid event without ``on_reject``
        included, no member is changed, since the triggers it would have returned are the only
        record of its grants. (A durable store that committed during the call keeps what it
        committed, whose triggers wait in its outbox, and goes back to that commit.)

        Python's cyclic garbage collector is paused while it runs (see
        :mod:`topo.engine.collector`).
        """
        out: list[Trigger] = []
        journal: Journal = {}
        bulk = self._bulk
        point = self._begin()
        self._journal = journal
        try:
            with paused():
                if bulk is not None:  # the generated loop: the same as the one below
                    bulk(self, events, journal, on_reject, out)
                    return out
                interpret = self._interpret
                for event in events:
                    try:
                        out += interpret(event, journal)
                    except InvalidEvent as error:
                        if on_reject is None:
                            raise
                        on_reject(event, error)
        except BaseException:
            self._undo(journal, point)
            raise
        finally:
            self._journal = None
        return out

    def tick(
        self, at: datetime | str, *, progress: Callable[[int, int], object] | None = None
    ) -> list[Trigger]:
        """Fire every member's timers due at or before ``at`` (an aware datetime, or RFC 3339
        text as events carry), in due-time order.

        The engine's clock only goes forward: a tick earlier than the latest one raises
        :class:`topo.UsageError` (tick to the same time again to fire the timers of events
        processed since). All or nothing, as :meth:`process`: an exception leaves no member
        changed. ``progress``, when given, is told (members looked at, members due) every
        1,000 members, for a progress bar."""
        moment = _moment(at, "the time to tick to")
        limit = microseconds(moment)
        if self._ticked is not None and limit < self._ticked:
            latest = _written(self._ticked, moment)
            raise UsageError(
                f"tick goes forward only: the engine was ticked to {latest} already; tick to "
                "that time or later (timers due since fire then)"
            )
        out: list[Trigger] = []
        journal: Journal = {}
        point = self._begin()
        try:
            self._tick(limit, out, journal, progress)
        except BaseException:
            self._undo(journal, point)
            raise
        self._ticked = limit
        return out

    def _tick(
        self,
        limit: int,
        out: list[Trigger],
        journal: Journal,
        progress: Callable[[int, int], object] | None,
    ) -> None:
        # How many entries are due (a scan of the index, cheap beside firing them); the
        # timers of members fired here that fall due by then too are counted as they come.
        index = self._index
        total = index.due_by(limit) if progress else 0
        looked = 0
        try:
            while (entry := index.pop(limit)) is not None:
                self._fire_entry(entry, out, journal)
                looked += 1
                if progress is not None and looked % 1_000 == 0:
                    progress(looked, max(total, looked))
        finally:
            index.pause()

    def _fire_entry(self, entry: tuple[int, str], out: list[Trigger], journal: Journal) -> None:
        """The member's timer the index gave as due: fire it, and index the next one."""
        due, member = entry
        journal.setdefault(member, _UNREAD)  # indexed again if the tick fails from here
        state = self.store.get(member)
        if state is None or state.due != due:
            return  # not the member's timer any more (a defect if ever seen)
        if journal[member] is _UNREAD:
            journal[member] = state.snapshot()
        timer = self._next_timer(state)
        made = len(out)
        if timer is not None and timer[0] == due:
            self._fire(state, timer, out)
        # The entry is spent: index the next timer anew.
        self._keep(state, out[made:] if len(out) > made else (), fresh=True)

    def take_withheld(self) -> list[tuple[Trigger, str]]:
        """The grants caps withheld since the last call, as (would-be trigger, cap), in order;
        empty unless the engine was made with ``withheld=True``. A trigger's id tells it from
        any granted one."""
        taken, self._withheld = self._withheld, []
        return taken

    def _begin(self) -> object:
        """The store's savepoint at the start of a call (None for a store without one)."""
        self._withheld_mark = len(self._withheld)
        return None if self._savepoint is None else self._savepoint()

    def _undo(self, journal: Journal, point: object) -> None:
        """A call failed halfway (a bug, Ctrl-C): put every member back as it was before it,
        and read the timers again from the store.

        A store with savepoints goes back to ``point`` first: it drops the triggers and the
        members' changes it holds from the call (and where it committed during the call, it
        keeps what it committed and goes back to that commit instead: see
        :meth:`topo.SqliteStore.rollback`). Then each member noted in ``journal`` is restored
        as it was (and put back, for a store without savepoints, which may keep copies), and
        one the call created is forgotten where the store can forget."""
        del self._withheld[self._withheld_mark :]  # the call's withheld grants never were
        # (A store that went back to its last commit holds the members as committed.)
        restore = point is None or self.store.rollback(point)  # type: ignore[attr-defined]
        forget = getattr(self.store, "forget", None)
        for member, snapshot in journal.items():
            state = self.store.get(member)
            if state is not None and restore:
                if snapshot is None:
                    if forget is not None:
                        forget(member)
                    continue
                if snapshot is not _UNREAD:
                    state.restore(snapshot)
                    if point is None:
                        self.store.put(state)
            # Index its timer again, as it is now (none for a member forgotten).
            self._index.set(member, None if state is None else state.due)

    def state(self, member: str, as_of: datetime | str | None = None) -> dict[str, Any] | None:
        """What topo remembers of a member (pii attributes left out), or None, as plain JSON
        values: every time (``entered_at``, a ``first_at`` metric, a date attribute, a history
        entry's ``at``) is RFC 3339 text, with the offset it came with.

        Windowed metrics are read as of the member's clock, or ``as_of`` (an aware datetime or
        RFC 3339 text) when that is later.
        """
        when = None if as_of is None else _moment(as_of, "as_of")
        state = self.store.get(member)
        if state is None:
            return None
        pii = self.compiled.pii
        clock = clock_time(state)
        if when is None or when < clock:
            when = clock
        attributes = {k: v for k, v in (state.attributes or {}).items() if k not in pii}
        history = [as_record(entry) for entry in state.history]
        return {
            "member": member,
            "node": state.node,
            "entered_at": state.entered_at.isoformat(),
            "joined_at": None if state.joined_at is None else state.joined_at.isoformat(),
            "metrics": json_ready(self.compiled.metrics.values(state.metrics, when)),
            "attributes": json_ready(attributes),
            "history": history,
            "withheld": [record for record in history if "withheld" in record],
        }

    def explain(self, member: str) -> list[Record]:
        """The member's latest steps (as many as ``explain`` keeps): the event or timer, every
        guard looked at with the values it saw, the incentives granted and those a cap
        withheld (with the cap), and the outcome; as plain JSON values (times as RFC 3339
        text). An engine made without ``explain`` keeps none: :class:`topo.UsageError`."""
        if not self.keep_explanations:
            raise UsageError(
                "this engine keeps no explanations: make it with topo.Engine(journey, "
                f"explain=True) to keep each member's last {EXPLAINED_STEPS} steps"
            )
        state = self.store.get(member)
        return [] if state is None else [json_ready(r) for r in state.explanation or ()]

    @property
    def outbox(self) -> Outbox:
        """The store's outbox: the triggers kept until a sender acknowledges them.

        Only a durable store has one (:class:`topo.SqliteStore`); with the memory store, the
        triggers :meth:`process` returns are all there is."""
        outbox: Outbox | None = getattr(self.store, "outbox", None)
        if outbox is None:
            raise TypeError(
                f"{type(self.store).__name__} keeps no outbox: take the triggers process() "
                "returns, or use a durable store, as in topo.Engine(journey, "
                'topo.SqliteStore("members.db"))'
            )
        return outbox

    # -- steps -------------------------------------------------------------------------------

    def _create(
        self, event: Event, stamp: int, out: list[Trigger]
    ) -> tuple[MemberState, _Occasion]:
        """A new member at the start node, entered at the event's time; start's on_enter."""
        c = self.compiled
        state = MemberState(
            event.member, c.start, event.at, stamp, c.metrics.new_state(), joined_at=event.at
        )
        occasion = _Occasion(event.at, stamp, event.id)
        for incentive in c.on_enter.get(c.start, ()):
            self._grant(state, incentive, "enter", None, c.start, occasion, out)
        joined = {"step": "joined", "event": event.id, "at": event.at_text, "node": c.start}
        self._explain(state, joined, 0)
        return state, occasion

    def _apply(
        self,
        state: MemberState,
        event: Event,
        stamp: int,
        out: list[Trigger],
        occasion: _Occasion | None = None,
    ) -> None:
        c = self.compiled
        if state.node in c.timed:
            self._fire_until(state, stamp, out)
        mark = len(state.history)  # what this event adds to the history, for its explanation
        self._remember_id(state, event.id, stamp)
        kind, at = event.type, event.at
        if kind == PROFILE:
            self._set_attributes(state, event.fields)
        attributes = state.attributes or NOTHING
        c.metrics.observe(state.metrics, kind, at, event.fields, attributes, stamp)
        step: Record | None = None
        if self.keep_explanations:
            step = {"step": "event", "event": event.id, "type": kind, "at": event.at_text}
        node = state.node
        moves = c.on_event.get((node, kind))
        if node not in c.exits and (moves is not None or node in c.reminders):
            if occasion is None:
                occasion = _Occasion(at, stamp, event.id)
            context = Context(
                metrics=NOTHING,
                attributes=attributes,
                fields=event.fields,
                node=node,
                now=at,
                entered_at=state.entered_at,
                slots=state.metrics,
                stamp=stamp,
            )
            if moves is not None:
                self._cascade(state, event, moves, context, step, occasion, out)
            if state.node in c.reminders:
                context.fields = NOTHING  # reminders see no event
                self._remind(state, context, occasion, out)
        if step is not None:
            if node not in c.exits and "outcome" not in step:
                step["guards"], step["outcome"] = [], f"stayed at {node}"
            self._explain(state, step, mark)
        state.clock = stamp
        state.last_activity = at
        if kind in c.since_types:
            note_type(state, kind, at)

    def _cascade(
        self,
        state: MemberState,
        event: Event,
        moves: tuple[CompiledMove, ...],
        context: Context,
        step: Record | None,
        occasion: _Occasion,
        out: list[Trigger],
    ) -> None:
        """Steps 5 and 6: take the first matching move of ``moves`` (those out of the member's
        node on this event), then again from the new node, until the cascade stops."""
        c = self.compiled
        looked: list[Record] | None = None if step is None else []
        visited: set[str] | None = None
        moved: list[str] = []
        while True:
            found = None
            for move in moves:
                test = move.test
                holds = test is None or test(context)
                if looked is not None:  # what the guard saw costs a second read of its metrics
                    looked.append(self._seen(move.label, move.target, move.guard, context, holds))
                if holds:
                    found = move
                    break
            if found is None:
                break
            if visited is None:
                visited = {state.node}
            target = found.target
            if target in visited:
                break
            source = state.node
            state.enter(target, event.at)
            context.node, context.entered_at = target, event.at
            visited.add(target)
            moved.append(target)
            state.history.append(("move", found.label, source, target, event.at, event.id))
            for incentive in found.incentives:
                self._grant(state, incentive, "move", source, target, occasion, out)
            for incentive in c.on_enter.get(target, ()):
                self._grant(state, incentive, "enter", source, target, occasion, out)
            if len(moved) >= c.max_cascade:
                break
            moves = c.on_event.get((target, event.type), ())
        if step is not None:
            step["guards"] = looked
            went = " then ".join(moved)
            step["outcome"] = f"moved to {went}" if moved else f"stayed at {state.node}"

    def _remind(
        self, state: MemberState, context: Context, occasion: _Occasion, out: list[Trigger]
    ) -> None:
        """Step 7: the reminders of the member's node whose guard holds, in file order."""
        node = state.node
        for reminder in self.compiled.reminders.get(node, ()):
            if reminder.test is None or reminder.test(context):
                target = reminder.toward or node
                self._grant(
                    state, reminder.incentive, "reminder", node, target, occasion, out, reminder
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
            try:
                due = start + move.after * _MICRO
            except OverflowError:  # due after the calendar's end (9999-12-31): never
                continue
            found.append((microseconds(due), 0, move.index, due, start, move))
            for reminder in c.ahead_of.get(move.label, ()):
                considered = state.considered
                if state.node in reminder.at and (
                    considered is None or considered.get(reminder.index) != microseconds(start)
                ):
                    assert reminder.by is not None
                    early = due - reminder.by * _MICRO
                    found.append((microseconds(early), 1, reminder.index, early, start, reminder))
        return min(found, key=lambda t: t[:3]) if found else None

    def _clock_start(self, state: MemberState, move: CompiledMove) -> datetime:
        """When a timer move's clock started: entering, the last relevant event, a restart."""
        times = [state.entered_at]
        if move.since == "activity" and state.last_activity is not None:
            times.append(state.last_activity)
        elif (last := last_of_type(state, move.since)) is not None:
            times.append(last)
        if state.restarts is not None and move.label in state.restarts:
            times.append(state.restarts[move.label])
        return max(times)

    def _fire_until(self, state: MemberState, limit: int, out: list[Trigger]) -> None:
        """Step 3: every timer due at or before ``limit``, one at a time, in due order."""
        if state.due is None or state.due > limit:
            return  # the member's next timer, as last kept, is not due yet
        while (timer := self._next_timer(state)) is not None and timer[0] <= limit:
            self._fire(state, timer, out)

    def _fire(self, state: MemberState, timer: Timer, out: list[Trigger]) -> None:
        due_us, _, _, due, start, item = timer
        context = Context(
            metrics=NOTHING,
            attributes=state.attributes or NOTHING,
            fields=NOTHING,
            node=state.node,
            now=due,
            entered_at=state.entered_at,
            slots=state.metrics,
            stamp=due_us,
        )
        if isinstance(item, CompiledReminder):
            self._consider_ahead(state, item, due, start, context, out)
        else:
            self._timer_move(state, item, due, context, out)
        state.clock = due_us

    def _timer_move(
        self,
        state: MemberState,
        move: CompiledMove,
        due: datetime,
        context: Context,
        out: list[Trigger],
    ) -> None:
        c = self.compiled
        holds = move.test is None or move.test(context)
        step: Record | None = None
        if self.keep_explanations:
            step = {"step": "timer", "move": move.label, "at": due.isoformat()}
            step["guards"] = [self._seen(move.label, move.target, move.guard, context, holds)]
        if not holds:
            if state.restarts is None:
                state.restarts = {}
            state.restarts[move.label] = due
            if step is not None:
                step["outcome"] = f"stayed at {state.node}; the timer's clock starts again"
                self._explain(state, step, len(state.history))
            return
        mark = len(state.history)
        source = state.node
        written = due.isoformat()
        occasion = _Occasion(due, context.stamp, timer_cause(written, move.label), written)
        state.enter(move.target, due)
        context.node, context.entered_at = move.target, due
        state.history.append(("move", move.label, source, move.target, due, occasion.cause))
        for incentive in (*move.incentives, *c.on_enter.get(move.target, ())):
            self._grant(state, incentive, "timer", source, move.target, occasion, out)
        self._remind(state, context, occasion, out)
        if step is not None:
            step["outcome"] = f"moved to {move.target}"
            self._explain(state, step, mark)

    def _consider_ahead(
        self,
        state: MemberState,
        reminder: CompiledReminder,
        due: datetime,
        start: datetime,
        context: Context,
        out: list[Trigger],
    ) -> None:
        """An ``ahead_of`` reminder at its due time, once for each start of the move's clock."""
        if state.considered is None:
            state.considered = {}
        state.considered[reminder.index] = microseconds(start)
        holds = reminder.test is None or reminder.test(context)
        move = next(m for m in self.compiled.timers[state.node] if m.label == reminder.ahead_of)
        mark = len(state.history)
        if holds:
            written = due.isoformat()
            cause = timer_cause(written, f"reminders[{reminder.index}]")
            occasion = _Occasion(due, context.stamp, cause, written)
            self._grant(
                state,
                reminder.incentive,
                "reminder",
                state.node,
                move.target,
                occasion,
                out,
                reminder,
            )
        if self.keep_explanations:
            label = f"reminders[{reminder.index}]"
            step: Record = {"step": "reminder", "reminder": reminder.index, "at": due.isoformat()}
            step["guards"] = [self._seen(label, move.target, reminder.guard, context, holds)]
            step["outcome"] = "reminded" if holds else "not reminded: its guard does not hold"
            self._explain(state, step, mark)

    # -- grants ------------------------------------------------------------------------------

    def _grant(
        self,
        state: MemberState,
        incentive_id: str,
        reason: Reason,
        source: str | None,
        target: str,
        occasion: _Occasion,
        out: list[Trigger],
        reminder: CompiledReminder | None = None,
    ) -> None:
        """Step 6: grant an incentive, or record why a cap withholds it."""
        c = self.compiled
        incentive = c.incentives[incentive_id]
        stamp = occasion.stamp
        cap = withheld_by(state, incentive, stamp, reminder, c.pressure)
        if cap is not None:
            state.history.append(("withheld", incentive_id, cap, occasion.at, occasion.cause))
            if self.keep_withheld and not self.backfill:
                number = occasion.held
                occasion.held += 1
                would = self._trigger(
                    state, incentive, reason, source, target, occasion, number, withheld=True
                )
                self._withheld.append((would, cap))
            return
        record(state, incentive, stamp, reminder, c.pressure)
        state.history.append(("granted", incentive_id, reason, occasion.at, occasion.cause))
        number = occasion.made
        occasion.made += 1
        if self.backfill:
            return
        out.append(self._trigger(state, incentive, reason, source, target, occasion, number))

    def _trigger(
        self,
        state: MemberState,
        incentive: CompiledIncentive,
        reason: Reason,
        source: str | None,
        target: str,
        occasion: _Occasion,
        number: int,
        *,
        withheld: bool = False,
    ) -> Trigger:
        """The trigger of the ``number``-th grant of its cause, or of the ``number``-th one a cap
        withheld (``withheld``: a trigger that was not sent, for the control group's data)."""
        c = self.compiled
        incentive_id = incentive.id
        at, written = occasion.at, occasion.written()
        message = (
            "" if incentive.message is None else self.message(state, occasion.stamp, incentive_id)
        )
        ident = trigger_id(
            c.id,
            c.version,
            state.member,
            occasion.cause,
            written,
            incentive_id,
            f"{reason}|withheld" if withheld else reason,
            number,
        )
        return new_trigger(
            ident,
            state.member,
            incentive_id,
            incentive.channel,
            reason,
            source,
            target,
            state.node,
            at,
            written,
            occasion.cause,
            message,
            incentive.cost,
        )

    def message(self, state: MemberState, stamp: int, incentive_id: str) -> str:
        """The message of a grant of ``incentive_id`` (which has one) to ``state`` at ``stamp``."""
        template = self.compiled.incentives[incentive_id].message
        assert template is not None
        return template(_Shown(self.compiled, state, stamp, incentive_id))

    def _seen(self, label: str, target: str, guard: Any, context: Context, holds: bool) -> Record:
        """What a guard saw, for the explanation (metric values only: never an attribute)."""
        if guard is None:
            return {"move": label, "to": target, "when": None, "holds": True}
        book, slots = self.compiled.metrics, context.slots
        assert slots is not None
        values = {
            name: book.readers[book.index[name]](slots[book.index[name]], context.stamp)
            for name in sorted(guard.metrics)
        }
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

    def _explain(self, state: MemberState, step: Record, since: int) -> None:
        """Keep ``step`` in the member's explanation (when explanations are kept), with the
        grants it made and those a cap withheld (and which cap): the history since ``since``."""
        if not self.keep_explanations:
            return
        granted: list[Record] = []
        withheld: list[Record] = []
        for entry in state.history[since:]:
            if entry[0] == "granted":
                granted.append({"incentive": entry[1], "reason": entry[2]})
            elif entry[0] == "withheld":
                withheld.append({"incentive": entry[1], "cap": entry[2]})
        if granted:
            step["granted"] = granted
        if withheld:
            step["withheld"] = withheld
        explanation = state.explanation
        if explanation is None:
            state.explanation = explanation = []
        explanation.append(step)
        if len(explanation) > self.explained_steps:  # the oldest goes: memory stays bounded
            del explanation[0]

    @staticmethod
    def _set_attributes(state: MemberState, fields: Mapping[str, Any]) -> None:
        """A ``profile`` event: its fields set the member's attributes; a null clears one."""
        attributes = state.attributes if state.attributes is not None else {}
        for name, value in fields.items():
            if value is None:
                attributes.pop(name, None)
            else:
                attributes[name] = value
        state.attributes = attributes or None

    def _keep(
        self, state: MemberState, triggers: Sequence[Trigger] = (), *, fresh: bool = False
    ) -> None:
        """Step 8: index the member's next timer for :meth:`tick`, then keep the state and
        its triggers together."""
        if state.node in self.compiled.timed or state.due is not None:
            self._index_timer(state, fresh=fresh)
        self.store.put(state, triggers)

    def _migrate(self, state: MemberState, stored: int, stored_layout: Layout) -> MemberState:
        """A member stored under version ``stored`` (laid out as ``stored_layout``), brought
        to this engine's version: see :mod:`topo.engine.migrations`. Nothing is granted."""
        c = self.compiled
        node, _ = destination(state.node, stored, c.journey)
        if node not in c.journey.nodes:
            raise MigrationError(state.member, state.node, stored, c.version)
        if self._layout is None:
            self._layout = layout(c)
        carry_over(state, stored_layout, self._layout, c.metrics)
        source = state.node
        at = clock_time(state)
        cause = f"journey version {stored} -> {c.version}"
        if node != source:
            state.enter(node, at)
            state.history.append(("move", "migration", source, node, at, cause))
        self._explain(
            state,
            {"step": "migrated", "at": at.isoformat(), "from": source, "to": node, "cause": cause},
            len(state.history),
        )
        timer = self._next_timer(state)
        state.due = None if timer is None else timer[0]
        return state

    def _index_timer(self, state: MemberState, *, fresh: bool) -> bool:
        """Index the member's next timer when its due time changed, or when ``fresh`` (the
        index holds no entry for it: a tick took it); say whether ``state.due`` changed.
        The index holds one entry per member, replaced when the due time changes."""
        timer = self._next_timer(state)
        due = None if timer is None else timer[0]
        changed = due != state.due
        if changed or fresh:
            state.due = due
            self._index.set(state.member, due)
        return changed


class _Shown(Mapping[str, object]):
    """What a message may show of a member, read only for the placeholders it names: ``node``,
    ``offering`` and ``incentive`` first, then non-pii attributes, then metrics (as of the
    grant's time)."""

    __slots__ = ("builtins", "compiled", "stamp", "state")

    def __init__(
        self, compiled: CompiledJourney, state: MemberState, stamp: int, incentive: str
    ) -> None:
        self.compiled, self.state, self.stamp = compiled, state, stamp
        offering = compiled.incentives[incentive].offering
        self.builtins = {"node": state.node, "offering": offering, "incentive": incentive}

    def __getitem__(self, name: str) -> object:
        if name in self.builtins:
            return self.builtins[name]
        attributes = self.state.attributes
        if attributes is not None and name in attributes and name not in self.compiled.pii:
            return attributes[name]
        book = self.compiled.metrics
        index = book.index[name]  # KeyError: a name the message may not show
        return book.readers[index](self.state.metrics[index], self.stamp)

    def __iter__(self) -> Iterator[str]:
        attributes = self.state.attributes or {}
        names = [*self.compiled.metrics.names, *attributes, *self.builtins]
        return iter(dict.fromkeys(n for n in names if n not in self.compiled.pii))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _moment(at: object, what: str) -> datetime:
    """``at`` as an aware datetime: one already, or RFC 3339 text with an offset, as events
    carry; otherwise a :class:`topo.UsageError` saying what to pass."""
    try:
        return timestamp(at, what, False)
    except Refusal as refusal:
        raise UsageError(
            f"{refusal.reason} (or pass an aware datetime, such as "
            "datetime(2026, 3, 1, tzinfo=timezone.utc))"
        ) from None


def _written(stamp: int, like: datetime) -> str:
    """A time in microseconds as RFC 3339, with the offset of ``like``."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=stamp)
    return moment.astimezone(timezone(like.utcoffset() or timedelta(0))).isoformat()
