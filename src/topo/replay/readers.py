"""Reading events from files: JSON lines, CSV and Parquet, one event at a time.

:func:`read_events` yields ``(position, event)`` pairs, or ``(position, Unreadable)`` for a
line that is not an event at all (not JSON, not an object), so that a replay can report it and
go on. Files may be gzipped (``.jsonl.gz``, ``.csv.gz``); ``-`` reads JSON lines from stdin.

CSV has no types, so its cells are typed by the journey: the fields a row's event type declares
become int, float or bool as declared, an empty cell is an absent field, and everything else
stays text (the event check then says what is wrong). Parquet needs the optional ``pyarrow``
package (topo's ``parquet`` extra: ``pip install pyarrow``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

from topo.engine.field_values import clip
from topo.errors import UsageError
from topo.journey.model import Journey
from topo.journey.number_range import RANGE_TEXT
from topo.workers import worker_of

__all__ = ["Reading", "Unreadable", "json_item", "read_events", "row_event"]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A line of the input that is not an event, and why."""

    text: str
    reason: str


Item = tuple[int, Mapping[str, Any] | Unreadable]
_GZIP_MAGIC = b"\x1f\x8b"


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
    source: str | Path,
    journey: Journey,
    reading: Reading | None = None,
    *,
    part: tuple[int, int] | None = None,
) -> Iterator[Item]:
    """The events of ``source`` (a path, or ``-`` for JSON lines on stdin), in file order;
    ``reading``, when given, follows how far the reading has come.

    A file that cannot be read at all (not gzip though named ``.gz``, a broken Parquet file, a
    CSV without the envelope columns) raises :class:`topo.errors.UsageError` with what to do;
    a line or row that is not an event is an :class:`Unreadable` item, and reading goes on.

    ``part=(k, n)`` gives only worker ``k``'s share of ``n`` (:func:`topo.workers.worker_of`
    of each event's member; worker 0 gets what names no member), with their own positions: the
    ``n`` shares together hold every item once, and all the events of a member are in one.
    """
    if part is not None and part[1] == 1:
        part = None
    name = str(source)
    if name == "-":
        yield from _json_lines(_stdin(), part)
        return
    path = Path(source)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; EVENTS is one file of events (or - for stdin)")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    reading = reading if reading is not None else Reading()
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    kind = suffixes[-2] if gzipped and len(suffixes) > 1 else suffixes[-1] if suffixes else ""
    if kind in (".jsonl", ".ndjson", ".json", ".csv"):
        try:
            with _open(path, reading) as text:
                if kind != ".csv":
                    yield from _json_lines(text, part)
                else:
                    yield from _mine(_csv_rows(text, path, journey), part)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise UsageError(f"{path}: not a whole gzip file ({exc}); is it gzipped?") from None
    elif kind == ".parquet":
        if gzipped:
            raise UsageError(f"{path}: Parquet files are read as they are; do not gzip them")
        yield from _mine(_parquet_rows(path, reading), part)
    else:
        raise UsageError(
            f"{path}: events are read from .jsonl, .csv or .parquet files (or - for stdin)"
        )


def _mine(items: Iterator[Item], part: tuple[int, int] | None) -> Iterator[Item]:
    """The items of worker ``part[0]`` of ``part[1]`` (all of them without ``part``)."""
    if part is None:
        yield from items
        return
    number, count = part
    for item in items:
        if _owner(item[1], count) == number:
            yield item


def _owner(event: Mapping[str, Any] | Unreadable, count: int) -> int:
    return worker_of(event.get("member") if isinstance(event, dict) else None, count)


def _stdin() -> IO[str]:
    """Standard input as UTF-8 text; refused at once if it is gzipped."""
    if sys.stdin is None:
        raise UsageError("stdin is closed: give EVENTS as a file, or pipe JSON lines into topo")
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None:  # replaced by a text stream (tests, embedding)
        return sys.stdin
    if binary.peek(2)[:2] == _GZIP_MAGIC:
        raise UsageError(
            "stdin is gzipped, and stdin is read as JSON lines: give the file's path instead, "
            "or pipe it through gunzip -c"
        )
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


@contextmanager
def _open(path: Path, reading: Reading) -> Iterator[IO[str]]:
    """The file as text (gunzipped for .gz); ``reading`` follows the bytes read from disk.

    A leading byte order mark is dropped; bytes that are not UTF-8 are kept as escapes, so the
    line or row they are in is reported (:func:`_undecodable`) and reading goes on."""
    with path.open("rb") as raw:
        reading.total, reading.position = path.stat().st_size, raw.tell
        binary: IO[bytes] = raw
        if path.suffix.lower() == ".gz":
            binary = cast(IO[bytes], gzip.GzipFile(fileobj=raw))
        try:
            with io.TextIOWrapper(
                binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
            ) as text:
                yield text
        finally:
            reading.finished = True


def _undecodable(text: str) -> str | None:
    """Why ``text`` is not UTF-8 (it holds escaped bytes), or None when it is."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # an escaped byte is a lone surrogate
        byte = ord(text[exc.start]) - 0xDC00
        return f"not UTF-8 text: the byte 0x{byte:02X} at column {exc.start + 1}"
    return None


_MEMBER = re.compile(r'"member"\s*:\s*"([^"\\]*)"')


def _line_owner(line: str, count: int) -> int | None:
    """Which worker a JSON line is for, told without parsing it when that is sure: its only
    ``"member"`` is a key with a plain string (no backslash anywhere, so no escape can hide
    another). Should it be nested, the event has no member and is invalid: any one worker may
    report it, as long as every worker decides alike. None: parse it to know."""
    if "\\" in line or line.count('"member"') != 1:
        return None
    found = _MEMBER.search(line)
    return None if found is None else worker_of(found[1], count)


def _json_lines(text: IO[str], part: tuple[int, int] | None = None) -> Iterator[Item]:
    """The lines of ``text`` as items; with ``part``, only those of that worker (see
    :func:`read_events`)."""
    for number, line in enumerate(text, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        owner = None if part is None else _line_owner(line, part[1])
        if owner is not None and owner != part[0]:  # type: ignore[index]
            continue
        item = json_item(number, line)
        if part is None or owner is not None or _owner(item[1], part[1]) == part[0]:
            yield item


def json_item(number: int, line: str) -> Item:
    """Line ``number`` of a JSON lines file (its line break removed) as an item: the event, or
    an :class:`Unreadable` saying why it is none."""
    try:
        value = json.loads(line, object_pairs_hook=_unique_keys)
    except _RepeatedKey as repeated:
        return number, Unreadable(line, f"not an event: {repeated}")
    except json.JSONDecodeError as exc:
        reason = _undecodable(line) or f"not JSON: {exc.msg} at column {exc.colno}"
        return number, Unreadable(line, reason)
    except (ValueError, RecursionError) as exc:  # a number of thousands of digits, nesting
        what = (
            "nested too deeply"
            if isinstance(exc, RecursionError)
            else _TOO_LONG
            if "digits" in str(exc)
            else str(exc)
        )
        return number, Unreadable(line, f"not an event: {what}")
    if not isinstance(value, dict):
        return number, Unreadable(line, "not an event: a line holds one JSON object")
    bad = _undecodable(line)
    return number, (value if bad is None else Unreadable(line, bad))


class _RepeatedKey(Exception):
    """A JSON object holds a key twice (JSON allows it; an event may not)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; :class:`_RepeatedKey` if a key comes twice: the last
    value would win silently, and a repeated ``amount`` is a writer's bug, not an event."""
    value = dict(pairs)
    if len(value) != len(pairs):
        keys = [key for key, _ in pairs]
        twice = next(key for index, key in enumerate(keys) if key in keys[:index])
        raise _RepeatedKey(f"the key {clip(twice)!r} comes twice in one object; each key once")
    return value


def _csv_rows(text: IO[str], path: Path, journey: Journey) -> Iterator[Item]:
    types = {
        name: {f: spec.type for f, spec in event.fields.items()}
        for name, event in journey.events.items()
    }
    types["profile"] = {name: attribute.type for name, attribute in journey.attributes.items()}
    rows = csv.DictReader(text)
    try:
        names = rows.fieldnames or []
        yield from _csv_events(rows, names, path, types)
    except csv.Error as exc:
        raise UsageError(f"{path}: line {rows.line_num}: {exc} (an unclosed quote?)") from None


def _csv_events(
    rows: csv.DictReader[str], names: Sequence[str], path: Path, types: Mapping[str, Any]
) -> Iterator[Item]:
    bad = _undecodable(",".join(names))
    if bad is not None:
        raise UsageError(f"{path}: the header is {bad}")
    _unique_columns(names, path)
    missing = [key for key in ("id", "member", "type", "at") if key not in names]
    if missing:
        found = ", ".join(names) or "nothing"
        raise UsageError(
            f"{path}: the header names {found}; a CSV of events needs the columns id, member, "
            f"type and at (missing: {', '.join(missing)})"
        )
    for row in rows:
        number = rows.line_num  # the row's last line in the file (the header is line 1)
        extra = row.pop(None, None)  # type: ignore[call-overload,unused-ignore]
        if extra:
            problem = f"the row has {len(extra)} more cell(s) than the header has columns"
            yield number, Unreadable("", problem)
            continue
        event: dict[str, Any] = {}
        declared = types.get(row.get("type") or "", {})
        for key, cell in row.items():
            if cell is None or cell == "":
                continue  # an empty cell is an absent field
            bad = _undecodable(cell)
            if bad is not None:
                problem = f"{key}: {bad}"
                break
            event[key] = _typed(cell, declared.get(key))
        else:
            yield number, event
            continue
        yield number, Unreadable("", problem)


def _unique_columns(names: Sequence[str], path: Path) -> None:
    """Refuse a header that names a column twice: every row would carry the key twice."""
    first: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name in first:
            raise UsageError(
                f"{path}: the header names the column {clip(name)!r} twice (columns "
                f"{first[name]} and {number}); name each column once"
            )
        first[name] = number


def _typed(cell: str, kind: str | None) -> Any:
    """A cell as the value its field's type reads: a number only where it is written as JSON
    writes numbers (not ``1_000``, `` 7 ``, ``٣`` or ``NaN``, which Python would read), so that
    a CSV and a JSON lines file of the same events are the same events."""
    if kind == "int" and _INTEGER(cell):
        return _integer(cell)
    if kind == "float" and _NUMBER(cell):
        return _integer(cell) if _INTEGER(cell) else float(cell)
    if kind == "bool" and cell.lower() in ("true", "false"):
        return cell.lower() == "true"
    return cell  # the event check says what is wrong with it


def _integer(digits: str) -> int:
    """An integer cell; one too long for Python to read stands as a very large integer, which
    the event check refuses as out of range (its digits are never shown)."""
    try:
        return int(digits)
    except ValueError:
        return -(10**30) if digits.startswith("-") else 10**30


_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)").fullmatch
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?").fullmatch
_TOO_LONG = f"it holds an integer of more than 4,300 digits; {RANGE_TEXT}"


def _parquet_rows(path: Path, reading: Reading) -> Iterator[Item]:
    try:
        import pyarrow  # type: ignore[import-not-found,import-untyped,unused-ignore]
        import pyarrow.parquet as parquet  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise UsageError(
            f"{path}: reading Parquet needs pyarrow, topo's parquet extra: pip install pyarrow "
            "(or '.[parquet]' in topo's folder)"
        ) from None
    number = 0
    try:
        table = parquet.ParquetFile(path)
        reading.total, reading.position = table.metadata.num_rows, lambda: number
        schema = table.schema_arrow
        _unique_columns(schema.names, path)
        decimals = [f.name for f in schema if pyarrow.types.is_decimal(f.type)]
        micro = _in_microseconds(pyarrow, schema)
        for batch in table.iter_batches():
            if micro is not None:  # Python's times hold microseconds: the rest is cut off
                batch = batch.cast(micro, safe=False)
            for row in batch.to_pylist():
                number += 1
                yield number, row_event(row, decimals)
    except (OSError, ValueError) as exc:  # pyarrow's errors are both (ArrowInvalid, ArrowIOError)
        raise UsageError(f"{path}: not a readable Parquet file ({exc})") from None


def _in_microseconds(pyarrow: Any, schema: Any) -> Any:
    """``schema`` with every time kept in nanoseconds (pandas' default) kept in microseconds,
    as JSON lines times beyond microseconds are read; None when there is none. (A nanosecond
    value cannot become a Python time, and stopped the whole file.)"""
    types = pyarrow.types
    fields = []
    for field in schema:
        kind = field.type
        if types.is_timestamp(kind) and kind.unit == "ns":
            field = field.with_type(pyarrow.timestamp("us", tz=kind.tz))
        elif types.is_duration(kind) and kind.unit == "ns":
            field = field.with_type(pyarrow.duration("us"))
        elif types.is_time64(kind) and kind.unit == "ns":
            field = field.with_type(pyarrow.time64("us"))
        fields.append(field)
    changed = pyarrow.schema(fields, metadata=schema.metadata)
    return None if changed.equals(schema) else changed


def row_event(row: dict[str, Any], decimals: Sequence[str]) -> dict[str, Any]:
    """A row of a table (as pyarrow's ``to_pylist`` gives it) as the event it holds: each
    decimal of the columns ``decimals`` as the number JSON would carry, an empty (null) cell
    an absent field."""
    for name in decimals:
        row[name] = _decimal_number(row[name])
    return {key: value for key, value in row.items() if value is not None}


def _decimal_number(value: Decimal | None) -> int | float | None:
    """A Parquet decimal as the number JSON would carry: an int when it has no fractional
    digits (``decimal(10, 0)``), else a float (``decimal(10, 2)``, money: 12.30 is 12.3)."""
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)  # an out-of-range value is refused by the event check
