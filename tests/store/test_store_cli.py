"""The durable store on the command line: replay --store sqlite:PATH (resuming), topo outbox,
topo export and topo import; every mistake is a sentence and exit 2."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import CDNOW, event, lines, run, write_jsonl
from topo.cli.commands import main

EVENTS = [event(n, f"m{n % 5}", 1 + n // 2, amount=30.0 + n) for n in range(40)]


def replay(tmp_path: Path, events: Path, *extra: str) -> list[str]:
    return ["replay", CDNOW, str(events), "--store", f"sqlite:{tmp_path / 's.db'}", *extra]


class TestReplayResumes:
    def test_a_second_run_applies_nothing_again(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Run twice into one store: the second skips every event and writes the same
        triggers file; the states are those of a memory replay."""
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        memory = ["replay", CDNOW, str(events), "--triggers", str(tmp_path / "mt"),
                  "--states", str(tmp_path / "ms")]  # fmt: skip
        assert run(memory, capsys)[0] == 0
        assert run(replay(tmp_path, events, "--triggers", str(tmp_path / "t1")), capsys)[0] == 0
        code, err = run(replay(tmp_path, events, "--triggers", str(tmp_path / "t2"),
                               "--states", str(tmp_path / "s2")), capsys)  # fmt: skip
        assert code == 0 and "40 events read: 40 applied before, 0 processed" in err
        assert len(lines(tmp_path / "mt")) > 5
        assert (tmp_path / "t1").read_text() == (tmp_path / "mt").read_text()
        assert (tmp_path / "t2").read_text() == (tmp_path / "mt").read_text()
        assert (tmp_path / "s2").read_text() == (tmp_path / "ms").read_text()

    def test_a_grown_file_goes_on_from_where_it_was(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Events appended to the file after a replay are the only ones processed next time,
        and the triggers file holds every trigger of the file, as one replay would."""
        whole = write_jsonl(tmp_path / "whole.jsonl", EVENTS)
        run(["replay", CDNOW, str(whole), "--triggers", str(tmp_path / "expected")], capsys)
        growing = write_jsonl(tmp_path / "e.jsonl", EVENTS[:25])
        assert run(replay(tmp_path, growing), capsys)[0] == 0
        write_jsonl(growing, EVENTS)
        code, err = run(replay(tmp_path, growing, "--triggers", str(tmp_path / "t")), capsys)
        assert code == 0 and "25 applied before, 15 processed" in err
        assert (tmp_path / "t").read_text() == (tmp_path / "expected").read_text()

    def test_each_input_writes_its_own_triggers(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Two inputs into one store, then the first again: each --triggers file holds the
        triggers of its own events only; an empty input writes none."""
        first = write_jsonl(tmp_path / "a.jsonl", EVENTS[:20])
        second = write_jsonl(tmp_path / "b.jsonl", EVENTS[20:])
        empty = write_jsonl(tmp_path / "c.jsonl", [])
        for events, out in ((first, "ta"), (second, "tb"), (first, "ta2"), (empty, "tc")):
            assert run(replay(tmp_path, events, "--triggers", str(tmp_path / out)), capsys)[0] == 0
        a, b = lines(tmp_path / "ta"), lines(tmp_path / "tb")
        assert a and b and not {t["id"] for t in a} & {t["id"] for t in b}
        assert lines(tmp_path / "ta2") == a and lines(tmp_path / "tc") == []

    def test_a_different_file_that_begins_alike(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS[:20])
        assert run(replay(tmp_path, events), capsys)[0] == 0
        write_jsonl(events, [*EVENTS[:19], event(99, "m9", 20)])
        code, err = run(replay(tmp_path, events), capsys)
        assert code == 2 and "event 20 is not the same" in err and "Traceback" not in err
        write_jsonl(events, EVENTS[:10])
        code, err = run(replay(tmp_path, events), capsys)
        assert code == 2 and "which has only 10" in err

    def test_a_store_url_with_a_batch_size(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        url = f"sqlite:{tmp_path / 's.db'}?batch=3"
        assert run(["replay", CDNOW, str(events), "--store", url], capsys)[0] == 0
        for bad in ("?batch=0", "?size=3", "?batch=x"):
            code, err = run(["replay", CDNOW, str(events), "--store", f"sqlite:x.db{bad}"], capsys)
            assert code == 2 and "batch=N" in err


class TestOutbox:
    def test_pending_then_acknowledged(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        run(replay(tmp_path, events, "--triggers", str(tmp_path / "t")), capsys)
        store = f"sqlite:{tmp_path / 's.db'}"
        assert main_out(["outbox", store], capsys) == (tmp_path / "t").read_text()
        assert (
            main_out(["outbox", str(tmp_path / "s.db"), "--ack"], capsys)
            == (tmp_path / "t").read_text()
        )
        assert main_out(["outbox", store], capsys) == ""

    def test_a_missing_store_is_not_made(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        for command in (["outbox"], ["export"]):
            code, err = run([*command, str(tmp_path / "none.db")], capsys)
            assert code == 2 and "does not exist" in err
        assert not (tmp_path / "none.db").exists()

    def test_a_damaged_store(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        (tmp_path / "bad.db").write_bytes(b"\x00garbage" * 2000)
        code, err = run(["outbox", str(tmp_path / "bad.db")], capsys)
        assert code == 2 and "damaged" in err and "Traceback" not in err


class TestExportImport:
    def test_round_trip(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Export, import into a new store, export again: the same lines."""
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        run(replay(tmp_path, events), capsys)
        exported = main_out(["export", f"sqlite:{tmp_path / 's.db'}"], capsys)
        header, *members = (json.loads(line) for line in exported.splitlines())
        assert header["format"] == "topo-export/1" and header["journey"] == "cdnow"
        assert [m["member"] for m in members] == [f"m{n}" for n in range(5)]
        assert set(members[0]) >= {"node", "entered_at", "metrics", "version", "state"}
        (tmp_path / "export.jsonl").write_text(exported)
        code, err = run(
            ["import", str(tmp_path / "new.db"), str(tmp_path / "export.jsonl")], capsys
        )
        assert code == 0 and "5 members imported" in err
        assert main_out(["export", str(tmp_path / "new.db")], capsys) == exported

    def test_import_refuses_a_store_that_exists(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        run(replay(tmp_path, events), capsys)
        (tmp_path / "x.jsonl").write_text(main_out(["export", str(tmp_path / "s.db")], capsys))
        code, err = run(["import", str(tmp_path / "s.db"), str(tmp_path / "x.jsonl")], capsys)
        assert code == 2 and "is not empty: import into a new store" in err

    def test_import_of_something_else(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "x.jsonl").write_text('{"member": "m"}\n')
        code, err = run(["import", str(tmp_path / "n.db"), str(tmp_path / "x.jsonl")], capsys)
        assert code == 2 and "x.jsonl:1: not a topo export" in err
        with sqlite3.connect(tmp_path / "n.db") as db:  # made, but left empty
            assert db.execute("SELECT count(*) FROM members").fetchone() == (0,)


def main_out(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What a command that must succeed printed to stdout."""
    assert main(argv) == 0
    return capsys.readouterr().out


class TestReviewFindings:
    """What an independent review found on the command line, each with its test."""

    def test_urls_with_slashes_are_refused_and_home_is_expanded(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        code, err = run(["replay", CDNOW, str(events), "--store", "sqlite://x.db"], capsys)
        assert code == 2 and "sqlite:PATH with one colon" in err
        monkeypatch.setenv("HOME", str(tmp_path))
        assert run(["replay", CDNOW, str(events), "--store", "sqlite:~/h.db"], capsys)[0] == 0
        assert (tmp_path / "h.db").is_file()

    def test_readers_do_not_make_a_store_of_an_empty_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "empty.db").write_bytes(b"")
        for command in ("outbox", "export"):
            code, err = run([command, str(tmp_path / "empty.db")], capsys)
            assert code == 2 and "an empty file, not a topo store" in err
        assert (tmp_path / "empty.db").stat().st_size == 0

    def test_a_store_cut_to_nothing_is_refused_everywhere(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A store truncated to 0 bytes was taken as new by replay, which then sent every
        trigger again; a store is made only where no file is."""
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        run(replay(tmp_path, events), capsys)
        (tmp_path / "s.db").write_bytes(b"")
        for suffix in ("-wal", "-shm"):
            (tmp_path / f"s.db{suffix}").unlink(missing_ok=True)
        code, err = run(replay(tmp_path, events), capsys)
        assert code == 2 and "is an empty file, not a topo store" in err
        code, err = run(["import", str(tmp_path / "s.db"), str(events)], capsys)
        assert code == 2 and "is an empty file, not a topo store" in err
        assert (tmp_path / "s.db").stat().st_size == 0

    def test_a_failed_import_can_be_tried_again(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        run(replay(tmp_path, events), capsys)
        (tmp_path / "x.jsonl").write_text(main_out(["export", str(tmp_path / "s.db")], capsys))
        (tmp_path / "bad.jsonl").write_text("")
        new = str(tmp_path / "new.db")
        code, err = run(["import", new, str(tmp_path / "bad.jsonl")], capsys)
        assert code == 2 and "is empty" in err
        assert run(["import", new, str(tmp_path / "x.jsonl")], capsys)[0] == 0

    def test_a_closed_pipe_is_no_traceback(self, tmp_path: Path) -> None:
        import subprocess
        import sys

        from conftest import ROOT

        many = [event(n, f"m{n}", 1 + n % 28) for n in range(3000)]  # more than a pipe holds
        events = write_jsonl(tmp_path / "e.jsonl", many)
        env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
        topo = [sys.executable, "-m", "topo"]
        subprocess.run([*topo, *replay(tmp_path, events)], env=env, check=True,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        for command in ("export", "outbox"):
            with subprocess.Popen(
                [*topo, command, str(tmp_path / "s.db")],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            ) as process:
                assert process.stdout is not None and process.stderr is not None
                process.stdout.readline()
                process.stdout.close()  # as `| head -1` does
                err = process.stderr.read().decode()
            assert "Traceback" not in err


def test_progress_counts_the_events_a_resume_skips(tmp_path: Path) -> None:
    """A resumed replay reads past what was applied before: the progress bar moves meanwhile."""
    from topo import Engine, SqliteStore, load_journey
    from topo.replay.readers import read_events
    from topo.replay.runner import replay as run_replay

    events = write_jsonl(tmp_path / "e.jsonl", [event(n, f"m{n}", 1) for n in range(2500)])
    journey = load_journey(CDNOW)
    seen: list[list[int]] = []
    for _ in range(2):
        shown: list[int] = []
        with SqliteStore(tmp_path / "s.db") as store:
            report = run_replay(
                Engine(journey, store, explain=False),
                read_events(events, journey),
                progress=shown.append,
            )
        seen.append(shown)
    assert report.applied == 2500 and report.read == 2500 and report.processed == 0
    assert seen == [[1000, 2000], [1000, 2000]]


def test_import_of_a_missing_file_makes_no_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for given, said in ((tmp_path / "nope.jsonl", "no such file"), (tmp_path, "is a folder")):
        code, err = run(["import", str(tmp_path / "n.db"), str(given)], capsys)
        assert code == 2 and said in err
    assert not (tmp_path / "n.db").exists()


class TestResumeAfterAnUndoneEvent:
    """A replay whose event failed halfway, in a program that goes on and commits."""

    def test_the_failed_event_is_applied_on_resume(self, tmp_path: Path) -> None:
        """The engine undid the event; the store's note of how far the input came goes back
        with it, so a later run applies it (before, the note said it was applied, and a
        resumed run skipped it: lost)."""
        import topo
        from conftest import fail_at
        from topo.replay.readers import read_events
        from topo.replay.runner import replay as run

        events = write_jsonl(tmp_path / "e.jsonl", EVENTS)
        journey = topo.load_journey(CDNOW)
        store = topo.SqliteStore(tmp_path / "s.db")
        engine = topo.Engine(journey, store)
        fail_at(engine, "_keep", 2)
        with pytest.raises(KeyboardInterrupt):
            run(engine, read_events(events, journey))
        store.close()  # a program that goes on, and commits what it has
        store = topo.SqliteStore(tmp_path / "s.db")
        engine = topo.Engine(journey, store)
        report = run(engine, read_events(events, journey))
        assert (report.applied, report.processed) == (1, len(EVENTS) - 1)
        whole = topo.Engine(journey)
        whole.process_many(EVENTS)
        assert [engine.state(m) for m in sorted(whole.store.members())] == [
            whole.state(m) for m in sorted(whole.store.members())
        ]
        store.close()
