"""Control groups: members granted an incentive against members held out of it.

A member counts once per incentive, in the group of its first grant of the incentive or its
first holdout of it (the same member is always in the same group, unless the journey's
``holdout`` changed). Whether it reached the grant's **goal** within the window decides its
outcome:

- a reminder with ``toward``: reaching ``toward``;
- an ``ahead_of`` reminder: not taking that timer move (the downgrade), nor going to an exit;
- a move's incentives, a node's ``on_enter`` (and the grants of a timer move): reaching the
  next node on a shortest path from the node the member is at after the grant toward a peak
  (any such next node when there are several); a member at a peak: still at the peak when the
  window ends; a member at a node from which no peak can be reached never reaches its goal.

The window runs from the grant; a member whose window runs past the end of the run counts with
the time it had. A held-out grant is written without its reason, so its source is read from
the history: a timer's reminder names itself in the cause; a grant made with a move (or at
joining) whose incentives or ``on_enter`` hold the incentive is that move's; anything else is
the first reminder in file order at the member's node that grants the incentive.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from topo.journey.model import Journey
from topo.report.uplift import compare
from topo.report.walks import Grant, Walk

__all__ = ["Goal", "control_groups", "goal_of", "next_nodes"]

_TIMER_REMINDER = re.compile(r"^timer:.*:reminders\[(\d+)\]$")


@dataclass(frozen=True)
class Goal:
    """What a grant aims at: ``reach`` one of ``nodes``, ``stay`` at the node, or ``avoid``
    the timer move labelled ``move``."""

    kind: str
    nodes: frozenset[str] = frozenset()
    move: str | None = None


def next_nodes(journey: Journey) -> dict[str, frozenset[str]]:
    """For each node, the next nodes on its shortest paths to a peak (a peak: none; a node
    that cannot reach a peak: none)."""
    into: dict[str, set[str]] = {node: set() for node in journey.nodes}
    out: dict[str, set[str]] = {node: set() for node in journey.nodes}
    for move in journey.moves:
        for source in move.from_:
            into.setdefault(move.to, set()).add(source)
            out.setdefault(source, set()).add(move.to)
    distance = {node: 0 for node, spec in journey.nodes.items() if spec.kind == "peak"}
    queue = deque(distance)
    while queue:
        node = queue.popleft()
        for source in sorted(into.get(node, ())):
            if source not in distance:
                distance[source] = distance[node] + 1
                queue.append(source)
    found: dict[str, frozenset[str]] = {}
    for node in journey.nodes:
        here = distance.get(node)
        found[node] = frozenset(
            n for n in out[node] if here is not None and distance.get(n) == here - 1
        )
    return found


def goal_of(journey: Journey, grant: Grant, ahead: dict[str, frozenset[str]]) -> Goal:
    """The goal of one grant (given or held out), read as the module's docstring says."""
    reminder = _reminder_of(journey, grant)
    if reminder is not None:
        spec = journey.reminders[reminder]
        if spec.ahead_of is not None:
            return Goal("avoid", move=spec.ahead_of)
        if spec.toward is not None:
            return Goal("reach", frozenset({spec.toward}))
    if journey.nodes.get(grant.node) is not None and journey.nodes[grant.node].kind == "peak":
        return Goal("stay")
    return Goal("reach", ahead.get(grant.node, frozenset()))


def _reminder_of(journey: Journey, grant: Grant) -> int | None:
    """The index of the reminder that made the grant, or None for a move's or a node's."""
    timed = _TIMER_REMINDER.match(grant.cause)
    if timed is not None:  # (an index a later version of the journey no longer has: none)
        index = int(timed.group(1))
        return index if index < len(journey.reminders) else None
    if grant.granted and grant.why != "reminder":
        return None
    if not grant.granted and _with_move(journey, grant):
        return None
    for index, reminder in enumerate(journey.reminders):
        if reminder.incentive == grant.incentive and grant.node in reminder.at:
            return index
    return None


def _with_move(journey: Journey, grant: Grant) -> bool:
    node = journey.nodes.get(grant.node)
    if (
        node is not None
        and grant.incentive in node.on_enter
        and (grant.with_move is not None or grant.joining)
    ):
        return True
    labels = {move.id or f"moves[{i}]": move for i, move in enumerate(journey.moves)}
    move = labels.get(grant.with_move or "")
    return move is not None and grant.incentive in move.incentives


def reached_goal(
    walk: Walk, grant: Grant, goal: Goal, window: timedelta, exits: frozenset[str]
) -> bool:
    """Whether the member reached the goal within ``window`` of the grant."""
    limit = grant.at + window
    later = [s for s in walk.steps if s.position > grant.position and s.at <= limit]
    if goal.kind == "stay":
        return not later
    if goal.kind == "avoid":
        return not any(s.label == goal.move or s.target in exits for s in later)
    return any(s.target in goal.nodes for s in later)


def control_groups(
    journey: Journey, walks: Sequence[Walk], window: timedelta
) -> list[dict[str, Any]]:
    """One row per incentive with a holdout, in file order: each group's members, how many
    reached the goal and their share, the difference with its interval, the p-value and the
    minimum detectable difference (:mod:`topo.report.uplift`)."""
    ahead = next_nodes(journey)
    exits = frozenset(n for n, spec in journey.nodes.items() if spec.kind == "exit")
    rows = []
    for incentive, spec in journey.incentives.items():
        if spec.holdout <= 0:
            continue
        groups = {"granted": [0, 0], "held_out": [0, 0]}
        for member in walks:
            first = next(
                (
                    g
                    for g in member.grants
                    if g.incentive == incentive and (g.granted or g.why == "holdout")
                ),
                None,
            )
            if first is None:
                continue
            group = groups["granted" if first.granted else "held_out"]
            group[0] += 1
            group[1] += reached_goal(member, first, goal_of(journey, first, ahead), window, exits)
        (n1, x1), (n2, x2) = groups["granted"], groups["held_out"]
        result = compare(x1, n1, x2, n2)
        rows.append(
            {
                "incentive": incentive,
                "holdout": spec.holdout,
                "granted": _group(n1, x1),
                "held_out": _group(n2, x2),
                "difference": result.difference,
                "low": result.low,
                "high": result.high,
                "p_value": result.p_value,
                "detectable": result.detectable,
            }
        )
    return rows


def _group(members: int, reached: int) -> dict[str, Any]:
    return {
        "members": members,
        "reached": reached,
        "share": reached / members if members else None,
    }
