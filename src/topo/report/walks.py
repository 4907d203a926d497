"""One member's history read as a walk: the stays at nodes, the moves, the grants.

The engine writes a member's history as it happens (:mod:`topo.engine.member_state`): moves
``("move", label, from, to, at, cause)`` and grants ``("granted" | "withheld", incentive,
reason or cap, at, cause)``, in order. The report reads every figure from that, the member's
``joined_at``, its node and ``entered_at``. This module turns the entries into values the
figures can count, once per member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from topo.engine.member_state import MemberState

__all__ = ["Flat", "Grant", "Stay", "Step", "Walk", "flat_walk", "walk", "walk_of"]


@dataclass(frozen=True, slots=True)
class Step:
    """A move the member took; ``position`` is its place in the history."""

    label: str
    source: str
    target: str
    at: datetime
    position: int


@dataclass(frozen=True, slots=True)
class Stay:
    """A time at one node: entered, then left by ``step`` (None: still there at the end)."""

    node: str
    entered: datetime
    step: Step | None


@dataclass(frozen=True, slots=True)
class Grant:
    """A grant given (``granted``) or withheld, at the node the member is at right after it.

    ``why`` is the reason (move, enter, reminder, timer) of a grant given and the cap of one
    withheld. ``with_move`` is the label of the move made in the same occasion (same event or
    timer) just before the grant, if any; ``joining`` says the grant came with the member's
    first event before any move (the start node's ``on_enter``).
    """

    incentive: str
    granted: bool
    why: str
    at: datetime
    cause: str
    node: str
    position: int
    with_move: str | None
    joining: bool


@dataclass(frozen=True, slots=True)
class Walk:
    """A member's whole path: when it joined, where it stayed, what it got."""

    joined: datetime
    start: str
    node: str
    entered: datetime
    steps: tuple[Step, ...]
    stays: tuple[Stay, ...]
    grants: tuple[Grant, ...]

    def reached(self) -> set[str]:
        """Every node the member has been at."""
        return {self.start, *(step.target for step in self.steps)}


def walk(state: MemberState) -> Walk:
    """Read a member's history. The walk starts at the first move's ``from`` (the node the
    member joined at, even under an older version's names), or at its node when it never
    moved. A state kept before ``joined_at`` existed joins at its first history entry, or
    else at ``entered_at``."""
    history = state.history
    moves = [entry for entry in history if entry[0] == "move"]
    start = moves[0][2] if moves else state.node
    joined = state.joined_at
    if joined is None:
        joined = min((entry[-2] for entry in history), default=state.entered_at)
    node, entered = start, joined
    steps: list[Step] = []
    stays: list[Stay] = []
    grants: list[Grant] = []
    occasion: tuple[str, datetime] | None = None
    with_move: str | None = None
    joining = True
    for position, entry in enumerate(history):
        at, cause = entry[-2], entry[-1]
        if (cause, at) != occasion:
            if occasion is not None:
                joining = False
            occasion, with_move = (cause, at), None
        if entry[0] == "move":
            step = Step(entry[1], entry[2], entry[3], at, position)
            steps.append(step)
            stays.append(Stay(node, entered, step))
            node, entered, with_move, joining = entry[3], at, entry[1], False
        else:
            granted = entry[0] == "granted"
            grants.append(
                Grant(entry[1], granted, entry[2], at, cause, node, position, with_move, joining)
            )
    stays.append(Stay(node, entered, None))
    return Walk(
        joined, start, state.node, state.entered_at, tuple(steps), tuple(stays), tuple(grants)
    )


Flat = tuple[Any, ...]
"""A walk as plain tuples (see :func:`flat_walk`)."""


def flat_walk(member: Walk) -> Flat:
    """A walk as plain tuples, which pickle many times faster than its dataclasses."""
    steps = member.steps
    where = {id(step): index for index, step in enumerate(steps)}
    return (
        member.joined,
        member.start,
        member.node,
        member.entered,
        [(s.label, s.source, s.target, s.at, s.position) for s in steps],
        [(s.node, s.entered, -1 if s.step is None else where[id(s.step)]) for s in member.stays],
        [
            (
                g.incentive,
                g.granted,
                g.why,
                g.at,
                g.cause,
                g.node,
                g.position,
                g.with_move,
                g.joining,
            )
            for g in member.grants
        ],
    )


def walk_of(flat: Flat) -> Walk:
    """The walk :func:`flat_walk` flattened."""
    joined, start, node, entered, steps, stays, grants = flat
    made = tuple(Step(*step) for step in steps)
    return Walk(
        joined,
        start,
        node,
        entered,
        made,
        tuple(Stay(n, at, None if i < 0 else made[i]) for n, at, i in stays),
        tuple(Grant(*grant) for grant in grants),
    )
