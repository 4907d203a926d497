"""topo paths: a shortest way to every node and move, found through the real engine, printed
as scenarios that pass."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from conftest import JOURNEY_FILES, ROOT, dedent
from topo.cli.commands import main
from topo.rehearsal.paths import attribute_values, find_paths
from topo.rehearsal.runner import rehearse
from topo.rehearsal.scenarios import load_scenarios
from topo.validation import load_journey

JOURNEYS = JOURNEY_FILES
ATTRIBUTE_GUARDS = ROOT / "tests" / "data" / "attribute-guards.yaml"


@pytest.mark.parametrize("path", JOURNEYS, ids=[p.stem for p in JOURNEYS])
def test_every_node_of_every_shipped_journey(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Paths to every node; the scenarios printed pass and take the moves they say."""
    out = tmp_path / "found.scenarios.yaml"
    code = main(["paths", str(path), "--out", str(out), "--budget", "5000"])
    err = capsys.readouterr().err
    journey = load_journey(path)
    assert f"paths to {len(journey.nodes)} of {len(journey.nodes)} nodes" in err
    results, coverage = rehearse(load_scenarios(out))
    for _, failure in results:
        assert failure is None, failure.render()
    assert coverage.percent("nodes") == 100.0
    taken = len(coverage.moves)
    assert f"{taken} of {len(journey.moves)} moves" in err  # each move said is taken
    assert code == (0 if taken == len(journey.moves) else 1)


def test_shortest(tmp_path: Path) -> None:
    """CDNOW's VIP takes three steps at least: a purchase, a day, a purchase over 300."""
    found = find_paths(load_journey(ROOT / "journeys" / "cdnow.yaml"))
    assert len(found.nodes["vip"]) == 3
    assert found.nodes["vip"][-1]["amount"] >= 300


def test_an_unreachable_move_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    """A step the search cannot take within its limits is named, with what to try."""
    code = main(["paths", str(ROOT / "journeys" / "grocery.yaml"), "--budget", "300"])
    err = capsys.readouterr().err
    assert code == 1
    assert "no path found to take vip_requalify (vip -> weekly)" in err
    assert "--max-steps" in err and "--budget" in err


class TestAttributes:
    """Moves whose guards read the member's attributes are reached with ``profile`` events."""

    def test_every_node_and_move_is_found(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A text compared with a literal, an int ordered against one, a pii attribute that
        must be set and a bool read for its truth: all found, and the scenarios pass."""
        out = tmp_path / "found.scenarios.yaml"
        code = main(["paths", str(ATTRIBUTE_GUARDS), "--out", str(out)])
        assert "paths to 5 of 5 nodes and 4 of 4 moves" in capsys.readouterr().err
        assert code == 0
        results, coverage = rehearse(load_scenarios(out))
        assert [failure for _, failure in results if failure is not None] == []
        assert (coverage.percent("nodes"), coverage.percent("moves")) == (100.0, 100.0)

    def test_profile_steps_carry_one_attribute(self) -> None:
        """The path to vip sets each attribute it needs in a profile event of its own."""
        steps = find_paths(load_journey(ATTRIBUTE_GUARDS)).nodes["vip"]
        profiles = [
            {k: v for k, v in step.items() if k not in ("id", "member", "type", "at")}
            for step in steps
            if isinstance(step, dict) and step["type"] == "profile"
        ]
        assert sorted(profiles, key=str) == sorted(
            [{"region": "north"}, {"age": 18}, {"phone": "x"}, {"vip_opt_in": True}], key=str
        )

    def test_two_members_with_other_attributes_are_two_situations(self, tmp_path: Path) -> None:
        """A profile event changes nothing the metrics see; the search still follows it."""
        path = tmp_path / "one.yaml"
        path.write_text(dedent("""
            topo: 1
            journey: one
            version: 1
            owners: {crm: {title: CRM}}
            attributes: {tier: {type: int}}
            events: {visit: {}}
            nodes:
              visitor: {kind: start, owner: crm}
              gold: {kind: peak, owner: crm}
            moves:
              - {from: visitor, to: gold, on: visit, when: "member.tier >= 3 and member.tier < 4"}
            """), encoding="utf-8")  # fmt: skip
        found = find_paths(load_journey(path))
        assert found.missing() == ([], [])
        steps = [step for step in found.nodes["gold"] if isinstance(step, dict)]
        assert [step["tier"] for step in steps if step["type"] == "profile"] == [3]

    def test_values_from_the_guards(self) -> None:
        """Literals compared with, whole numbers around a bound, true and false, and one
        value of the type besides."""
        values = attribute_values(load_journey(ATTRIBUTE_GUARDS))
        assert values == {
            "region": ["north", "x"],
            "age": [16, 17, 18, 1],
            "phone": ["x"],
            "vip_opt_in": [True, False],
        }

    def test_lists_profile_moves_and_reminders(self, tmp_path: Path) -> None:
        """Each item of an ``in`` list; ``event.X`` of a move on ``profile``; reminders'
        guards only when asked for."""
        path = tmp_path / "lists.yaml"
        path.write_text(dedent("""
            topo: 1
            journey: lists
            version: 1
            owners: {crm: {title: CRM}}
            attributes:
              region: {type: str}
              score: {type: float}
              phone: {type: str, pii: true}
            incentives: {nudge: {kind: content, channel: sms}}
            nodes:
              visitor: {kind: start, owner: crm}
              local: {kind: peak, owner: crm}
            moves:
              - from: visitor
                to: local
                on: profile
                when: "event.region in ['north', 'east'] and -2.5 < member.score"
            reminders:
              - {at: visitor, toward: local, when: "member.phone == '555'", incentive: nudge}
            """), encoding="utf-8")  # fmt: skip
        journey = load_journey(path)
        assert attribute_values(journey, reminders=False) == {
            "region": ["north", "east", "x"],
            "score": [-2.5, -4.0, -3.0, -2.0, -1.0, 1.0],
        }
        assert attribute_values(journey)["phone"] == ["555", "x"]
        found = find_paths(journey)
        assert found.missing() == ([], [])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestProgress:
    """``topo paths`` draws its progress on a terminal only, and wipes it before the summary."""

    def test_on_a_terminal(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The share of the budget used, the situations explored, and what was found."""
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        main(["paths", str(ROOT / "journeys" / "grocery.yaml"), "--budget", "300"])
        written = terminal.getvalue()
        drawn = written.split("\r")[1]
        assert drawn.startswith("[") and " situations   " in drawn
        assert " of 6 nodes and " in drawn and " of 9 moves" in drawn
        summary = written.rsplit("\r", 1)[1]
        assert summary.startswith("paths to 6 of 6 nodes and 8 of 9 moves (300 situations")

    def test_not_on_a_terminal(self, capsys: pytest.CaptureFixture[str]) -> None:
        """In a file or a pipe: the summary alone."""
        main(["paths", str(ROOT / "journeys" / "cdnow.yaml")])
        assert "\r" not in capsys.readouterr().err

    def test_told_after_each_situation(self) -> None:
        """``find_paths`` reports each situation explored and what it has found so far."""
        seen: list[tuple[int, str]] = []
        found = find_paths(
            load_journey(ROOT / "journeys" / "cdnow.yaml"),
            progress=lambda count, status: seen.append((count, status())),
        )
        assert [count for count, _ in seen] == list(range(1, found.explored + 1))
        assert seen[0][1] == "2 of 5 nodes and 1 of 6 moves"  # the start, and a first purchase
        assert seen[-1][1] == "5 of 5 nodes and 6 of 6 moves"
