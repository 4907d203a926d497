"""The HTML report: one self-contained file, deterministic, without pii, that a browser draws."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from club_population import END, EVENTS, PHONE, load, run

from conftest import Links
from topo.errors import UsageError
from topo.report.aggregate import combine
from topo.report.html import write_report, write_summary
from topo.report.summary import summarise

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture
def summary(tmp_path: Path) -> dict[str, Any]:
    journey = load(tmp_path)
    return summarise(journey, run(journey), end=END)


class TestReport:
    def test_self_contained(self, summary: dict[str, Any], tmp_path: Path) -> None:
        """No tag fetches anything (no src, no href to the network) and plotly.js is inline,
        once."""
        path = tmp_path / "report.html"
        write_report(summary, path)
        parser = Links()
        parser.feed(path.read_text(encoding="utf-8"))
        assert not [link for link in parser.links if link.startswith(("http:", "https:", "//"))]
        assert sum("Plotly" in s and len(s) > 1_000_000 for s in parser.scripts) == 1

    def test_every_section(self, summary: dict[str, Any], tmp_path: Path) -> None:
        """The report has the spec's sections, with the numbers in tables."""
        path = tmp_path / "report.html"
        write_report(summary, path, title="Club, January")
        text = path.read_text(encoding="utf-8")
        for heading in ("Funnel", "Moves", "Time", "Stuck", "Incentives", "Withheld",
                        "Pressure", "Control groups", "Owners"):  # fmt: skip
            assert f"<h2>{heading}" in text
        assert "<title>Club, January</title>" in text
        assert "cost 53.00 in total" in text  # the total cost, quoted in a sentence

    def test_deterministic(self, summary: dict[str, Any], tmp_path: Path) -> None:
        """The same summary gives the same bytes."""
        write_report(summary, tmp_path / "a.html")
        write_report(json.loads(json.dumps(summary)), tmp_path / "b.html")
        assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()

    def test_no_pii_no_member_ids(self, summary: dict[str, Any], tmp_path: Path) -> None:
        """Neither the pii value nor a member id appears in the page's own text (plotly.js
        aside, which is the same for every report)."""
        path = tmp_path / "report.html"
        write_report(summary, path)
        parser = Links()
        parser.feed(path.read_text(encoding="utf-8"))
        text = path.read_text(encoding="utf-8")
        assert PHONE not in text
        own = text.replace(max(parser.scripts, key=len), "")
        for member in {m for m, *_ in EVENTS}:
            assert member not in own

    def test_combined_runs_render(self, summary: dict[str, Any], tmp_path: Path) -> None:
        """A summary of several runs draws the means and shows the intervals in the tables."""
        path = tmp_path / "runs.html"
        write_report(combine([summary, summary]), path)
        text = path.read_text(encoding="utf-8")
        assert "2 runs" in text and "6 (6 to 6)" in text

    def test_without_plotly(
        self, summary: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without plotly the error names the extra to install."""
        monkeypatch.setitem(sys.modules, "plotly", None)
        monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
        with pytest.raises(UsageError, match=r"report extra: pip install plotly"):
            write_report(summary, tmp_path / "report.html")


class TestSummaryFile:
    def test_json_file(self, summary: dict[str, Any], tmp_path: Path) -> None:
        """Sorted keys, two-space indent, UTF-8 as is, one final newline."""
        path = tmp_path / "summary.json"
        write_summary(summary, path)
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        assert json.loads(text) == summary


class TestInABrowser:
    def test_plotly_draws(self, summary: dict[str, Any], tmp_path: Path) -> None:
        """A headless browser opens the file offline and plotly draws every chart."""
        browser = next((b for b in BROWSERS if shutil.which(b)), None)
        if browser is None:
            pytest.skip("no chromium or google-chrome on PATH to open the report with")
        path = tmp_path / "report.html"
        write_report(summary, path)
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
                   "--virtual-time-budget=5000", "--dump-dom", path.as_uri()]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            pytest.skip(f"{browser} did not finish within 20 s")
        charts = summary_charts(summary)
        assert done.stdout.count('class="plot-container plotly"') == charts, done.stderr[-2000:]


def summary_charts(summary: dict[str, Any]) -> int:
    """The charts the club's report draws: funnel, moves, time, stuck, cost per week,
    withheld, pressure and control groups."""
    assert summary["control_groups"] and summary["incentives"]["withheld_by_reason"]
    return 8


def test_writing_a_report_leaves_the_warnings_format_alone(
    summary: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plotly 5 replaces ``warnings.formatwarning`` when it first imports ``plotly.tools``;
    the report puts the caller's back (pytest's warnings summary broke after a report)."""
    import warnings

    pytest.importorskip("plotly")
    for name in [m for m in sys.modules if m == "plotly.tools"]:
        monkeypatch.delitem(sys.modules, name)  # as in a process that never imported it
    before = warnings.formatwarning
    write_report(summary, tmp_path / "r.html")
    assert warnings.formatwarning is before


def test_a_quartile_not_known_is_said_not_drawn_as_zero(
    summary: dict[str, Any], tmp_path: Path
) -> None:
    """A stage whose third quartile is n/a gets no whisker and a sentence; a stage without a
    median is named as not drawn (a zero-length whisker read as q3 = median)."""
    pytest.importorskip("plotly")
    rows = summary["time"]["to_node"]
    assert len(rows) >= 2
    rows[0] = {**rows[0], "median": 5.0, "q1": 1.0, "q3": None}
    rows[1] = {**rows[1], "median": None, "q1": 3.0, "q3": None}
    write_report(summary, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"No upper whisker for {rows[0]['node']}" in page
    assert f"Not drawn: {rows[1]['node']}" in page
