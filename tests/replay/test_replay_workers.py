"""``topo replay --workers N``: members split over processes, the same output files for any N."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topo.replay.parallel as parallel
import topo.workers as workers
from conftest import CDNOW, ROOT, event, run, write_jsonl
from random_journeys import journeys, streams
from replay_outputs import replayed_here
from topo import load_journey
from topo.journey.model import Journey
from topo.replay.parallel import Outputs, replay_in_workers
from topo.replay.readers import read_events
from topo.workers import start_method, worker_of

CLUB = str(ROOT / "journeys" / "knowledge-club.yaml")
UNTIL = "1997-09-01T00:00:00+00:00"
OUTPUTS = ("triggers", "states", "rejects", "withheld", "summary")


def events_of_every_kind(path: Path) -> Path:
    """CDNOW purchases of a dozen members, with a duplicate, a late and an invalid event, lines
    that are no event, an event without a member; the --until of UNTIL fires timers."""
    members = [f"m{n}" for n in range(12)]
    items: list[Any] = []
    for day in range(1, 29):
        for k, member in enumerate(members):
            if (day + k) % 5 == 0:
                items.append(event(len(items), member, day, amount=10.0 + 7 * k + day))
    middle = len(items) // 2
    items[middle:middle] = [
        dict(items[middle - 1]),  # a duplicate
        event(900, members[0], 1),  # late: m0 has bought since
        event(901, members[1], 9, amount=-5),  # invalid
        "not json",
        ["a list"],
        {"id": "x", "type": "purchase", "at": "1997-01-02T00:00:00+00:00"},  # no member
    ]
    return write_jsonl(path, items)


def replay_files(
    folder: Path, capsys: pytest.CaptureFixture[str], events: Path, *extra: str
) -> tuple[int, str]:
    folder.mkdir()
    return run(
        ["replay", CDNOW, str(events), "--until", UNTIL,
         *(a for name in OUTPUTS for a in (f"--{name}", str(folder / name))), *extra],
        capsys,
    )  # fmt: skip


class TestReplayWorkers:
    """Every output file is the same bytes with 1, 2 or 3 workers."""

    def test_outputs_are_the_same_for_any_number_of_workers(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Triggers in grant order (timers of --until last), states by member, rejects in
        input order, the summary and the report on stderr: all alike."""
        events = events_of_every_kind(tmp_path / "e.jsonl")
        found = {}
        for n in (1, 2, 3):
            code, err = replay_files(tmp_path / str(n), capsys, events, "--workers", str(n))
            assert code == 0, err
            found[n] = err, {name: (tmp_path / str(n) / name).read_bytes() for name in OUTPUTS}
        assert found[1] == found[2] == found[3]
        err, files = found[1]
        rejects = [json.loads(line) for line in files["rejects"].splitlines()]
        assert [r["line"] for r in rejects] == sorted(r["line"] for r in rejects)
        assert len(rejects) == 6
        triggers = [json.loads(line) for line in files["triggers"].splitlines()]
        assert any(t["reason"] == "timer" for t in triggers)
        assert "rejected" in err

    def test_csv_and_gzip_inputs(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Rows of a CSV file are split by member too."""
        rows = ["id,member,type,at,amount,cds"] + [
            f"e{n},m{n % 7},purchase,1997-01-{1 + n // 7:02d}T00:00:00+00:00,{20 + n},1"
            for n in range(60)
        ]
        csv = tmp_path / "e.csv"
        csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
        found = []
        for n in (1, 3):
            code, err = replay_files(tmp_path / str(n), capsys, csv, "--workers", str(n))
            assert code == 0, err
            found.append([(tmp_path / str(n) / name).read_bytes() for name in OUTPUTS])
        assert found[0] == found[1]

    def test_a_durable_store_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Several workers cannot resume one ordered replay: one sentence, nothing made."""
        events = write_jsonl(tmp_path / "e.jsonl", [event(1, "a", 1)])
        code, err = run(
            ["replay", CDNOW, str(events), "--store", f"sqlite:{tmp_path / 'm.db'}",
             "--workers", "2"],
            capsys,
        )  # fmt: skip
        assert code == 2
        assert err.startswith("topo: error: --store sqlite:") and "--workers 1" in err
        assert len(err.strip().splitlines()) == 1
        assert not (tmp_path / "m.db").exists()

    def test_stdin_is_refused(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Each worker reads the events itself: stdin cannot be read twice."""
        code, err = run(["replay", CDNOW, "-", "--workers", "2"], capsys)
        assert code == 2 and "stdin" in err and "--workers 1" in err

    @pytest.mark.parametrize("workers", ["0", "-3"])
    def test_a_number_of_workers_below_one(
        self, workers: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, err = run(["replay", CDNOW, "-", "--workers", workers], capsys)
        assert code == 2
        assert err == (
            "topo: error: --workers is the number of worker processes, a whole number from 1, "
            f"not {workers}\n"
        )

    def test_a_failure_in_the_workers_is_one_sentence(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file the workers cannot read: the reader's own sentence, exit 2, no traceback."""
        broken = tmp_path / "e.jsonl.gz"
        broken.write_text("not gzip\n", encoding="utf-8")
        code, err = run(["replay", CDNOW, str(broken), "--workers", "2"], capsys)
        assert code == 2
        assert err.startswith("topo: error: ") and "gzip" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


class TestStartMethod:
    @pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
    def test_forked_on_linux_unless_another_thread_runs(self) -> None:
        # (Another test may have left a thread running: a Spark session's, say.)
        assert start_method() == ("fork" if threading.active_count() == 1 else "spawn")
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait)
        thread.start()
        try:
            assert start_method() == "spawn"  # a fork could copy a lock the thread holds
        finally:
            stop.set()
            thread.join()

    def test_forked_and_spawned_workers_write_the_same(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        journey = load_journey(CDNOW)
        events = events_of_every_kind(tmp_path / "e.jsonl")
        until = datetime.fromisoformat(UNTIL)
        written = {}
        for method in ("spawn", start_method()):
            monkeypatch.setattr(workers, "start_method", lambda method=method: method)
            written[method] = in_workers(journey, events, until, 2)
        assert len(set(map(repr, written.values()))) == 1
        assert written["spawn"]["triggers"] and written["spawn"]["states"]


def in_process(target: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], **_: Any) -> list[Any]:
    """``topo.workers.run`` without processes: the split and the merge, quickly."""
    return [target(*task, lambda *values: None) for task in tasks]


MEMBERS = {"a": "m0", "b": "m1", "c": "m5"}  # on two workers of 2, on three of 3
assert len({worker_of(m, 3) for m in MEMBERS.values()}) == 3
assert len({worker_of(m, 2) for m in MEMBERS.values()}) == 2


def one_process(journey: Journey, path: Path, until: datetime | None) -> dict[str, list[str]]:
    """What ``topo replay`` writes with one process (as the command line writes it)."""
    return replayed_here(journey, path, until)


def in_workers(
    journey: Journey, path: Path, until: datetime | None, workers: int
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {n: [] for n in ("triggers", "rejects", "withheld", "states")}
    outputs = Outputs(
        trigger=found["triggers"].append,
        reject=found["rejects"].append,
        withheld=found["withheld"].append,
        state=found["states"].append,
    )
    replay_in_workers(journey, path, workers=workers, outputs=outputs, until=until)
    return found


class TestMergeProperty:
    """On random journeys and streams, the merge of 2 or 3 shares is one process's output."""

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(journey=journeys(), items=streams(), workers=st.sampled_from([2, 3]))
    def test_any_stream(
        self,
        journey: Journey,
        items: list[Any],
        workers: int,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(parallel, "run", in_process)
        events = [{**i, "member": MEMBERS[i["member"]]} for i in items if isinstance(i, dict)]
        ticks = [i for i in items if isinstance(i, datetime)]
        until = max(ticks) + timedelta(days=60) if ticks else None  # timers of every member
        path = write_jsonl(tmp_path / f"e{workers}.jsonl", events)
        assert in_workers(journey, path, until, workers) == one_process(journey, path, until)


class TestShares:
    """read_events(part=(k, n)): every item in exactly one share, a member's all in one."""

    @pytest.mark.parametrize("count", [2, 3, 5])
    def test_every_line_once(self, count: int, tmp_path: Path) -> None:
        lines = [json.dumps(event(n, f"m{n % 9}", 1 + n % 20)) for n in range(40)] + [
            '{"id": "a", "member": "m1", "type": "purchase", "attrs": {"member": "m2"}}',
            '{"id": "b", "type": "purchase", "attrs": {"member": "m2"}}',  # nested only
            '{"id": "c", "member": "m\\u0033", "type": "purchase"}',  # an escape: parsed
            '{"id": "d", "member": "m4", "member": "m5"}',  # a key twice: unreadable
            '{"id": "e", "member": 7, "type": "purchase"}',  # not text
            '{"id": "f", "type": "member", "member": "m6"}',
            '{"id": "g", "note": "\\"member\\": \\"m7\\"", "member": "m8"}',
            "not json",
            '["a list"]',
        ]
        path = tmp_path / "e.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        journey = cdnow_journey()
        whole = list(read_events(path, journey))
        shares = [list(read_events(path, journey, part=(k, count))) for k in range(count)]
        assert sorted((item for share in shares for item in share), key=lambda i: i[0]) == whole
        for k, share in enumerate(shares):
            members = {i[1]["member"] for i in share if isinstance(i[1], dict) and "member" in i[1]}
            for member in members:
                if isinstance(member, str):
                    assert worker_of(member, count) == k


def cdnow_journey() -> Journey:
    from topo.validation import load_journey

    return load_journey(CDNOW)
