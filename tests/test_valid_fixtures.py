"""Valid fixtures: the corrected counterparts of the analysis fixtures pass without a word.

``tests/fixtures/valid/NAME-ok.yaml`` holds a journey that fixes the defect of an invalid
fixture; its file name starts with the code it is the counterpart of. An analysis check that
reports one of them has a false positive. Every analysis code (T5xx) and the suppression code
(T109) has at least one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import topo
from conftest import TESTS

FIXTURES = TESTS / "fixtures" / "valid"
CASES = sorted(FIXTURES.glob("*.yaml"))
COVERED = {c.code for c in topo.CODES if c.code.startswith("T5")} | {"T109"}


class TestValidFixtures:
    """Every valid fixture is clean, and every analysis code has one."""

    @pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
    def test_fixture_is_clean(self, case: Path) -> None:
        """The fixture yields no diagnostic at all, not even a warning."""
        assert [d.render() for d in topo.validate(case)] == []

    @pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
    def test_fixture_is_named_after_its_code(self, case: Path) -> None:
        """The file name starts with a registered code (or T109) and ends with ``-ok``."""
        code = case.stem.split("-", 1)[0]
        assert code in {c.code for c in topo.CODES} | {"T109"}
        assert case.stem.endswith("-ok")

    def test_every_analysis_code_has_a_valid_fixture(self) -> None:
        """Each T5xx code and T109 has a passing counterpart."""
        shown = {case.stem.split("-", 1)[0] for case in CASES}
        assert not COVERED - shown
