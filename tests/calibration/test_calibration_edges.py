"""Edges of ``topo calibrate`` an independent review found: each was a traceback, a NaN or a
wrong figure before."""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import CDNOW, ROOT
from topo.calibration.calibrate import _percent, calibrate
from topo.calibration.holdout import _p_alive, _posterior_mean
from topo.calibration.spend import GammaGammaFit
from topo.errors import UsageError
from topo.simulation.model import Persona
from topo.validation import load_journey

EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"
T = datetime(1997, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def first_members() -> list[dict[str, Any]]:
    """The events of CDNOW's first 3,000 members (every event of each)."""
    with gzip.open(EVENTS, "rt", encoding="utf-8") as lines:
        events = [json.loads(line) for line in lines]
    keep = sorted({e["member"] for e in events})[:3_000]
    chosen = set(keep)
    return [e for e in events if e["member"] in chosen]


def test_the_hold_out_s_truth_stops_at_until(first_members: list[dict[str, Any]]) -> None:
    """With --until before the log's end, the actual shares are those of the events before
    it: the same as calibrating the log cut there (the later events were replayed too)."""
    until = datetime(1997, 12, 1, tzinfo=UTC)
    journey = load_journey(CDNOW)
    whole = calibrate(first_members, journey, until=until, holdout_from=T)
    cut = [e for e in first_members if e["at"] < "1997-12-01"]
    assert whole.holdout.nodes == calibrate(cut, journey, until=until, holdout_from=T).holdout.nodes


def test_refused_events_do_not_break_the_hold_out(first_members: list[dict[str, Any]]) -> None:
    odd = [{"id": "x1", "member": "zz", "type": "purchase", "amount": 1.0, "cds": 1},
           {"id": "x2", "member": "zz", "type": "purchase", "at": "1997-02-01T00:00:00",
            "amount": 1.0, "cds": 1}]  # fmt: skip
    fitted = calibrate(first_members + odd, load_journey(CDNOW), holdout_from=T)
    assert fitted.holdout is not None and "zz" not in fitted.histories.members


def test_a_field_the_fits_cannot_draw_is_a_sentence(tmp_path: Path) -> None:
    text = (ROOT / "journeys" / "cdnow.yaml").read_text(encoding="utf-8")
    old = "      cds:    {type: int, min: 0}     # number_of_cds"
    text = text.replace(old, old + "\n      shipped: {type: date}")
    path = tmp_path / "dated.yaml"
    path.write_text(text, encoding="utf-8")
    events = [{"id": f"{m}-{d}", "member": f"m{m}", "type": "purchase",
               "at": f"1997-01-{d:02d}T00:00:00+00:00", "amount": 3.0, "cds": 1,
               "shipped": "1997-02-01"} for m in range(12) for d in (1, 9)]  # fmt: skip
    with pytest.raises(UsageError, match="the fitted personas do not fit"):
        calibrate(events, load_journey(path))


@pytest.mark.parametrize("share", [9.091e-7, 0.5, 1.0, 1e-12])
def test_a_share_is_written_as_a_personas_file_reads_it(share: float) -> None:
    written = _percent(share)
    assert "e" not in written
    persona = Persona.model_validate({"id": "p", "share": written})
    assert persona.share == pytest.approx(max(share, 1e-8), abs=1e-8)


def test_spend_without_a_posterior_mean_stays_positive() -> None:
    """q <= 1 (heavy-tailed spend): a member with no repeat day has no posterior mean
    (p gamma / (q - 1) was negative); its mean spend is drawn from its posterior instead."""
    fit = GammaGammaFit(p=16.76, q=0.70, gamma=20.0, log_likelihood=0.0, members=10)
    first = datetime(1997, 1, 1).date()
    mean = _posterior_mean(fit, {first: None}, first, "amount", key=7, stream=10_010)
    assert 0 < mean < math.inf


def test_p_alive_of_a_long_silence_does_not_overflow() -> None:
    assert _p_alive(0.24, 4.4, 0.79, 2.4, 1_000, 150.0, 300.0) == pytest.approx(0.0, abs=1e-12)


def test_mixed_offsets_give_no_nan(tmp_path: Path) -> None:
    """Customer-days are dates in one offset: a member in +14:00 on the last day no longer
    gets a negative T (NaN in the histogram, read as a good fit)."""
    from topo.simulation.simulation import simulate

    journey = load_journey(CDNOW)
    made = simulate(journey, ROOT / "journeys" / "cdnow.calibrated.personas.yaml",
                    members=2_000, days=120, start="1997-01-01T00:00:00+00:00")  # fmt: skip
    events = list(made.events)
    last = datetime.fromisoformat(max(e["at"] for e in events)).date()  # in UTC
    after = (last + timedelta(days=1)).isoformat()
    # the latest event, dated `last` in its own offset; then members whose own date is after
    events.append({"id": "late", "member": "w", "type": "purchase",
                   "at": f"{last}T12:00:00-12:00", "amount": 3.0, "cds": 1})  # fmt: skip
    events += [{"id": f"e{k}", "member": f"east{k}", "type": "purchase",
                "at": f"{after}T13:00:00+14:00", "amount": 3.0, "cds": 1}
               for k in range(3)]  # fmt: skip
    fitted = calibrate(events, journey)
    fit = fitted.types["purchase"].bgnbd
    assert fit is not None and np.isfinite(fit.expected).all() and math.isfinite(fit.p_value)
    assert "NaN" not in json.dumps(fitted.summary)


def test_the_hold_out_is_independent_of_the_other_members(
    first_members: list[dict[str, Any]],
) -> None:
    """A member's continued events depend on the seed and its id, not on who else is there
    (members were keyed by their rank among the ids)."""
    from topo.calibration.histories import History
    from topo.calibration.holdout import _continued

    journey = load_journey(CDNOW)
    fitted = calibrate(first_members, journey, until=T)
    end = datetime(1998, 7, 1, tzinfo=UTC)

    def by_member() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for _, e in _continued(fitted, journey, T, end, 0):
            out.setdefault(e["member"], []).append(e["at"])
        return out

    before = by_member()
    fitted.histories.members["000000"] = History(datetime(1997, 1, 1, tzinfo=UTC))
    fitted.segments[0].members.append("000000")
    assert by_member() == before


def test_a_calibration_has_a_summary_and_a_report(
    first_members: list[dict[str, Any]], tmp_path: Path
) -> None:
    pytest.importorskip("plotly", reason="the report needs plotly (topo's report extra)")
    fitted = calibrate(first_members, load_journey(CDNOW), holdout_from=T)
    assert fitted.summary["calibration"]["holdout"]["members"] == 3_000
    fitted.write_report(tmp_path / "r.html")
    assert "Hold-out" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_times_may_be_given_as_text(first_members: list[dict[str, Any]]) -> None:
    """As ``topo.simulate``'s ``start``: RFC 3339 text, or a sentence."""
    journey = load_journey(CDNOW)
    fitted = calibrate(first_members, journey, until="1998-07-01T00:00:00+00:00",
                       holdout_from="1997-10-01T00:00:00+00:00")  # fmt: skip
    assert fitted.holdout is not None and fitted.holdout.start == T
    with pytest.raises(UsageError, match="is a date without a time"):
        calibrate(first_members, journey, holdout_from="1997-10-01")


def test_a_field_named_like_a_pii_attribute_is_not_written(tmp_path: Path) -> None:
    """A purchase's ``email`` (the journey's pii attribute's name) carried the member's
    address into the personas file as a choice's values; it is never fitted now."""
    text = (ROOT / "journeys" / "cdnow.yaml").read_text(encoding="utf-8")
    old = "      cds:    {type: int, min: 0}     # number_of_cds"
    text = text.replace(old, old + "\n      email: {type: str, required: false}")
    text = text.replace("metrics:", "attributes:\n  email: {type: str, pii: true}\n\nmetrics:", 1)
    path = tmp_path / "mailed.yaml"
    path.write_text(text, encoding="utf-8")
    events = [{"id": f"{m}-{d}", "member": f"m{m}", "type": "purchase",
               "at": f"1997-01-{d:02d}T00:00:00+00:00", "amount": 3.0, "cds": 1,
               "email": f"person{m}@example.com"} for m in range(12) for d in (1, 9)]  # fmt: skip
    fitted = calibrate(events, load_journey(path))
    assert "example.com" not in fitted.text("mailed")
    assert "email" not in fitted.types["purchase"].fields
