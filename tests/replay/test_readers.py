"""Reading events from files: every value a reader brings is either an event or a clear
reject, and every reject can be written."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import topo
from conftest import ROOT
from topo.cli.commands import main
from topo.replay.readers import Unreadable, read_events

CDNOW = str(ROOT / "journeys" / "cdnow.yaml")
UTC = dt.UTC


def items(path: Path) -> list[Any]:
    journey = topo.load_journey(CDNOW)
    return [item for _, item in read_events(path, journey)]


def replay(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["replay", CDNOW, str(path), "--rejects", str(tmp_path / "rejects.jsonl")])
    return code, capsys.readouterr().err


def rejects(tmp_path: Path) -> list[dict[str, Any]]:
    text = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def parquet(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


class TestRepeatedKeys:
    """An event that holds a key twice is not an event: nothing silently wins."""

    def test_json_object_with_a_key_twice(self, tmp_path: Path) -> None:
        """The second amount would have won; the line is refused, saying which key."""
        path = tmp_path / "e.jsonl"
        path.write_text(
            '{"id": "e-1", "member": "a", "type": "purchase", "at": "1997-01-01T00:00:00Z", '
            '"amount": 5000.0, "amount": 1.0, "cds": 1}\n',
            encoding="utf-8",
        )
        [item] = items(path)
        assert isinstance(item, Unreadable)
        assert item.reason == (
            "not an event: the key 'amount' comes twice in one object; each key once"
        )

    def test_a_repeated_key_is_rejected_and_the_replay_goes_on(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """One reject line, without the line's text (it may hold pii), and the next event runs."""
        path = tmp_path / "e.jsonl"
        path.write_text(
            '{"id": "e-1", "member": "a", "member": "b", "type": "purchase", '
            '"at": "1997-01-01T00:00:00Z", "amount": 1.0, "cds": 1}\n'
            '{"id": "e-2", "member": "a", "type": "purchase", '
            '"at": "1997-01-01T00:00:00Z", "amount": 1.0, "cds": 1}\n',
            encoding="utf-8",
        )
        code, err = replay(path, tmp_path, capsys)
        assert code == 0 and "2 events read: 1 processed, 1 rejected (1 unreadable)" in err
        assert rejects(tmp_path) == [
            {
                "event": None,
                "reason": "not an event: the key 'member' comes twice in one object; each key once",
                "line": 1,
            }
        ]

    def test_csv_header_with_a_column_twice(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every row would carry the key twice: the file is refused at once, exit 2."""
        path = tmp_path / "e.csv"
        path.write_text(
            "id,member,type,at,amount,cds,amount\n"
            "e-1,a,purchase,1997-01-01T00:00:00+00:00,5000,1,1\n",
            encoding="utf-8",
        )
        code, err = replay(path, tmp_path, capsys)
        assert code == 2
        assert err == (
            f"topo: error: {path}: the header names the column 'amount' twice (columns 5 and "
            "7); name each column once\n"
        )

    def test_parquet_with_a_column_twice(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Parquet allows two columns of one name; an event file may not have them."""
        table = pa.Table.from_arrays(
            [pa.array(["e-1"]), pa.array(["a"]), pa.array(["purchase"]),
             pa.array([dt.datetime(1997, 1, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
             pa.array([1.0]), pa.array([2.0])],
            names=["id", "member", "type", "at", "amount", "amount"],
        )  # fmt: skip
        path = tmp_path / "e.parquet"
        pq.write_table(table, path)
        code, err = replay(path, tmp_path, capsys)
        assert code == 2 and "the header names the column 'amount' twice" in err


class TestParquetValues:
    """Parquet columns of every type a brand's lakehouse may hold."""

    def test_a_decimal_amount_is_a_number(self, tmp_path: Path) -> None:
        """decimal(10, 2) money is a float, decimal(10, 0) an int, as JSON would write them."""
        path = parquet(
            tmp_path / "e.parquet",
            {
                "id": pa.array(["e-1"]),
                "member": pa.array(["a"]),
                "type": pa.array(["purchase"]),
                "at": pa.array([dt.datetime(1997, 1, 1, tzinfo=UTC)], pa.timestamp("us", "UTC")),
                "amount": pa.array([Decimal("12.30")], pa.decimal128(10, 2)),
                "cds": pa.array([Decimal("3")], pa.decimal128(10, 0)),
            },
        )
        [item] = items(path)
        assert isinstance(item, dict)
        assert (item["amount"], type(item["cds"]), item["cds"]) == (12.3, int, 3)
        engine = topo.Engine(topo.load_journey(CDNOW))
        engine.process(item)
        assert engine.state("a")["metrics"]["spend_365d"] == 12.3  # type: ignore[index]

    @pytest.mark.parametrize(
        "column,value,reason",
        [
            (pa.array([dt.time(10, 15)], pa.time64("us")), "10:15:00",
             "expected an integer, got a value of type time"),
            (pa.array([dt.timedelta(days=1)], pa.duration("s")), "1 day, 0:00:00",
             "expected an integer, got a value of type timedelta"),
            (pa.array([b"\x00\x01"], pa.binary()), "b'\\x00\\x01'",
             "expected an integer, got a value of type bytes"),
            (pa.array([Decimal("1e30")], pa.decimal128(38, 0)),
             1000000000000000000000000000000,
             "a very large integer is out of range"),
        ],
    )  # fmt: skip
    def test_values_no_field_takes_are_rejected_and_written(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        column: pa.Array,
        value: object,
        reason: str,
    ) -> None:
        """A time, a duration, bytes or a huge decimal in an int field: the event is rejected,
        the reject line is written as JSON, and the replay ends (it used to hang on a write
        error with a store, and crash without)."""
        path = parquet(
            tmp_path / "e.parquet",
            {
                "id": pa.array(["e-1"]),
                "member": pa.array(["a"]),
                "type": pa.array(["purchase"]),
                "at": pa.array([dt.datetime(1997, 1, 1, tzinfo=UTC)], pa.timestamp("us", "UTC")),
                "amount": pa.array([1.0]),
                "cds": column,
            },
        )
        code, err = replay(path, tmp_path, capsys)
        assert code == 0 and "1 rejected (1 invalid)" in err
        [line] = rejects(tmp_path)
        assert line["event"]["cds"] == value
        assert line["event"]["at"] == "1997-01-01T00:00:00+00:00"
        assert reason in line["reason"]

    def test_a_time_without_a_zone_is_rejected(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A timestamp column without a time zone has no offset: rejected, and written."""
        path = parquet(
            tmp_path / "e.parquet",
            {
                "id": pa.array(["e-1"]),
                "member": pa.array(["a"]),
                "type": pa.array(["purchase"]),
                "at": pa.array([dt.datetime(1997, 1, 1)], pa.timestamp("us")),
                "amount": pa.array([1.0]),
                "cds": pa.array([1]),
            },
        )
        code, _ = replay(path, tmp_path, capsys)
        [line] = rejects(tmp_path)
        assert code == 0 and line["event"]["at"] == "1997-01-01T00:00:00"
        assert "'at' has no offset" in line["reason"]

    def test_a_durable_replay_of_odd_values_finishes(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With a store, the run that wrote the reject commits and ends; run again, it resumes."""
        path = parquet(
            tmp_path / "e.parquet",
            {
                "id": pa.array(["e-1", "e-2"]),
                "member": pa.array(["a", "a"]),
                "type": pa.array(["purchase", "purchase"]),
                "at": pa.array(
                    [dt.datetime(1997, 1, 1, tzinfo=UTC), dt.datetime(1997, 1, 2, tzinfo=UTC)],
                    pa.timestamp("us", "UTC"),
                ),
                "amount": pa.array([Decimal("1.50"), Decimal("2.50")], pa.decimal128(6, 2)),
                "cds": pa.array([dt.time(1), dt.time(2)], pa.time64("us")),
            },
        )
        store = f"sqlite:{tmp_path / 'm.db'}"
        argv = ["replay", CDNOW, str(path), "--store", store, "--rejects", str(tmp_path / "r")]
        assert main(argv) == 0
        assert main(argv) == 0
        assert "2 applied before, 0 processed" in capsys.readouterr().err


class TestCsvNumbers:
    """A CSV cell is a number only where JSON would write one, so a CSV and a JSON lines file
    of the same events are the same events."""

    @pytest.mark.parametrize(
        "cell,reason",
        [
            ("1_000", "expected an integer, got the text '1_000'"),
            (" 7 ", "expected an integer, got the text ' 7 '"),
            ("\u0663", "expected an integer, got the text"),  # an Arabic-Indic 3
            ("007", "expected an integer, got the text '007'"),
            ("9" * 5000, "a very large integer is out of range"),
            ("9223372036854775808", "the number 9223372036854775808 is out of range"),
        ],
    )
    def test_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], cell: str, reason: str
    ) -> None:
        """Python's int() read each of these as a number (or, past 4,300 digits, left it as
        text with a reason about text): each is now refused for what it is."""
        path = tmp_path / "e.csv"
        path.write_text(
            f"id,member,type,at,amount,cds\ne-1,a,purchase,1997-01-01T00:00:00+00:00,1.5,{cell}\n",
            encoding="utf-8",
        )
        code, _ = replay(path, tmp_path, capsys)
        [line] = rejects(tmp_path)
        assert code == 0 and reason in line["reason"]

    @pytest.mark.parametrize("cell,value", [("12", 12.0), ("-0.5", -0.5), ("1e3", 1000.0)])
    def test_json_numbers_read(self, tmp_path: Path, cell: str, value: float) -> None:
        """What JSON writes is read as the number it is."""
        path = tmp_path / "e.csv"
        path.write_text(
            f"id,member,type,at,amount,cds\ne-1,a,purchase,1997-01-01T00:00:00+00:00,{cell},1\n",
            encoding="utf-8",
        )
        [item] = items(path)
        assert item["amount"] == value and item["cds"] == 1  # type: ignore[index]


class TestNanoseconds:
    """Times kept in nanoseconds (pandas' default) are read to the microsecond, as in JSON."""

    def test_a_timestamp_with_nanoseconds(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """One value with nanoseconds stopped the whole file (exit 2, 'Install pandas ...');
        now each row is an event, its time cut to the microsecond."""
        at = pa.array([1_000_000_000_000_000_123, 1_000_000_000_000_001_000],
                      pa.timestamp("ns", tz="UTC"))  # fmt: skip
        path = parquet(
            tmp_path / "e.parquet",
            {
                "id": pa.array(["e-1", "e-2"]),
                "member": pa.array(["a", "a"]),
                "type": pa.array(["purchase", "purchase"]),
                "at": at,
                "amount": pa.array([1.0, 2.0]),
                "cds": pa.array([1, 1]),
                "noted": pa.array([5, 6], pa.time64("ns")),
            },
        )
        got = items(path)
        assert [e["at"].isoformat() for e in got] == [
            "2001-09-09T01:46:40+00:00", "2001-09-09T01:46:40.000001+00:00"
        ]  # fmt: skip
        code, err = replay(path, tmp_path, capsys)
        assert code == 0 and "2 events read" in err
