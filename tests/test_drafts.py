"""Drafts: a journey that runs but is badly designed (only findings of the analysis) is loaded,
replayed, rehearsed and searched, with its findings as warnings; ``--strict`` refuses it.

The contract's "two kinds of problem": ``topo validate`` fails a dead end or an unreachable
peak, and ``replay``, ``test``, ``paths`` and ``topo.load_journey`` still run such a journey, so
that a draft can be rehearsed. A journey that cannot run is refused everywhere, as before. The
drafts are two invalid fixtures: a checkpoint with no move out (T504) and a peak that the start
cannot reach (T503).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import topo
from conftest import MINIMAL, ROOT
from topo.cli.commands import main
from topo.testing import journey_machine
from topo.validation import cannot_run, findings_of

FIXTURES = ROOT / "tests" / "fixtures" / "invalid"
DEAD_END = FIXTURES / "T504-member-has-no-way-out.yaml"
UNREACHABLE_PEAK = FIXTURES / "T503-ambassador-peak-not-reached.yaml"
DRAFTS = {"dead end": (DEAD_END, "T504"), "unreachable peak": (UNREACHABLE_PEAK, "T503")}
UNUSED_METRIC = MINIMAL.replace(
    "  spend: {sum: purchase.amount}",
    "  spend: {sum: purchase.amount}\n  visits: {count: purchase}",
)
EVENTS = [
    {"id": "e1", "member": "m1", "type": "purchase", "at": "2026-01-01T00:00:00+00:00"},
    {"id": "e2", "member": "m1", "type": "purchase", "at": "2026-01-02T00:00:00+00:00"},
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def draft(tmp_path: Path, source: Path) -> Path:
    """A copy of a draft fixture, under a short name."""
    path = tmp_path / "draft.yaml"
    shutil.copy(source, path)
    return path


def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    events = [{**e, "amount": 150.0} for e in EVENTS]
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


class TestTwoKinds:
    """Which diagnostics mean that a journey cannot run."""

    @pytest.mark.parametrize(
        ("fixture", "runs"),
        [
            ("T403-unknown-node-in-move", False),  # a reference
            ("T310-unknown-placeholder", False),  # a message
            ("T511-ahead-of-event-move", False),  # found by the analysis, a rule of the format
            ("T512-by-longer-than-after", False),
            ("T501-nothing-leads-to-lapsed", True),  # findings about the design
            ("T502-lapsed-can-only-unsubscribe", True),
            ("T505-contradictory-bounds", True),
            ("T510-reminder-toward-earlier-node", True),
            ("T506-null-coupon", True),  # a warning
        ],
    )
    def test_cannot_run(self, fixture: str, runs: bool) -> None:
        found = topo.validate(FIXTURES / f"{fixture}.yaml")
        assert all(not cannot_run(d) for d in found) == runs


class TestLoadJourney:
    """``topo.load_journey`` refuses only a journey that cannot run."""

    @pytest.mark.parametrize("name", DRAFTS)
    def test_a_draft_loads_with_its_findings(self, name: str) -> None:
        """The journey is returned; ``findings_of`` gives what ``topo.validate`` reports."""
        path, code = DRAFTS[name]
        journey = topo.load_journey(path)
        assert isinstance(journey, topo.Journey)
        found = findings_of(journey)
        assert found is not None
        assert [(d.code, str(d.severity)) for d in found] == [(code, "error")]
        assert list(found) == topo.validate(path)

    @pytest.mark.parametrize("name", DRAFTS)
    def test_strict_refuses_a_draft(self, name: str) -> None:
        """``strict=True`` raises InvalidJourney with the findings."""
        path, code = DRAFTS[name]
        with pytest.raises(topo.InvalidJourney) as caught:
            topo.load_journey(path, strict=True)
        assert [d.code for d in caught.value.diagnostics] == [code]

    def test_strict_refuses_warnings_too(self, tmp_path: Path) -> None:
        """As ``topo validate --strict`` fails on warnings, so does ``strict=True``."""
        path = tmp_path / "j.yaml"
        path.write_text(UNUSED_METRIC, encoding="utf-8")
        journey = topo.load_journey(path)
        assert [d.code for d in findings_of(journey) or ()] == ["T517"]
        with pytest.raises(topo.InvalidJourney, match="T517"):
            topo.load_journey(path, strict=True)

    def test_a_clean_journey_has_no_findings(self) -> None:
        """Findings are empty, not unknown, for a journey without problems."""
        journey = topo.load_journey(ROOT / "journeys" / "cdnow.yaml", strict=True)
        assert findings_of(journey) == ()

    def test_unknown_without_the_analysis(self) -> None:
        """``analysis=False`` looks for no findings: they are None, not empty; a journey made
        in Python has none known either."""
        journey = topo.load_journey(DEAD_END, analysis=False)
        assert findings_of(journey) is None
        assert findings_of(journey.model_copy()) is None

    def test_strict_without_the_analysis_is_refused_at_once(self) -> None:
        """The two options contradict each other; the error says so."""
        with pytest.raises(ValueError, match=r"strict=True .* analysis=False"):
            topo.load_journey(DEAD_END, strict=True, analysis=False)

    @pytest.mark.parametrize(
        "fixture",
        ["T403-unknown-node-in-move", "T511-ahead-of-event-move", "T512-by-as-long-as-after"],
    )
    def test_a_journey_that_cannot_run_is_refused(self, fixture: str) -> None:
        """Errors of the format are refused as before: T511 and T512, found by the analysis,
        break rules of the format (an `ahead_of` and its `by`), not only of good design."""
        with pytest.raises(topo.InvalidJourney) as caught:
            topo.load_journey(FIXTURES / f"{fixture}.yaml")
        assert any(cannot_run(d) for d in caught.value.diagnostics)

    def test_a_draft_runs_in_the_engine(self) -> None:
        """The dead end is where members stay: the engine moves them there and no further."""
        engine = topo.Engine(topo.load_journey(DEAD_END))
        engine.process({"id": "e", "member": "m", "type": "signup", "at": EVENTS[0]["at"]})
        assert engine.state("m")["node"] == "member"


class TestTopoTesting:
    """``topo.testing`` rehearses a draft as any journey: its state machine holds on it."""

    @pytest.mark.parametrize("name", DRAFTS)
    def test_the_state_machine_holds_on_a_draft(self, name: str) -> None:
        machine = journey_machine(topo.load_journey(DRAFTS[name][0]), path="draft.yaml")
        machine.TestCase.settings = settings(
            max_examples=10, stateful_step_count=20, deadline=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        machine.TestCase().runTest()


class TestReplay:
    """``topo replay`` runs a draft and says so on stderr; ``--strict`` refuses it."""

    @pytest.mark.parametrize("name", DRAFTS)
    def test_a_draft_runs_with_warnings(
        self, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Exit 0, the triggers as usual, each finding as a warning line, and one line that
        says the journey runs as a draft and that --strict refuses it."""
        source, code = DRAFTS[name]
        path = draft(tmp_path, source)
        exit_code, _, err = run(["replay", str(path), str(events_file(tmp_path))], capsys)
        assert exit_code == 0, err
        [warning] = [line for line in err.splitlines() if code in line]
        assert warning.startswith(f"{path}:") and f": warning {code} " in warning
        assert (
            f"topo: {path} runs as a draft: `topo validate` fails it (1 error, 0 warnings above); "
            "--strict refuses it"
        ) in err.splitlines()
        assert "2 events read: 2 processed, 0 rejected" in err

    @pytest.mark.parametrize("name", DRAFTS)
    def test_strict_refuses_a_draft(
        self, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With --strict, exit 1 as for an invalid journey: the findings as `topo validate`
        prints them, and no replay."""
        source, code = DRAFTS[name]
        path = draft(tmp_path, source)
        triggers = tmp_path / "t.jsonl"
        argv = ["replay", str(path), str(events_file(tmp_path)), "--strict"]
        exit_code, _, err = run([*argv, "--triggers", str(triggers)], capsys)
        assert exit_code == 1
        assert f": error {code} " in err and "events read" not in err
        assert err.startswith(f"topo: {path} has findings, which --strict refuses:\n")
        assert not triggers.exists()

    def test_warnings_only(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A journey with only warnings runs and says so; --strict refuses it."""
        path = tmp_path / "j.yaml"
        path.write_text(UNUSED_METRIC, encoding="utf-8")
        argv = ["replay", str(path), str(events_file(tmp_path))]
        exit_code, _, err = run(argv, capsys)
        assert exit_code == 0
        assert f"topo: {path} runs with 1 warning (above); --strict refuses it" in err
        assert run([*argv, "--strict"], capsys)[0] == 1

    def test_a_clean_journey_says_nothing_more(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """No findings, no warning lines, with or without --strict."""
        path = tmp_path / "j.yaml"
        path.write_text(MINIMAL, encoding="utf-8")
        for strict in ([], ["--strict"]):
            code, _, err = run(["replay", str(path), str(events_file(tmp_path)), *strict], capsys)
            assert code == 0 and "warning" not in err and "draft" not in err


SCENARIOS = """\
journey: {journey}
start: 2026-01-01T00:00:00+00:00
scenarios:
  - name: a purchase of 150 makes a VIP
    steps:
      - event: purchase
        fields: {{amount: 150.0}}
        expect: {{node: vip}}
"""


class TestTestCommand:
    """``topo test`` rehearses a draft; --strict refuses it as a journey that cannot load."""

    @pytest.mark.parametrize("name", DRAFTS)
    def test_a_draft_is_rehearsed(
        self, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The scenarios run and pass; the findings are printed once per journey, even when
        two scenario files name it."""
        source, code = DRAFTS[name]
        draft(tmp_path, source)
        for stem in ("a", "b"):
            (tmp_path / f"{stem}.scenarios.yaml").write_text(
                SCENARIOS.format(journey="draft.yaml"), encoding="utf-8"
            )
        exit_code, out, err = run(["test", str(tmp_path)], capsys)
        assert exit_code == 0, out + err
        assert out.count("PASS") == 2
        assert err.count(f": warning {code} ") == 1
        assert err.count("runs as a draft") == 1

    def test_strict_refuses_a_draft(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With --strict the journey is refused like one that cannot be loaded (exit 2, as
        for any scenario file that cannot run), saying why."""
        draft(tmp_path, DEAD_END)
        path = tmp_path / "a.scenarios.yaml"
        path.write_text(SCENARIOS.format(journey="draft.yaml"), encoding="utf-8")
        exit_code, out, err = run(["test", str(tmp_path), "--strict"], capsys)
        assert exit_code == 2 and "PASS" not in out
        journey = tmp_path / "draft.yaml"
        assert f"{path}:1:10: error its journey {journey} has findings, which --strict " in err
        assert ": error T504 " in err


class TestPaths:
    """``topo paths`` searches a draft; --strict refuses it."""

    def test_a_dead_end_is_searched(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every node of the dead-end draft is reached; its finding is a warning."""
        path = draft(tmp_path, DEAD_END)
        code, out, err = run(["paths", str(path)], capsys)
        assert code == 0, err
        assert "scenarios:" in out and ": warning T504 " in err and "runs as a draft" in err

    def test_an_unreachable_peak_is_named(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The unreachable peak runs: the search says it found no path to it (exit 1, as
        for any node it does not reach), after the warning that says why."""
        path = draft(tmp_path, UNREACHABLE_PEAK)
        code, _, err = run(["paths", str(path)], capsys)
        assert code == 1
        assert ": warning T503 " in err and "no path found to node 'ambassador'" in err

    @pytest.mark.parametrize("name", DRAFTS)
    def test_strict_refuses_a_draft(
        self, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        source, code = DRAFTS[name]
        exit_code, out, err = run(["paths", str(draft(tmp_path, source)), "--strict"], capsys)
        assert (exit_code, out) == (1, "")
        assert f": error {code} " in err and "paths to" not in err


class TestOtherCommands:
    """``topo graph`` draws a draft; ``topo validate`` still fails it."""

    def test_graph_draws_a_draft(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, err = run(["graph", str(DEAD_END)], capsys)
        assert code == 0 and "member" in out and ": warning T504 " in err

    def test_validate_still_fails_a_draft(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(["validate", str(DEAD_END)], capsys)
        assert code == 1 and ": error T504 " in out
