"""A durable replay killed with SIGKILL at seeded random moments, and resumed each time, ends
exactly as a replay that was never interrupted: the same triggers, in the same order, none lost
and none repeated, and the same states."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import ROOT

JOURNEY = ROOT / "journeys" / "cdnow.yaml"
EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"  # 69,659 real purchases
UNTIL = "1998-09-01T00:00:00+00:00"  # timers fire at the end too: kills land in tick as well
KILLS = 20
SEED = 20261123


def replay(*extra: str) -> list[str]:
    return [sys.executable, "-m", "topo", "replay", str(JOURNEY), str(EVENTS), "--until", UNTIL,
            *extra]  # fmt: skip


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_killed_and_resumed_replays_end_as_one_uninterrupted(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = {"env": env, "cwd": tmp_path, "stderr": subprocess.DEVNULL}
    subprocess.run(
        replay("--triggers", "expected.jsonl", "--states", "expected-states.jsonl"),
        check=True,
        **run,  # type: ignore[arg-type]
    )
    store = f"sqlite:{tmp_path / 'store.db'}"
    chance = random.Random(SEED)
    kills = 0
    while kills < KILLS:
        process = subprocess.Popen(replay("--store", store), **run)  # type: ignore[call-overload]
        try:
            process.wait(timeout=chance.uniform(0.5, 1.5))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        else:
            assert process.returncode == 0
    finished = subprocess.run(
        replay("--store", store, "--triggers", "found.jsonl", "--states", "found-states.jsonl"),
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


def by_member(lines: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        found[json.loads(line)["member"]].append(line)
    return found
