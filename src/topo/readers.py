"""Reading events from files: JSON lines, CSV and Parquet, one event at a time.

:func:`read_events` yields ``(position, event)`` pairs, or ``(position, Unreadable)`` for a
line that is not an event at all (not JSON, not an object), so that a replay can report it and
go on. Files may be gzipped (``.jsonl.gz``, ``.csv.gz``); ``-`` reads JSON lines from stdin.

CSV has no types, so its cells are typed by the journey: the fields a row's event type declares
become int, float or bool as declared, an empty cell is an absent field, and everything else
stays text (the event check then says what is wrong). Parquet needs the optional ``pyarrow``
package (``pip install "topo[parquet]"``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from topo.errors import UsageError
from topo.model import Journey

__all__ = ["Reading", "Unreadable", "read_events"]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A line of the input that is not an event, and why."""

    text: str
    reason: str


Item = tuple[int, Mapping[str, Any] | Unreadable]


class Reading:
    """How far the reading of one input has come, for a progress bar: bytes of the file (as
    stored: compressed for .gz) or rows of a Parquet file. Unknown for stdin."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.position: Callable[[], int] | None = None
        self.finished = False

    def done(self) -> float | None:
        """The fraction of the input read so far, or None when it cannot be known."""
        if self.finished:
            return 1.0
        if not self.total or self.position is None:
            return None
        return min(1.0, self.position() / self.total)


def read_events(
    source: str | Path, journey: Journey, reading: Reading | None = None
) -> Iterator[Item]:
    """The events of ``source`` (a path, or ``-`` for JSON lines on stdin), in file order;
    ``reading``, when given, follows how far the reading has come."""
    name = str(source)
    if name == "-":
        yield from _json_lines(sys.stdin)
        return
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    reading = reading if reading is not None else Reading()
    suffixes = [s.lower() for s in path.suffixes]
    kind = (
        suffixes[-2]
        if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1
        else suffixes[-1]
        if suffixes
        else ""
    )
    if kind in (".jsonl", ".ndjson", ".json"):
        with _open(path, reading) as text:
            yield from _json_lines(text)
    elif kind == ".csv":
        with _open(path, reading) as text:
            yield from _csv_rows(text, journey)
    elif kind == ".parquet":
        yield from _parquet_rows(path, reading)
    else:
        raise UsageError(
            f"{path}: events are read from .jsonl, .csv or .parquet files (or - for stdin)"
        )


@contextmanager
def _open(path: Path, reading: Reading) -> Iterator[IO[str]]:
    """The file as text (gunzipped for .gz); ``reading`` follows the bytes read from disk."""
    with path.open("rb") as raw:
        reading.total, reading.position = path.stat().st_size, raw.tell
        binary: IO[bytes] = raw
        if path.suffix.lower() == ".gz":
            binary = cast(IO[bytes], gzip.GzipFile(fileobj=raw))
        try:
            with io.TextIOWrapper(binary, encoding="utf-8", newline="") as text:
                yield text
        finally:
            reading.finished = True


def _json_lines(text: IO[str]) -> Iterator[Item]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield (
                number,
                Unreadable(line.rstrip("\n"), f"not JSON: {exc.msg} at column {exc.colno}"),
            )
            continue
        if not isinstance(value, dict):
            yield (
                number,
                Unreadable(line.rstrip("\n"), "not an event: a line holds one JSON object"),
            )
            continue
        yield number, value


def _csv_rows(text: IO[str], journey: Journey) -> Iterator[Item]:
    types = {
        name: {f: spec.type for f, spec in event.fields.items()}
        for name, event in journey.events.items()
    }
    types["profile"] = {name: attribute.type for name, attribute in journey.attributes.items()}
    for number, row in enumerate(csv.DictReader(text), start=2):  # line 1 is the header
        declared = types.get(row.get("type") or "", {})
        event: dict[str, Any] = {}
        for key, cell in row.items():
            if key is None or cell is None or cell == "":
                continue  # an empty cell is an absent field
            event[key] = _typed(cell, declared.get(key))
        yield number, event


def _typed(cell: str, kind: str | None) -> Any:
    try:
        if kind == "int":
            return int(cell)
        if kind == "float":
            return float(cell)
    except ValueError:
        return cell  # the event check says what is wrong with it
    if kind == "bool" and cell.lower() in ("true", "false"):
        return cell.lower() == "true"
    return cell


def _parquet_rows(path: Path, reading: Reading) -> Iterator[Item]:
    try:
        import pyarrow.parquet as parquet  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise UsageError(
            f'{path}: reading Parquet needs pyarrow: pip install "topo[parquet]"'
        ) from None
    number = 0
    table = parquet.ParquetFile(path)
    reading.total, reading.position = table.metadata.num_rows, lambda: number
    for batch in table.iter_batches():
        for row in batch.to_pylist():
            number += 1
            yield number, {key: value for key, value in row.items() if value is not None}
