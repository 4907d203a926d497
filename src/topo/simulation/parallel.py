"""A simulation spread over worker processes: the work behind ``topo simulate --workers N``.

Every member's numbers are its own (drawn from the seed and its number), and members never
affect each other in the engine, so a run of a share of the members (those
:func:`topo.workers.worker_of` gives a worker) makes exactly their part of a run of all. Each
worker runs its share (:func:`topo.simulation.runner.run_population` with a
:class:`~topo.simulation.runner.Place`), and its events and triggers are merged back by the
place each had in the order one process of all members keeps: in time order, ties by member
as the runner breaks them, a midnight's timers in the engine's order. States come sorted by
member; the summary is made of every member's walk, in member order, as one process reads
them; counts are summed.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from topo.engine.metrics import microseconds
from topo.engine.triggers import Trigger
from topo.journey.model import Journey
from topo.lines import json_line
from topo.report.walks import Flat, flat_walk, walk, walk_of
from topo.simulation.model import Personas
from topo.simulation.runner import START, Place, run_population
from topo.simulation.simulation import StrPath, checked
from topo.workers import Records, merged, run, worker_count

__all__ = [
    "Outputs",
    "Part",
    "Share",
    "Simulated",
    "joined",
    "run_share",
    "simulate_in_workers",
    "summary_of",
]


@dataclass
class Simulated:
    """What a simulation in workers made: the summary (of all runs), and the first run's
    counts: members who joined, events sent, triggers, and rejected events by reason."""

    summary: dict[str, Any] | None
    joined: int = 0
    sent: int = 0
    triggers: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


@dataclass
class Outputs:
    """What a simulation in workers hands on, each in the order one process would, as JSON
    lines (:mod:`topo.lines`): events sent, triggers and states (the first run's);
    with ``summary``, the summary of all runs is made. A callback left None is not made."""

    event: Callable[[str], object] | None = None
    trigger: Callable[[str], object] | None = None
    state: Callable[[str], object] | None = None
    summary: bool = False


@dataclass
class Share:
    """Share ``number`` of ``count`` of a simulation's members (those
    :func:`topo.workers.worker_of` gives it), and which of its records are wanted."""

    journey: Journey
    personas: Personas
    members: int
    days: int
    start: datetime
    seed: int
    runs: int
    wanted: tuple[bool, bool, bool, bool]  # events, triggers, states, walks
    number: int
    count: int


@dataclass
class Part:
    """What a share made: its counts (the first run's), each run's end, and each run's walks
    by member (with ``walks`` wanted)."""

    simulated: Simulated
    ends: list[datetime]
    walks: list[list[tuple[str, Flat]]]


Sink = Callable[[Any, Any], object]
"""Where a share's records go: ``add(key, value)``, in the share's own order (the key places
the record in the order one process of all members keeps, see :func:`run_share`)."""


_NAMES = ("events", "triggers", "states")


def simulate_in_workers(
    journey: Journey | StrPath,
    personas: Personas | StrPath | None = None,
    *,
    workers: int,
    outputs: Outputs,
    members: int = 10_000,
    days: int = 365,
    start: datetime | str = START,
    seed: int = 0,
    runs: int = 1,
    window: timedelta = timedelta(days=30),
    progress: Callable[[int, int], object] | None = None,
) -> Simulated:
    """:func:`topo.simulate` in ``workers`` processes (the same inputs, checked alike): its
    outputs handed on merged, the same as one process makes them. ``progress`` is told (the
    day the slowest worker has finished, events sent by all)."""
    workers = worker_count(workers)
    journey, personas, start = checked(
        journey, personas, members=members, days=days, start=start, seed=seed, runs=runs,
        window=window,
    )  # fmt: skip
    wanted = (
        outputs.event is not None,
        outputs.trigger is not None,
        outputs.state is not None,
        outputs.summary,
    )
    with tempfile.TemporaryDirectory(prefix="topo-simulate-") as folder:
        tasks = [
            (Share(journey, personas, members, days, start, seed, runs, wanted, n, workers), folder)
            for n in range(workers)
        ]

        def told(values: list[float]) -> None:
            if progress is not None:
                progress(int(min(values[0::2])), int(sum(values[1::2])))

        parts: list[Part] = run(_work, tasks, progress=told)
        files = [[Records(Path(folder) / f"{n}.{name}") for n in range(workers)] for name in _NAMES]
        for callback, records in zip(
            (outputs.event, outputs.trigger, outputs.state), files, strict=True
        ):
            if callback is not None:
                for value in merged(records):
                    callback(value)
    simulated = joined(parts)
    if outputs.summary:
        simulated.summary = summary_of(journey, parts, window)
    return simulated


def joined(parts: list[Part]) -> Simulated:
    """The shares' counts added up (the summary is left to :func:`summary_of`)."""
    simulated = Simulated(None)
    for part in parts:
        mine = part.simulated
        simulated.joined += mine.joined
        simulated.sent += mine.sent
        simulated.triggers += mine.triggers
        simulated.rejected.update(mine.rejected)
    return simulated


def summary_of(journey: Journey, parts: list[Part], window: timedelta) -> dict[str, Any]:
    """The summary of all runs, from every share's walks merged in member order, as one
    process of all members reads them."""
    from topo.report.aggregate import combine
    from topo.report.summary import summarise_walks

    each = []
    for k, end in enumerate(parts[0].ends):
        walks = [walk_of(flat) for flat in merged([part.walks[k] for part in parts])]
        each.append(summarise_walks(journey, walks, end=end, window=window, source="simulation"))
    return each[0] if len(each) == 1 else combine(each)


def _work(task: Share, folder: str, report: Callable[[float, float], None]) -> Part:
    """One worker: its share of the members through every run; records to files."""
    files = {name: Records(Path(folder) / f"{task.number}.{name}") for name in _NAMES}
    part = run_share(task, {name: file.add for name, file in files.items()}, report)
    for file in files.values():
        file.close()
    return part


def run_share(
    task: Share, sinks: Mapping[str, Sink], report: Callable[[float, float], None]
) -> Part:
    """A share of the members through every run: its events, triggers and states (the first
    run's, as wanted) to ``sinks["events"]``, ``["triggers"]`` and ``["states"]`` with their
    keys; ``report(day, events sent)`` told at each midnight of the first run."""
    events, triggers, states, walks = task.wanted
    part = Part(Simulated(None), [], [])
    for k in range(task.runs):
        first = k == 0
        place = Place(task.number, task.count)
        count = [0]
        sent = [0]

        def key(extra: tuple[Any, ...] = (), place: Place = place, count: list[int] = count) -> Any:
            count[0] += 1
            return (*place.key, *extra, count[0])

        def event(value: dict[str, Any], sent: list[int] = sent) -> None:
            sent[0] += 1
            if events:
                sinks["events"](key(), json_line(value))

        def trigger(value: Trigger, place: Place = place) -> None:
            extra = (microseconds(value.at), value.member) if place.key[1] in (-1, 2) else ()
            sinks["triggers"](key(extra), json_line(value.to_dict()))

        def progress(day: int, days: int, sent: list[int] = sent) -> None:
            report(day, sent[0])

        done = run_population(
            task.journey,
            task.personas,
            members=task.members,
            days=task.days,
            start=task.start,
            seed=task.seed + k,
            keep_events=False,
            on_event=event if first else None,
            on_trigger=trigger if first and triggers else None,
            progress=progress if first else None,
            place=place,
        )
        engine = done.engine
        ids = sorted(engine.store.members()) if (first and states) or walks else []
        if first:
            part.simulated = Simulated(
                None,
                sum(1 for _ in engine.store.members()),
                done.sent,
                len(done.triggers),
                Counter(done.rejected),
            )
            if states:
                for member in ids:
                    found = engine.state(member, as_of=done.end)
                    assert found is not None
                    keys = ("member", "node", "entered_at", "metrics", "attributes")
                    sinks["states"](member, json_line({k: found[k] for k in keys}))
        part.ends.append(done.end)
        if walks:
            store = engine.store
            listed = [(m, flat_walk(walk(s))) for m in ids if (s := store.get(m)) is not None]
            part.walks.append(listed)
    return part
