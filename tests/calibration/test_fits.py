"""The fits reproduce the published figures of the CDNOW 1/10 sample (Fader, Hardie & Lee
2005; Fader & Hardie's note on Gamma-Gamma), and what the simulator draws from the calibrated
personas is what happened."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import CDNOW, ROOT
from topo.calibration import bgnbd, spend
from topo.calibration.calibrate import Calibration, calibrate
from topo.validation import load_journey

EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"
SAMPLE = ROOT / "data" / "cdnow" / "sample-members.txt"
UNTIL = datetime(1997, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample_events() -> list[dict[str, Any]]:
    members = set(SAMPLE.read_text(encoding="utf-8").split())
    with gzip.open(EVENTS, "rt", encoding="utf-8") as lines:
        return [e for e in map(json.loads, lines) if e["member"] in members]


@pytest.fixture(scope="module")
def fitted(sample_events: list[dict[str, Any]]) -> Calibration:
    return calibrate(sample_events, load_journey(CDNOW), until=UNTIL)


def test_the_sample_is_the_published_one(sample_events: list[dict[str, Any]]) -> None:
    assert len({e["member"] for e in sample_events}) == 2_357
    assert len(sample_events) == 6_919


def test_bgnbd_gives_the_published_parameters(fitted: Calibration) -> None:
    fit = fitted.types["purchase"].bgnbd
    assert fit is not None
    for got, published in ((fit.r, 0.243), (fit.alpha, 4.414), (fit.a, 0.793), (fit.b, 2.426)):
        assert got == pytest.approx(published, abs=0.002)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert fit.members == 2_357


def test_the_calibration_histogram_is_the_paper_s(fitted: Calibration) -> None:
    """Figure 2 of the paper: 1,411 members with no repeat, 439 with one, ...; the model's
    expectation close to it (chi-square small for 7 classes)."""
    fit = fitted.types["purchase"].bgnbd
    assert fit is not None
    histories = fitted.histories.members.values()
    x = np.array([len(h.days["purchase"]) - 1 for h in histories], dtype=float)
    assert x.sum() == 2_457  # repeat purchases in weeks 1-39
    observed, expected = bgnbd.histogram((fit.r, fit.alpha, fit.a, fit.b), x,
                                         np.full(len(x), 30.0))  # fmt: skip
    assert observed[:3].tolist() == [1_411, 439, 214]
    assert expected.sum() == pytest.approx(len(x))
    assert fit.p_value > 0.05


def test_gamma_gamma_gives_the_published_parameters(fitted: Calibration) -> None:
    fit = fitted.types["purchase"].fields["amount"]
    assert isinstance(fit, spend.GammaGammaFit)
    assert (fit.p, fit.q, fit.gamma) == (
        pytest.approx(6.25, abs=0.02),
        pytest.approx(3.74, abs=0.02),
        pytest.approx(15.44, abs=0.02),
    )
    assert fit.members == 946


def test_a_count_field_is_lognormal_not_gamma_gamma(fitted: Calibration) -> None:
    """``cds`` is read by a sum metric too, but it is a count of CDs, not money."""
    assert isinstance(fitted.types["purchase"].fields["cds"], spend.LogNormalFit)


def test_the_file_written_is_a_personas_file_that_says_what_was_fitted(
    fitted: Calibration,
) -> None:
    from topo.simulation.personas import check_personas_text

    text = fitted.text("cdnow")
    model, diagnostics = check_personas_text(text, "calibrated.yaml", load_journey(CDNOW))
    assert model is not None and not diagnostics
    assert "2,357 members" in text and "log-likelihood -9582.4" in text
    assert "r: 0.242595" in text


def test_p_alive_is_one_without_repeats_and_falls_with_a_long_silence() -> None:
    params = (0.243, 4.414, 0.793, 2.426)
    x, t_x, T = np.array([0.0, 4, 4]), np.array([0.0, 38, 10]), np.array([39.0, 39, 39])
    alive = bgnbd.p_alive(params, x, t_x, T)
    assert alive[0] == 1.0
    assert alive[1] == pytest.approx(0.861, abs=0.001)  # by equation 11, by hand
    assert alive[2] < 0.1


def test_a_member_who_joined_on_the_last_day_keeps_the_histogram_finite() -> None:
    """T = 0 (first event on the last day of calibration): no repeat is expected of it; the
    expectation and its chi-square stay numbers (they were NaN, read as a perfect fit)."""
    params = (0.243, 4.414, 0.793, 2.426)
    x, T = np.array([0.0, 0.0, 2.0]), np.array([0.0, 39.0, 39.0])
    expected = bgnbd.histogram(params, x, T)[1]
    assert np.isfinite(expected).all()
    assert expected.sum() == pytest.approx(3)
    one = bgnbd.histogram(params, x[:1], T[:1])[1]
    assert one[0] == pytest.approx(1.0)


@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=30))
def test_shares_are_written_to_add_up_to_exactly_100_percent(counts: list[int]) -> None:
    """A choice's shares, rounded to two decimals, add up to 100% as the personas check
    requires (they used to be rounded one by one: 100.01%)."""
    from topo.calibration.calibrate import _percentages

    total = sum(counts)
    written = _percentages({f"v{i}": c / total for i, c in enumerate(counts)})
    points = [round(float(p.rstrip("%")) * 100) for p in written.values()]
    assert sum(points) == 10_000
    for i, count in enumerate(counts):  # each within a hundredth (a rarer one left out)
        assert abs(float(written.get(f"v{i}", "0%").rstrip("%")) - 100 * count / total) < 0.0101


def test_a_type_few_members_repeat_is_fitted_as_poisson() -> None:
    """Three members of 40 send the type twice: too few repeaters for BG/NBD (its search runs
    off on such data), so it is Poisson at the observed rate."""
    events = []
    for m in range(40):
        for day in (1, 20) if m < 3 else (1,):
            at = f"1997-01-{day:02d}T00:00:00+00:00"
            events.append({"id": f"{m}-{day}", "member": f"m{m}", "type": "purchase",
                           "at": at, "amount": 5.0, "cds": 1})  # fmt: skip
    fitted = calibrate(events, load_journey(CDNOW), until=datetime(1997, 2, 1, tzinfo=UTC))
    purchase = fitted.types["purchase"]
    assert purchase.bgnbd is None and purchase.repeat and purchase.every_days is not None
    assert "poisson" in fitted.text("cdnow")


def test_segments_group_members_by_how_often_they_came_back(
    sample_events: list[dict[str, Any]],
) -> None:
    """Three personas on the sample: groups of about a third, members with the same number
    of repeat days never split (1,411 have none: the first group is theirs alone), shares
    adding up to 100%, a file that loads; fitted alone, the group that never came back is
    a ``once`` persona (docs/calibrate.md says why this forecasts badly)."""
    from topo.simulation.personas import check_personas_text

    fitted = calibrate(sample_events, load_journey(CDNOW), until=UNTIL, segments=3)
    sizes = [len(segment.members) for segment in fitted.segments]
    assert sum(sizes) == 2_357 and sizes[0] == 1_411 and len(sizes) == 3
    counts = [
        {len(fitted.histories.members[m].days["purchase"]) - 1 for m in segment.members}
        for segment in fitted.segments
    ]
    assert all(a.isdisjoint(b) for i, a in enumerate(counts) for b in counts[i + 1 :])
    assert [p.id for p in fitted.personas.population] == [
        "frequency-1",
        "frequency-2",
        "frequency-3",
    ]
    assert sum(p.share for p in fitted.personas.population) == pytest.approx(1.0)
    assert fitted.segments[0].types["purchase"].repeat is False
    model, diagnostics = check_personas_text(fitted.text("cdnow"), "s.yaml", load_journey(CDNOW))
    assert model is not None and not diagnostics


def test_segments_of_one_count_give_fewer_personas() -> None:
    events = [
        {"id": f"{m}", "member": f"m{m}", "type": "purchase",
         "at": "1997-01-01T00:00:00+00:00", "amount": 5.0, "cds": 1}
        for m in range(30)
    ]  # fmt: skip
    fitted = calibrate(events, load_journey(CDNOW), segments=4)
    assert len(fitted.segments) == 1 and fitted.personas.population[0].id == "calibrated"


@pytest.mark.parametrize("segments", [0, -1, 1.5])
def test_segments_must_be_a_whole_number_from_1(
    sample_events: list[dict[str, Any]], segments: Any
) -> None:
    from topo.errors import UsageError

    with pytest.raises(UsageError, match="--segments is a whole number from 1"):
        calibrate(sample_events, load_journey(CDNOW), segments=segments)
