"""The example journeys shipped under journeys/ are clean and load."""

from __future__ import annotations

from pathlib import Path

import pytest

import topo
from conftest import ROOT

SHIPPED = sorted((ROOT / "journeys").glob("*.yaml"))


def test_the_four_examples_are_shipped() -> None:
    """knowledge-club, retail-tiers, cdnow and grocery are there."""
    assert {p.stem for p in SHIPPED} >= {"knowledge-club", "retail-tiers", "cdnow", "grocery"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
class TestShippedJourney:
    """Each shipped journey is a clean, documented starting point."""

    def test_validates_clean(self, path: Path) -> None:
        """No diagnostics at all."""
        assert [d.render() for d in topo.validate(path)] == []

    def test_loads(self, path: Path) -> None:
        """It loads, its id is its file name, and it has owners, a start and a peak."""
        journey = topo.load_journey(path)
        assert journey.journey == path.stem
        kinds = [node.kind for node in journey.nodes.values()]
        assert kinds.count("start") == 1 and "peak" in kinds

    def test_explains_its_design_in_comments(self, path: Path) -> None:
        """The file opens with a comment block explaining the design."""
        head = path.read_text(encoding="utf-8").splitlines()[:5]
        assert all(line.startswith("#") for line in head)
