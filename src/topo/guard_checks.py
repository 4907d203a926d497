"""Guard checks: guards that can never hold, moves that shadow each other, thresholds that go
backwards along a path, and timer moves whose guards do not do what they seem to.

They reason with :mod:`topo.conditions` (intervals over comparisons of one name with constants)
and the names' domains (:mod:`topo.domains`); what that logic does not decide is never reported.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta

from topo.analysis_context import Analysis
from topo.conditions import Condition, condition_of
from topo.diagnostics import Diagnostic
from topo.durations import format_duration
from topo.expressions import parsed
from topo.model import Journey, Move

__all__ = ["GUARD_CHECKS"]


def _condition(analysis: Analysis, move: Move, nodes: Sequence[str]) -> Condition:
    return condition_of(move.when, analysis.domains(move.on or (), nodes))


def _describe(analysis: Analysis, index: int) -> str:
    move = analysis.journey.moves[index]
    line = analysis.site.line(("moves", index))
    trigger = (
        f"on {', '.join(move.on)}"
        if move.on
        else f"after {format_duration(move.after or timedelta())}"
    )
    return f"the move at line {line} ({'/'.join(move.from_)} -> {move.to}, {trigger})"


def guards_never_hold(analysis: Analysis) -> Iterator[Diagnostic]:
    """A move's or reminder's guard that no member can satisfy (``spend > 100 and spend < 50``)."""
    for i, move in enumerate(analysis.journey.moves):
        if move.when is not None and not _condition(analysis, move, move.from_).can_hold():
            message = f"`{_squash(move.when)}` can never hold, so this move never fires"
            yield analysis.site.at("guard-never-holds", message, ("moves", i, "when"))
    for i, reminder in enumerate(analysis.journey.reminders):
        domains = analysis.domains((), reminder.at)
        if reminder.when is not None and not condition_of(reminder.when, domains).can_hold():
            message = f"`{_squash(reminder.when)}` can never hold, so this reminder never fires"
            yield analysis.site.at("guard-never-holds", message, ("reminders", i, "when"))


def _squash(text: str) -> str:
    return " ".join(text.split())


def overlapping_moves(analysis: Analysis) -> Iterator[Diagnostic]:
    """A move out of a node on an event whose guard can hold together with an earlier move's.

    The earlier move wins for those members. Each later move is reported once per node and
    event, naming the first earlier move it overlaps with and example values.
    """
    for node in analysis.journey.nodes:
        moves = [(i, m) for i, m in analysis.graph.moves_out(node) if m.on]
        for k, later in enumerate(moves):
            for event in dict.fromkeys(later[1].on or []):
                earlier = [e for e in moves[:k] if event in (e[1].on or [])]
                found = _first_overlap(analysis, node, event, earlier, later)
                if found is not None:
                    yield found


def _first_overlap(
    analysis: Analysis,
    node: str,
    event: str,
    earlier: list[tuple[int, Move]],
    later: tuple[int, Move],
) -> Diagnostic | None:
    domains = analysis.domains([event], [node])
    mine = condition_of(later[1].when, domains)
    for index, move in earlier:
        witness = condition_of(move.when, domains).both(mine).witness()
        if witness is not None:
            message = (
                f"at {node!r} on {event!r}, {_describe(analysis, index)} is taken first whenever "
                f"both guards hold{_witness_text(analysis, witness, event)}, so this move never "
                "fires for those members"
            )
            return analysis.site.at("overlapping-moves", message, ("moves", later[0]))
    return None


def _witness_text(analysis: Analysis, witness: dict[str, object], event: str) -> str:
    secret = {a for a, attribute in analysis.journey.attributes.items() if attribute.pii}
    pii = {f"member.{a}" for a in secret}
    if event == "profile":  # the fields of profile are the attributes
        pii |= {f"event.{a}" for a in secret}
    shown = [
        f"{name} = {'(a pii value)' if name in pii else _literal(value)}"
        for name, value in witness.items()
        if name != "node"
    ]
    return f" (for example {', '.join(shown)})" if shown else " (always)"


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def backwards_thresholds(analysis: Analysis) -> Iterator[Diagnostic]:
    """A move that asks for less of a metric than every path to its source already asked for."""
    journey = analysis.journey
    conditions = [_condition(analysis, move, move.from_) for move in journey.moves]
    bounds = {
        i: {m: _asks(c, journey.moves[i], m) for m in journey.metrics}
        for i, c in enumerate(conditions)
    }
    for metric in _never_falling(journey):
        asked = {i: b[metric] for i, b in bounds.items()}
        if all(value is None or value == -math.inf for value in asked.values()):
            continue
        required = _required_on_arrival(analysis, asked)
        for i, move in enumerate(journey.moves):
            yield from _backwards(analysis, i, move, metric, asked[i], required)


def _backwards(
    analysis: Analysis,
    index: int,
    move: Move,
    metric: str,
    asks: float | None,
    required: dict[str, tuple[float, int | None]],
) -> Iterator[Diagnostic]:
    if asks is None or asks == -math.inf or move.after is not None:
        return
    for source in move.from_:
        before, by = required.get(source, (-math.inf, None))
        if before > asks and by is not None:
            message = (
                f"this move asks for {metric} >= {_number(asks)}, less than the "
                f"{metric} >= {_number(before)} that every path to {source!r} has already "
                f"asked for: {_describe(analysis, by)}"
            )
            yield analysis.site.at("backwards-threshold", message, ("moves", index, "when"))


def _never_falling(journey: Journey) -> list[str]:
    """Metrics an event can only raise: counts, distinct counts, maxima and sums of a field
    that is never negative. A ``last`` or ``min`` may fall with any event, so an earlier
    threshold says nothing about a later one. (A window lets any of them fall with time; the
    tier ladders this check is for are built on windows, so windowed metrics stay in.)"""
    kept = []
    for metric_id, metric in journey.metrics.items():
        event = journey.events.get(metric.event_type)
        field = event.fields.get(metric.field) if event and metric.field else None
        nonnegative = field is not None and field.min is not None and field.min >= 0
        if metric.kind in ("count", "distinct", "max") or (metric.kind == "sum" and nonnegative):
            kept.append(metric_id)
    return kept


def _asks(condition: Condition, move: Move, metric: str) -> float | None:
    """The least ``metric`` a move asks for on the way up (-inf: nothing), or None.

    None marks a move after which earlier requirements no longer hold: a guard that caps the
    metric from above (``spend < 1000``: the member may arrive with little of it). Timer moves
    (downgrades, requalifications, lapses) are not part of the climb at all: they are left out
    of the paths (see :func:`_required_on_arrival`), so a requalification does not hide a step
    up that asks for less.
    """
    if condition.bounded_above(metric):
        return None
    return condition.lower_bound(metric)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _required_on_arrival(
    analysis: Analysis, asked: dict[int, float | None]
) -> dict[str, tuple[float, int | None]]:
    """For each node, the least lower bound every path from the start has asked for on the way.

    A fixpoint over the graph: arriving by a move asks ``max(required at its source, what the
    move asks)``; a node requires the least of that over the moves into it.
    """
    graph = analysis.graph
    required: dict[str, tuple[float, int | None]] = {}
    if graph.start is None:
        return required
    required[graph.start] = (-math.inf, None)
    pending = [graph.start]
    while pending:
        source = pending.pop()
        here, _ = required[source]
        for index, move in graph.moves_out(source):
            if move.after is not None:
                continue  # timers are not steps of the climb
            asks = asked[index]
            value: tuple[float, int | None] = (
                (-math.inf, None)
                if asks is None
                else max((here, required[source][1]), (asks, index), key=lambda p: p[0])
            )
            current = required.get(move.to)
            if current is None or value[0] < current[0]:
                required[move.to] = value
                pending.append(move.to)
    return required


def timers_before_windows(analysis: Analysis) -> Iterator[Diagnostic]:
    """A timer move due sooner than a window its guard reads: the window still holds old events."""
    journey = analysis.journey
    for i, move in enumerate(journey.moves):
        if move.after is None or move.when is None:
            continue
        for metric_id in sorted(_metrics_in(move.when, journey.metrics)):
            window = journey.metrics[metric_id].window
            if window is not None and move.after < window:
                message = (
                    f"this timer is due after {format_duration(move.after)}, but {metric_id!r} "
                    f"covers {format_duration(window)}: at the due time it still counts events "
                    "from before the member entered"
                )
                yield analysis.site.at("timer-before-window", message, ("moves", i, "after"))


def _metrics_in(text: str, metrics: Mapping[str, object]) -> set[str]:
    tree = parsed(text)
    if not isinstance(tree, ast.Expression):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in metrics}


def always_moving_timers(analysis: Analysis) -> Iterator[Diagnostic]:
    """A timer move whose guard can never be false: every member moves when it is due."""
    for i, move in enumerate(analysis.journey.moves):
        if move.after is None or move.when is None:
            continue
        if not _condition(analysis, move, move.from_).can_be_false():
            message = (
                f"`{_squash(move.when)}` is always true, so every member at "
                f"{', '.join(repr(n) for n in move.from_)} moves to {move.to!r} when the "
                "timer is due"
            )
            yield analysis.site.at("always-moves", message, ("moves", i, "when"))


GUARD_CHECKS: tuple[Callable[[Analysis], Iterator[Diagnostic]], ...] = (
    guards_never_hold,
    overlapping_moves,
    backwards_thresholds,
    timers_before_windows,
    always_moving_timers,
)
