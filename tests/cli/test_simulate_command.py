"""``topo simulate`` and the report options of ``topo replay``, as a user runs them."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext as _nothing
from pathlib import Path

import pytest

from conftest import ROOT, lines, run
from topo.cli.commands import main

CLUB = str(ROOT / "journeys" / "knowledge-club.yaml")
CLUB_PERSONAS = str(ROOT / "journeys" / "knowledge-club.personas.yaml")
END = "2026-04-01T00:00:00+00:00"  # 90 days from the default start


def simulate(tmp: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    tmp.mkdir(exist_ok=True)
    return run(
        ["simulate", CLUB, "--personas", CLUB_PERSONAS, "--members", "300", "--days", "90",
         "--summary", str(tmp / "s.json"), "--events", str(tmp / "e.jsonl"),
         "--triggers", str(tmp / "t.jsonl"), "--states", str(tmp / "st.jsonl"), *extra],
        capsys,
    )  # fmt: skip


class TestSimulate:
    def test_it_runs_and_says_what_it_did(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, err = simulate(tmp_path / "a", capsys)
        assert code == 0
        assert err.startswith("300 members over 90 days (300 joined): ")
        summary = json.loads((tmp_path / "a" / "s.json").read_text(encoding="utf-8"))
        assert summary["header"]["source"] == "simulation"
        assert summary["funnel"]["joined"] == 300

    def test_the_same_seed_gives_the_same_files_another_seed_others(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        simulate(tmp_path / "a", capsys)
        simulate(tmp_path / "b", capsys)
        simulate(tmp_path / "c", capsys, "--seed", "1")
        for name in ("s.json", "e.jsonl", "t.jsonl", "st.jsonl"):
            a, b, c = ((tmp_path / d / name).read_bytes() for d in "abc")
            assert a == b, name
            assert a != c, name

    def test_replaying_the_events_gives_its_triggers_and_states(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "a"
        simulate(out, capsys)
        code, _ = run(
            ["replay", CLUB, str(out / "e.jsonl"), "--until", END,
             "--triggers", str(out / "rt.jsonl"), "--states", str(out / "rst.jsonl")],
            capsys,
        )  # fmt: skip
        assert code == 0
        ordered = lambda p: sorted(json.dumps(x, sort_keys=True) for x in lines(p))  # noqa: E731
        assert ordered(out / "rt.jsonl") == ordered(out / "t.jsonl") != []
        assert (out / "rst.jsonl").read_bytes() == (out / "st.jsonl").read_bytes()

    def test_runs_give_means_and_intervals(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, err = simulate(tmp_path / "a", capsys, "--runs", "3")
        assert code == 0 and "(the first of 3 runs)" in err
        summary = json.loads((tmp_path / "a" / "s.json").read_text(encoding="utf-8"))
        joined = summary["funnel"]["joined"]
        assert joined == {"mean": 300.0, "low": 300.0, "high": 300.0}
        assert summary["header"]["runs"] == 3
        reached = [node["reached"] for node in summary["funnel"]["nodes"]]
        assert any(r["low"] < r["high"] for r in reached)  # three seeds, three draws

    def test_without_personas_the_journey_gives_a_population(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, err = run(["simulate", CLUB, "--members", "50", "--days", "30"], capsys)
        assert code == 0 and err.startswith("50 members over 30 days")

    def test_a_bad_personas_file_is_diagnosed_at_its_place(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = tmp_path / "bad.personas.yaml"
        bad.write_text(
            "personas: 1\npopulation:\n  - id: a\n    share: 100%\n    events:\n"
            "      purchse: {once: {probability: 50%}}\n",
            encoding="utf-8",
        )
        code = main(["simulate", CLUB, "--personas", str(bad), "--members", "5"])
        out = capsys.readouterr()
        assert code == 1
        [line] = [line for line in out.err.splitlines() if "T603" in line]
        assert line.startswith(f"{bad}:6:7: error T603 ") and "did you mean 'purchase'" in line

    def test_the_summary_to_stdout(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``--summary -`` prints the JSON; with another output on stdout it is refused."""
        code = main(["simulate", CLUB, "--members", "20", "--days", "10", "--summary", "-"])
        out = capsys.readouterr().out
        assert code == 0 and json.loads(out)["funnel"]["joined"] <= 20
        code, err = run(
            ["simulate", CLUB, "--members", "5", "--summary", "-", "--triggers", "-"], capsys
        )
        assert code == 2 and "only one output can go to stdout" in err

    def test_a_missing_personas_file_cannot_run(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, err = run(["simulate", CLUB, "--personas", str(tmp_path / "no.yaml")], capsys)
        assert code == 2 and "no.yaml" in err

    @pytest.mark.parametrize(
        "option",
        [
            ["--members", "-1"],
            ["--days", "-3"],
            ["--runs", "0"],
            ["--seed", "-2"],
            ["--start", "2026-01-01"],
            ["--days", "abc"],
            ["--days", "3000000"],
        ],
    )
    def test_bad_options_are_one_line_naming_the_option(
        self, option: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) if option[1] == "abc" else _nothing() as stopped:
            code, err = run(["simulate", CLUB, *option], capsys)
        if stopped is not None:  # argparse's own mistakes exit from the parser
            code, err = stopped.value.code, capsys.readouterr().err
        assert code == 2
        assert err.startswith("topo: error:") and len(err.strip().splitlines()) == 1
        assert option[0] in err or "days" in err

    @pytest.mark.parametrize(
        "outputs", [["--report", "{tmp}/no/r.html"], ["--summary", "{tmp}"], ["--report", "-"]]
    )
    def test_outputs_written_after_the_run_are_checked_before_it(
        self,
        outputs: list[str],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A bad --summary or --report path, or a report without plotly, is said at once, not
        after the whole run (nothing is run, no file is begun)."""
        monkeypatch.setitem(sys.modules, "plotly", None)  # as if not installed
        monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
        args = [arg.format(tmp=tmp_path) for arg in outputs]
        events = tmp_path / "e.jsonl"
        code, err = run(["simulate", CLUB, "--events", str(events), *args], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert not events.exists()
        code, err = run(["replay", CLUB, str(events), "--triggers", str(events), *args], capsys)
        assert code == 2 and not events.exists()


class TestReplayReports:
    def test_withheld_summary_and_report(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The withheld grants as data (with the contract's names for the caps), and the
        report of a real history."""
        pytest.importorskip("plotly")
        out = tmp_path / "a"
        simulate(out, capsys)
        code, _ = run(
            ["replay", CLUB, str(out / "e.jsonl"), "--until", END,
             "--withheld", str(out / "w.jsonl"), "--summary", str(out / "rs.json"),
             "--report", str(out / "r.html")],
            capsys,
        )  # fmt: skip
        assert code == 0
        withheld = lines(out / "w.jsonl")
        assert withheld
        assert {w["withheld"] for w in withheld} <= {"once", "cooldown", "reminder", "holdout",
                                                     "pressure"}  # fmt: skip
        triggers = {t["id"] for t in lines(out / "t.jsonl")}
        assert not triggers & {w["id"] for w in withheld}
        summary = json.loads((out / "rs.json").read_text(encoding="utf-8"))
        assert summary["header"]["source"] == "replay"
        assert summary["funnel"]["joined"] == 300
        assert (out / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
