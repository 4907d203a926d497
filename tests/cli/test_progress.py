"""The progress line of long replays: what it shows, how often, and only on a terminal."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import topo
from conftest import ROOT
from topo.cli.commands import main
from topo.cli.progress import ProgressBar
from topo.replay.readers import Reading, read_events

CDNOW_EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"
CDNOW = ROOT / "journeys" / "cdnow.yaml"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestProgressBar:
    """One line: a bar and the share read when the size is known, the count, rate, time left."""

    def test_with_a_known_size(self) -> None:
        """Half read in 10 seconds: 10 seconds left."""
        bar = ProgressBar(io.StringIO(), lambda: 0.5)
        assert bar.line(1_000, 10.0) == (
            "[##########··········]  50%   1,000 events   100/s   0:10 left"
        )

    def test_no_rate_in_the_first_second(self) -> None:
        """A rate over a blink of time said 128,832,764/s: it shows from the first second."""
        bar = ProgressBar(io.StringIO(), lambda: None)
        assert bar.line(1_000, 0.001) == "1,000 events"
        assert bar.line(1_000, 1.0) == "1,000 events   1,000/s"

    def test_a_stage_watched_late(self) -> None:
        """A stage first seen with 1,000 items done counts its rate from there."""
        bar = ProgressBar(io.StringIO(), lambda: None)
        bar.restart(lambda: None, "timers", counted=1_000)
        assert bar.line(3_000, 2.0) == "3,000 timers   1,000/s"

    def test_without_a_size(self) -> None:
        """Reading a pipe: the count and the rate only."""
        assert ProgressBar(io.StringIO()).line(12_345, 2.0) == "12,345 events   6,172/s"

    def test_hours_left(self) -> None:
        """A long way to go reads h:mm:ss."""
        line = ProgressBar(io.StringIO(), lambda: 0.01).line(100, 100.0)
        assert line.endswith("2:45:00 left")

    def test_redraws_at_most_every_fifth_of_a_second(self) -> None:
        """Calls in between are free: nothing is written."""
        stream, clock = io.StringIO(), Clock()
        bar = ProgressBar(stream, lambda: 0.25, clock=clock)
        bar(1_000)
        clock.now = 0.1
        bar(2_000)
        clock.now = 0.3
        bar(3_000)
        drawn = stream.getvalue().split("\r")[1:]
        assert [line.split("   ")[1] for line in drawn] == ["1,000 events", "3,000 events"]

    def test_clear_leaves_an_empty_line(self) -> None:
        """Before the summary, the line is wiped and the cursor is back at its start."""
        stream = io.StringIO()
        bar = ProgressBar(stream, lambda: 0.5)
        bar(10)
        width = len(stream.getvalue()) - 1
        bar.clear()
        assert stream.getvalue().endswith("\r" + " " * width + "\r")

    def test_within_a_limit(self) -> None:
        """Work that may stop before its limit: the share of the limit, the count and what it
        found; no rate nor time left, which would promise too much."""
        bar = ProgressBar(io.StringIO(), noun="situations", limit=20_000)
        assert bar.line(5_000, 2.0, "3 of 7 nodes and 2 of 9 moves") == (
            "[#####···············]  25%   5,000 situations   3 of 7 nodes and 2 of 9 moves"
        )

    def test_status_is_asked_for_only_when_drawn(self) -> None:
        """The status is a function, called only for the lines that are drawn."""
        stream, clock = io.StringIO(), Clock()
        asked: list[str] = []

        def status() -> str:
            asked.append("found")
            return "found"

        bar = ProgressBar(stream, limit=10, clock=clock)
        for count in range(1, 4):
            bar(count, status)
        assert asked == ["found"]
        assert stream.getvalue() == "\r[##··················]  10%   1 events   found"

    def test_never_wider_than_the_terminal(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A line that would wrap is cut one column short of the terminal's width."""
        stream = _Terminal()
        monkeypatch.setattr(stream, "fileno", lambda: 2, raising=False)
        monkeypatch.setattr("os.get_terminal_size", lambda fd: os.terminal_size((40, 24)))
        ProgressBar(stream, lambda: 0.5)(1_000)
        assert len(stream.getvalue()) == 1 + 39


class TestReading:
    """How far a file has been read, in stored bytes (compressed for .gz)."""

    def test_gzipped_file(self) -> None:
        journey = topo.load_journey(CDNOW)
        reading = Reading()
        events = read_events(CDNOW_EVENTS, journey, reading)
        for _ in range(35_000):
            next(events)
        half = reading.done()
        assert half is not None and 0.2 < half < 0.8
        for _ in events:
            pass
        assert reading.done() == 1.0

    @pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
    def test_plain_files(self, tmp_path: Path, suffix: str) -> None:
        """Uncompressed JSON lines and CSV: the share of the file's bytes read."""
        rows = [
            {"id": f"e-{n}", "member": "m", "type": "purchase",
             "at": f"1997-01-01T00:00:{n % 60:02}+00:00", "amount": 1.5, "cds": 1}
            for n in range(20_000)
        ]  # fmt: skip
        path = tmp_path / f"events{suffix}"
        if suffix == ".csv":
            header = ",".join(rows[0])
            lines = [",".join(str(v) for v in row.values()) for row in rows]
            path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        else:
            path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        reading = Reading()
        events = read_events(path, topo.load_journey(CDNOW), reading)
        for _ in range(10_000):
            next(events)
        half = reading.done()
        assert half is not None and 0.3 < half < 0.7
        assert sum(1 for _ in events) == 10_000
        assert reading.done() == 1.0

    def test_stdin_is_unknown(self) -> None:
        assert Reading().done() is None


def _every_call(init: Any) -> Any:
    """ProgressBar.__init__, with every call drawn (no fifth of a second between two)."""

    def every(self: ProgressBar, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **{**kwargs, "every": 0.0})

    return every


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestReplayShowsProgress:
    """topo replay draws the line on a terminal only, and wipes it before the summary."""

    def test_on_a_terminal(self, monkeypatch: pytest.MonkeyPatch) -> None:
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(["replay", str(CDNOW), str(CDNOW_EVENTS)]) == 0
        written = terminal.getvalue()
        assert "\r[" in written and " events   " in written
        summary = written.rsplit("\r", 1)[1]
        assert summary.startswith("69,659 events read")

    def test_the_advance_to_until(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """After the reading, the advance to --until has a bar of its own (the reading's stood
        still at its last fraction while 18,293 members' timers fired), counting up to them."""
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        monkeypatch.setattr(ProgressBar, "__init__", _every_call(ProgressBar.__init__))
        argv = ["replay", str(CDNOW), str(CDNOW_EVENTS), "--until", "1998-07-01T00:00:00Z"]
        assert main(argv) == 0
        written = terminal.getvalue()
        assert "]  11%   2,000 timers" in written and "]  98%   18,000 timers" in written
        assert written.rsplit("\r", 1)[1].startswith("69,659 events read")

    def test_a_durable_replay_to_the_end(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """With a store, the triggers written out of its outbox at the end show too (a fifth of
        a durable CDNOW replay, with the bar standing still before)."""
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        monkeypatch.setattr(ProgressBar, "__init__", _every_call(ProgressBar.__init__))
        argv = ["replay", str(CDNOW), str(CDNOW_EVENTS), "--store", f"sqlite:{tmp_path / 's'}",
                "--triggers", str(tmp_path / "t.jsonl")]  # fmt: skip
        assert main(argv) == 0
        assert "\r1,000 triggers   " in terminal.getvalue()

    def test_not_on_a_terminal(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["replay", str(CDNOW), str(CDNOW_EVENTS)]) == 0
        assert "\r" not in capsys.readouterr().err
