"""Guard checks: guards that can never hold, moves that shadow each other, thresholds that go
backwards along a path, and timer moves whose guards do not do what they seem to.

They reason with ``conditions`` (intervals over comparisons of one name with constants)
and the names' domains (``domains``); what that logic does not decide is never reported.
"""

from __future__ import annotations

import ast
import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta

from topo.analysis.conditions import Condition, Values, condition_of
from topo.analysis.context import Analysis
from topo.diagnostics import Diagnostic
from topo.journey.durations import format_duration
from topo.journey.expressions import parsed
from topo.journey.model import Journey, Move

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
        by_event: dict[str, list[tuple[int, Move]]] = {}
        for index, move in analysis.graph.moves_out(node):
            for event in dict.fromkeys(move.on or []):
                by_event.setdefault(event, []).append((index, move))
        for event, moves in by_event.items():
            yield from _overlaps(analysis, node, event, moves)


def _overlaps(
    analysis: Analysis, node: str, event: str, moves: list[tuple[int, Move]]
) -> Iterator[Diagnostic]:
    """The later moves of ``moves`` (on ``event`` out of ``node``, in file order) that overlap
    an earlier one.

    Every pair is a question, so a node with thousands of moves asks millions. Most pairs are
    settled by the numbers alone (``spend < 100`` and ``spend >= 100`` cannot both hold): each
    guard's range of every number it bounds (its hull) is computed once, one name's ranges are
    compared in bulk, and only the pairs whose ranges meet are asked properly.
    """
    domains = analysis.domains([event], [node])
    conditions = [condition_of(move.when, domains) for _, move in moves]
    hulls = [_hull(condition) for condition in conditions]
    axis = Counter(name for hull in hulls if hull for name in hull).most_common(1)
    name = axis[0][0] if axis else ""
    lows = [hull[name][0] if hull and name in hull else -math.inf for hull in hulls]
    highs = [hull[name][1] if hull and name in hull else math.inf for hull in hulls]
    earlier = _Ranges()
    for k in range(len(moves)):
        hull = hulls[k]
        if hull is None:  # no decided way to hold: never an example of an overlap
            continue
        for j in earlier.meeting(lows[k], highs[k], lows, highs):
            other = hulls[j]
            if other is None or _apart(other, hull):
                continue
            witness = conditions[j].both(conditions[k]).witness()
            if witness is not None:
                message = (
                    f"at {node!r} on {event!r}, {_describe(analysis, moves[j][0])} is taken "
                    f"first whenever both guards hold{_witness_text(analysis, witness, event)}, "
                    "so this move never fires for those members"
                )
                yield analysis.site.at("overlapping-moves", message, ("moves", moves[k][0]))
                break
        earlier.add(k, lows[k], highs[k])  # after the search, which may read the ranges lazily


class _Ranges:
    """The ranges of the earlier moves, sorted by their ends: which meet a range, found from
    the smaller side (a ladder of thresholds meets only its neighbours)."""

    def __init__(self) -> None:
        self.in_order: list[int] = []
        self.by_low: list[tuple[float, int]] = []
        self.by_high: list[tuple[float, int]] = []

    def add(self, index: int, low: float, high: float) -> None:
        self.in_order.append(index)
        bisect.insort(self.by_low, (low, index))
        bisect.insort(self.by_high, (high, index))

    def meeting(
        self, low: float, high: float, lows: list[float], highs: list[float]
    ) -> Iterator[int]:
        """The indices, in file order, of the ranges that meet ``low..high``.

        When most ranges meet it, they are read in file order as they come (the caller stops
        at the first real overlap, which is then usually the first).
        """
        starting = bisect.bisect_right(self.by_low, (high, math.inf))  # low <= high
        ending = len(self.by_high) - bisect.bisect_left(self.by_high, (low, -1))  # high >= low
        if 4 * min(starting, ending) > len(self.in_order):
            return (j for j in self.in_order if lows[j] <= high and highs[j] >= low)
        if starting <= ending:
            found = [j for _, j in self.by_low[:starting] if highs[j] >= low]
        else:
            found = [j for _, j in self.by_high[len(self.by_high) - ending :] if lows[j] <= high]
        return iter(sorted(found))


Hull = dict[str, tuple[float, float]]
"""For each name a guard bounds to numbers in every decided way it can hold, the least and
greatest number it allows."""


def _hull(condition: Condition) -> Hull | None:
    """The guard's hull; None when it has no decided way to hold (it is never a witness)."""
    decided = [names for names, undecided in condition.satisfiable_terms() if not undecided]
    if not decided:
        return None
    hull: Hull = {}
    for name in decided[0]:
        spans = [_numbers(names.get(name)) for names in decided]
        if all(span is not None for span in spans):
            hull[name] = (
                min(span[0] for span in spans if span is not None),
                max(span[1] for span in spans if span is not None),
            )
    return hull


def _numbers(values: Values | None) -> tuple[float, float] | None:
    """The least and greatest number ``values`` allows, when it allows numbers only."""
    if values is None or values.null or values.others or values.others_excluded:
        return None
    if not values.numbers:
        return None
    return min(i.low for i in values.numbers), max(i.high for i in values.numbers)


def _apart(first: Hull, second: Hull) -> bool:
    """Whether some name's ranges in the two hulls do not meet: the guards cannot both hold."""
    for name, (low, high) in first.items():
        other = second.get(name)
        if other is not None and (high < other[0] or other[1] < low):
            return True
    return False


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
    rising = _never_falling(journey)
    said: dict[str, dict[int, float | None]] = {}  # what each move's guard says of a metric
    for i, move in enumerate(journey.moves):
        condition = _condition(analysis, move, move.from_)
        for metric in _names_in(condition) & rising.keys():
            said.setdefault(metric, {})[i] = _asks(condition, move, metric)
    steps = _steps_up(analysis)
    for metric in rising:  # a guard that does not name a metric asks nothing of it (-inf)
        asked = said.get(metric, {})
        if not _asked_after_asking(steps, journey.moves, asked):
            continue
        required = _required_on_arrival(analysis.graph.start, steps, asked)
        for i in sorted(asked):
            yield from _backwards(analysis, i, journey.moves[i], metric, asked[i], required)


def _names_in(condition: Condition) -> set[str]:
    """The names the guard's comparisons constrain (none when it is too large to read)."""
    return {name for names, _ in condition.terms or () for name in names}


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


def _never_falling(journey: Journey) -> dict[str, None]:
    """Metrics an event can only raise: counts, distinct counts, maxima and sums of a field
    that is never negative. A ``last`` or ``min`` may fall with any event, so an earlier
    threshold says nothing about a later one. (A window lets any of them fall with time; the
    tier ladders this check is for are built on windows, so windowed metrics stay in.)"""
    kept: dict[str, None] = {}  # in file order
    for metric_id, metric in journey.metrics.items():
        event = journey.events.get(metric.event_type)
        field = event.fields.get(metric.field) if event and metric.field else None
        nonnegative = field is not None and field.min is not None and field.min >= 0
        if metric.kind in ("count", "distinct", "max") or (metric.kind == "sum" and nonnegative):
            kept[metric_id] = None
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


Steps = dict[str, list[tuple[int, str]]]
"""For each node, the moves up out of it (not timers): (move index, target)."""


def _steps_up(analysis: Analysis) -> Steps:
    graph = analysis.graph
    return {
        node: [(index, move.to) for index, move in graph.moves_out(node) if move.after is None]
        for node in analysis.journey.nodes
    }


def _asked_after_asking(
    steps: Steps, moves: Sequence[Move], asked: dict[int, float | None]
) -> bool:
    """Whether a move that asks for the metric leaves a node that a move asking for it leads
    to (directly or further on). If none does, no path asks twice, and nothing can be asked
    for less: the fixpoint is not run, which keeps a journey of thousands of metrics, each
    asked for once or twice, from walking the whole graph once per metric."""
    asking = [
        i
        for i, value in asked.items()
        if value is not None and value > -math.inf and moves[i].after is None  # timers: no step
    ]
    sources = {source for i in asking for source in moves[i].from_}
    seen = {moves[i].to for i in asking}
    pending = list(seen)
    while pending:
        node = pending.pop()
        if node in sources:
            return True
        for _, target in steps.get(node, ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return False


def _required_on_arrival(
    start: str | None, steps: Steps, asked: dict[int, float | None]
) -> dict[str, tuple[float, int | None]]:
    """For each node, the least lower bound every path from the start has asked for on the way.

    A fixpoint over the graph: arriving by a move asks ``max(required at its source, what the
    move asks)``; a node requires the least of that over the moves into it. Timers are not
    steps of the climb, and a move that does not name the metric asks nothing (-inf). It runs
    once per metric that two moves ask for, so its loop is kept plain.
    """
    required: dict[str, tuple[float, int | None]] = {}
    if start is None:
        return required
    nothing = -math.inf
    required[start] = (nothing, None)
    pending = [start]
    while pending:
        source = pending.pop()
        here = required[source]
        for index, target in steps.get(source, ()):
            asks = asked.get(index, nothing)
            if asks is None:
                value: tuple[float, int | None] = (nothing, None)
            else:
                value = (asks, index) if asks > here[0] else here
            current = required.get(target)
            if current is None or value[0] < current[0]:
                required[target] = value
                pending.append(target)
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
