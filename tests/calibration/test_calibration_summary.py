"""``topo calibrate --summary/--report``: the report's figures of the members it predicts, and
its own section (the fits; the hold-out's predicted-against-actual tables), in the summary's
schema, with no pii and no event values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import ROOT, Links
from topo.calibration.calibrate import calibrate
from topo.calibration.summary import report_summary
from topo.cli.commands import main
from topo.simulation.simulation import simulate
from topo.validation import load_journey

SCHEMA = json.loads((ROOT / "schema" / "summary-1.schema.json").read_text(encoding="utf-8"))
CLUB = ROOT / "journeys" / "knowledge-club.yaml"


@pytest.fixture(scope="module")
def club_events() -> list[dict[str, Any]]:
    """A year of simulated knowledge-club members: purchases with text fields, phones (pii)."""
    run = simulate(CLUB, ROOT / "journeys" / "knowledge-club.personas.yaml", members=400,
                   days=365, start="2026-01-01T00:00:00+00:00")  # fmt: skip
    return run.events


@pytest.mark.parametrize("holdout", [None, "2026-09-01T00:00:00+00:00"])
def test_the_summary_fits_the_schema_and_holds_no_value(
    club_events: list[dict[str, Any]], holdout: str | None
) -> None:
    from datetime import datetime

    journey = load_journey(CLUB)
    at = None if holdout is None else datetime.fromisoformat(holdout)
    fitted = calibrate(club_events, journey, holdout_from=at)
    summary = report_summary(fitted, journey)
    jsonschema.Draft202012Validator(SCHEMA).validate(summary)
    section = summary["calibration"]
    assert summary["header"]["source"] == "calibrate"
    assert {f["type"] for f in section["fits"]} >= {"purchase", "signup"}
    assert (section["holdout"] is None) == (holdout is None)
    text = json.dumps(summary)
    assert "synthetic-" not in text  # the members' pii phones, made up as they are
    shares = [f for fit in section["fits"] for f in fit["fields"] if f["model"] == "shares"]
    assert shares and "magazine" not in json.dumps(section)  # a purchase's offering


def test_the_command_writes_both_and_the_report_has_the_sections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("plotly", reason="the report needs plotly (topo's report extra)")
    events = tmp_path / "club.jsonl"
    run = simulate(CLUB, ROOT / "journeys" / "knowledge-club.personas.yaml", members=200,
                   days=200, start="2026-01-01T00:00:00+00:00")  # fmt: skip
    events.write_text("".join(json.dumps(e) + "\n" for e in run.events), encoding="utf-8")
    summary, report = tmp_path / "s.json", tmp_path / "r.html"
    code = main(["calibrate", str(events), "--journey", str(CLUB),
                 "--out", str(tmp_path / "p.yaml"), "--holdout-from", "2026-05-01T00:00:00+00:00",
                 "--summary", str(summary), "--report", str(report)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert json.loads(summary.read_text(encoding="utf-8"))["calibration"]["holdout"]["members"]
    page = report.read_text(encoding="utf-8")
    assert "Calibration: personas fitted to the history" in page
    assert "Hold-out: the prediction against what happened" in page
    links = Links()
    links.feed(page)
    assert not [link for link in links.links if link.startswith(("http:", "https:", "//"))]


def test_summary_to_stdout_needs_out(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", str(ROOT / "data" / "cdnow" / "events.jsonl.gz"), "--journey",
                 str(ROOT / "journeys" / "cdnow.yaml"), "--summary", "-"])  # fmt: skip
    assert code == 2
    assert "give --out FILE" in capsys.readouterr().err
