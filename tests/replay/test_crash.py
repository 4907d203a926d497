"""A durable replay killed with SIGKILL at seeded random moments, and resumed each time, ends
exactly as a replay that was never interrupted: the same triggers, in the same order, none lost
and none repeated, and the same states."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from contextlib import closing
from pathlib import Path

import pytest

from conftest import ROOT

JOURNEY = ROOT / "journeys" / "cdnow.yaml"
EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"  # 69,659 real purchases
UNTIL = "1998-09-01T00:00:00+00:00"  # timers fire at the end too: kills land in tick as well
KILLS = 20
EARLY = 4  # the first kills land anywhere, store creation included; the others after a commit
SEED = 20261123


def replay(*extra: str) -> list[str]:
    return [sys.executable, "-m", "topo", "replay", str(JOURNEY), str(EVENTS), "--until", UNTIL,
            *extra]  # fmt: skip


ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def position(path: Path) -> int:
    """How many events of the input the store at ``path`` has committed (0: none, or no
    store yet)."""
    if not path.exists():
        return 0
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            rows = db.execute("SELECT value FROM marks WHERE name LIKE 'replay %'").fetchall()
        except sqlite3.OperationalError:  # not made yet
            return 0
    return max((json.loads(value)["position"] for (value,) in rows), default=0)


def committed(process: subprocess.Popen[bytes], path: Path, before: int) -> None:
    """Wait until ``process`` has committed past ``before`` (or ended)."""
    deadline = time.monotonic() + 120
    while process.poll() is None and position(path) <= before:
        assert time.monotonic() < deadline, "the replay committed nothing in two minutes"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The triggers and states of a replay never interrupted (in memory)."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    subprocess.run(
        replay("--triggers", "expected.jsonl", "--states", "expected-states.jsonl"),
        check=True,
        env=ENV,
        cwd=folder,
        stderr=subprocess.DEVNULL,
    )
    return folder


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_killed_and_resumed_replays_end_as_one_uninterrupted(
    tmp_path: Path, expected: Path
) -> None:
    env = ENV
    run = {"env": env, "cwd": tmp_path, "stderr": subprocess.DEVNULL}
    for name in ("expected.jsonl", "expected-states.jsonl"):
        (tmp_path / name).write_bytes((expected / name).read_bytes())
    path = tmp_path / "store.db"
    # Commits every 20,000 changes (the default batch when this test was written; the default
    # is larger now), so that the replay of 69,659 events commits several times before its end
    # and the kills land between commits.
    store = f"sqlite:{path}"
    writing = f"{store}?batch=20000"
    chance = random.Random(SEED)
    kills = 0
    while kills < KILLS:
        before = position(path)
        process = subprocess.Popen(replay("--store", writing), **run)  # type: ignore[call-overload]
        if kills >= EARLY:  # let it commit once, then kill it at a random moment after
            committed(process, path, before)
        try:
            process.wait(
                timeout=chance.uniform(0.0, 0.5) if kills >= EARLY else chance.uniform(0.05, 1.5)
            )
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        else:
            assert process.returncode == 0
            break  # it finished between two kills: the rest is the resumed run below
    assert position(path) > 0  # the premise: the killed runs got somewhere
    finished = subprocess.run(
        replay("--store", writing, "--triggers", "found.jsonl", "--states", "found-states.jsonl"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "applied before" in finished.stderr  # it resumed, it did not start again

    expected = (tmp_path / "expected.jsonl").read_text().splitlines()
    found = (tmp_path / "found.jsonl").read_text().splitlines()
    assert len(expected) > 40_000
    assert Counter(found) == Counter(expected)  # none lost, none repeated
    assert by_member(found) == by_member(expected)  # each member's in order
    assert found == expected  # and all in the order granted
    assert (tmp_path / "found-states.jsonl").read_text() == (
        tmp_path / "expected-states.jsonl"
    ).read_text()
    pending = subprocess.run(
        [sys.executable, "-m", "topo", "outbox", store],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert pending.stdout.splitlines() == expected  # the outbox holds each trigger once


def test_ctrl_c_stops_a_replay_cleanly(tmp_path: Path, expected: Path) -> None:
    """SIGINT: no traceback, exit 130; run again, the replay ends as one never stopped."""
    store = f"sqlite:{tmp_path / 'store.db'}"
    process = subprocess.Popen(
        replay("--store", store), env=ENV, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    with pytest.raises(subprocess.TimeoutExpired):  # the replay takes seconds: it is mid-way
        process.wait(timeout=1.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate()
    assert process.returncode == 130 and "topo: interrupted" in err
    assert "Traceback" not in err
    subprocess.run(
        replay("--store", store, "--triggers", "found.jsonl", "--states", "found-states.jsonl"),
        env=ENV,
        cwd=tmp_path,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    for name in ("", "-states"):
        assert (tmp_path / f"found{name}.jsonl").read_text() == (
            expected / f"expected{name}.jsonl"
        ).read_text()


def by_member(lines: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        found[json.loads(line)["member"]].append(line)
    return found
