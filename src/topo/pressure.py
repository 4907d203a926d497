"""Marketing pressure: can one member collect more grants within ``per`` than ``settings.pressure``
allows?

Moves on events can follow each other at once (a cascade, or a burst of events), timer moves
take their ``after``. A search over (node, grants so far) finds the quickest walk that collects
more than ``max`` grants, and reports it when it takes less than ``per``. A move counts the
incentives it grants, the ``on_enter`` of the node it enters, and one grant for each reminder
(other than ``ahead_of`` ones) at that node, since each may fire on arrival. ``once``, cooldowns
and guards are not taken into account: the walk shows what the graph allows, not what is likely.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import timedelta

from topo.analysis import Analysis
from topo.diagnostics import Diagnostic
from topo.durations import format_duration

__all__ = ["pressure"]

State = tuple[str, int]


def pressure(analysis: Analysis) -> Iterator[Diagnostic]:
    """Warn when some walk through the graph collects more than ``max`` grants within ``per``."""
    limit = analysis.journey.settings.pressure
    if limit is None or analysis.graph.start is None:
        return
    found = _quickest_overflow(analysis, limit.max, limit.per)
    if found is None:
        return
    path, grants, took = found
    walk = " -> ".join(path)
    message = (
        f"one member can collect {grants} grants within {format_duration(limit.per)} "
        f"(the limit is {limit.max}) along {walk}"
        + (f", in {format_duration(took)}" if took else ", all at once")
        + "; later grants would be withheld"
    )
    yield analysis.site.at("pressure", message, ("settings", "pressure"), key=True)


def _arrival_grants(analysis: Analysis, node: str) -> int:
    journey = analysis.journey
    reminders = sum(1 for r in journey.reminders if node in r.at and r.ahead_of is None)
    return len(journey.nodes[node].on_enter) + reminders


def _quickest_overflow(
    analysis: Analysis, most: int, per: timedelta
) -> tuple[list[str], int, timedelta] | None:
    """The quickest walk collecting ``most + 1`` grants, if it takes less than ``per``."""
    graph, cap = analysis.graph, most + 1
    start = graph.start
    assert start is not None
    best: dict[State, timedelta] = {}
    came_from: dict[State, State | None] = {}
    queue: list[tuple[timedelta, int, str, int]] = []
    entry = min(_arrival_grants(analysis, start), cap)
    for node in sorted(graph.reachable):
        grants = entry if node == start else 0
        best[(node, grants)], came_from[(node, grants)] = timedelta(0), None
        heapq.heappush(queue, (timedelta(0), -grants, node, grants))
    while queue:
        took, _, node, grants = heapq.heappop(queue)
        if took >= per or took > best[(node, grants)]:
            continue
        if grants >= cap:
            return _walk(came_from, (node, grants)), grants, took
        for _, move in graph.moves_out(node):
            step = timedelta(0) if move.after is None else move.after
            gained = len(move.incentives) + _arrival_grants(analysis, move.to)
            state = (move.to, min(grants + gained, cap))
            if state not in best or took + step < best[state]:
                best[state], came_from[state] = took + step, (node, grants)
                heapq.heappush(queue, (took + step, -state[1], *state))
    return None


def _walk(came_from: dict[State, State | None], state: State) -> list[str]:
    path = []
    current: State | None = state
    while current is not None:
        path.append(current[0])
        current = came_from[current]
    return path[::-1]
