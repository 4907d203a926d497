"""A share of the members replayed on its own: its records keyed by their place in the order one
process writes them.

Members never affect each other in the engine, so a share of them (a worker process's, see
:mod:`topo.replay.parallel`, or a Spark partition's, see :mod:`topo.spark`) makes exactly its
part of what one process makes. What tells where each of its records falls in one process's
order is the record's key, made here for both (and merged by :func:`topo.workers.merged`, or
sorted by Spark as :func:`topo.workers.sortable` bytes):

- a trigger or withheld grant of an event: ``(0, line, "", n)``, the line or row of the event
  that made it (``n`` counts the share's records, keeping its own order among a line's);
- one of the advance to ``until``: ``(1, due time in microseconds, member, n)``, as
  :meth:`topo.Engine.tick` fires them, in due-time order across members, ties by member id;
- a reject: its line; a state or a member's walk: the member id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from topo.engine.engine import Engine
from topo.engine.member_state import clock_time
from topo.engine.metrics import microseconds
from topo.engine.triggers import Trigger
from topo.lines import json_line, reject_line, withheld_line
from topo.replay.readers import Item
from topo.replay.runner import ReplayReport, state_line
from topo.report.walks import Flat, flat_walk, walk

__all__ = ["Latest", "Place", "Sink", "latest_of", "member_records", "summed"]

Sink = Callable[[Any, Any], object]
"""Where a share's records go: ``add(key, value)``, in the share's own order."""

Latest = tuple[datetime, str] | None
"""The latest clock of a share's members, and the first member (by id) with it."""


class Place:
    """Where a share's replay is: the line of the event being processed (None once the events
    are done and the clock advances), and a running count that keeps the share's own order
    among the records of one event or one member's timer."""

    def __init__(self) -> None:
        self.line: int | None = 0
        self.count = 0
        self.read = 0

    def follow(self, items: Iterable[Item]) -> Iterator[Item]:
        """The items, each noted as the current one; then the advance to ``until``."""
        for item in items:
            self.read += 1
            self.line = item[0]
            yield item
        self.line = None

    def key(self, trigger: Trigger) -> tuple[Any, ...]:
        """Where ``trigger`` (or a withheld grant), granted now, falls in one process's order."""
        self.count += 1
        if self.line is not None:
            return (0, self.line, "", self.count)
        return (1, microseconds(trigger.at), trigger.member, self.count)

    def triggers(self, add: Sink) -> Callable[[Trigger], None]:
        """A replay's ``on_trigger`` that adds each trigger's line with its key."""

        def trigger(value: Trigger) -> None:
            add(self.key(value), json_line(value.to_dict()))

        return trigger

    def rejects(self, add: Sink) -> Callable[[Mapping[str, Any] | None, str, int], None]:
        """A replay's ``on_reject`` that adds each reject's line, keyed by its line."""

        def reject(event: Mapping[str, Any] | None, reason: str, line: int) -> None:
            add(line, reject_line(event, reason, line))

        return reject

    def withheld(self, add: Sink) -> Callable[[Trigger, str], None]:
        """A replay's ``on_withheld`` that adds each withheld grant's line with its key."""

        def withheld(value: Trigger, cap: str) -> None:
            add(self.key(value), withheld_line(value.to_dict(), cap))

        return withheld


def member_records(
    engine: Engine,
    members: Iterable[str],
    until: datetime | None,
    *,
    states: Sink | None = None,
    walks: Sink | None = None,
) -> Latest:
    """Each of ``members`` (in id order) as its state line (:func:`state_line`) and its walk
    (for the summary, as :func:`topo.report.walks.flat_walk`), both keyed by member id; the
    latest of their clocks (None without ``walks``)."""
    latest: Latest = None
    for member in members:
        if states is not None:
            states(member, json_line(state_line(engine, member, until)))
        if walks is None:
            continue
        state = engine.store.get(member)
        if state is None:
            continue
        flat: Flat = flat_walk(walk(state))
        walks(member, flat)
        clock = clock_time(state)
        if latest is None or clock > latest[0]:
            latest = (clock, member)
    return latest


def latest_of(latest: Iterable[Latest]) -> Latest:
    """The latest of the shares' latest clocks; of equal instants, the first member's (as
    ``max`` over the members in id order gives it)."""
    found = [item for item in latest if item is not None]
    if not found:
        return None
    moment = max(item[0] for item in found)
    return min((item for item in found if item[0] == moment), key=lambda item: item[1])


def summed(reports: Iterable[ReplayReport]) -> ReplayReport:
    """The shares' reports as one: every count and the funnel added up."""
    report = ReplayReport(rejected=Counter())
    for part in reports:
        report.read += part.read
        report.processed += part.processed
        report.rejected.update(part.rejected)
        report.triggers += part.triggers
        report.members += part.members
        for node, count in part.funnel.items():
            report.funnel[node] = report.funnel.get(node, 0) + count
    return report
