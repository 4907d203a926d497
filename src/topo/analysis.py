"""Journey analysis: step 4 of the TOPO method ("agree on the order of checkpoints and look for
steps that are too hard to take"), done by a machine.

Each check is a small named generator over an :class:`Analysis` that yields diagnostics with the
position of the node, move or reminder it is about. The guard checks live in
:mod:`topo.guard_checks`, the marketing-pressure check in :mod:`topo.pressure`; :func:`analyse`
runs them all. Analysis runs on journeys without errors: on a broken journey its findings would
be guesses.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from topo.analysis_context import Analysis
from topo.diagnostics import Diagnostic
from topo.durations import format_duration
from topo.expressions import parsed
from topo.guard_checks import GUARD_CHECKS
from topo.model import Journey
from topo.pressure import pressure
from topo.site import Site
from topo.templates import Placeholder, placeholders

__all__ = ["Analysis", "analyse"]


def analyse(site: Site) -> Iterator[Diagnostic]:
    """Every finding of every analysis check on the site's journey."""
    analysis = Analysis(site)
    for check in (*GRAPH_CHECKS, *GUARD_CHECKS, pressure, *USAGE_CHECKS):
        yield from check(analysis)


def unreachable_nodes(analysis: Analysis) -> Iterator[Diagnostic]:
    """A node (other than a peak) that no sequence of moves from the start reaches."""
    graph = analysis.graph
    for node_id, node in analysis.journey.nodes.items():
        if node.kind not in ("start", "peak") and node_id not in graph.reachable:
            message = (
                f"no moves lead from the start {graph.start!r} to {node_id!r}; "
                "no member can get there"
            )
            yield analysis.at_node("unreachable-node", message, node_id)


def unreachable_peaks(analysis: Analysis) -> Iterator[Diagnostic]:
    """A peak that no sequence of moves from the start reaches."""
    graph = analysis.graph
    for node_id in graph.of_kind("peak"):
        if node_id not in graph.reachable:
            message = f"the peak {node_id!r} cannot be reached from the start {graph.start!r}"
            yield analysis.at_node("unreachable-peak", message, node_id)


def dead_ends(analysis: Analysis) -> Iterator[Diagnostic]:
    """A checkpoint with no move out: members who get there stay for good."""
    for node_id in analysis.graph.of_kind("checkpoint"):
        if not analysis.graph.moves_out(node_id):
            message = f"no move leaves the checkpoint {node_id!r}; members who get there stay there"
            yield analysis.at_node("dead-end", message, node_id)


def traps(analysis: Analysis) -> Iterator[Diagnostic]:
    """A node other than an exit from which no peak can be reached (dead ends reported apart)."""
    graph = analysis.graph
    for node_id, node in analysis.journey.nodes.items():
        dead_end = node.kind == "checkpoint" and not graph.moves_out(node_id)
        if node.kind != "exit" and not dead_end and node_id not in graph.reach_a_peak:
            message = f"no peak can be reached from {node_id!r}; members who get there are stuck"
            yield analysis.at_node("trap", message, node_id)


def reminders_reach(analysis: Analysis) -> Iterator[Diagnostic]:
    """A reminder's ``toward`` is reachable from every node it is ``at``."""
    for i, reminder in enumerate(analysis.journey.reminders):
        if reminder.toward is None:
            continue
        for node in reminder.at:
            if node == reminder.toward:
                message = (
                    f"the reminder at {node!r} points toward {node!r}, where members already are"
                )
                yield analysis.site.at("reminder-unreachable", message, ("reminders", i, "toward"))
            elif not analysis.graph.reaches(node, reminder.toward):
                message = (
                    f"{reminder.toward!r} cannot be reached from {node!r}; "
                    "the reminder points nowhere"
                )
                yield analysis.site.at("reminder-unreachable", message, ("reminders", i, "toward"))


def ahead_of_timers(analysis: Analysis) -> Iterator[Diagnostic]:
    """``ahead_of`` names a timer move out of every node of ``at``; ``by`` is shorter than it."""
    moves = {move.id: move for move in analysis.journey.moves if move.id is not None}
    for i, reminder in enumerate(analysis.journey.reminders):
        move = moves.get(reminder.ahead_of or "")
        if move is None:
            continue
        path = ("reminders", i, "ahead_of")
        if move.after is None:
            message = (
                f"{reminder.ahead_of!r} is a move on events, not a timer; nothing to warn ahead of"
            )
            yield analysis.site.at("ahead-of-not-timer", message, path)
            continue
        for node in reminder.at:
            if node not in move.from_:
                message = f"the timer move {reminder.ahead_of!r} does not leave {node!r}"
                yield analysis.site.at("ahead-of-not-timer", message, path)
        if reminder.by is not None and reminder.by >= move.after:
            when = (
                "the moment the clock starts"
                if reminder.by == move.after
                else ("before the clock starts")
            )
            message = (
                f"by: {format_duration(reminder.by)} ahead of a move due after "
                f"{format_duration(move.after)} would be due {when}; `by` must be shorter"
            )
            yield analysis.site.at("reminder-too-early", message, ("reminders", i, "by"))


GRAPH_CHECKS: tuple[Callable[[Analysis], Iterator[Diagnostic]], ...] = (
    unreachable_nodes,
    unreachable_peaks,
    dead_ends,
    traps,
    reminders_reach,
    ahead_of_timers,
)


def unused_owners(analysis: Analysis) -> Iterator[Diagnostic]:
    """An owner that owns no node."""
    used = {node.owner for node in analysis.journey.nodes.values()}
    for owner in analysis.journey.owners:
        if owner not in used:
            message = f"the owner {owner!r} owns no node; remove it or give it a stage"
            yield analysis.site.at("unused-owner", message, ("owners", owner), key=True)


def unused_offerings(analysis: Analysis) -> Iterator[Diagnostic]:
    """An offering no incentive is about."""
    used = {i.offering for i in analysis.journey.incentives.values()}
    for offering in analysis.journey.offerings:
        if offering not in used:
            message = (
                f"no incentive is about the offering {offering!r}; "
                "name it in an incentive's `offering`, or remove it"
            )
            yield analysis.site.at("unused-offering", message, ("offerings", offering), key=True)


def unused_events(analysis: Analysis) -> Iterator[Diagnostic]:
    """An event type no move, metric or ``since`` looks at."""
    j = analysis.journey
    used = {t for move in j.moves for t in (move.on or [])}
    used |= {move.since for move in j.moves if move.since}
    used |= {metric.event_type for metric in j.metrics.values()}
    for event in j.events:
        if event not in used and "any" not in used:
            message = (
                f"no move, metric or timer looks at the event type {event!r}; "
                "use it in a move's `on` or a metric, or remove it"
            )
            yield analysis.site.at("unused-event", message, ("events", event), key=True)


def unused_metrics(analysis: Analysis) -> Iterator[Diagnostic]:
    """A metric no guard and no message reads."""
    used = _names_used(analysis.journey)
    for metric in analysis.journey.metrics:
        if metric not in used:
            message = (
                f"no guard or message reads the metric {metric!r}; "
                "use it in a `when` or a message, or remove it"
            )
            yield analysis.site.at("unused-metric", message, ("metrics", metric), key=True)


def _names_used(journey: Journey) -> set[str]:
    texts = [m.when for m in journey.moves] + [r.when for r in journey.reminders]
    texts += [metric.where for metric in journey.metrics.values()]
    names: set[str] = set()
    for text in texts:
        tree = parsed(text) if text else None
        if isinstance(tree, ast.Expression):
            names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    for incentive in journey.incentives.values():
        for item in placeholders(incentive.message or ""):
            if isinstance(item, Placeholder):
                names.add(item.name.strip())
    return names


def unused_incentives(analysis: Analysis) -> Iterator[Diagnostic]:
    """An incentive no move, node or reminder grants."""
    j = analysis.journey
    used = {i for move in j.moves for i in move.incentives}
    used |= {i for node in j.nodes.values() for i in node.on_enter}
    used |= {reminder.incentive for reminder in j.reminders}
    for incentive in j.incentives:
        if incentive not in used:
            message = (
                f"no move, node or reminder grants the incentive {incentive!r}; "
                "grant it somewhere, or remove it"
            )
            yield analysis.site.at("unused-incentive", message, ("incentives", incentive), key=True)


USAGE_CHECKS: tuple[Callable[[Analysis], Iterator[Diagnostic]], ...] = (
    unused_owners,
    unused_offerings,
    unused_events,
    unused_metrics,
    unused_incentives,
)
