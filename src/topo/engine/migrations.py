"""Members stored under an older version of a journey, brought to the version loaded now.

The contract: a member whose journey version is older than the file's goes through the file's
``migrations`` in order (:func:`topo.journey.migration_problems.destination`); it keeps its metrics,
attributes, history and incentive ledger; if its node changes it enters the new node at its own
clock (which starts that node's timers), is granted nothing, and the move is recorded in its
history. A member at a node that no longer exists and that no migration maps is a
:class:`topo.errors.MigrationError`.

A member's state is laid out by the journey it was written under: its metrics, ledger and
reminder marks are kept by position. A store therefore keeps the :func:`layout` of the version
its members were written under, and :func:`carry_over` moves each kept value to the place the
new version gives it, by name (metrics, incentives) or by incentive and place (reminders, which
have no id). A metric whose definition changed starts again empty: what it counted was counted by
other rules; but a metric whose only change is the length of its window keeps the events
it kept (a shorter window reads only those within it; a longer one counts from what the old
window held, and is exact once a whole new window has passed). A metric, incentive or
reminder the new version no longer has is dropped.
"""

from __future__ import annotations

import json
from typing import Any

from topo.engine.compiled import CompiledJourney
from topo.engine.member_state import MemberState
from topo.engine.metrics import MetricBook
from topo.journey.model import METRIC_KINDS

__all__ = ["Layout", "carry_over", "layout"]

Layout = dict[str, list[str]]
"""Where a version keeps things in a member's state: ``metrics`` (each metric's name and
definition, by slot), ``shapes`` (the same without the window's length), ``ledger``
(incentive ids, then reminder definitions, by ledger place) and ``reminders`` (reminder
definitions, by index). JSON data, so a store can keep it."""


def layout(compiled: CompiledJourney) -> Layout:
    """The places ``compiled`` gives to metrics, ledger entries and reminders.

    A metric is known by its name and what decides the shape of its state (its kind and
    source, window and filter); a reminder, which has no id, by its incentive and where it
    stands (its nodes, ``toward`` or ``ahead_of``): editing its guard, cooldown or ``by``
    keeps its marks."""
    journey = compiled.journey
    reminders = [
        _definition(
            {
                "incentive": r.incentive,
                "at": sorted(r.at),
                "toward": r.toward,
                "ahead_of": r.ahead_of,
            }
        )
        for r in journey.reminders
    ]
    metrics, shapes = [], []
    for name, metric in journey.metrics.items():
        kind = next(k for k in METRIC_KINDS if getattr(metric, k) is not None)
        source = {"name": name, kind: getattr(metric, kind), "where": metric.where}
        window = None if metric.window is None else metric.window.total_seconds()
        metrics.append(_definition({**source, "window": window}))
        shapes.append(_definition({**source, "windowed": window is not None}))
    return {
        "metrics": metrics,
        "shapes": shapes,
        "ledger": [*(f"incentive {i}" for i in journey.incentives), *reminders],
        "reminders": reminders,
    }


def carry_over(state: MemberState, old: Layout, new: Layout, book: MetricBook) -> None:
    """Move each value ``state`` keeps by position from its place in ``old`` to its place in
    ``new``; what ``new`` lacks is dropped, what ``new`` adds starts empty."""
    if old == new:
        return
    metrics = book.new_state()
    kept, shaped = _places(old["metrics"]), _places(old.get("shapes", []))
    for place, (key, shape) in enumerate(zip(new["metrics"], new["shapes"], strict=True)):
        found = kept.get(key, shaped.get(shape))
        if found is not None and found < len(state.metrics):
            metrics[place] = state.metrics[found]
    state.metrics = metrics
    if state.ledger is not None:
        ledger = _moved(state.ledger, old["ledger"], new["ledger"])
        state.ledger = ledger if any(t is not None for t in ledger) else None
    reminders = _places(old["reminders"])
    renumber = {
        reminders[key]: place for place, key in enumerate(new["reminders"]) if key in reminders
    }
    state.stay = tuple(renumber[i] for i in state.stay if i in renumber)
    if state.considered is not None:
        considered = {renumber[i]: at for i, at in state.considered.items() if i in renumber}
        state.considered = considered or None


def _definition(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _places(keys: list[str]) -> dict[str, int]:
    return {key: place for place, key in enumerate(keys)}


def _moved(values: tuple[Any, ...], old: list[str], new: list[str]) -> tuple[Any, ...]:
    kept = _places(old)
    return tuple(
        values[kept[key]] if key in kept and kept[key] < len(values) else None for key in new
    )
