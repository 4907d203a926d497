"""topo paths: a shortest way to every node and move, found through the real engine, printed
as scenarios that pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from topo.cli import main
from topo.paths import find_paths
from topo.rehearsal import rehearse
from topo.scenarios import load_scenarios
from topo.validation import load_journey

JOURNEYS = sorted((ROOT / "journeys").glob("*.yaml"))


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
