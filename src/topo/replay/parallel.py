"""A replay spread over worker processes: the work behind ``topo replay --workers N``.

Each worker reads the whole input and processes the events of its members only
(:func:`topo.workers.worker_of`: a stable hash of the member id; a line naming no member goes to
worker 0), through its own in-memory engine, with :func:`topo.replay.runner.replay`. Members
never affect each other, so the workers together make exactly what one process makes; their
records (keyed as :mod:`topo.replay.shares` says) are merged back in the order one process
writes them:

- triggers and withheld grants: those of the events in input order (by the line or row of
  the event that made them), then those of the advance to ``until`` in due-time order across
  members (ties: member id), as :meth:`topo.Engine.tick` fires them;
- rejects in input order; states sorted by member id;
- the report's counts and funnel summed; the summary's figures from every member's walk, in
  member order, as one process reads them.

A durable store is refused (its resumption notes how far one ordered stream came; several
writers would need as many files, and a resume the same split), and so is stdin (each worker
reads the input itself).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from topo.engine.engine import Engine
from topo.engine.stores import MemoryStore
from topo.errors import UsageError
from topo.journey.model import Journey
from topo.replay.readers import Reading, read_events
from topo.replay.runner import ReplayReport, replay
from topo.replay.shares import Latest, Place, latest_of, member_records, summed
from topo.report.walks import Flat, Walk, walk_of
from topo.workers import Records, merged, run

__all__ = ["Outputs", "Replayed", "replay_in_workers"]


@dataclass
class Outputs:
    """What a replay in workers hands on, each in the order one process would, as JSON lines
    (:mod:`topo.lines`): triggers, rejects, withheld grants and states (:func:`state_line`);
    with ``walks`` every member's walk for the summary. A callback left None is not made."""

    trigger: Callable[[str], object] | None = None
    reject: Callable[[str], object] | None = None
    withheld: Callable[[str], object] | None = None
    state: Callable[[str], object] | None = None
    walks: bool = False


@dataclass
class Replayed:
    """A replay in workers: the report (counts summed), and with ``Outputs.walks`` every
    member's walk in member order and the latest member clock (for the summary's end)."""

    report: ReplayReport
    walks: list[Walk] = field(default_factory=list)
    latest: datetime | None = None


@dataclass
class _Task:
    journey: Journey
    events: str
    until: datetime | None
    backfill: bool
    wanted: tuple[bool, bool, bool, bool, bool]  # triggers, rejects, withheld, states, walks
    folder: str
    number: int
    count: int


@dataclass
class _Part:
    report: ReplayReport
    walks: list[tuple[str, Flat]]
    latest: Latest


_NAMES = ("triggers", "rejects", "withheld", "states")


def replay_in_workers(
    journey: Journey,
    events: str | Path,
    *,
    workers: int,
    outputs: Outputs,
    until: datetime | None = None,
    backfill: bool = False,
    progress: Callable[[float, int], object] | None = None,
) -> Replayed:
    """Replay the events of the file ``events`` through ``journey`` (in-memory store) in
    ``workers`` processes; hand on the outputs merged, as :func:`replay` would make them.
    ``progress`` is told (fraction read by the slowest worker, events read by all)."""
    if str(events) == "-":
        raise UsageError(
            "with --workers above 1 each worker reads the events itself, which stdin cannot "
            "give twice: write them to a file, or use --workers 1"
        )
    if outputs.withheld is not None and backfill:
        raise UsageError("a backfill withholds no trigger: ask for withheld grants without it")
    wanted = (
        outputs.trigger is not None and not backfill,
        outputs.reject is not None,
        outputs.withheld is not None,
        outputs.state is not None,
        outputs.walks,
    )
    with tempfile.TemporaryDirectory(prefix="topo-replay-") as folder:
        tasks = [
            (_Task(journey, str(events), until, backfill, wanted, folder, number, workers),)
            for number in range(workers)
        ]
        told = None if progress is None else _told(progress, workers)
        parts: list[_Part] = run(_work, tasks, progress=told)
        _hand_on(outputs, [_files(folder, workers, name) for name in _NAMES])
    return _joined(parts)


def _told(progress: Callable[[float, int], object], workers: int) -> Callable[[list[float]], None]:
    def told(values: list[float]) -> None:
        progress(min(values[0::2]), int(sum(values[1::2])))

    return told


def _files(folder: str, workers: int, name: str) -> list[Records]:
    return [Records(Path(folder) / f"{number}.{name}") for number in range(workers)]


def _hand_on(outputs: Outputs, files: list[list[Records]]) -> None:
    wanted = (outputs.trigger, outputs.reject, outputs.withheld, outputs.state)
    for callback, records in zip(wanted, files, strict=True):
        if callback is not None:
            for line in merged(records):
                callback(line)


def _joined(parts: list[_Part]) -> Replayed:
    report = summed([part.report for part in parts])
    walks = [walk_of(flat) for flat in merged([part.walks for part in parts])]
    latest = latest_of([part.latest for part in parts])
    return Replayed(report, walks, None if latest is None else latest[0])


def _work(task: _Task, report: Callable[..., None]) -> _Part:
    """One worker: its members' events through its own engine; records to files."""
    triggers, rejects, withheld, states, walks = task.wanted
    engine = Engine(
        task.journey, MemoryStore(), backfill=task.backfill, explain=False, withheld=withheld
    )
    reading = Reading()
    files = {name: Records(Path(task.folder) / f"{task.number}.{name}") for name in _NAMES}
    place = Place()
    part = (task.number, task.count)
    items = place.follow(read_events(task.events, task.journey, reading, part=part))
    done = replay(
        engine,
        items,
        until=task.until,
        on_trigger=place.triggers(files["triggers"].add) if triggers else None,
        on_reject=place.rejects(files["rejects"].add) if rejects else None,
        on_withheld=place.withheld(files["withheld"].add) if withheld else None,
        progress=lambda read: report(reading.done() or 0.0, place.read),
    )
    members = sorted(engine.store.members()) if states or walks else []
    found: list[tuple[str, Flat]] = []
    latest = member_records(
        engine,
        members,
        task.until,
        states=files["states"].add if states else None,
        walks=(lambda member, flat: found.append((member, flat))) if walks else None,
    )
    for file in files.values():
        file.close()
    report(1.0, place.read)
    return _Part(done, found, latest)
