"""``topo replay --engine spark`` and ``topo simulate --engine spark``: the runs of topo.spark,
writing the files the local runs write (see docs/spark.md)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from topo.errors import UsageError
from topo.journey.model import Journey

__all__ = ["engine_master", "replay_on_spark", "simulate_on_spark", "spark_failure"]

Writer = Callable[[str], None] | None


def engine_master(engine: str) -> str | None:
    """The Spark master ``--engine`` names (``spark`` alone: ``local[*]``), or None for
    ``local`` (topo's own processes)."""
    if engine == "local":
        return None
    name, _, master = engine.partition(":")
    if name != "spark" or (engine.endswith(":") and not master):
        raise UsageError(
            f"--engine {engine}: an engine is local (the default), spark, or spark:MASTER "
            "(spark:local[4], spark:yarn, spark:spark://host:7077)"
        )
    return master or "local[*]"


def _session(master: str) -> Any:
    try:
        from topo.spark import session
    except ImportError as exc:  # no PySpark: the sentence names the extra
        raise UsageError(str(exc)) from None
    return session(master)


def replay_on_spark(
    args: argparse.Namespace,
    journey: Journey,
    until: Any,
    master: str,
    outputs: dict[str, Writer],
) -> Any:
    """Replay ``args.events`` (a JSON lines file, gzipped or not, or Parquet) on Spark; each
    output's lines to its writer. The replay's :class:`topo.spark.Result`, kept."""
    spark = _session(master)
    from topo.spark.replaying import replay, replay_text
    from topo.spark.sessions import cores

    events = args.events
    kind = _kind(events)
    if "://" not in events and not Path(events).exists():  # Spark would say it in a trace
        raise UsageError(f"{events}: no such file")
    # Without --partitions, a task per core Spark has (its shuffle default, 200, is for
    # clusters: on one machine most tasks would hold a handful of members)
    partitions = args.partitions or cores(spark)
    summary = bool(args.summary or args.report)
    run: Callable[..., Any]
    if kind == "parquet":  # its rows, typed, as topo's Parquet reader reads them
        run, frame = replay, spark.read.parquet(events)
    else:  # its lines, each parsed by topo's own reader
        run, frame = replay_text, spark.read.text(events)
    result = run(
        frame, journey, until=until, backfill=args.backfill, partitions=partitions, summary=summary
    )
    result.persist()
    for name, write in outputs.items():
        if write is not None:
            for line in result.lines(name):
                write(line)
    return result


def _kind(events: str) -> str:
    if events == "-":
        raise UsageError(
            "--engine spark reads the events where Spark's tasks can: give a file or a "
            "folder's path, not stdin"
        )
    name = events.lower().rstrip("/")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")):
        return "text"
    raise UsageError(
        f"{events}: --engine spark reads JSON lines (.jsonl, gzipped or not) or Parquet "
        "(.parquet); replay a CSV file without it"
    )


def simulate_on_spark(
    args: argparse.Namespace,
    journey: Journey,
    personas: Any,
    start: Any,
    master: str,
    outputs: dict[str, Writer],
) -> Any:
    """Simulate on Spark; the first run's lines to their writers. The
    :class:`topo.spark.Simulation`."""
    spark = _session(master)
    from topo.spark.simulating import simulate

    done = simulate(
        spark,
        journey,
        personas,
        members=args.members,
        days=args.days,
        start=start,
        seed=args.seed,
        runs=args.runs,
        partitions=args.partitions,
        outputs=tuple(name for name, write in outputs.items() if write is not None),
        summary=bool(args.summary or args.report),
    )
    for name, write in outputs.items():
        if write is not None:
            for line in done.lines(name):
                write(line)
    return done


def spark_failure(exc: BaseException) -> str | None:
    """What Spark (or its Java side) said went wrong, in one sentence, or None for an error
    that is not Spark's: its error condition (``PATH_NOT_FOUND``, ``CAST_INVALID_INPUT``, ...)
    or class, never its message, which may quote a value of the events (an attribute marked
    pii among them); Spark's log holds the rest."""
    if type(exc).__module__.split(".")[0] not in ("pyspark", "py4j"):
        return None
    condition = getattr(exc, "getCondition", None)
    named = condition() if callable(condition) else None
    return (
        f"Spark could not finish the run ({named or type(exc).__name__}); its log says more, "
        "and may show values of the events"
    )
