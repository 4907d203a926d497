"""``topo replay --engine spark`` and ``topo simulate --engine spark``: the same files as the
local runs, byte for byte, and one sentence for what cannot run."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import CDNOW, ROOT, run, write_jsonl
from replay_outputs import UNTIL, cdnow_events

REPLAY_OUTPUTS = ("triggers", "states", "rejects", "withheld", "summary")
SIMULATE_OUTPUTS = ("events", "triggers", "states", "summary")


def files(
    command: str, inputs: list[str], folder: Path, names: tuple[str, ...], capsys: Any, *extra: str
) -> tuple[str, dict[str, bytes]]:
    folder.mkdir()
    argv = [command, *inputs, *extra]
    for name in names:
        argv += [f"--{name}", str(folder / name)]
    code, err = run(argv, capsys)
    assert code == 0, err
    return err, {name: (folder / name).read_bytes() for name in names}


class TestReplayCommand:
    """The files of ``topo replay`` on Spark are those of a local run."""

    def test_same_bytes_as_a_local_replay(self, spark: Any, tmp_path: Path, capsys: Any) -> None:
        items = cdnow_events("00100")
        random.Random(5).shuffle(items)
        events = str(write_jsonl(tmp_path / "e.jsonl", items))
        inputs = [CDNOW, events, "--until", UNTIL]
        err, local = files("replay", inputs, tmp_path / "local", REPLAY_OUTPUTS, capsys)
        err_spark, on_spark = files(
            "replay", inputs, tmp_path / "spark", REPLAY_OUTPUTS, capsys,
            "--engine", "spark:local[2]", "--partitions", "3",
        )  # fmt: skip
        assert on_spark == local
        assert local["triggers"] and local["rejects"] and local["withheld"]
        assert err.splitlines()[-8:] == err_spark.splitlines()[-8:]  # the counts and funnel

    def test_parquet_same_bytes_as_a_local_replay(
        self, spark: Any, tmp_path: Path, capsys: Any
    ) -> None:
        """A Parquet file: its rows read by Spark, in row order, as topo's reader reads them."""
        import pyarrow
        import pyarrow.parquet

        items = [e for e in cdnow_events("00060") if isinstance(e, dict) and "member" in e]
        random.Random(9).shuffle(items)
        events = tmp_path / "e.parquet"
        pyarrow.parquet.write_table(pyarrow.Table.from_pylist(items), events)
        inputs = [CDNOW, str(events), "--until", UNTIL]
        _, local = files("replay", inputs, tmp_path / "local", REPLAY_OUTPUTS, capsys)
        _, on_spark = files(
            "replay", inputs, tmp_path / "spark", REPLAY_OUTPUTS, capsys, "--engine", "spark"
        )
        assert on_spark == local and local["rejects"]

    def test_stdin_and_csv_are_refused(self, spark: Any, tmp_path: Path, capsys: Any) -> None:
        code, err = run(["replay", CDNOW, "-", "--engine", "spark"], capsys)
        assert code == 2 and "not stdin" in err and len(err.strip().splitlines()) == 1
        csv = tmp_path / "e.csv"
        csv.write_text("id,member,type,at\n", encoding="utf-8")
        code, err = run(["replay", CDNOW, str(csv), "--engine", "spark"], capsys)
        assert code == 2 and "CSV" in err and len(err.strip().splitlines()) == 1


class TestSimulateCommand:
    def test_same_bytes_as_a_local_simulation(
        self, spark: Any, tmp_path: Path, capsys: Any
    ) -> None:
        club = str(ROOT / "journeys" / "knowledge-club.yaml")
        inputs = [club, "--members", "200", "--days", "60"]
        err, local = files("simulate", inputs, tmp_path / "local", SIMULATE_OUTPUTS, capsys)
        err_spark, on_spark = files(
            "simulate", inputs, tmp_path / "spark", SIMULATE_OUTPUTS, capsys,
            "--engine", "spark", "--partitions", "4",
        )  # fmt: skip
        assert on_spark == local
        assert err.splitlines()[-1] == err_spark.splitlines()[-1]


class TestWhatCannotRun:
    """One sentence, exit 2, no traceback: these need no Spark at all."""

    def test_times_in_any_session_time_zone(self, spark: Any, tmp_path: Path, capsys: Any) -> None:
        """Parquet times (instants in UTC) give the offsets topo's own reader gives, whatever
        Spark's session time zone (the machine's by default): before, Paris's +01:00 came out."""
        import pyarrow
        import pyarrow.parquet

        items = [e for e in cdnow_events("00060") if isinstance(e, dict) and "member" in e]
        table = pyarrow.Table.from_pylist(items)
        at = table.column("at").cast(pyarrow.string())
        instants = pyarrow.compute.assume_timezone(
            pyarrow.compute.strptime(
                pyarrow.compute.utf8_slice_codeunits(at, 0, 19), "%Y-%m-%dT%H:%M:%S", "us"
            ),
            "UTC",
        )
        events = tmp_path / "e.parquet"
        pyarrow.parquet.write_table(
            table.set_column(table.column_names.index("at"), "at", instants), events
        )
        inputs = [CDNOW, str(events), "--until", UNTIL]
        _, local = files("replay", inputs, tmp_path / "local", REPLAY_OUTPUTS, capsys)
        zone = spark.conf.get("spark.sql.session.timeZone")
        spark.conf.set("spark.sql.session.timeZone", "Europe/Paris")
        try:
            _, on_spark = files(
                "replay", inputs, tmp_path / "spark", REPLAY_OUTPUTS, capsys, "--engine", "spark"
            )
        finally:
            spark.conf.set("spark.sql.session.timeZone", zone)
        assert on_spark == local and b"+00:00" in local["triggers"]

    def test_a_missing_file_and_spark_errors_are_one_sentence(
        self, spark: Any, tmp_path: Path, capsys: Any
    ) -> None:
        code, err = run(
            ["replay", CDNOW, str(tmp_path / "none.jsonl"), "--engine", "spark"], capsys
        )
        assert code == 2 and err == f"topo: error: {tmp_path / 'none.jsonl'}: no such file\n"
        broken = tmp_path / "broken.parquet"
        broken.write_bytes(b"not parquet")
        code, err = run(["replay", CDNOW, str(broken), "--engine", "spark"], capsys)
        assert code == 2 and err.startswith("topo: error: Spark could not finish the run (")
        assert "not parquet" not in err  # a message may quote the data: never shown
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1

    @pytest.mark.parametrize(
        ("extra", "words"),
        [
            (["--engine", "flink"], "an engine is local (the default), spark, or spark:MASTER"),
            (["--partitions", "3"], "add --engine spark"),
            (["--engine", "spark", "--partitions", "0"], "--partitions is a whole number from 1"),
            (["--engine", "spark", "--workers", "2"], "leave out --store and --workers"),
        ],
    )
    def test_bad_options(self, extra: list[str], words: str, capsys: Any, tmp_path: Path) -> None:
        events = write_jsonl(tmp_path / "e.jsonl", [])
        code, err = run(["replay", CDNOW, str(events), *extra], capsys)
        assert code == 2 and words in err
        assert err.startswith("topo: error: ") and len(err.strip().splitlines()) == 1

    def test_import_topo_loads_no_pyspark(self) -> None:
        """The core stays free of the extra: PySpark is loaded by topo.spark only."""
        code = "import sys, topo, topo.cli; sys.exit('pyspark' in sys.modules)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def test_without_pyspark(
        self, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
    ) -> None:
        """The extra is named."""
        for name in [
            m for m in sys.modules if m == "topo.spark" or m.startswith(("topo.spark.", "pyspark"))
        ]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, "pyspark", None)
        events = write_jsonl(tmp_path / "e.jsonl", [])
        code, err = run(["replay", CDNOW, str(events), "--engine", "spark"], capsys)
        assert code == 2
        assert err == (
            "topo: error: topo.spark needs PySpark 4, topo's spark extra: pip install "
            "'topo[spark]' (or '.[spark]' in topo's folder)\n"
        )

    def test_without_java(
        self, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
    ) -> None:
        """Spark cannot start: what to install, in a sentence."""
        pytest.importorskip("pyspark")
        monkeypatch.delenv("JAVA_HOME", raising=False)
        monkeypatch.setenv("PATH", str(tmp_path))
        events = write_jsonl(tmp_path / "e.jsonl", [])
        code, err = run(["replay", CDNOW, str(events), "--engine", "spark"], capsys)
        assert code == 2 and "Spark needs Java 17" in err and len(err.strip().splitlines()) == 1


def test_a_spark_error_never_repeats_its_message() -> None:
    """Spark's messages may quote the events' values (a cast that failed names the text): the
    sentence names the error's condition only."""
    from topo.cli.spark_runs import spark_failure

    class CastFailed(Exception):
        def getCondition(self) -> str:
            return "CAST_INVALID_INPUT"

    CastFailed.__module__ = "pyspark.errors.exceptions.captured"
    said = spark_failure(CastFailed("The value 'ann@example.com' cannot be cast to INT"))
    assert said is not None and "CAST_INVALID_INPUT" in said and "ann@" not in said
    assert spark_failure(ValueError("not Spark's")) is None
