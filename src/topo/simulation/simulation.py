"""``topo.simulate``: a population rehearses a journey, and what came of it.

::

    simulation = topo.simulate(
        "journeys/knowledge-club.yaml", "journeys/knowledge-club.personas.yaml", seed=0
    )
    simulation.summary["funnel"], simulation.triggers[:3], simulation.write_report("club.html")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any

from topo.engine.json_values import json_ready
from topo.engine.member_state import MemberState
from topo.engine.triggers import Trigger
from topo.errors import UsageError
from topo.journey.model import Journey
from topo.simulation.model import Personas
from topo.simulation.runner import START, Run, run_population
from topo.validation import load_journey

__all__ = ["Simulation", "checked", "simulate"]

StrPath = str | PathLike[str]


class Simulation:
    """The result of :func:`simulate`: the first run's events, triggers and states, and the
    summary of all runs (with ``runs > 1``, each figure as its mean and 90% interval)."""

    def __init__(
        self, journey: Journey, personas: Personas, runs: Sequence[Run], window: timedelta
    ) -> None:
        self.journey = journey
        self.personas = personas
        self.runs = list(runs)
        self.window = window
        self._summary: dict[str, Any] | None = None

    @property
    def first(self) -> Run:
        return self.runs[0]

    @property
    def triggers(self) -> list[Trigger]:
        """The first run's triggers, in the order they were granted."""
        return self.first.triggers

    @property
    def events(self) -> list[dict[str, Any]]:
        """The first run's events, in the order they were sent (what ``topo replay`` reads)."""
        if self.first.events is None:
            raise UsageError("this simulation kept no events (keep_events=False)")
        return self.first.events

    @property
    def states(self) -> list[dict[str, Any]]:
        """Each member's state at the end of the first run, sorted by member id (pii left out)."""
        engine, end = self.first.engine, self.first.end
        found = (engine.state(member, as_of=end) for member in sorted(engine.store.members()))
        return [json_ready(state) for state in found if state is not None]

    @property
    def summary(self) -> dict[str, Any]:
        """The figures of the report as JSON-ready data (see docs/report.md)."""
        if self._summary is None:
            from topo.report.aggregate import combine
            from topo.report.summary import summarise

            each = [
                summarise(
                    self.journey,
                    _states(run),
                    end=run.end,
                    window=self.window,
                    source="simulation",
                )
                for run in self.runs
            ]
            self._summary = each[0] if len(each) == 1 else combine(each)
        return self._summary

    def write_report(self, path: StrPath, *, title: str | None = None) -> None:
        """The report as one self-contained HTML file (needs ``topo[report]``)."""
        from topo.report.html import write_report

        write_report(self.summary, Path(path), title=title)


def _states(run: Run) -> list[MemberState]:
    store = run.engine.store
    found = (store.get(member) for member in sorted(store.members()))
    return [state for state in found if state is not None]


def simulate(
    journey: Journey | StrPath,
    personas: Personas | StrPath | None = None,
    *,
    members: int = 10_000,
    days: int = 365,
    start: datetime | str = START,
    seed: int = 0,
    runs: int = 1,
    window: timedelta = timedelta(days=30),
    keep_events: bool = True,
    on_event: Callable[[dict[str, Any]], object] | None = None,
    on_trigger: Callable[[Trigger], object] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> Simulation:
    """Run ``members`` members of ``personas`` (a file, a model, or None for the journey's
    default population) through ``journey`` for ``days`` days from ``start``.

    The same inputs and seed give the same events, triggers, states and summary on every run
    (one generator per member, from the seed and the member's id). ``runs=K`` runs seeds
    ``seed``, ``seed + 1``, ...; the summary then gives each figure's mean and 90% interval,
    and the events, triggers and states are the first run's. ``on_event``, ``on_trigger`` and
    ``progress`` see the first run as it goes.
    """
    model, population, begin = checked(
        journey, personas, members=members, days=days, start=start, seed=seed, runs=runs,
        window=window,
    )  # fmt: skip
    done = []
    for k in range(runs):
        first = k == 0
        done.append(
            run_population(
                model,
                population,
                members=members,
                days=days,
                start=begin,
                seed=seed + k,
                keep_events=keep_events and first,
                on_event=on_event if first else None,
                on_trigger=on_trigger if first else None,
                progress=progress if first else None,
            )
        )
    return Simulation(model, population, done, window)


def checked(
    journey: Journey | StrPath,
    personas: Personas | StrPath | None,
    *,
    members: int,
    days: int,
    start: datetime | str,
    seed: int,
    runs: int,
    window: timedelta,
) -> tuple[Journey, Personas, datetime]:
    """:func:`simulate`'s inputs checked (a :class:`topo.UsageError` says what is wrong): the
    journey, the population (the journey's default one without ``personas``) and the start."""
    for name, value, least in (
        ("members", members, 0),
        ("days", days, 0),
        ("runs", runs, 1),
        ("seed", seed, 0),
    ):
        if type(value) is not int or value < least:
            raise UsageError(f"{name} is a whole number from {least}, got {value!r}")
    if not isinstance(window, timedelta) or window <= timedelta(0):
        raise UsageError(f"the window is a positive duration, such as 30 days; got {window!r}")
    begin = _start(start)
    try:
        begin + timedelta(days=days)
    except OverflowError:
        raise UsageError(
            f"{days:,} days from {begin.isoformat()} end after the year 9999; "
            "simulate fewer days or start earlier"
        ) from None
    model = journey if isinstance(journey, Journey) else load_journey(journey)
    from topo.simulation.defaults import default_personas
    from topo.simulation.personas import check_personas, load_personas

    if isinstance(personas, Personas):
        population = check_personas(personas, model)
    elif personas is None:
        population = default_personas(model)
    else:
        population = load_personas(Path(personas), model)
    return model, population, begin


def _start(start: datetime | str) -> datetime:
    from topo.engine.field_values import Refusal, timestamp

    try:
        return timestamp(start, "the start", False)
    except Refusal as refusal:
        raise UsageError(refusal.reason) from None
