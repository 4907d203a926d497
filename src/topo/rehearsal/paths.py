"""Guard-aware paths: for every node and move of a journey, a short way to reach it.

:func:`find_paths` searches from a new member, through the real engine. Each step is an event
of a declared type (with field values picked from the journey: the ``one_of`` values, the
bounds, and the numbers its guards compare with, so that thresholds can be met), a ``profile``
event setting one attribute that the moves' guards read (to a value from
:func:`attribute_values`), or an advance of the clock (a day, the days a guard's
``days_since`` compares with, just past the member's next timer, or a day before it). Members
in the same situation (node, days there, metric values, attributes) are explored once, and
members at an exit node not at all (nothing leaves it). Paths
that reached a new node or move within their last few steps are followed first, then shorter
ones: so a long journey is searched along its length, and a path found is short, though not
always the shortest. The first time a node is reached or a move taken, the steps that led
there are kept; :func:`paths_text` writes them as a scenario file.
"""

from __future__ import annotations

import ast
import heapq
import itertools
import json
import math
import pickle
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from topo.engine.compiled import CompiledJourney, compile_journey
from topo.engine.engine import Engine
from topo.engine.events import PROFILE
from topo.engine.member_state import MemberState
from topo.engine.stores import MemoryStore
from topo.errors import InvalidEvent
from topo.journey.expressions import LITERAL_NAMES, parsed
from topo.journey.model import EventField, Journey, ValueType
from topo.rehearsal.scenarios import scenario_step

__all__ = ["Paths", "attribute_values", "find_paths", "paths_text"]

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

    def reached(self) -> str:
        """How much was found, in words: ``5 of 7 nodes and 8 of 10 moves``."""
        nodes, moves = len(self.journey.nodes), len(self.journey.moves)
        return f"{len(self.nodes)} of {nodes} nodes and {len(self.moves)} of {moves} moves"


def find_paths(
    journey: Journey,
    *,
    max_steps: int | None = None,
    budget: int = 20_000,
    progress: Callable[[int, Callable[[], str]], object] | None = None,
) -> Paths:
    """Search for a shortest way to every node and move of ``journey``: at most ``max_steps``
    steps (default: twice the nodes, and 10) and ``budget`` situations explored. After each
    situation explored, ``progress`` (a :class:`topo.cli.progress.ProgressBar`, say) is called
    with their number and a function that says what was found so far (:meth:`Paths.reached`)."""
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
        if progress is not None:
            progress(found.explored, found.reached)
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
    (times only as known or not, numbers rounded, collections by size), the reminders of this
    stay and the attributes (a guard may read them)."""
    values = compiled.metrics.values(state.metrics, now)
    days = min((now - state.entered_at).days, 1000)
    metrics = tuple(_shape(v) for _, v in sorted(values.items()))
    attributes = tuple(sorted((state.attributes or {}).items()))  # by name: values never compared
    return state.node, days, metrics, state.stay, attributes


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
    profiles = _profiles(journey)
    if profiles:
        out[PROFILE] = profiles
    return out


def _profiles(journey: Journey) -> list[dict[str, Any]]:
    """The ``profile`` events worth trying: one per value of each attribute that the moves'
    guards or the metrics' filters read, and one with no attribute when a move or a metric
    counts ``profile`` events themselves. Empty when nothing depends on them."""
    counted = any(PROFILE in (m.on or []) for m in journey.moves) or any(
        metric.event_type == PROFILE for metric in journey.metrics.values()
    )
    values = attribute_values(journey, reminders=False)
    found = [{name: value} for name, options in values.items() for value in options]
    return [{}, *found] if counted else found


def attribute_values(journey: Journey, *, reminders: bool = True) -> dict[str, list[Any]]:
    """For each attribute the journey's guards read, the values worth setting it to, typed
    as declared: the literals a guard compares it with (each item of an ``in`` list; for a
    number, the whole numbers around it too, since ``> 17`` needs 18), then ``true`` and
    ``false`` for a bool, or one value of its type (which a guard's literal may not be). The
    guards are the moves' ``when`` (with ``event.X`` of a move on ``profile``), the metrics'
    ``where`` and, with ``reminders``, the reminders' ``when``."""
    found: dict[str, list[Any]] = {}
    for text, on_profile in _guards(journey, reminders):
        tree = parsed(text)
        if not isinstance(tree, ast.Expression):
            continue
        for name, literals in _reads(tree, on_profile):
            spec = journey.attributes.get(name)
            if spec is not None:
                typed = (v for literal in literals for v in _typed(literal, spec.type))
                found.setdefault(name, []).extend(typed)
    return {
        name: _distinct([*literals, *_SAMPLES[journey.attributes[name].type]])
        for name, literals in found.items()
    }


_SAMPLES: dict[ValueType, list[Any]] = {
    "int": [1],
    "float": [1.0],
    "str": ["x"],
    "bool": [True, False],
    "date": [START.date().isoformat(), "1990-01-01"],
    "datetime": [START.isoformat(), "1990-01-01T00:00:00+00:00"],
}
"""A value of each type that a guard reading the attribute in another way may need (any
value at all, against null), and for times one recent and one long ago."""


def _guards(journey: Journey, reminders: bool) -> Iterator[tuple[str, bool]]:
    """Each guard's text, and whether its ``event.X`` are attributes (a move on ``profile``,
    a metric of ``profile`` events)."""
    for move in journey.moves:
        if move.when:
            yield move.when, PROFILE in (move.on or [])
    for metric in journey.metrics.values():
        if metric.where:
            yield metric.where, metric.event_type == PROFILE
    for reminder in journey.reminders if reminders else ():
        if reminder.when:
            yield reminder.when, False


def _reads(tree: ast.Expression, on_profile: bool) -> Iterator[tuple[str, list[Any]]]:
    """``(attribute, literals it is compared with)`` for each place the guard reads one."""
    owners = ("member", "event") if on_profile else ("member",)
    for node in ast.walk(tree):
        name = _attribute_name(node, owners)
        if name is not None:
            yield name, []
        if not isinstance(node, ast.Compare):
            continue
        for left, right in itertools.pairwise([node.left, *node.comparators]):
            for side, other in ((left, right), (right, left)):
                name = _attribute_name(side, owners)
                if name is not None:
                    yield name, _literals(other)


def _attribute_name(node: ast.AST, owners: tuple[str, ...]) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in owners
    ):
        return node.attr
    return None


def _literals(node: ast.AST) -> list[Any]:
    """The constant values ``node`` stands for: a literal, or each item of a list of them."""
    if isinstance(node, ast.List | ast.Tuple):
        return [value for item in node.elts for value in _literals(item)]
    if isinstance(node, ast.Constant) and node.value is not None:
        return [node.value]
    if isinstance(node, ast.Name) and LITERAL_NAMES.get(node.id) is not None:
        return [LITERAL_NAMES[node.id]]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return [-value for value in _literals(node.operand) if _is_number(value)]
    return []


def _typed(literal: Any, kind: ValueType) -> list[Any]:
    """The values of type ``kind`` a comparison with ``literal`` calls for: a number and the
    whole numbers either side of it (``> 18`` needs 19, ``< 18`` needs 17), text as it is."""
    if kind in ("int", "float") and _is_number(literal):
        low, high = math.floor(literal), math.ceil(literal)
        around = [low - 1, low, high, high + 1]
        return around if kind == "int" else [float(v) for v in [literal, *around]]
    if kind == "bool" and isinstance(literal, bool):
        return [literal]
    if kind in ("str", "date", "datetime") and isinstance(literal, str):
        return [literal]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _distinct(values: list[Any]) -> list[Any]:
    """``values`` without repeats, in order (``1`` and ``true`` are different values)."""
    return list({(type(v), v): v for v in values}.values())


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
