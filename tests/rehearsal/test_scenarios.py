"""Scenario files and `topo test`: the shipped rehearsals pass with full move coverage, a broken
journey fails them with a message a person can act on, and mistakes in a scenario file are
diagnostics with their file:line:col."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import JOURNEY_FILES, ROOT, dedent
from topo.cli.commands import main
from topo.rehearsal.runner import rehearse
from topo.rehearsal.scenarios import InvalidScenarios, load_scenarios

ONCE = """\
topo: 1
journey: once
version: 1
owners: {crm: {title: CRM}}
events: {purchase: {fields: {amount: {type: float, min: 0}}}}
metrics: {spend: {sum: purchase.amount}}
nodes:
  visitor: {kind: start, owner: crm}
  buyer: {kind: checkpoint, owner: crm, on_enter: [coupon]}
  vip: {kind: peak, owner: crm}
  lapsed: {kind: checkpoint, owner: crm}
moves:
  - {from: visitor, to: buyer, on: purchase}
  - {from: buyer, to: vip, on: purchase, when: "spend >= 100"}
  - {from: buyer, to: lapsed, after: 10d}
  - {from: lapsed, to: buyer, on: purchase}
incentives:
  coupon: {kind: coupon, channel: email, once: true}
"""
SHIPPED = sorted((ROOT / "journeys" / "scenarios").glob("*.scenarios.yaml"))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class TestShipped:
    def test_every_journey_has_scenarios(self) -> None:
        journeys = {p.name for p in JOURNEY_FILES}
        assert {load_scenarios(p).journey.name for p in SHIPPED} == journeys

    @pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
    def test_they_pass_with_every_move_taken(self, path: Path) -> None:
        results, coverage = rehearse(load_scenarios(path))
        for _, failure in results:
            assert failure is None, failure.render()
        assert coverage.percent("moves") == 100.0, coverage.parts()["moves"]
        assert coverage.percent("nodes") == 100.0, coverage.parts()["nodes"]

    def test_topo_test_with_coverage(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, err = run(["test", str(ROOT / "journeys"), "--fail-under", "100"], capsys)
        assert code == 0, out + err
        assert out.count("moves ") == len(SHIPPED) and "100.0%" in out
        assert "0 failed" in err

    def test_validate_leaves_scenario_files_out(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(["validate", str(ROOT / "journeys")], capsys)
        assert code == 0 and "scenarios" not in err


class TestABrokenJourney:
    def test_a_flipped_threshold_fails_a_shipped_scenario(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The VIP threshold of CDNOW written the wrong way round: the scenario that reaches
        VIP fails, naming the expectation, the member's node, the triggers and the explanation."""
        (tmp_path / "scenarios").mkdir()
        shutil.copy(
            ROOT / "journeys" / "scenarios" / "cdnow.scenarios.yaml", tmp_path / "scenarios"
        )
        text = (ROOT / "journeys" / "cdnow.yaml").read_text()
        assert "when: spend_365d >= 300\n" in text
        (tmp_path / "cdnow.yaml").write_text(
            text.replace("when: spend_365d >= 300\n", "when: spend_365d <= 300\n")
        )
        code, out, _ = run(["test", str(tmp_path)], capsys)
        assert code == 1
        assert "FAIL" in out and "spending 300 in a year makes a VIP" in out
        assert "expected node 'repeat_buyer', but the member is at 'vip'" in out
        assert "triggers since the last check: free_shipping (move), vip_free_cd (enter)" in out
        assert "moves[2] when spend_365d <= 300: holds (spend_365d = 210.0)" in out


class TestScenarioFiles:
    def write(self, tmp_path: Path, text: str) -> Path:
        shutil.copy(ROOT / "journeys" / "cdnow.yaml", tmp_path)
        path = tmp_path / "x.scenarios.yaml"
        path.write_text(dedent(text))
        return path

    def test_mistakes_are_diagnostics_with_positions(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = self.write(
            tmp_path,
            """
            journey: cdnow.yaml
            start: 1997-01-01T00:00:00+00:00
            scenarios:
              - name: a
                steps:
                  - event: purchase
                    at: yesterday
                    fields: {amount: 1.0, cds: 1}
                    expect: {nod: first_buyer}
                  - advance: +3q
                  - {at: +1d}
            """,
        )
        with pytest.raises(InvalidScenarios) as raised:
            load_scenarios(path)
        rendered = [p.render() for p in raised.value.problems]
        assert rendered == [
            f"{path}:7:13: error 'yesterday' is not a time: write RFC 3339 with an offset "
            "(2026-03-01T10:00:00+00:00) or +N with a unit w, d, h, m or s after `start`",
            f"{path}:9:18: error unknown key 'nod'; expected one of node, path, granted, "
            "not_granted, withheld, metrics, rejected",
            f"{path}:10:18: error '+3q' is not a time: write RFC 3339 with an offset "
            "(2026-03-01T10:00:00+00:00) or +N with a unit w, d, h, m or s after `start`",
            f"{path}:11:9: error a step has an `event`, an `advance` or an `expect`",
            f"{path}:11:10: error `at` belongs to an event: add `event: TYPE`",
        ]
        code, _, err = run(["test", str(path)], capsys)
        assert code == 2 and f"{path}:7:13: error" in err and "Traceback" not in err

    def test_rejected_events_and_withheld_grants(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An event the scenario does not expect to be rejected fails it; a withheld grant is
        checked by incentive and reason."""
        path = self.write(
            tmp_path,
            """
            journey: cdnow.yaml
            start: 1997-01-01T00:00:00+00:00
            scenarios:
              - name: late
                steps:
                  - {event: purchase, at: +2d, fields: {amount: 1.0, cds: 1}}
                  - {event: purchase, at: +1d, fields: {amount: 1.0, cds: 1}}
            """,
        )
        code, out, _ = run(["test", str(path)], capsys)
        assert code == 1
        assert "FAIL" in out and "the event was rejected (late)" in out
        (tmp_path / "once.yaml").write_text(ONCE)
        (tmp_path / "once.scenarios.yaml").write_text(
            dedent(
                """
                journey: once.yaml
                start: 2026-01-01T00:00:00Z
                scenarios:
                  - name: right
                    steps:
                      - {event: purchase, fields: {amount: 10.0}, expect: {granted: [coupon]}}
                      - {advance: +11d, expect: {node: lapsed}}
                      - event: purchase
                        at: +12d
                        fields: {amount: 10.0}
                        expect:
                          node: buyer
                          granted: []
                          withheld: [{incentive: coupon, reason: once}]
                  - name: wrong
                    steps:
                      - {event: purchase, fields: {amount: 10.0}}
                      - {advance: +11d}
                      - {event: purchase, at: +12d, fields: {amount: 10.0}, expect: {withheld: []}}
                """
            )
        )
        code, out, _ = run(["test", str(tmp_path / "once.scenarios.yaml")], capsys)
        assert code == 1 and "PASS" in out and "right" in out
        assert "expected withheld: nothing; but withheld since the last check: coupon (once)" in out

    def test_a_grant_held_back_is_shown_in_the_report(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A scenario that expects a grant a cap withheld: the report says which cap held it
        back, in the summary line and in the explanation's step (a user had to guess)."""
        (tmp_path / "once.yaml").write_text(ONCE)
        (tmp_path / "once.scenarios.yaml").write_text(
            dedent(
                """
                journey: once.yaml
                start: 2026-01-01T00:00:00Z
                scenarios:
                  - name: expects the coupon again
                    steps:
                      - {event: purchase, fields: {amount: 10.0}, expect: {granted: [coupon]}}
                      - {advance: +11d}
                      - {event: purchase, at: +12d, fields: {amount: 10.0},
                         expect: {granted: [coupon]}}
                """
            )
        )
        code, out, _ = run(["test", str(tmp_path / "once.scenarios.yaml")], capsys)
        assert code == 1
        assert "triggers since the last check: none; withheld: coupon (by once)" in out
        assert "moved to buyer; withheld: coupon (by once)" in out

    def test_exit_2_without_scenario_files(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(["test", str(tmp_path)], capsys)
        assert code == 2 and "no scenario files" in err


def test_expectations_are_about_the_scenarios_member(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another member's grants are not the scenario member's."""
    shutil.copy(ROOT / "journeys" / "cdnow.yaml", tmp_path)
    (tmp_path / "two.scenarios.yaml").write_text(
        dedent(
            """
            journey: cdnow.yaml
            start: 1997-01-01T00:00:00Z
            scenarios:
              - name: two members
                steps:
                  - event: purchase
                    fields: {amount: 5.0, cds: 1}
                    expect: {granted: [second_order_coupon]}
                  - event: purchase
                    member: other
                    at: +1h
                    fields: {amount: 5.0, cds: 1}
                    expect: {node: first_buyer, granted: []}
            """
        )
    )
    code, out, _ = run(["test", str(tmp_path)], capsys)
    assert code == 0, out


class TestReviewFindings:
    """What an independent review of the harness found, each with its test."""

    def scenario(self, tmp_path: Path, text: str) -> Path:
        shutil.copy(ROOT / "journeys" / "cdnow.yaml", tmp_path)
        path = tmp_path / "x.scenarios.yaml"
        path.write_text(dedent(text))
        return path

    def test_load_time_mistakes(self, tmp_path: Path) -> None:
        path = self.scenario(
            tmp_path,
            """
            journey: cdnow.yaml
            scenarios:
              - name: a
                steps:
                  - advance: +99999999999d
                    expect: {rejected: late}
                  - {event: purchase, at: +2d, fields: {amount: 1.0, cds: 1}}
                  - advance: +1d
                  - event: purchase
                    fields: {amount: 1.0, cds: 1, at: "2026-01-01T00:00:00Z"}
                    expect: {granted: [{incentive: x, reason: gift}]}
            """,
        )
        with pytest.raises(InvalidScenarios) as raised:
            load_scenarios(path)
        said = [p.message for p in raised.value.problems]
        assert said == [
            "'+99999999999d' is too far from `start` to be a time",
            "only an event can be rejected",
            "the clock cannot go back: this is before the step above (1970-01-03T00:00:00+00:00)",
            "`at` is the step's own, not a field: write it beside `event`",
            "`reason` is move, enter, reminder or timer",
        ]

    def test_a_journey_given_as_a_scenario_file(self) -> None:
        """A journey passed to ``topo test`` is named for what it is, in one problem, not as a
        dozen unknown keys."""
        with pytest.raises(InvalidScenarios) as caught:
            load_scenarios(ROOT / "journeys" / "cdnow.yaml")
        [problem] = caught.value.problems
        assert problem.message.startswith("this is a journey, not a scenario file")
        assert "scenarios/cdnow.scenarios.yaml" in problem.message

    def test_an_empty_file_is_said_of_scenarios(self, tmp_path: Path) -> None:
        path = self.scenario(tmp_path, "")
        with pytest.raises(InvalidScenarios, match="a scenario file is a mapping"):
            load_scenarios(path)

    def test_unknown_ids_fail_instead_of_passing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.scenario(
            tmp_path,
            """
            journey: cdnow.yaml
            start: 1997-01-01T00:00:00Z
            scenarios:
              - name: typo
                steps:
                  - event: purchase
                    fields: {amount: 1.0, cds: 1}
                    expect: {not_granted: [second_order_copon]}
            """,
        )
        code, out, _ = run(["test", str(tmp_path)], capsys)
        assert code == 1 and "the journey has no incentive 'second_order_copon'" in out

    def test_a_time_metric_is_expected_as_rfc_3339(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.scenario(
            tmp_path,
            """
            journey: cdnow.yaml
            start: 1997-01-01T00:00:00Z
            scenarios:
              - name: first purchase time
                steps:
                  - event: purchase
                    at: +2d
                    fields: {amount: 1.0, cds: 1}
                    expect: {metrics: {first_purchase_at: "1997-01-03T00:00:00+00:00"}}
            """,
        )
        code, out, _ = run(["test", str(tmp_path)], capsys)
        assert code == 0, out

    def test_a_failed_scenario_counts_for_no_coverage(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.scenario(
            tmp_path,
            """
            journey: cdnow.yaml
            start: 1997-01-01T00:00:00Z
            scenarios:
              - name: fails
                steps:
                  - {event: purchase, fields: {amount: 1.0, cds: 1}, expect: {node: vip}}
            """,
        )
        code, out, _ = run(["test", str(tmp_path), "--coverage"], capsys)
        assert code == 1 and "moves         0/6" in out

    def test_a_missing_journey_points_at_its_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "x.scenarios.yaml"
        steps = "[{advance: 1997-01-01T00:00:00Z}]"
        path.write_text(
            f"# rehearsal\njourney: nope.yaml\nscenarios:\n  - {{name: a, steps: {steps}}}\n"
        )
        code, _, err = run(["test", str(path)], capsys)
        assert code == 2 and f"{path}:2:10: error its journey" in err


ODD = """\
topo: 1
journey: odd
version: 1
owners: {crm: {title: CRM}}
events:
  tap:
    fields:
      n: {type: float, min: 0.00001}
      word: {type: str, one_of: ["it's", 'say "hi"']}
      flag: {type: bool}
metrics: {taps: {count: tap}}
nodes:
  a: {kind: start, owner: crm}
  b: {kind: checkpoint, owner: crm}
  c: {kind: peak, owner: crm}
moves:
  - from: a
    to: b
    on: tap
    when: event.word == 'say "hi"'
  - {from: b, to: c, on: tap, when: "event.flag == true"}
"""


def test_paths_write_values_the_loader_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tiny floats without exponents, quotes in text, and a bool guard: the scenarios
    topo paths writes load and pass."""
    (tmp_path / "odd.yaml").write_text(ODD)
    out = tmp_path / "found.scenarios.yaml"
    code = main(["paths", str(tmp_path / "odd.yaml"), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    text = out.read_text()
    assert "1e-05" not in text and "0.00001" in text
    code, output, err = run(["test", str(out)], capsys)
    assert code == 0, output + err


def test_events_that_break_the_journey_are_load_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown event type or a field of the wrong type is found before anything runs, at
    its `event:` value; an event a step expects to be invalid is left alone."""
    shutil.copy(ROOT / "journeys" / "cdnow.yaml", tmp_path)
    path = tmp_path / "x.scenarios.yaml"
    path.write_text(
        dedent(
            """
            journey: cdnow.yaml
            scenarios:
              - name: a
                steps:
                  - {event: purchse, fields: {amount: 1.0, cds: 1}}
                  - {event: purchase, fields: {amount: lots, cds: 1}}
                  - {event: purchase, fields: {cds: 1}, expect: {rejected: invalid}}
            """
        )
    )
    code, _, err = run(["test", str(path)], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith(str(path))]
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:5:17: error ") and "purchse" in lines[0]
    assert lines[1].startswith(f"{path}:6:17: error field 'amount'")
