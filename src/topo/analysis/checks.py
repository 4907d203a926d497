"""Journey analysis: step 4 of the TOPO method ("agree on the order of checkpoints and look for
steps that are too hard to take"), done by a machine.

Each check is a small named generator over an :class:`Analysis` that yields diagnostics with the
position of the node, move or reminder it is about. The guard checks live in
``guard_checks``, the marketing-pressure check in ``pressure``; :data:`CHECKS` says which
parts of the journey each one reads, and :func:`analyse` runs them all.

A journey with errors is analysed as far as that is sound: a check that reads a part the errors
make unsound (see :func:`topo.analysis.context.broken_parts`) does not run, since its findings
would be guesses, and one notice (T519) names the checks that did not run and why.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from topo.analysis.context import PARTS, Analysis, broken_parts
from topo.analysis.guard_checks import (
    always_moving_timers,
    backwards_thresholds,
    guards_never_hold,
    overlapping_moves,
    timers_before_windows,
)
from topo.analysis.pressure import pressure
from topo.diagnostics import Diagnostic, sort_key
from topo.journey.codes import make
from topo.journey.durations import format_duration
from topo.journey.expressions import parsed
from topo.journey.model import Journey
from topo.journey.site import Site
from topo.journey.source import Span
from topo.journey.templates import Placeholder, placeholders

__all__ = ["CHECKS", "FORMAT_RULES", "Analysis", "Check", "analyse", "codes_not_run"]

FORMAT_RULES = frozenset({"T511", "T512"})
"""Codes the analysis finds (they need the moves) that break rules of the format itself, not of
good design: an ``ahead_of`` must name a timer move out of ``at``, and its ``by`` must be shorter
than the move's ``after``. A journey that breaks them cannot run; the other findings describe a
draft, which runs (see :func:`topo.validation.cannot_run`)."""


@dataclass(frozen=True, slots=True)
class Check:
    """An analysis check: the codes it reports and the parts of the journey it reads."""

    run: Callable[[Analysis], Iterator[Diagnostic]]
    codes: tuple[str, ...]
    reads: frozenset[str]

    def sound(self, broken: Iterable[str]) -> bool:
        """Whether none of the parts this check reads is in ``broken``."""
        return self.reads.isdisjoint(broken)


def analyse(site: Site, errors: Sequence[Diagnostic] = ()) -> Iterator[Diagnostic]:
    """Every finding of every analysis check on the site's journey that reads no part that
    ``errors`` (the journey's errors so far) make unsound; then, when a check did not run,
    one T519 notice that says which and why."""
    broken = broken_parts(site, errors)
    analysis = Analysis(site)
    for check in CHECKS:
        if check.sound(broken):
            yield from check.run(analysis)
    skipped = [check for check in CHECKS if not check.sound(broken)]
    if skipped:
        yield _notice(site, skipped, broken)


def codes_not_run(site: Site, errors: Sequence[Diagnostic]) -> frozenset[str]:
    """The codes of the checks that :func:`analyse` does not run because of ``errors``."""
    broken = broken_parts(site, errors)
    return frozenset(code for check in CHECKS if not check.sound(broken) for code in check.codes)


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


def _check(run: Callable[[Analysis], Iterator[Diagnostic]], codes: str, reads: str) -> Check:
    return Check(run, tuple(codes.split()), frozenset(("journey", *reads.split())))


CHECKS: tuple[Check, ...] = (
    _check(unreachable_nodes, "T501", "nodes moves"),
    _check(traps, "T502", "nodes moves"),
    _check(unreachable_peaks, "T503", "nodes moves"),
    _check(dead_ends, "T504", "nodes moves"),
    _check(guards_never_hold, "T505", "moves guards events metrics attributes reminders"),
    _check(overlapping_moves, "T506", "nodes moves guards events metrics attributes"),
    _check(backwards_thresholds, "T507", "nodes moves guards events metrics attributes"),
    _check(timers_before_windows, "T508", "moves guards metrics"),
    _check(always_moving_timers, "T509", "moves guards events metrics attributes"),
    _check(reminders_reach, "T510", "nodes moves reminders"),
    _check(ahead_of_timers, "T511 T512", "moves move-ids reminders"),
    _check(pressure, "T513", "nodes moves reminders grants incentives pressure"),
    _check(unused_owners, "T514", "owners"),
    _check(unused_offerings, "T515", "offerings"),
    _check(unused_events, "T516", "events since metrics"),
    _check(unused_metrics, "T517", "metrics guards messages"),
    _check(unused_incentives, "T518", "incentives grants"),
)
"""Every analysis check, with what it reads (see :data:`topo.analysis.context.PARTS`)."""


def _notice(
    site: Site, skipped: Sequence[Check], broken: Mapping[str, Sequence[Diagnostic]]
) -> Diagnostic:
    """The T519 notice: which checks did not run, which parts with errors they read, and what
    to do. It stands at the last error that stopped one of them, so after all of those."""
    read = {part for check in skipped for part in check.reads}
    parts = [part for part in broken if part in read]  # in the order of PARTS
    if len(skipped) == len(CHECKS):
        which, they = "the analysis did not run", "its checks read"
    elif len(skipped) == 1:
        which, they = "one check of the analysis did not run", "it reads"
    else:
        which, they = "some checks of the analysis did not run", "they read"
    codes = [code for check in skipped for code in check.codes]
    message = (
        f"{which} ({_code_list(codes)}): {they} {_words(parts)}, which the errors above leave "
        "uncertain; fix them, then run again to see the findings"
    )
    last = max((e for part in parts for e in broken[part]), key=sort_key, default=None)
    span = Span(1, 1, 1, 1) if last is None else last.span
    path = () if last is None else last.path
    return make("analysis-skipped", message, site.document.file, span, path)


def _code_list(codes: Sequence[str]) -> str:
    """``T501-T504, T510, T511``: codes in order, runs of three or more as ranges."""
    numbers = sorted({int(code[1:]) for code in codes})
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    shown = [[f"T{run[0]}-T{run[-1]}"] if len(run) > 2 else [f"T{n}" for n in run] for run in runs]
    return ", ".join(text for run in shown for text in run)


def _words(parts: Sequence[str]) -> str:
    words = [PARTS[part] for part in parts]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
