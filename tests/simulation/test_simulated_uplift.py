"""Control groups in a simulation: an incentive that works shows an uplift against the members
held out of it; one that does nothing does not (the report's interval covers zero)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_runner import PERSONAS, SHOP

from conftest import dedent
from topo.journey.model import Journey
from topo.simulation.model import Personas
from topo.simulation.simulation import simulate
from topo.validation import load_journey


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Journey:
    """The test shop with a 20% holdout on ``thanks`` (granted on entering ``buyer``; its goal
    is the next node on the way to the peak, ``regular``: three orders)."""
    path: Path = tmp_path_factory.mktemp("uplift") / "shop.yaml"
    path.write_text(dedent(SHOP).replace("holdout: 50%", "holdout: 20%"), encoding="utf-8")
    return load_journey(path)


def thanks_multiplies_purchases_by(rate: float) -> Personas:
    text = dedent(PERSONAS).replace(
        "thanks: {purchase: {rate: 3, for: 30d}}",
        f"thanks: {{purchase: {{rate: {rate}, for: 30d}}}}",
    )
    return Personas.model_validate(yaml.safe_load(text))


def thanks_group(journey: Journey, rate: float, members: int, seed: int = 0) -> dict[str, Any]:
    summary = simulate(
        journey, thanks_multiplies_purchases_by(rate), members=members, days=120, seed=seed
    ).summary
    [group] = [g for g in summary["control_groups"] if g["incentive"] == "thanks"]
    return group


def test_an_incentive_that_works_shows_its_uplift(shop: Journey) -> None:
    """Purchases x1.5 for 30 days after ``thanks``: the granted members reach ``regular``
    within 30 days more often than the held-out ones, with an interval that excludes zero."""
    group = thanks_group(shop, 1.5, members=5000)
    assert group["held_out"]["members"] > 600 and group["granted"]["members"] > 3 * 600
    assert 0 < group["low"] < group["difference"] < group["high"]
    assert group["p_value"] < 0.01


def test_an_incentive_that_does_nothing_shows_none(shop: Journey) -> None:
    """``rate: 1.0``: the interval covers zero in at least 8 of 10 seeds (a 95% interval
    misses about one time in twenty)."""
    covered = sum(
        group["low"] <= 0 <= group["high"]
        for group in (thanks_group(shop, 1.0, members=1500, seed=seed) for seed in range(10))
    )
    assert covered >= 8
