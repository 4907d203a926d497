"""``topo.spark.simulate``: a simulation whose members are made where they run, in Spark tasks.

Every member's numbers are its own (drawn from the seed and its number, see
:mod:`topo.simulation.sampling`), and members never affect each other, so task ``k`` of ``n``
runs the members :func:`topo.workers.worker_of` gives share ``k``
(:func:`topo.simulation.parallel.run_share`, as a worker process of ``topo simulate --workers``
does): nothing but the share's number travels to it. Its events, triggers and states come back
as records keyed by their place in the order one process keeps; its counts and its members'
walks as one record, from which the driver makes the summary of all runs exactly as one
process makes it (:func:`topo.simulation.parallel.summary_of`).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from topo.errors import UsageError
from topo.journey.model import Journey
from topo.simulation.model import Personas
from topo.simulation.parallel import Part, Share, Simulated, joined, run_share, summary_of
from topo.simulation.runner import START
from topo.simulation.simulation import StrPath, checked
from topo.spark.records import RECORDS_DDL, Collector
from topo.spark.sessions import cores

__all__ = ["Simulation", "simulate"]

_OUTPUTS = ("events", "triggers", "states")


class Simulation:
    """A simulation on Spark: the summary of all runs (as ``topo simulate --summary`` writes
    it), the first run's counts, and its events, triggers and states as JSON lines."""

    def __init__(
        self, records: DataFrame, journey: Journey, window: timedelta, walks: bool
    ) -> None:
        self.records = records.persist()
        self._walks = walks
        parts = [
            pickle.loads(row["blob"])
            for row in records.where(F.col("output") == "part").orderBy("key").collect()
        ]
        self.parts: list[Part] = parts
        self.counts: Simulated = joined(parts)
        self._journey, self._window = journey, window
        self._summary: dict[str, Any] | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """The report's figures, as ``topo simulate`` with the same seed makes them."""
        if not self._walks:
            raise UsageError(
                "this simulation kept no walks for a summary: run it with summary=True"
            )
        if self._summary is None:
            self._summary = summary_of(self._journey, self.parts, self._window)
        return self._summary

    def lines(self, output: str) -> Iterator[str]:
        """The first run's JSON lines of ``output`` (events, triggers, states) in the order
        ``topo simulate`` writes them."""
        if output not in _OUTPUTS:
            raise UsageError(
                f"a simulation's outputs are events, triggers and states, not {output!r}"
            )
        rows = self.records.where(F.col("output") == output).orderBy("key").select("line")
        return (row["line"] for row in rows.toLocalIterator())

    def unpersist(self) -> None:
        self.records.unpersist()


def simulate(
    spark: SparkSession,
    journey: Journey | StrPath,
    personas: Personas | StrPath | None = None,
    *,
    members: int = 10_000,
    days: int = 365,
    start: datetime | str = START,
    seed: int = 0,
    runs: int = 1,
    window: timedelta = timedelta(days=30),
    partitions: int | None = None,
    outputs: tuple[str, ...] = (),
    summary: bool = True,
) -> Simulation:
    """:func:`topo.simulate` on Spark, its members spread over ``partitions`` tasks (default:
    the session's default parallelism): the same summary for any number of partitions.
    ``outputs`` names the first run's lines to keep too (events, triggers, states).
    ``summary=False`` makes no summary, and brings no member's walk to the driver (each walk
    takes about a kilobyte of the driver's memory until the summary is made)."""
    model, population, begin = checked(
        journey, personas, members=members, days=days, start=start, seed=seed, runs=runs,
        window=window,
    )  # fmt: skip
    count = cores(spark) if partitions is None else partitions
    if type(count) is not int or count < 1:
        raise UsageError(f"partitions is a whole number from 1, not {partitions!r}")
    unknown = [name for name in outputs if name not in _OUTPUTS]
    if unknown:
        raise UsageError(
            f"a simulation's outputs are events, triggers and states, not {unknown[0]!r}"
        )
    events, triggers, states = (name in outputs for name in _OUTPUTS)
    wanted = (events, triggers, states, summary)
    share = Share(model, population, members, days, begin, seed, runs, wanted, 0, count)
    numbers = spark.range(0, count, 1, numPartitions=count)
    records = numbers.mapInArrow(_Shares(pickle.dumps(share)), RECORDS_DDL)
    return Simulation(records, model, window, summary)


class _Shares:
    """A task: the shares whose numbers it is given, each run into records."""

    def __init__(self, share: bytes) -> None:
        self.share = share

    def __call__(self, batches: Iterator[pyarrow.RecordBatch]) -> Iterator[pyarrow.RecordBatch]:
        for batch in batches:
            for number in batch.column("id").to_pylist():
                out = Collector()
                share: Share = pickle.loads(self.share)
                share.number = number
                sinks = {name: out.sink(name) for name in _OUTPUTS}
                part = run_share(share, sinks, lambda day, sent: None)
                out.add("part", (number,), part)
                yield out.take()
