"""Golden fixtures: each invalid journey yields exactly its expected diagnostics.

``tests/fixtures/invalid/NAME.yaml`` holds a journey with one defect (``five-defects.yaml``
holds five); ``NAME.golden`` holds the expected ``line:col: severity CODE message`` lines. The
file name starts with the code it demonstrates. An error that leaves parts of the journey
uncertain is followed by the notice that the checks reading them did not run (T519). Run with
``TOPO_UPDATE_GOLDEN=1`` to rewrite the golden files after a deliberate change, then review the
diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import topo
from conftest import TESTS

FIXTURES = TESTS / "fixtures" / "invalid"
CASES = sorted(FIXTURES.glob("*.yaml"))
UNTESTABLE_AS_FIXTURE = {
    "T100": "a path that names nothing cannot be a fixture file (see test_validation)",
    "T103": "a file over 1 MiB is built by test_loader instead of being committed",
    **{
        code.code: "a personas file's code: tests/simulation/test_personas.py shows it"
        for code in topo.CODES
        if code.code.startswith("T6")
    },
}


def _lines(path: Path) -> str:
    return "".join(
        f"{d.line}:{d.column}: {d.severity} {d.code} {d.message}\n" for d in topo.validate(path)
    )


class TestGoldenFixtures:
    """Every invalid fixture reports exactly what its golden file says."""

    @pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
    def test_fixture_matches_golden(self, case: Path) -> None:
        """The diagnostics of the fixture are the golden lines, in order."""
        golden = case.with_suffix(".golden")
        actual = _lines(case)
        if os.environ.get("TOPO_UPDATE_GOLDEN"):
            golden.write_text(actual, encoding="utf-8")
        assert golden.exists(), f"{golden.name} is missing; run with TOPO_UPDATE_GOLDEN=1"
        assert actual == golden.read_text(encoding="utf-8")

    @pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
    def test_fixture_shows_its_code_once(self, case: Path) -> None:
        """A one-defect fixture yields one diagnostic, of the code its name starts with, and
        at most the notice that some analysis did not run because of it."""
        codes = [d.code for d in topo.validate(case)]
        notices = codes.count("T519")
        assert notices <= 1 and codes[len(codes) - notices :] == ["T519"] * notices
        defects = [c for c in codes if c != "T519"]
        if case.stem.startswith("five-defects"):
            assert len(defects) == 5
            return
        code = case.stem.split("-", 1)[0]
        if code == "T519":
            assert notices == 1 and len(defects) == 1
        else:
            assert defects == [code]

    def test_at_least_thirty_fixtures(self) -> None:
        """The folder holds at least 30 fixtures."""
        assert len(CASES) >= 30

    def test_every_code_has_a_fixture(self) -> None:
        """Every registered code is shown by a fixture, or said why not."""
        shown = {case.stem.split("-", 1)[0] for case in CASES}
        missing = {c.code for c in topo.CODES} - shown - set(UNTESTABLE_AS_FIXTURE)
        assert not missing
