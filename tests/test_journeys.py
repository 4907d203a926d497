"""The example journeys shipped under journeys/ are clean and load."""

from __future__ import annotations

from pathlib import Path

import pytest

import topo
from conftest import JOURNEY_FILES
from topo.journey.templates import Placeholder, placeholders

SHIPPED = JOURNEY_FILES


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

    def test_a_float_reaches_a_customer_with_fixed_decimals(self, path: Path) -> None:
        """A placeholder whose value is a float (a sum, min, max or last of a float field, or a
        float attribute) carries ``.Nf``, so no message reads 245.32000000000002."""
        journey = topo.load_journey(path)
        floats = {name for name, a in journey.attributes.items() if a.type == "float"}
        for name, metric in journey.metrics.items():
            event = journey.events.get(metric.event_type)
            field = None if event is None or metric.field is None else event.fields[metric.field]
            if metric.kind in ("sum", "min", "max", "last") and field and field.type == "float":
                floats.add(name)
        shown = [
            (incentive_id, item.name, item.format)
            for incentive_id, incentive in journey.incentives.items()
            for item in placeholders(incentive.message or "")
            if isinstance(item, Placeholder)
        ]
        assert [(i, name) for i, name, spec in shown if name in floats and spec is None] == []
        assert any(name in floats for _, name, _ in shown)  # each shows a spend somewhere
