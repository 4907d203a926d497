"""Calibrated personas proven on a period the fit never saw: the CDNOW figures of the issue's
acceptance (the sample's hold-out purchases, the cumulative total by week 78, the whole
cohort's members per node), and the refusals of a hold-out outside the events."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from conftest import CDNOW, ROOT
from topo.calibration.calibrate import calibrate
from topo.errors import UsageError
from topo.simulation.simulation import simulate
from topo.validation import load_journey

EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"
SAMPLE = ROOT / "data" / "cdnow" / "sample-members.txt"
T = datetime(1997, 10, 1, tzinfo=UTC)
END = datetime(1998, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def cohort() -> list[dict[str, Any]]:
    with gzip.open(EVENTS, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def sample(cohort: list[dict[str, Any]]) -> list[dict[str, Any]]:
    members = set(SAMPLE.read_text(encoding="utf-8").split())
    return [e for e in cohort if e["member"] in members]


def test_the_sample_s_hold_out_purchases_are_within_15_percent(
    sample: list[dict[str, Any]],
) -> None:
    """Weeks 40-78: 1,882 repeat purchases (customer-days) happened; the fit on weeks 1-39,
    continued from each member's own history, predicts within 15% of them (the model's own
    expectation, by the paper's equation 10, is 1,653)."""
    fitted = calibrate(sample, load_journey(CDNOW), holdout_from=T)
    holdout = fitted.holdout
    assert holdout is not None and holdout.end == END and holdout.members == 2_357
    predicted, actual = holdout.days["purchase"]
    assert actual == 1_882
    assert abs(predicted - actual) / actual < 0.15
    frequency = holdout.frequency
    assert [frequency[label][0] for label in ("0", "1", "2")] == [1_411, 439, 214]
    assert frequency["0"][2] == pytest.approx(0.24, abs=0.01)  # actual, as in the paper


def test_the_sample_s_cumulative_purchases_by_week_78_are_within_5_percent(
    sample: list[dict[str, Any]],
) -> None:
    """The calibrated personas run from 1997-01-01 for 78 weeks: their repeat purchases (every
    event after a member's first) come within 5% of the 4,339 that happened."""
    journey = load_journey(CDNOW)
    fitted = calibrate(sample, journey, until=T)
    run = simulate(journey, fitted.personas, members=2_357, days=546,
                   start="1997-01-01T00:00:00+00:00", keep_events=False)  # fmt: skip
    repeats = run.first.sent - 2_357
    assert abs(repeats - 4_339) / 4_339 < 0.05


def test_the_whole_cohort_s_members_per_node_are_within_5_points(
    cohort: list[dict[str, Any]],
) -> None:
    fitted = calibrate(cohort, load_journey(CDNOW), holdout_from=T)
    assert fitted.holdout is not None
    for node, (predicted, actual) in fitted.holdout.nodes.items():
        assert abs(predicted - actual) < 0.05, node
    assert "Hold-out 1997-10-01 to 1998-07-01" in fitted.text("cdnow")


@pytest.mark.parametrize(
    ("holdout_from", "said"),
    [
        (datetime(1996, 1, 1, tzinfo=UTC), "outside the events' span"),
        (datetime(1999, 1, 1, tzinfo=UTC), "outside the events' span"),
        (datetime(1997, 10, 1), "needs an offset"),
    ],
)
def test_a_hold_out_outside_the_events_is_refused(
    sample: list[dict[str, Any]], holdout_from: datetime, said: str
) -> None:
    with pytest.raises(UsageError, match=said):
        calibrate(sample, load_journey(CDNOW), holdout_from=holdout_from)


def test_the_shipped_calibrated_personas_are_what_the_command_fits(
    cohort: list[dict[str, Any]],
) -> None:
    """journeys/cdnow.calibrated.personas.yaml was made by ``topo calibrate
    data/cdnow/events.jsonl.gz --journey journeys/cdnow.yaml --holdout-from
    1997-10-01T00:00:00+00:00``: a fit today gives its numbers (to the 6 digits written)."""
    import yaml

    shipped = (ROOT / "journeys" / "cdnow.calibrated.personas.yaml").read_text(encoding="utf-8")
    fitted = calibrate(cohort, load_journey(CDNOW), until=T)

    def numbers(data: Any) -> list[Any]:  # the file's values in order; numbers to 4 digits
        if isinstance(data, dict):
            return [k for k in data] + [v for value in data.values() for v in numbers(value)]
        if isinstance(data, list):
            return [v for value in data for v in numbers(value)]
        return [float(f"{data:.4g}")] if isinstance(data, float) else [data]

    assert numbers(yaml.safe_load(shipped)) == numbers(fitted.written)
    assert "# Hold-out 1997-10-01 to 1998-07-01, 23,570 members" in shipped
