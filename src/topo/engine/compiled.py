"""The compile stage: a journey model turned into what the evaluator runs.

Everything the journey fixes is worked out once here, never per event: guards and message
templates compiled, moves indexed by (node, event type) in file order, the timer moves and
reminders of each node, incentives with their caps as whole microseconds, the settings with
their defaults. The evaluator only looks things up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from topo.engine.evaluation import Context, Expression, compile_expression
from topo.engine.events import EventReader
from topo.engine.metrics import MetricBook
from topo.journey.model import Journey, Move, Reminder
from topo.journey.templates import Template, compile_template

__all__ = [
    "CompiledIncentive",
    "CompiledJourney",
    "CompiledMove",
    "CompiledReminder",
    "compile_journey",
]

_MICROSECOND = timedelta(microseconds=1)


def _micro(duration: timedelta | None) -> int | None:
    return None if duration is None else duration // _MICROSECOND


@dataclass(frozen=True, slots=True)
class CompiledMove:
    """A move out of one node: its place in the file, target, guard and incentives."""

    index: int
    label: str  # its id, or its position in the file (for causes and explanations)
    source: str
    target: str
    guard: Expression | None
    incentives: tuple[str, ...]
    after: int | None = None  # microseconds, for timer moves
    since: str = "entered"  # entered | activity | an event type
    test: Callable[[Context], bool] | None = None  # the guard's test (None: always holds)


@dataclass(frozen=True, slots=True)
class CompiledReminder:
    """A reminder at one node: toward a node, or ahead of a timer move."""

    index: int
    at: frozenset[str]
    toward: str | None
    guard: Expression | None
    incentive: str
    cooldown: int | None
    ahead_of: str | None = None  # the timer move's label
    by: int | None = None
    slot: int = 0  # its place in a member's ledger (after the incentives')
    test: Callable[[Context], bool] | None = None  # the guard's test (None: always holds)


@dataclass(frozen=True, slots=True)
class CompiledIncentive:
    """An incentive with its caps in whole microseconds and its message compiled."""

    id: str
    channel: str
    cost: float
    offering: str | None
    message: Template | None
    once: bool
    cooldown: int | None
    holdout: float
    slot: int = 0  # its place in a member's ledger


@dataclass(frozen=True, slots=True)
class CompiledJourney:
    """A journey ready to run: every lookup the evaluator needs, computed once."""

    journey: Journey
    start: str
    exits: frozenset[str]
    on_event: Mapping[tuple[str, str], tuple[CompiledMove, ...]]
    timers: Mapping[str, tuple[CompiledMove, ...]]
    on_enter: Mapping[str, tuple[str, ...]]
    reminders: Mapping[str, tuple[CompiledReminder, ...]]
    ahead_of: Mapping[str, tuple[CompiledReminder, ...]]  # by timer move label
    incentives: Mapping[str, CompiledIncentive]
    metrics: MetricBook
    events: EventReader
    max_cascade: int
    dedup_window: int
    late_events: str
    pressure: tuple[int, int] | None  # (max, per in microseconds)
    pii: frozenset[str] = field(default_factory=frozenset)
    timed: frozenset[str] = field(default_factory=frozenset)  # nodes with timer moves
    since_types: frozenset[str] = field(default_factory=frozenset)  # event types a since names
    generated: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """The journey compiler's output, by its flags (``topo.engine.generated``), kept here so
    that engines of one journey share it."""

    @property
    def id(self) -> str:
        return self.journey.journey

    @property
    def version(self) -> int:
        return self.journey.version


def compile_journey(journey: Journey) -> CompiledJourney:
    """The executable form of a valid journey (check it with ``topo.load_journey`` first)."""
    book = MetricBook(journey)
    moves = [
        _move(i, move, source, book)
        for i, move in enumerate(journey.moves)
        for source in dict.fromkeys(move.from_)  # a node named twice is one source
    ]
    on_event: dict[tuple[str, str], list[CompiledMove]] = {}
    timers: dict[str, list[CompiledMove]] = {}
    for compiled, move in ((c, journey.moves[c.index]) for c in moves):
        if move.on is not None:
            for event_type in dict.fromkeys(move.on):
                on_event.setdefault((compiled.source, event_type), []).append(compiled)
        else:
            timers.setdefault(compiled.source, []).append(compiled)
    first = len(journey.incentives)  # the reminders' ledger places come after the incentives'
    reminders = [_reminder(i, r, book, first + i) for i, r in enumerate(journey.reminders)]
    settings = journey.settings
    pressure = settings.pressure
    return CompiledJourney(
        journey=journey,
        start=next(n for n, node in journey.nodes.items() if node.kind == "start"),
        exits=frozenset(n for n, node in journey.nodes.items() if node.kind == "exit"),
        on_event={key: tuple(found) for key, found in on_event.items()},
        timers={node: tuple(found) for node, found in timers.items()},
        on_enter={n: tuple(node.on_enter) for n, node in journey.nodes.items()},
        reminders=_by_node(r for r in reminders if r.ahead_of is None),
        ahead_of=_by_move(r for r in reminders if r.ahead_of is not None),
        incentives={i: _incentive(i, journey, n) for n, i in enumerate(journey.incentives)},
        metrics=book,
        events=EventReader(journey),
        max_cascade=settings.max_cascade or len(journey.nodes),
        dedup_window=_micro(settings.dedup_window) or 0,
        late_events=settings.late_events,
        pressure=None if pressure is None else (pressure.max, _micro(pressure.per) or 0),
        pii=frozenset(a for a, attribute in journey.attributes.items() if attribute.pii),
        timed=frozenset(timers),
        since_types=frozenset(m.since for found in timers.values() for m in found)
        - {"entered", "activity"},
    )


def _move(index: int, move: Move, source: str, book: MetricBook) -> CompiledMove:
    guard = None if move.when is None else compile_expression(move.when, book.slots)
    return CompiledMove(
        index=index,
        label=move.id or f"moves[{index}]",
        source=source,
        target=move.to,
        guard=guard,
        incentives=tuple(move.incentives),
        after=_micro(move.after),
        since=move.since or "entered",
        test=None if guard is None else guard.test,
    )


def _reminder(index: int, reminder: Reminder, book: MetricBook, slot: int) -> CompiledReminder:
    guard = None if reminder.when is None else compile_expression(reminder.when, book.slots)
    return CompiledReminder(
        index=index,
        at=frozenset(reminder.at),
        toward=reminder.toward,
        guard=guard,
        incentive=reminder.incentive,
        cooldown=_micro(reminder.cooldown),
        ahead_of=reminder.ahead_of,
        by=_micro(reminder.by),
        slot=slot,
        test=None if guard is None else guard.test,
    )


def _by_node(reminders: Iterable[CompiledReminder]) -> dict[str, tuple[CompiledReminder, ...]]:
    found: dict[str, list[CompiledReminder]] = {}
    for reminder in reminders:
        for node in sorted(reminder.at):
            found.setdefault(node, []).append(reminder)
    return {node: tuple(sorted(items, key=lambda r: r.index)) for node, items in found.items()}


def _by_move(reminders: Iterable[CompiledReminder]) -> dict[str, tuple[CompiledReminder, ...]]:
    found: dict[str, list[CompiledReminder]] = {}
    for reminder in reminders:
        found.setdefault(reminder.ahead_of or "", []).append(reminder)
    return {move: tuple(items) for move, items in found.items()}


def _incentive(incentive_id: str, journey: Journey, slot: int) -> CompiledIncentive:
    incentive = journey.incentives[incentive_id]
    message = None if incentive.message is None else compile_template(incentive.message)
    return CompiledIncentive(
        id=incentive_id,
        channel=incentive.channel,
        cost=float(incentive.cost),
        offering=incentive.offering,
        message=message,
        once=incentive.once,
        cooldown=_micro(incentive.cooldown),
        holdout=incentive.holdout,
        slot=slot,
    )
