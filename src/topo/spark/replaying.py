"""``topo.spark.replay``: a replay of a DataFrame of events, its members spread over Spark tasks.

How: every row gets a sequence number before anything moves (Spark's
``monotonically_increasing_id``: the partition in its high bits, the row within it in the low
ones, so it follows the DataFrame's order); rows are hash-partitioned by member and sorted
within each partition by (member, sequence number); each partition is folded as a stream
(``mapInArrow``), one member at a time: the member's events, in input order, go through a
fresh :class:`topo.Engine` of the journey (compiled once per Python worker) with
:func:`topo.replay.runner.replay`, which then advances the member's clock to ``until``; its
state line and walk are written, and the member is dropped. Members never affect each other,
so this is exactly ``topo replay``: the same triggers with the same ids, rejects, withheld
grants and states. Each record carries the key that places it in one process's order
(:mod:`topo.replay.shares`), and the outputs are sorted by it.

A row's ``line`` (in rejects, and what orders triggers) is its 1-based number in the
DataFrame's order: a small counting job before the replay finds how many rows each input
partition holds. Rows whose member is missing (null) or not text all go to one partition and
are rejected there, as ``topo replay`` rejects them, in input order with the rest.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

import pyarrow
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from topo.engine.compiled import CompiledJourney, compile_journey
from topo.engine.engine import Engine
from topo.engine.field_values import Refusal, timestamp
from topo.engine.stores import MemoryStore
from topo.errors import UsageError
from topo.journey.model import Journey
from topo.replay.readers import Item, json_item, row_event
from topo.replay.runner import ReplayReport
from topo.replay.runner import replay as replay_events
from topo.replay.shares import Latest, Place, latest_of, member_records, summed
from topo.report.walks import Walk, walk_of
from topo.spark.records import RECORDS_DDL, Collector
from topo.spark.schemas import TRIGGER, WITHHELD, state_schema

__all__ = ["Result", "replay"]

SEQ, KEY = "_topo_seq", "_topo_member"
"""The columns a replay adds: the input sequence number and the member to partition by."""

_ROW_BITS = 33  # monotonically_increasing_id: the row within its partition in the low 33 bits
ENVELOPE = ("id", "member", "type", "at")


class Result:
    """A replay on Spark: its outputs as DataFrames whose columns are the JSON fields of
    ``topo replay``'s files, typed, each sorted in the order ``topo replay`` writes them.

    Spark computes lazily: each output asked for runs the replay again unless the result is
    kept with :meth:`persist` first."""

    def __init__(
        self, records: DataFrame, journey: Journey, until: datetime | None, summary: bool
    ) -> None:
        self.records = records
        self.journey = journey
        self.until = until
        self.kept_walks = summary

    @property
    def triggers(self) -> DataFrame:
        """The triggers: events' in input order, then those of the advance to ``until``."""
        return self._typed("triggers", TRIGGER)

    @property
    def withheld(self) -> DataFrame:
        """Each grant a cap withheld (the would-be trigger), with ``withheld`` and ``cap``."""
        return self._typed("withheld", WITHHELD)

    @property
    def states(self) -> DataFrame:
        """Each member's state as of ``until`` (or its last event), sorted by member."""
        return self._typed("states", state_schema(self.journey))

    @property
    def rejects(self) -> DataFrame:
        """The rejected rows in input order: the event (pii masked) as JSON text, why, and
        its row number."""
        lines = self._sorted("rejects")
        return lines.select(
            F.get_json_object("line", "$.event").alias("event"),
            F.get_json_object("line", "$.reason").alias("reason"),
            F.get_json_object("line", "$.line").cast("long").alias("line"),
        )

    def persist(self) -> Result:
        """Keep the replay's records (memory, then disk) so that every output and count is
        read from one run; :meth:`unpersist` lets them go."""
        self.records.persist()
        return self

    def unpersist(self) -> None:
        self.records.unpersist()

    def lines(self, output: str) -> Iterator[str]:
        """The JSON lines of ``output`` (triggers, states, rejects, withheld) as ``topo
        replay`` writes them, in its order, streamed to the driver a partition at a time."""
        if output not in ("triggers", "states", "rejects", "withheld"):
            raise UsageError(
                f"a replay's outputs are triggers, states, rejects and withheld, not {output!r}"
            )
        rows = self._sorted(output).select("line").toLocalIterator()
        return (row["line"] for row in rows)

    def report(self) -> ReplayReport:
        """What the replay did, as ``topo replay`` reports it: counts, rejects by kind, funnel."""
        return summed(report for report, _ in self._reports())

    def latest(self) -> datetime | None:
        """The latest clock of any member (for the summary's end)."""
        found = latest_of(latest for _, latest in self._reports())
        return None if found is None else found[0]

    def walks(self) -> Iterator[Walk]:
        """Every member's walk, in member order, for the report's figures (a replay made
        with ``summary=True``)."""
        if not self.kept_walks:
            raise UsageError("this replay kept no walks for a summary: replay with summary=True")
        for row in self._sorted("walks").select("blob").toLocalIterator():
            yield walk_of(pickle.loads(row["blob"]))

    def summary(self, end: datetime | None = None) -> dict[str, Any]:
        """The report's figures (``topo replay --summary``) as of ``end``: by default ``until``,
        or the latest member clock when that is later."""
        from topo.report.summary import summarise_walks

        if end is None:
            latest = self.latest()
            end = self.until if latest is None or (self.until and self.until >= latest) else latest
        if end is None:
            raise UsageError("a replay of no member has no end for its summary: give end=")
        return summarise_walks(self.journey, list(self.walks()), end=end, source="replay")

    def _reports(self) -> list[tuple[ReplayReport, Latest]]:
        rows = self.records.where(F.col("output") == "report").select("blob").collect()
        return [pickle.loads(row["blob"]) for row in rows]

    def _sorted(self, output: str) -> DataFrame:
        return self.records.where(F.col("output") == output).orderBy("key")

    def _typed(self, output: str, schema: Any) -> DataFrame:
        lines = self._sorted(output).select(F.from_json("line", schema).alias("r"))
        return lines.select("r.*")


def replay(
    df: DataFrame,
    journey: Journey,
    *,
    until: datetime | str | None = None,
    backfill: bool = False,
    partitions: int | None = None,
    summary: bool = False,
) -> Result:
    """Replay the events of ``df`` (one a row: the columns ``id``, ``member``, ``type``, ``at``
    and the journey's fields, as a Parquet file of events holds them) through ``journey``, in
    the DataFrame's order, on Spark; then advance every member's clock to ``until``.

    ``partitions``: how many tasks the members are spread over (default: the session's
    ``spark.sql.shuffle.partitions``). ``backfill=True`` records grants and makes no trigger.
    ``summary=True`` keeps every member's walk too, for :meth:`Result.summary` (it costs about
    a third more of the tasks' time).
    The result's outputs equal ``topo replay``'s on the same events in the same order."""
    if not hasattr(df, "mapInArrow"):
        raise UsageError(
            f"replay takes a Spark DataFrame of events, got {type(df).__name__}: read one "
            'with spark.read (spark.read.parquet("events.parquet"))'
        )
    missing = [name for name in ENVELOPE if name not in df.columns]
    if missing:
        raise UsageError(
            f"a DataFrame of events needs the columns id, member, type and at (missing: "
            f"{', '.join(missing)})"
        )
    taken = [name for name in (SEQ, KEY) if name in df.columns]
    if taken:
        raise UsageError(f"the column {taken[0]} is topo's own; rename it in the DataFrame")
    keyed = df.withColumn(KEY, F.col("member"))
    return _run(keyed, journey, until, backfill, partitions, summary, "rows")


def replay_text(
    lines: DataFrame,
    journey: Journey,
    *,
    until: datetime | str | None = None,
    backfill: bool = False,
    partitions: int | None = None,
    summary: bool = False,
) -> Result:
    """:func:`replay` of the lines of a JSON lines file (``spark.read.text``: one column,
    ``value``), each read as ``topo replay`` reads it (a line that is no event is rejected
    as unreadable, a blank line skipped; ``line`` is the line's number in the file)."""
    keyed = lines.withColumn(KEY, F.get_json_object("value", "$.member"))
    return _run(keyed, journey, until, backfill, partitions, summary, "text")


def _run(
    keyed: DataFrame,
    journey: Journey,
    until: datetime | str | None,
    backfill: bool,
    partitions: int | None,
    summary: bool,
    form: str,
) -> Result:
    if not isinstance(journey, Journey):
        raise UsageError(
            f"replay runs a journey, got {type(journey).__name__}: load it first, as in "
            'topo.load_journey("journeys/club.yaml")'
        )
    moment = _until(until)
    if partitions is not None and (type(partitions) is not int or partitions < 1):
        raise UsageError(f"partitions is a whole number from 1, not {partitions!r}")
    # Numbered once and kept (on the executors): the count of each partition's rows and the
    # replay must see the same partitions, which a DataFrame computed twice need not give (a
    # shuffle's partitions coalesced by adaptive execution by their sizes, say).
    numbered = keyed.withColumn(SEQ, F.monotonically_increasing_id()).localCheckpoint()
    starts = _partition_starts(numbered)
    spark = keyed.sparkSession
    count = partitions or int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    fold = _Fold(pickle.dumps(journey), moment, backfill, summary, starts, form)
    spread = numbered.repartition(count, KEY).sortWithinPartitions(KEY, SEQ)
    return Result(spread.mapInArrow(fold, RECORDS_DDL), journey, moment, summary)


def _until(until: datetime | str | None) -> datetime | None:
    if until is None:
        return None
    try:
        return timestamp(until, "until", False)
    except Refusal as refusal:
        raise UsageError(refusal.reason) from None


def _partition_starts(numbered: DataFrame) -> dict[int, int]:
    """For each input partition, how many rows come before it (a small job of its own)."""
    part = F.shiftrightunsigned(F.col(SEQ), _ROW_BITS).alias("part")
    counts = numbered.select(part).groupBy("part").count().collect()
    starts, before = {}, 0
    for row in sorted(counts, key=lambda row: row["part"]):
        starts[row["part"]] = before
        before += row["count"]
    return starts


def in_utc(batch: pyarrow.RecordBatch) -> pyarrow.RecordBatch:
    """``batch`` with its times (timestamps with a zone) in UTC.

    Spark hands a task its timestamps in the session's time zone (``spark.sql.session.timeZone``,
    by default the machine's), where topo's own Parquet reader reads the instants a file holds
    in UTC; topo keeps the offset a time comes with (in triggers, states and windows), so the
    same file must give the same offsets."""
    columns = batch.columns
    moved = False
    for index, field in enumerate(batch.schema):
        kind = field.type
        if pyarrow.types.is_timestamp(kind) and kind.tz is not None and kind.tz != "UTC":
            columns[index] = columns[index].cast(pyarrow.timestamp(kind.unit, tz="UTC"))
            moved = True
    return pyarrow.RecordBatch.from_arrays(columns, names=batch.schema.names) if moved else batch


_COMPILED: dict[str, CompiledJourney] = {}
"""Journeys compiled in this Python worker (Spark reuses workers): by the pickle's digest."""


class _Fold:
    """One partition's rows, sorted by member then input order, folded one member at a time
    into records (a picklable callable: Spark sends it to every task)."""

    def __init__(
        self,
        journey: bytes,
        until: datetime | None,
        backfill: bool,
        walks: bool,
        starts: dict[int, int],
        form: str,
    ) -> None:
        self.journey, self.until, self.backfill, self.walks = journey, until, backfill, walks
        self.starts, self.form = starts, form

    def __call__(self, batches: Iterator[pyarrow.RecordBatch]) -> Iterator[pyarrow.RecordBatch]:
        compiled = self._compiled()
        out = Collector()
        place = Place()
        report = ReplayReport()  # the partition's, summed member by member
        latest: Latest = None
        withheld = not self.backfill
        sinks = {
            name: out.sink(name) for name in ("triggers", "rejects", "withheld", "states", "walks")
        }
        for _, rows in groupby(self._rows(batches), key=lambda row: row[KEY]):
            engine = Engine(compiled, MemoryStore(), backfill=self.backfill, withheld=withheld)
            made = replay_events(
                engine,
                place.follow(self._items(rows)),
                until=self.until,
                on_trigger=None if self.backfill else place.triggers(sinks["triggers"]),
                on_reject=place.rejects(sinks["rejects"]),
                on_withheld=place.withheld(sinks["withheld"]) if withheld else None,
            )
            report = summed([report, made])
            members = sorted(engine.store.members())
            mine = member_records(
                engine,
                members,
                self.until,
                states=sinks["states"],
                walks=sinks["walks"] if self.walks else None,
            )
            latest = latest_of([latest, mine])
            if out.full():
                yield out.take()
        out.add("report", (), (report, latest))
        yield out.take()

    def _compiled(self) -> CompiledJourney:
        digest = hashlib.sha256(self.journey).hexdigest()
        found = _COMPILED.get(digest)
        if found is None:
            found = _COMPILED[digest] = compile_journey(pickle.loads(self.journey))
        return found

    @staticmethod
    def _rows(batches: Iterator[pyarrow.RecordBatch]) -> Iterator[dict[str, Any]]:
        for batch in batches:
            yield from in_utc(batch).to_pylist()

    def _items(self, rows: Iterator[dict[str, Any]]) -> Iterator[Item]:
        starts = self.starts
        mask = (1 << _ROW_BITS) - 1
        text = self.form == "text"
        for row in rows:
            seq = row.pop(SEQ)
            line = starts[seq >> _ROW_BITS] + (seq & mask) + 1
            del row[KEY]
            if not text:
                decimals = [name for name, value in row.items() if isinstance(value, Decimal)]
                yield line, row_event(row, decimals)
                continue
            value = row["value"]
            if line == 1:
                value = value.removeprefix("\ufeff")  # a byte order mark, as topo reads files
            if value.strip():
                yield json_item(line, value)
