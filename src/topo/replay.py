"""Replaying events through a journey: the work behind ``topo replay``.

:func:`replay` feeds events (from :func:`topo.readers.read_events`) to an engine in the order
given, then advances the clock to ``until`` if given, and reports what happened: how many
events were processed and rejected (and why), the triggers, and the funnel (how many members
reached each node). Rejected events are handed on with their pii values replaced by ``***``,
and reasons never quote a pii value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from topo.collector import paused
from topo.engine import DuplicateEvent, Engine, LateEvent
from topo.errors import InvalidEvent
from topo.events import redact
from topo.json_values import json_ready
from topo.readers import Item, Unreadable
from topo.triggers import Trigger

__all__ = ["ReplayReport", "replay", "state_line"]


@dataclass
class ReplayReport:
    """What a replay did."""

    read: int = 0
    processed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # invalid, duplicate, late, unreadable
    triggers: int = 0
    members: int = 0
    funnel: dict[str, int] = field(default_factory=dict)  # node -> members who reached it

    def summary(self) -> str:
        """The report for people: a few lines, the funnel last."""
        rejected = sum(self.rejected.values())
        why = ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.rejected.items()))
        lines = [
            f"{_counted(self.read, 'event')} read: {self.processed:,} processed, "
            f"{rejected:,} rejected" + (f" ({why})" if why else ""),
            f"{_counted(self.triggers, 'trigger')} for {_counted(self.members, 'member')}",
            "funnel (members who reached each node):",
        ]
        width = max((len(node) for node in self.funnel), default=0)
        lines += [f"  {node:<{width}}  {count:>9,}" for node, count in self.funnel.items()]
        return "\n".join(lines)


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
    progress: Callable[[int], object] | None = None,
) -> ReplayReport:
    """Process ``events`` in order with ``engine``, then tick to ``until``; report."""
    report = ReplayReport()
    journey = engine.compiled.journey
    with paused():  # bulk work: see topo.collector
        for position, event in events:
            report.read += 1
            if progress is not None and report.read % 1_000 == 0:
                progress(report.read)
            if isinstance(event, Unreadable):
                report.rejected["unreadable"] += 1
                if on_reject is not None:
                    on_reject(None, event.reason, position)  # its text may hold pii
                continue
            try:
                triggers = engine.process(event)
            except InvalidEvent as error:
                report.rejected[_kind(error)] += 1
                if on_reject is not None:
                    on_reject(redact(event, journey), str(error), position)
                continue
            report.processed += 1
            _emit(triggers, report, on_trigger)
        if until is not None:
            _emit(engine.tick(until), report, on_trigger)
    report.members = sum(1 for _ in engine.store.members())
    report.funnel = funnel(engine)
    return report


def _emit(
    triggers: list[Trigger], report: ReplayReport, on_trigger: Callable[[Trigger], object] | None
) -> None:
    report.triggers += len(triggers)
    if on_trigger is not None:
        for trigger in triggers:
            on_trigger(trigger)


def _kind(error: InvalidEvent) -> str:
    if isinstance(error, DuplicateEvent):
        return "duplicate"
    if isinstance(error, LateEvent):
        return "late"
    return "invalid"


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
