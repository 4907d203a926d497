"""Marketing pressure: can one member collect more grants within ``per`` than ``settings.pressure``
allows?

Moves on events can follow each other at once (a cascade, or a burst of events), timer moves
take their ``after``. A search over (node, grants so far) finds the quickest walk that collects
more than ``max`` grants, and reports it when it takes less than ``per``. A move counts the
incentives it grants, the ``on_enter`` of the node it enters, and one grant for each reminder
(other than ``ahead_of`` ones) at that node, since each may fire on arrival. ``once``, cooldowns
and guards are not taken into account: the walk shows what the graph allows, not what is likely.
A cycle of moves on events that grants something is reported at once: it fits any ``per``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import timedelta

import networkx as nx

from topo.analysis.context import Analysis
from topo.diagnostics import Diagnostic
from topo.journey.durations import format_duration

__all__ = ["pressure"]

State = tuple[str, int]


MAX_STATES = 200_000
"""How many (node, grants) states the search may settle before it gives up silently."""


def pressure(analysis: Analysis) -> Iterator[Diagnostic]:
    """Warn when some walk through the graph collects more than ``max`` grants within ``per``."""
    limit = analysis.journey.settings.pressure
    if limit is None or analysis.graph.start is None:
        return
    arrival = _arrival_grants(analysis)
    cycle = _free_cycle(analysis, arrival)
    if cycle is not None:
        message = (
            f"members can go round {_shown(cycle)} on events alone, collecting grants each "
            f"time, so any number of grants fits within {format_duration(limit.per)} "
            f"(the limit is {limit.max}); later grants would be withheld"
        )
        yield analysis.site.at("pressure", message, ("settings", "pressure"), key=True)
        return
    found = _quickest_overflow(analysis, arrival, limit.max, limit.per)
    if found is None:
        return
    path, grants, took = found
    message = (
        f"one member can collect {grants} grants within {format_duration(limit.per)} "
        f"(the limit is {limit.max}) along {_shown(path)}"
        + (f", in {format_duration(took)}" if took else ", all at once")
        + "; later grants would be withheld"
    )
    yield analysis.site.at("pressure", message, ("settings", "pressure"), key=True)


def _shown(path: list[str]) -> str:
    """A walk for a message: long ones keep their start and end."""
    if len(path) > 8:
        path = [*path[:4], "...", *path[-3:]]
    return " -> ".join(path)


def _arrival_grants(analysis: Analysis) -> dict[str, int]:
    """What entering each node may grant: its on_enter and its reminders (not ahead_of ones)."""
    journey = analysis.journey
    grants = {node_id: len(node.on_enter) for node_id, node in journey.nodes.items()}
    for reminder in journey.reminders:
        if reminder.ahead_of is None:
            for node in dict.fromkeys(reminder.at):
                grants[node] = grants.get(node, 0) + 1
    return grants


def _free_cycle(analysis: Analysis, arrival: dict[str, int]) -> list[str] | None:
    """A cycle of event moves, reachable from the start, that grants something on the way.

    Such a cycle takes no time at all, so it fits any ``per`` any number of times (a
    ``once`` incentive counts only once, so moves that grant nothing else do not count).
    """
    graph: nx.DiGraph[str] = nx.DiGraph()
    incentives = analysis.journey.incentives
    order = {node: i for i, node in enumerate(analysis.journey.nodes)}
    for node in sorted(analysis.graph.reachable, key=order.__getitem__):  # stable messages
        for _, move in analysis.graph.moves_out(node):
            if move.after is None:
                repeated = sum(1 for i in move.incentives if not incentives[i].once)
                gained = repeated + arrival.get(move.to, 0)
                old = graph.get_edge_data(node, move.to, {"gained": 0})["gained"]
                graph.add_edge(node, move.to, gained=max(old, gained))
    components = sorted(
        nx.strongly_connected_components(graph), key=lambda c: min(order[n] for n in c)
    )
    for component in components:
        inside = graph.subgraph(component)
        if len(component) > 1 and any(d["gained"] > 0 for _, _, d in inside.edges(data=True)):
            first = min(component, key=order.__getitem__)
            cycle = [a for a, _ in nx.find_cycle(inside, source=first)]
            return [*cycle, cycle[0]]
    return None


def _quickest_overflow(
    analysis: Analysis, arrival: dict[str, int], most: int, per: timedelta
) -> tuple[list[str], int, timedelta] | None:
    """The quickest walk collecting ``most + 1`` grants, if it takes less than ``per``."""
    graph, cap = analysis.graph, most + 1
    start = graph.start
    assert start is not None
    best: dict[State, timedelta] = {}
    came_from: dict[State, State | None] = {}
    queue: list[tuple[timedelta, int, str, int]] = []
    entry = min(arrival.get(start, 0), cap)
    for node in sorted(graph.reachable):
        grants = entry if node == start else 0
        best[(node, grants)], came_from[(node, grants)] = timedelta(0), None
        heapq.heappush(queue, (timedelta(0), -grants, node, grants))
    settled = 0
    while queue and settled < MAX_STATES:
        took, _, node, grants = heapq.heappop(queue)
        if took >= per or took > best[(node, grants)]:
            continue
        settled += 1
        if grants >= cap:
            return _walk(came_from, (node, grants)), grants, took
        for _, move in graph.moves_out(node):
            step = timedelta(0) if move.after is None else move.after
            gained = len(move.incentives) + arrival.get(move.to, 0)
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
