"""topo replay: events from files through a journey; triggers, states, rejects and the funnel."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

import pytest

from conftest import CDNOW, ROOT, event, lines, run, write_jsonl
from topo.cli.commands import main

CLUB = str(ROOT / "journeys" / "knowledge-club.yaml")


class TestReplay:
    """Outputs, rejects and the summary."""

    def test_triggers_states_and_summary(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Triggers in grant order, states sorted by member, a summary with the funnel."""
        events = write_jsonl(
            tmp_path / "e.jsonl", [event(1, "b", 1), event(2, "a", 2), event(3, "b", 9)]
        )
        code, err = run([
            "replay", CDNOW, str(events), "--triggers", str(tmp_path / "t.jsonl"),
            "--states", str(tmp_path / "s.jsonl"),
        ], capsys)  # fmt: skip
        assert code == 0
        triggers = lines(tmp_path / "t.jsonl")
        assert [t["member"] for t in triggers] == ["b", "a", "b"]
        assert set(triggers[0]) == {
            "id",
            "member",
            "incentive",
            "channel",
            "reason",
            "from",
            "to",
            "node",
            "at",
            "cause",
            "message",
            "cost",
        }
        states = lines(tmp_path / "s.jsonl")
        assert [s["member"] for s in states] == ["a", "b"]
        assert states[1]["node"] == "repeat_buyer" and states[1]["metrics"]["orders"] == 2
        assert "3 events read: 3 processed, 0 rejected" in err and "repeat_buyer" in err

    def test_rejects_with_reasons(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Invalid, duplicate, late and unreadable lines are rejected with a reason."""
        events = write_jsonl(tmp_path / "e.jsonl", [
            event(1, "a", 5), "not json", event(1, "a", 6), event(2, "a", 4),
            event(3, "a", 7, amount=-1), ["a list"],
        ])  # fmt: skip
        code, err = run(
            ["replay", CDNOW, str(events), "--rejects", str(tmp_path / "r.jsonl")], capsys
        )
        rejects = lines(tmp_path / "r.jsonl")
        assert code == 0
        assert [r["line"] for r in rejects] == [2, 3, 4, 5, 6]
        assert "duplicate" in rejects[1]["reason"] and "late" in rejects[2]["reason"]
        assert "below the minimum" in rejects[3]["reason"]
        assert "(1 duplicate, 2 invalid... " not in err and "5 rejected" in err

    def test_pii_is_masked_in_rejects(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A rejected profile event is written with its pii values as ***."""
        profile = {
            "id": "p",
            "member": "m",
            "type": "profile",
            "at": "2026-01-01T00:00:00+00:00",
            "phone": "0912-345",
            "region": 5,
        }
        events = write_jsonl(tmp_path / "e.jsonl", [profile])
        run(["replay", CLUB, str(events), "--rejects", str(tmp_path / "r.jsonl")], capsys)
        text = (tmp_path / "r.jsonl").read_text(encoding="utf-8")
        assert "0912" not in text and '"phone": "***"' in text

    def test_until_fires_timers(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """With --until, timers due by then fire (a first buyer lapses after 180 quiet days)."""
        events = write_jsonl(tmp_path / "e.jsonl", [event(1, "a", 1)])
        run(
            [
                "replay",
                CDNOW,
                str(events),
                "--until",
                "1997-12-31T00:00:00+00:00",
                "--states",
                str(tmp_path / "s.jsonl"),
            ],
            capsys,
        )
        assert lines(tmp_path / "s.jsonl")[0]["node"] == "lapsed"

    def test_backfill_writes_no_triggers(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """In backfill mode no trigger is written at all."""
        events = write_jsonl(tmp_path / "e.jsonl", [event(1, "a", 1), event(2, "a", 9)])
        run(
            ["replay", CDNOW, str(events), "--backfill", "--triggers", str(tmp_path / "t.jsonl")],
            capsys,
        )
        assert (tmp_path / "t.jsonl").read_text(encoding="utf-8") == ""

    def test_same_input_same_bytes(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Two replays of the same events give byte-identical triggers and states."""
        events = write_jsonl(
            tmp_path / "e.jsonl", [event(i, f"m{i % 4}", 1 + i) for i in range(1, 25)]
        )
        digests = []
        for run_number in (1, 2):
            t, s = tmp_path / f"t{run_number}", tmp_path / f"s{run_number}"
            run(
                [
                    "replay",
                    CDNOW,
                    str(events),
                    "--triggers",
                    str(t),
                    "--states",
                    str(s),
                    "--until",
                    "1998-01-01T00:00:00+00:00",
                ],
                capsys,
            )
            digests.append(
                (hashlib.sha256(t.read_bytes()).digest(), hashlib.sha256(s.read_bytes()).digest())
            )
        assert digests[0] == digests[1]


class TestInputs:
    """JSON lines (gzipped or on stdin), CSV typed by the journey, and usage errors."""

    def test_gzip_and_csv(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A gzipped JSON-lines file and a CSV file give the same states."""
        rows = [event(1, "a", 1, amount=12.5), event(2, "a", 3, amount=30)]
        gz = tmp_path / "e.jsonl.gz"
        with gzip.open(gz, "wt", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\n" for r in rows)
        csv = tmp_path / "e.csv"
        body = "".join(
            f"{r['id']},{r['member']},{r['type']},{r['at']},{r['amount']},{r['cds']}\n"
            for r in rows
        )
        csv.write_text("id,member,type,at,amount,cds\n" + body, encoding="utf-8")
        for source, target in ((gz, "g.jsonl"), (csv, "c.jsonl")):
            run(["replay", CDNOW, str(source), "--states", str(tmp_path / target)], capsys)
        assert lines(tmp_path / "g.jsonl") == lines(tmp_path / "c.jsonl")

    def test_stdin(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """- reads JSON lines from stdin."""
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(event(1, "a", 1)) + "\n"))
        code, err = run(["replay", CDNOW, "-"], capsys)
        assert code == 0 and "1 event read: 1 processed" in err

    @pytest.mark.parametrize(
        "argv_tail,message",
        [
            (["missing.jsonl"], "no such file"),
            (["e.txt"], "events are read from .jsonl, .csv or .parquet"),
            (["e.jsonl", "--store", "redis:x"], "a store is memory (the default) or sqlite:PATH"),
            (["e.jsonl", "--until", "1998-01-01"], "is a date without a time"),
        ],
    )
    def test_usage_errors(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv_tail: list[str], message: str
    ) -> None:
        """A missing file, an unknown format, an unknown store, a bad --until: exit 2, one line."""
        write_jsonl(tmp_path / "e.jsonl", [event(1, "a", 1)])
        (tmp_path / "e.txt").write_text("x", encoding="utf-8")
        argv = [str(tmp_path / argv_tail[0]), *argv_tail[1:]]
        code, err = run(["replay", CDNOW, *argv], capsys)
        assert code == 2 and message in err and err.count("\n") == 1


class TestShippedData:
    """The shipped CDNOW events replay through journeys/cdnow.yaml."""

    def test_cdnow_funnel(self, capsys: pytest.CaptureFixture[str]) -> None:
        """All 69,659 events are processed; the funnel narrows from first purchase to VIP."""
        code, err = run(["replay", CDNOW, str(ROOT / "data" / "cdnow" / "events.jsonl.gz")], capsys)
        assert code == 0 and "69,659 events read: 69,659 processed, 0 rejected" in err
        funnel = {
            line.split()[0]: int(line.split()[1].replace(",", ""))
            for line in err.splitlines()
            if line.startswith("  ")
        }
        assert funnel["prospect"] == funnel["first_buyer"] == 23_570
        assert funnel["first_buyer"] > funnel["repeat_buyer"] > funnel["vip"] > 0


KNOWLEDGE_CLUB = str(ROOT / "journeys" / "knowledge-club.yaml")


class TestOddInput:
    """Input a user may well have: no traceback, what was wrong and where, the rest goes on."""

    def test_bytes_that_are_not_utf8(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A line with a Latin-1 byte is rejected with the byte and its column; the others run."""
        path = tmp_path / "e.jsonl"
        good = json.dumps(event(1, "a", 1)).encode()
        bad = json.dumps(event(2, "b", 1, note="caf")).encode().replace(b'caf"', b'caf\xe9"')
        path.write_bytes(good + b"\n" + bad + b"\n")
        code, err = run(
            ["replay", CDNOW, str(path), "--rejects", str(tmp_path / "r.jsonl")], capsys
        )
        assert code == 0 and "2 events read: 1 processed, 1 rejected (1 unreadable)" in err
        [reject] = lines(tmp_path / "r.jsonl")
        column = bad.index(b"\xe9") + 1
        assert reject == {
            "event": None,
            "reason": f"not UTF-8 text: the byte 0xE9 at column {column}",
            "line": 2,
        }

    def test_a_cut_line_is_not_repeated(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A line that is not JSON may hold a pii value: the rejects file says where and why,
        not what; the column is the line's own."""
        line = json.dumps({"id": "p-1", "member": "m", "type": "profile",
                           "at": "2026-01-01T00:00:00+00:00", "phone": "0912-345-678"})  # fmt: skip
        path = tmp_path / "e.jsonl"
        path.write_text(line[:-1] + "\n", encoding="utf-8")  # the closing brace is lost
        code, _ = run(
            ["replay", KNOWLEDGE_CLUB, str(path), "--rejects", str(tmp_path / "r.jsonl")], capsys
        )
        written = (tmp_path / "r.jsonl").read_text(encoding="utf-8")
        assert code == 0 and "0912" not in written
        assert json.loads(written)["reason"] == (
            f"not JSON: Expecting ',' delimiter at column {len(line)}"
        )

    def test_rejects_are_strict_json(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """NaN and infinite amounts are written as text, so any JSON parser reads the file."""
        path = tmp_path / "e.jsonl"
        path.write_text(
            json.dumps(event(1, "a", 1, amount=float("nan")))
            + "\n"
            + json.dumps(event(2, "a", 2, amount=float("inf")))
            + "\n",
            encoding="utf-8",
        )
        run(["replay", CDNOW, str(path), "--rejects", str(tmp_path / "r.jsonl")], capsys)

        def refuse(constant: str) -> None:
            raise AssertionError(f"{constant} is not JSON")

        text = (tmp_path / "r.jsonl").read_text(encoding="utf-8")
        amounts = [
            json.loads(x, parse_constant=refuse)["event"]["amount"] for x in text.split("\n")[:2]
        ]
        assert amounts == ["nan", "inf"]

    def test_csv_from_a_spreadsheet(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A byte order mark is dropped; a row with more cells than the header is rejected."""
        path = tmp_path / "e.csv"
        path.write_text(
            "\ufeffid,member,type,at,amount,cds\n"
            "e-1,a,purchase,1997-01-01T00:00:00+00:00,10.5,1\n"
            "e-2,a,purchase,1997-01-02T00:00:00+00:00,10.5,1,EXTRA\n",
            encoding="utf-8",
        )
        code, err = run(
            ["replay", CDNOW, str(path), "--rejects", str(tmp_path / "r.jsonl")], capsys
        )
        assert code == 0 and "2 events read: 1 processed, 1 rejected (1 unreadable)" in err
        assert lines(tmp_path / "r.jsonl") == [
            {"event": None, "reason": "the row has 1 more cell(s) than the header has columns",
             "line": 3}
        ]  # fmt: skip

    @pytest.mark.parametrize(
        "name,content,message",
        [
            ("e.jsonl.gz", b"not gzip\n", "not a whole gzip file"),
            ("e.jsonl.gz", gzip.compress(b'{"id": "e-1"}\n' * 100)[:40], "not a whole gzip file"),
            ("e.parquet.gz", b"x", "Parquet files are read as they are"),
            ("e.csv", b"when,who\n1,2\n", "needs the columns id, member, type and at"),
            ("folder", None, "is a folder"),
        ],
    )
    def test_files_that_cannot_be_read(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        name: str,
        content: bytes | None,
        message: str,
    ) -> None:
        """Exit 2 and one line saying what is wrong with the file."""
        path = tmp_path / name
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        code, err = run(["replay", CDNOW, str(path)], capsys)
        assert code == 2 and message in err and err.count("\n") == 1, err

    def test_triggers_to_stdout(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--triggers - writes the triggers to stdout; two outputs cannot both go there."""
        path = write_jsonl(tmp_path / "e.jsonl", [event(1, "a", 1)])
        assert main(["replay", CDNOW, str(path), "--triggers", "-"]) == 0
        out = capsys.readouterr().out
        assert [json.loads(x)["incentive"] for x in out.splitlines()] == ["second_order_coupon"]
        code, err = run(["replay", CDNOW, str(path), "--triggers", "-", "--states", "-"], capsys)
        assert code == 2 and "only one output can go to stdout" in err

    def test_gzipped_stdin(self, tmp_path: Path) -> None:
        """A gzipped stream on stdin is refused at once, with what to do instead."""
        import subprocess

        data = gzip.compress((json.dumps(event(1, "a", 1)) + "\n").encode())
        done = subprocess.run(
            [sys.executable, "-m", "topo", "replay", CDNOW, "-"],
            input=data,
            capture_output=True,
            check=False,
            env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")},
        )
        assert done.returncode == 2
        assert b"stdin is gzipped" in done.stderr and b"Traceback" not in done.stderr


class TestPythonMistakes:
    """The library says what to pass instead."""

    def test_engine_of_a_path(self) -> None:
        import topo

        with pytest.raises(TypeError, match=r"load it first, as in topo.Engine\(topo.load_journey"):
            topo.Engine(CDNOW)  # type: ignore[arg-type]

    def test_tick_without_an_offset(self) -> None:
        """A naive time is a UsageError that shows the time with an offset, not a TypeError."""
        from datetime import datetime

        import topo

        engine = topo.Engine(topo.load_journey(CDNOW))
        with pytest.raises(topo.UsageError, match=r"the time to tick to has no offset: .* as "
                           r"1998-01-01T00:00:00\+00:00 for UTC"):  # fmt: skip
            engine.tick(datetime(1998, 1, 1))
        with pytest.raises(topo.UsageError, match="the time to tick to has no offset"):
            engine.tick("1998-01-01T00:00:00")
        with pytest.raises(topo.UsageError, match="as_of is not an RFC 3339 timestamp"):
            engine.state("00001", as_of="soon")


class TestOddInputFromTheSecondReview:
    """More input that ended in a traceback: found by a review, each now a sentence."""

    def test_lines_json_reads_but_no_event_has(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A lone surrogate written as a JSON escape, a number of 5,000 digits, nesting deeper
        than Python's stack: each line is rejected, and the run goes on to the good one."""
        member = json.dumps(event(1, "a", 1)).replace('"member": "a"', '"member": "\\udcff"')
        lines_in = [member, '{"id": ' + "1" * 5000 + "}", "[" * 100_000,
                    json.dumps(event(2, "b", 1))]  # fmt: skip
        path = tmp_path / "e.jsonl"
        path.write_text("\n".join(lines_in) + "\n", encoding="utf-8")
        code, err = run(
            ["replay", CDNOW, str(path), "--rejects", str(tmp_path / "r.jsonl")], capsys
        )
        assert code == 0 and "4 events read: 1 processed, 3 rejected" in err
        reasons = [r["reason"] for r in lines(tmp_path / "r.jsonl")]
        assert "'member' holds a lone surrogate" in reasons[0]
        assert reasons[1].startswith("not an event: it holds an integer of more than 4,300 digits")
        assert reasons[2] == "not an event: nested too deeply"

    @pytest.mark.parametrize(
        "content,message",
        [
            (b"id,member,type,at,x\xff\n1,m,purchase,1997-01-01T00:00:00+00:00\n",
             "the header is not UTF-8 text: the byte 0xFF"),
            (b'id,member,type,at\n1,m,purchase,"' + b"x" * 200_000 + b'"\n',
             "line 1: field larger than field limit"),
        ],
    )  # fmt: skip
    def test_csv_that_cannot_be_read(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
    ) -> None:
        path = tmp_path / "e.csv"
        path.write_bytes(content)
        code, err = run(["replay", CDNOW, str(path)], capsys)
        assert code == 2 and message in err and err.count("\n") == 1, err


class TestAFullDisk:
    """A write that fails (a full disk: /dev/full) is a sentence and exit 2, not a traceback."""

    @pytest.mark.parametrize("count", [3, 3000])
    def test_an_output_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int
    ) -> None:
        """Few triggers fail when the file is closed, many while it is written: both say
        which option's file failed, and why."""
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full on this system")
        events = write_jsonl(
            tmp_path / "e.jsonl", [event(n, f"m{n}", 1 + n % 28) for n in range(count)]
        )
        code, err = run(["replay", CDNOW, str(events), "--triggers", "/dev/full"], capsys)
        assert code == 2
        assert err.startswith("topo: error: --triggers /dev/full: No space left on device;")
        assert "Traceback" not in err

    def test_stdout(self, tmp_path: Path) -> None:
        """Triggers to stdout, and stdout a full disk: one line on stderr, exit 2."""
        import subprocess

        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full on this system")
        events = write_jsonl(tmp_path / "e.jsonl", [event(n, f"m{n}", 1) for n in range(3000)])
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [sys.executable, "-m", "topo", "replay", CDNOW, str(events), "--triggers", "-"],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            "topo: error: --triggers stdout: No space left on device; the file is incomplete "
            "(a durable store keeps what it committed: free some space and run again)\n"
        )

    def test_any_command_to_stdout(self) -> None:
        """A command that writes to stdout without an option (topo schema) says so too."""
        import subprocess

        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full on this system")
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [sys.executable, "-m", "topo", "schema"],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        assert (done.returncode, done.stderr) == (2, "topo: error: No space left on device\n")
