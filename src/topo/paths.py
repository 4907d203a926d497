"""Guard-aware paths: for every node and move of a journey, a short way to reach it.

:func:`find_paths` searches from a new member, through the real engine. Each step is an event
of a declared type (with field values picked from the journey: the ``one_of`` values, the
bounds, and the numbers its guards compare with, so that thresholds can be met) or an advance
of the clock (a day, the days a guard's ``days_since`` compares with, just past the member's
next timer, or a day before it). Members in the same situation (node, days there, metric
values) are explored once, and members at an exit node not at all (nothing leaves it). Paths
that reached a new node or move within their last few steps are followed first, then shorter
ones: so a long journey is searched along its length, and a path found is short, though not
always the shortest. The first time a node is reached or a move taken, the steps that led
there are kept; :func:`paths_text` writes them as a scenario file.
"""

from __future__ import annotations

import heapq
import json
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from topo.compiled import CompiledJourney, compile_journey
from topo.engine import Engine
from topo.errors import InvalidEvent
from topo.member_state import MemberState
from topo.model import EventField, Journey
from topo.scenarios import scenario_step
from topo.stores import MemoryStore

__all__ = ["Paths", "find_paths", "paths_text"]

START = datetime(2026, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ELAPSED = re.compile(r"days_(?:since|between)\([^)]*\)\s*[<>=!]=?\s*(\d+(?:\.\d+)?)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
Item = dict[str, Any] | datetime


@dataclass
class Paths:
    """What the search found: for each node and move (by label), the steps that reach it."""

    journey: Journey
    nodes: dict[str, list[Item]] = field(default_factory=dict)
    moves: dict[str, list[Item]] = field(default_factory=dict)
    ends: dict[int, str] = field(default_factory=dict)  # id of a path -> the node it ends at
    explored: int = 0

    def missing(self) -> tuple[list[str], list[str]]:
        """The nodes and moves no path was found to."""
        labels = [m.id or f"moves[{i}]" for i, m in enumerate(self.journey.moves)]
        return (
            [n for n in self.journey.nodes if n not in self.nodes],
            [label for label in labels if label not in self.moves],
        )


def find_paths(journey: Journey, *, max_steps: int | None = None, budget: int = 20_000) -> Paths:
    """Search for a shortest way to every node and move of ``journey``: at most ``max_steps``
    steps (default: twice the nodes, and 10) and ``budget`` situations explored."""
    compiled = compile_journey(journey)
    limit = max_steps if max_steps is not None else 2 * len(journey.nodes) + 10
    found = Paths(journey)
    found.nodes[compiled.start] = []
    labels = {m.id or f"moves[{i}]": m for i, m in enumerate(journey.moves)}
    wanted = len(journey.nodes) + len(labels)
    candidates = _candidates(journey)
    waits = _waits(journey)
    next_timer = Engine(compiled, MemoryStore(), explain=False)._next_timer  # one, for all
    seen: set[Any] = set()
    # (steps since the path last reached something new, its length, order, path, member, clock)
    queue: list[tuple[int, int, int, list[Item], bytes | None, datetime]] = [
        (0, 0, 0, [], None, START)
    ]
    order = 0
    while queue and found.explored < budget and len(found.nodes) + len(found.moves) < wanted:
        stale, _, _, items, kept, clock = heapq.heappop(queue)
        found.explored += 1
        state = None if kept is None else pickle.loads(kept)
        for step in _steps(compiled, state, clock, candidates, waits, len(items), next_timer):
            after = _play(compiled, kept, step)
            if after is None:
                continue
            path = [*items, step]
            found.ends[id(path)] = after.node
            new = False
            for entry in after.history[len(state.history) if state else 0 :]:
                if entry[0] == "move":
                    new |= entry[1] not in found.moves or entry[3] not in found.nodes
                    found.moves.setdefault(entry[1], path)
                    found.nodes.setdefault(entry[3], path)
            moment = step if isinstance(step, datetime) else datetime.fromisoformat(step["at"])
            key = _situation(compiled, after, moment)
            if key in seen or len(path) >= limit or after.node in compiled.exits:
                continue
            seen.add(key)
            # Paths that reached somewhere new lately go first (deep journeys are searched
            # along), then shorter ones (so that paths stay short).
            order += 1
            since = 0 if new else stale + 1
            heapq.heappush(queue, (since, len(path), order, path, pickle.dumps(after), moment))
    return found


def _steps(
    compiled: CompiledJourney,
    state: MemberState | None,
    clock: datetime,
    candidates: dict[str, list[dict[str, Any]]],
    waits: list[int],
    number: int,
    next_timer: Callable[[MemberState], Any],
) -> list[Item]:
    """What may be tried next: every candidate event a minute on, and advances of the clock."""
    at = clock + timedelta(minutes=1)
    out: list[Item] = [
        {"id": f"p{number + 1}-{i}", "member": "m", "type": kind, "at": at.isoformat(), **fields}
        for kind, variants in candidates.items()
        for i, fields in enumerate(variants)
    ]
    if state is not None:
        out += [clock + timedelta(days=days) for days in waits]
        timer = next_timer(state)
        if timer is not None:  # just past the next timer, and a day before it
            due = _EPOCH + timedelta(microseconds=timer[0])
            out.append(due + timedelta(seconds=1))
            if due - timedelta(days=1) > clock:
                out.append(due - timedelta(days=1))
    return out


def _play(compiled: CompiledJourney, kept: bytes | None, step: Item) -> MemberState | None:
    """The member after ``step``, from a copy of the member as kept; None if it was refused."""
    store = MemoryStore()
    if kept is not None:
        store.put(pickle.loads(kept))
    engine = Engine(compiled, store, explain=False)
    try:
        if isinstance(step, datetime):
            engine.tick(step)
        else:
            engine.process(step)
    except InvalidEvent:
        return None
    return store.get("m")


def _situation(compiled: CompiledJourney, state: MemberState, now: datetime) -> Any:
    """What tells two members apart for the search at ``now``: node, whole days at it, metric values
    (times only as known or not, numbers rounded, collections by size) and the reminders of
    this stay."""
    values = compiled.metrics.values(state.metrics, now)
    days = min((now - state.entered_at).days, 1000)
    return state.node, days, tuple(_shape(v) for _, v in sorted(values.items())), state.stay


def _shape(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return "t"
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, list | set | dict):
        return len(value)
    return value


def _waits(journey: Journey) -> list[int]:
    """How many days to let pass: one, and each number of days a guard compares an elapsed
    time with (``days_since(x) >= 30``), and one more."""
    found = {1}
    for move in journey.moves:
        for number in _ELAPSED.findall(move.when or ""):
            days = float(number)
            found |= {max(1, int(days)), int(days) + 1}
    return sorted(found)


def _candidates(journey: Journey) -> dict[str, list[dict[str, Any]]]:
    """A few field values per event type: the bounds, the ``one_of`` values, and the largest
    number a guard compares with (so that one event can meet a threshold)."""
    texts = [m.when for m in journey.moves if m.when] + [
        metric.where for metric in journey.metrics.values() if metric.where
    ]
    numbers = sorted({float(n) for text in texts for n in _NUMBER.findall(text)})
    big = max(numbers, default=100.0)
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, declared in journey.events.items():
        base = {name: _base(spec) for name, spec in declared.fields.items()}
        variants = [base]
        for name, spec in declared.fields.items():
            if spec.type in ("int", "float"):
                variants.append({**base, name: _number(spec, big)})
            if spec.type == "bool" and not spec.one_of:
                variants.append({**base, name: True})
            for value in (spec.one_of or [])[1:]:
                variants.append({**base, name: value})
        out[kind] = [dict(v) for v in {repr(sorted(v.items())): v for v in variants}.values()]
    return out


def _base(spec: EventField) -> Any:
    if spec.one_of:
        return spec.one_of[0]
    if spec.type in ("int", "float"):
        low = spec.min if spec.min is not None else 1
        return int(low) if spec.type == "int" else float(low)
    if spec.type == "bool":
        return False
    if spec.type == "date":
        return "2026-01-01"
    if spec.type == "datetime":
        return START.isoformat()
    return "x"


def _number(spec: EventField, big: float) -> Any:
    value = big if spec.max is None else min(big, spec.max)
    return int(value) if spec.type == "int" else float(value)


def paths_text(paths: Paths, journey_path: str) -> str:
    """The paths as a scenario file: one scenario per move taken (ending with a check of the
    node it leads to), then one per node no move scenario reached."""
    lines = [f"journey: {journey_path}", f"start: {START.isoformat()}", "scenarios:"]
    done: set[str] = set()
    labels = {m.id or f"moves[{i}]": m.to for i, m in enumerate(paths.journey.moves)}
    for label, steps in paths.moves.items():
        done.add(labels[label])
        lines += _scenario(f"take {label} to {labels[label]}", steps, paths.ends[id(steps)])
    for node, steps in paths.nodes.items():
        if node not in done and steps:
            lines += _scenario(f"reach {node}", steps, paths.ends[id(steps)])
    return "\n".join(lines) + "\n"


def _scenario(name: str, steps: list[Item], node: str) -> list[str]:
    out = [f"  - name: {json.dumps(name)}", "    steps:"]
    for n, step in enumerate(steps, start=1):
        if isinstance(step, dict):
            step = {k: v for k, v in step.items() if k not in ("id", "member")}
        out.append(f"      - {scenario_step(step, {'node': node} if n == len(steps) else None)}")
    return out
