"""Renderers: text, json, github and sarif, snapshot-tested on awkward diagnostics.

Snapshots live in tests/snapshots/render/; ``TOPO_UPDATE_GOLDEN=1`` rewrites them after a
deliberate change (review the diff). The SARIF output is also checked against a schema of the
SARIF 2.1.0 objects topo writes (written for this test from the SARIF specification); during
development it was validated once against the full official schema.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from conftest import TESTS
from topo.cli.rendering import FORMATS, render_github, render_sarif, summary
from topo.diagnostics import Diagnostic
from topo.journey.codes import make
from topo.journey.source import Span

SNAPSHOTS = TESTS / "snapshots" / "render"

CLUB = "journeys/club.yaml"
DIAGNOSTICS = [
    make("unknown-node", "unknown node 'vipp'; did you mean 'vip'?", CLUB, Span(12, 21, 12, 25)),
    make(
        "overlapping-moves",
        "at 'buyer' on 'purchase', 100% of members: a, b",
        CLUB,
        Span(14, 5, 14, 60),
    ),
    make(
        "yaml-syntax",
        "a ':' where no key can start\nsecond line",
        "journeys/my club #2.yaml",
        Span(1, 1, 1, 2),
    ),
    make("unused-metric", "no guard reads 'spend_€'", "/abs/path/x.yaml", Span(3, 3, 3, 8)),
]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_snapshot(name: str) -> None:
    """Each format renders the awkward diagnostics exactly as its snapshot."""
    rendered = FORMATS[name](DIAGNOSTICS, 3)
    if name == "sarif":  # the absolute path depends on the machine; keep the snapshot stable
        rendered = rendered.replace(
            Path("/abs/path/x.yaml").resolve().as_uri(), "file:///abs/path/x.yaml"
        )
    snapshot = SNAPSHOTS / f"diagnostics.{name}"
    if os.environ.get("TOPO_UPDATE_GOLDEN"):
        snapshot.write_text(rendered, encoding="utf-8")
    assert rendered == snapshot.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_diagnostics(name: str) -> None:
    """A clean run renders as nothing (text, github) or as an empty document (json, sarif)."""
    rendered = FORMATS[name]([], 2)
    if name in ("text", "github"):
        assert rendered == ""
    else:
        document = json.loads(rendered)
        assert document.get("diagnostics", document.get("runs", [{}])[0].get("results")) == []


class TestGithub:
    """Workflow commands escape what would end them early."""

    def test_escaping(self) -> None:
        """Newlines and % in messages, ':' and ',' in properties are escaped."""
        [_, overlap, syntax, _] = render_github(DIAGNOSTICS, 1).splitlines()
        assert overlap.endswith("::at 'buyer' on 'purchase', 100%25 of members: a, b")
        assert syntax.endswith("::a ':' where no key can start%0Asecond line")
        assert "title=T506 overlapping-moves" in overlap
        assert overlap.startswith(
            "::warning file=journeys/club.yaml,line=14,col=5,endLine=14,endColumn=60,"
        )

    def test_one_line_each(self) -> None:
        """Every diagnostic is exactly one line, whatever its message holds."""
        assert len(render_github(DIAGNOSTICS, 1).splitlines()) == len(DIAGNOSTICS)


SARIF_OBJECTS = json.loads(
    (TESTS / "data" / "sarif-objects.schema.json").read_text(encoding="utf-8")
)


class TestSarif:
    """SARIF output has the shape of the SARIF 2.1.0 objects it uses."""

    def test_valid(self) -> None:
        """The log validates against the schema of the objects topo writes."""
        jsonschema.validate(json.loads(render_sarif(DIAGNOSTICS, 3)), SARIF_OBJECTS)

    def test_rules_and_results_agree(self) -> None:
        """Every result's ruleIndex points at its rule, and every code is a rule."""
        log = json.loads(render_sarif(DIAGNOSTICS, 3))
        run = log["runs"][0]
        rules = run["tool"]["driver"]["rules"]
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]

    def test_uris(self) -> None:
        """Relative paths stay relative and are percent-encoded; absolute ones become file URIs."""
        log = json.loads(render_sarif(DIAGNOSTICS, 3))
        uris = [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"]
        ]
        assert uris[0] == "journeys/club.yaml"
        assert uris[2] == "journeys/my%20club%20%232.yaml"
        assert uris[3].startswith("file:///")


def test_summary_counts() -> None:
    """The summary line counts errors and warnings."""
    assert summary(DIAGNOSTICS, 3) == "3 files checked: 2 errors, 2 warnings"
    assert summary([], 1) == "1 file checked: no problems"


def test_diagnostic_render() -> None:
    """A diagnostic renders as path:line:col: severity CODE message."""
    d: Diagnostic = DIAGNOSTICS[0]
    assert (
        d.render()
        == "journeys/club.yaml:12:21: error T403 unknown node 'vipp'; did you mean 'vip'?"
    )
