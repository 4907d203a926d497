"""Replaying events through a journey: the work behind ``topo replay``.

:func:`replay` feeds events (from :func:`topo.replay.readers.read_events`) to an engine in the order
given, then advances the clock to ``until`` if given, and reports what happened: how many
events were processed and rejected (and why), the triggers, and the funnel (how many members
reached each node). Rejected events are handed on with their pii values replaced by ``***``,
and reasons never quote a pii value.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import chain
from typing import Any

from topo.engine.collector import paused
from topo.engine.engine import Engine, rejection
from topo.engine.json_values import json_ready
from topo.engine.triggers import Trigger
from topo.errors import InvalidEvent, UsageError
from topo.replay.readers import Item, Unreadable
from topo.store.sqlite import SqliteStore

__all__ = ["ReplayReport", "replay", "state_line"]


@dataclass
class ReplayReport:
    """What a replay did."""

    read: int = 0
    applied: int = 0  # events a durable store had applied before (a resumed replay skips them)
    processed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # invalid, duplicate, late, unreadable
    triggers: int = 0
    members: int = 0
    funnel: dict[str, int] = field(default_factory=dict)  # node -> members who reached it

    def summary(self) -> str:
        """The report for people: a few lines, the funnel last."""
        rejected = sum(self.rejected.values())
        why = ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.rejected.items()))
        before = f"{self.applied:,} applied before, " if self.applied else ""
        lines = [
            f"{_counted(self.read, 'event')} read: {before}{self.processed:,} processed, "
            f"{rejected:,} rejected" + (f" ({why})" if why else ""),
            f"{_counted(self.triggers, 'trigger')} for {_counted(self.members, 'member')}",
            "funnel (members who reached each node):",
        ]
        width = max((len(node) for node in self.funnel), default=0)
        lines += [f"  {node:<{width}}  {count:>9,}" for node, count in self.funnel.items()]
        return "\n".join(lines)


Stages = Callable[[str, int, int | None], object]
"""How far a stage after the reading has come: (stage, done, total or None)."""

Reject = Callable[[Mapping[str, Any] | None, str, int], object]
"""What a replay tells of a reject: the event (pii masked; None for a line that is not an
event at all, whose text is not repeated), the reason, and the line or row it came from."""


def replay(
    engine: Engine,
    events: Iterable[Item],
    *,
    until: datetime | None = None,
    on_trigger: Callable[[Trigger], object] | None = None,
    on_reject: Reject | None = None,
    on_withheld: Callable[[Trigger, str], object] | None = None,
    progress: Callable[[int], object] | None = None,
    stages: Stages | None = None,
) -> ReplayReport:
    """Process ``events`` in order with ``engine``, then tick to ``until``; report.

    With a durable store (:class:`topo.SqliteStore`) the replay can be resumed: it notes how
    far it came with every commit, and run again with the same store and events it skips the
    events applied before and goes on from there. ``on_trigger`` then gets, at the end, the
    triggers the store kept for these events (those of the interrupted runs included), in the
    order granted: none is lost, none is repeated. A replay of empty input writes none.
    ``on_withheld`` gets each grant a cap withheld, as (would-be trigger, cap), as the engine
    withholds it (the engine must keep them: ``Engine(..., withheld=True)``); a resumed replay
    gives only those of this run.

    ``progress`` is told how many events were read, every 1,000, and ``stages`` how far the
    stages after the reading have come, for a progress bar: ``("timers", members looked at,
    members due)`` while advancing to ``until``, ``("triggers", written, None)`` while a
    durable store's triggers are written out.
    """
    if on_withheld is not None and (not engine.keep_withheld or engine.backfill):
        raise UsageError(
            "on_withheld needs an engine that keeps withheld grants, and a backfill keeps none: "
            "make it with Engine(..., withheld=True) and without backfill"
        )
    report = ReplayReport()
    store = engine.store if isinstance(engine.store, SqliteStore) else None
    resume = None if store is None else _Resume(store, report)
    emit = None if resume is not None else on_trigger
    with paused():  # bulk work: see topo.engine.collector
        read = _reading(events, report, progress)
        for position, event in read if resume is None else resume.items(read):
            if isinstance(event, Unreadable):
                report.rejected["unreadable"] += 1
                if on_reject is not None:
                    on_reject(None, event.reason, position)  # its text may hold pii
                continue
            try:
                triggers = engine.process(event)
            except InvalidEvent as error:
                report.rejected[rejection(error)] += 1
                if on_reject is not None:
                    on_reject(engine.compiled.events.redact(event), str(error), position)
                continue
            except BaseException:
                if resume is not None:  # the engine undid the event: so is its place
                    resume.back()
                raise
            report.processed += 1
            _emit(triggers, report, emit)
            if on_withheld is not None:
                _withheld(engine, on_withheld)
        if until is not None:
            timers = None if stages is None else partial(stages, "timers")
            _emit(engine.tick(until, progress=timers), report, emit)
            if on_withheld is not None:
                _withheld(engine, on_withheld)
        if store is not None and resume is not None:
            store.commit()
            report.triggers = 0
            if resume.source is not None:  # None: the input was empty
                for trigger in store.outbox.triggers(source=resume.source):
                    _emit([trigger], report, on_trigger)
                    if stages is not None and report.triggers % 1_000 == 0:
                        stages("triggers", report.triggers, None)
    report.members = sum(1 for _ in engine.store.members())
    report.funnel = funnel(engine)
    return report


def _withheld(engine: Engine, on_withheld: Callable[[Trigger, str], object]) -> None:
    for trigger, cap in engine.take_withheld():
        on_withheld(trigger, cap)


def _reading(
    items: Iterable[Item], report: ReplayReport, progress: Callable[[int], object] | None
) -> Iterator[Item]:
    """``items``, each counted as read (those a resume skips too), with progress every 1,000."""
    for item in items:
        report.read += 1
        if progress is not None and report.read % 1_000 == 0:
            progress(report.read)
        yield item


class _Resume:
    """Where a replay into a durable store stands with its input.

    An input is known by its first event (a file that grew at its end is the same input, read
    further); the store keeps, with every commit, how many of its events were applied and a
    fingerprint of the last one (to tell a different input that begins alike), and writes the
    input's name with each trigger (its triggers are found by it)."""

    def __init__(self, store: SqliteStore, report: ReplayReport) -> None:
        self.store, self.report = store, report
        self.source: str | None = None
        self._before: dict[str, Any] | _Mark = {}  # how far it came before the current item

    def items(self, items: Iterator[Item]) -> Iterator[Item]:
        """The items not applied before; each noted in the store before it is processed."""
        first = next(items, None)
        if first is None:
            return
        name = self.store.source = self.source = "replay " + _fingerprint(first[1])
        done = self.store.marked(name) or {}
        applied: int = done.get("position", 0)
        self._before = {"position": applied, "last": done.get("last")}
        count = 0
        for item in chain((first,), items):
            count += 1
            if count <= applied:
                self.report.applied += 1
                if count == applied and _fingerprint(item[1]) != done.get("last"):
                    raise UsageError(_different(applied))
                continue
            marked = _Mark(count, item[1])
            self.store.mark(name, marked)
            yield item
            self._before = marked
        if count < applied:
            raise UsageError(
                f"the store has applied {applied:,} events of an input that began like this "
                f"one, which has only {count:,}: {_USE_SAME}"
            )

    def back(self) -> None:
        """The item last handed out was not applied after all (its change was undone): the
        store's note of how far the input came goes back to the item before it."""
        if self.source is not None:
            self.store.mark(self.source, self._before)


class _Mark:
    """How far a replay came, worked out only when a commit writes it."""

    __slots__ = ("count", "event")

    def __init__(self, count: int, event: Mapping[str, Any] | Unreadable) -> None:
        self.count, self.event = count, event

    def __call__(self) -> dict[str, Any]:
        return {"position": self.count, "last": _fingerprint(self.event)}


_USE_SAME = "resume with the same events, or replay these into a new store"


def _different(applied: int) -> str:
    return (
        f"the store has applied the first {applied:,} events of an input that began like this "
        f"one, but event {applied:,} is not the same: {_USE_SAME}"
    )


def _fingerprint(event: Mapping[str, Any] | Unreadable) -> str:
    """A short digest of one input item (no pii in clear), stable across runs."""
    text = (
        "unreadable " + event.text
        if isinstance(event, Unreadable)
        else json.dumps(event, sort_keys=True, default=str)
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _emit(
    triggers: list[Trigger], report: ReplayReport, on_trigger: Callable[[Trigger], object] | None
) -> None:
    report.triggers += len(triggers)
    if on_trigger is not None:
        for trigger in triggers:
            on_trigger(trigger)


def funnel(engine: Engine) -> dict[str, int]:
    """How many members reached each node (ever), in the journey's node order."""
    reached: Counter[str] = Counter()
    start = engine.compiled.start
    for member in engine.store.members():
        state = engine.store.get(member)
        if state is None:
            continue
        nodes = {start} | {entry[3] for entry in state.history if entry[0] == "move"}
        reached.update(nodes)
    return {node: reached[node] for node in engine.compiled.journey.nodes}


def state_line(engine: Engine, member: str, until: datetime | None) -> dict[str, Any]:
    """A member's line of ``--states``: node, entered_at, metrics (as JSON values), attributes."""
    state = engine.state(member, as_of=until)
    assert state is not None
    line: dict[str, Any] = json_ready(
        {key: state[key] for key in ("member", "node", "entered_at", "metrics", "attributes")}
    )
    return line


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
