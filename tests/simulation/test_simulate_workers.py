"""``topo simulate --workers N``: members split over processes, the same output files for any N."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import topo.simulation.parallel as parallel
from conftest import ROOT, run
from topo.cli import commands
from topo.simulation.defaults import default_personas
from topo.simulation.parallel import Outputs, simulate_in_workers
from topo.simulation.personas import load_personas
from topo.simulation.runner import run_population
from topo.validation import load_journey
from topo.workers import default_workers

OUTPUTS = ("summary", "events", "triggers", "states")


def simulate_files(
    folder: Path, capsys: pytest.CaptureFixture[str], journey: str, *extra: str
) -> tuple[str, dict[str, bytes]]:
    folder.mkdir()
    personas = ROOT / "journeys" / journey.replace(".yaml", ".personas.yaml")
    code, err = run(
        ["simulate", str(ROOT / "journeys" / journey), "--personas", str(personas),
         *(a for name in OUTPUTS for a in (f"--{name}", str(folder / name))), *extra],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    return err, {name: (folder / name).read_bytes() for name in OUTPUTS}


class TestSimulateWorkers:
    """Every output file, and the lines on stderr, are the same with 1, 2 or 3 workers."""

    @pytest.mark.parametrize("journey", ["knowledge-club.yaml", "cdnow.yaml"])
    def test_outputs_are_the_same_for_any_number_of_workers(
        self, journey: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Events and triggers in the order one process makes them (responses to a midnight's
        timers included), states by member, the summary."""
        options = ["--members", "400", "--days", "120", "--workers"]
        found = [
            simulate_files(tmp_path / str(n), capsys, journey, *options, str(n)) for n in (1, 2, 3)
        ]
        assert found[0] == found[1] == found[2]
        assert found[0][1]["triggers"] and found[0][1]["events"]

    def test_several_runs_give_the_same_summary(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--runs K: each run split alike, the summary's means and intervals alike."""
        options = ["--members", "200", "--days", "60", "--runs", "3", "--workers"]
        found = [
            simulate_files(tmp_path / str(n), capsys, "knowledge-club.yaml", *options, str(n))
            for n in (1, 2)
        ]
        assert found[0] == found[1]
        assert "(the first of 3 runs)" in found[0][0]

    @pytest.mark.parametrize("workers", ["0", "-1"])
    def test_a_number_of_workers_below_one(
        self, workers: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, err = run(
            ["simulate", str(ROOT / "journeys" / "cdnow.yaml"), "--workers", workers], capsys
        )
        assert code == 2
        assert err == (
            "topo: error: --workers is the number of worker processes, a whole number from 1, "
            f"not {workers}\n"
        )

    def test_the_default_is_a_worker_per_core_for_enough_members(self) -> None:
        """One per core, but no more than one per 5,000 members: a process costs a start."""
        cores = default_workers()
        assert commands._simulation_workers(None, 1_000_000) == cores
        assert commands._simulation_workers(None, 300) == 1
        assert commands._simulation_workers(None, 10_000) == min(cores, 2)
        assert commands._simulation_workers(3, 300) == 3

    def test_ctrl_c_stops_the_workers(self, tmp_path: Path) -> None:
        """Interrupted, it stops every worker and says so in one line; no traceback."""
        process = subprocess.Popen(
            [sys.executable, "-m", "topo", "simulate", str(ROOT / "journeys" / "cdnow.yaml"),
             "--members", "400000", "--workers", "2", "--triggers", str(tmp_path / "t")],
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(4)  # the workers are running
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches all of them
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130
        assert err.strip() == "topo: interrupted"
        assert _gone(process.pid)


def _gone(group: int) -> bool:
    """Whether every process of the group has ended (multiprocessing's resource tracker ends
    once it sees its parent gone: a moment after)."""
    for _ in range(50):
        found = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, check=False)
        if not found.stdout:
            return True
        time.sleep(0.1)
    return False


def in_process(target: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], **_: Any) -> list[Any]:
    """``topo.workers.run`` without processes: the split and the merge, quickly."""
    return [target(*task, lambda *values: None) for task in tasks]


class TestLibrary:
    """simulate_in_workers hands on what run_population makes in one process."""

    @pytest.mark.parametrize("name", ["knowledge-club", "retail-tiers", "grocery"])
    def test_events_and_triggers_of_one_process(
        self, name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(parallel, "run", in_process)
        journey = load_journey(ROOT / "journeys" / f"{name}.yaml")
        personas = load_personas(ROOT / "journeys" / f"{name}.personas.yaml", journey)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        from topo.lines import json_line

        one: dict[str, list[str]] = {"events": [], "triggers": []}
        whole = run_population(
            journey, personas, members=300, days=90, start=start, seed=4,
            on_event=lambda e: one["events"].append(json_line(e)),
            on_trigger=lambda t: one["triggers"].append(json_line(t.to_dict())),
        )  # fmt: skip
        for workers in (2, 3):
            found: dict[str, list[str]] = {"events": [], "triggers": []}
            done = simulate_in_workers(
                journey, personas, workers=workers, members=300, days=90, start=start, seed=4,
                outputs=Outputs(event=found["events"].append, trigger=found["triggers"].append),
            )  # fmt: skip
            assert found == one
            assert done.sent == whole.sent and done.triggers == len(whole.triggers)

    def test_the_default_population(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without a personas file the journey's default population is split the same way."""
        monkeypatch.setattr(parallel, "run", in_process)
        journey = load_journey(ROOT / "journeys" / "retail-tiers.yaml")
        personas = default_personas(journey)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        done = [
            simulate_in_workers(
                journey, personas, workers=n, members=200, days=60, start=start,
                outputs=Outputs(summary=True),
            ).summary
            for n in (1, 2)
        ]  # fmt: skip
        assert done[0] == done[1]
