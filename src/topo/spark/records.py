"""What a Spark task hands back: records, each placed by its key in the order one process writes.

Every task (a partition of a replay's members, a share of a simulation's) turns its outputs
into rows of one Arrow schema, :data:`RECORDS`: which output the record belongs to, its key as
:func:`topo.workers.sortable` bytes (the key that places it, made as
:mod:`topo.replay.shares` and :func:`topo.simulation.parallel.run_share` make it for worker
processes), and the record: a JSON line as topo writes it, or a pickled value (a member's walk,
a task's counts) for the driver. Sorting the records of one output by ``key`` gives the order
one process writes, as :func:`topo.workers.merged` gives it to the worker processes' records.
"""

from __future__ import annotations

import pickle
from typing import Any

import pyarrow

from topo.workers import sortable

__all__ = ["RECORDS", "RECORDS_DDL", "Collector"]

RECORDS = pyarrow.schema(
    [
        ("output", pyarrow.string()),
        ("key", pyarrow.binary()),
        ("line", pyarrow.string()),
        ("blob", pyarrow.binary()),
    ]
)
RECORDS_DDL = "output string, key binary, line string, blob binary"
"""The same schema, as Spark reads it."""

_BATCH = 4_096  # records handed to Spark at once


class Collector:
    """A task's records, gathered until there are enough for an Arrow batch."""

    def __init__(self) -> None:
        self._columns: tuple[list[Any], ...] = ([], [], [], [])

    def sink(self, output: str) -> Any:
        """``add(key, value)`` for the records of ``output`` (``key``: a tuple, or one text
        or number; ``value``: a JSON line, or anything to pickle)."""

        def add(key: Any, value: Any) -> None:
            self.add(output, key if isinstance(key, tuple) else (key,), value)

        return add

    def add(self, output: str, key: tuple[Any, ...], value: Any) -> None:
        outputs, keys, lines, blobs = self._columns
        outputs.append(output)
        keys.append(sortable(key))
        if isinstance(value, str):
            lines.append(value)
            blobs.append(None)
        else:
            lines.append(None)
            blobs.append(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def full(self) -> bool:
        return len(self._columns[0]) >= _BATCH

    def take(self) -> pyarrow.RecordBatch:
        """The records gathered since the last take, as one batch."""
        arrays = [
            pyarrow.array(column, type=field.type)
            for column, field in zip(self._columns, RECORDS, strict=True)
        ]
        self._columns = ([], [], [], [])
        return pyarrow.RecordBatch.from_arrays(arrays, schema=RECORDS)

    def __len__(self) -> int:
        return len(self._columns[0])
