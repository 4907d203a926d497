"""Two-proportion statistics against a textbook example and an independent computation
(``statistics.NormalDist``)."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from topo.report.uplift import Z_80, Z_975, compare

NORMAL = NormalDist()


class TestConstants:
    def test_quantiles(self) -> None:
        """The hard-coded normal quantiles are the 97.5% and 80% ones."""
        assert NORMAL.inv_cdf(0.975) == pytest.approx(Z_975, abs=1e-12)
        assert NORMAL.inv_cdf(0.80) == pytest.approx(Z_80, abs=1e-12)


class TestCompare:
    def test_textbook_example(self) -> None:
        """120 of 200 against 90 of 200: d = 0.15, pooled p = 0.525, z = 3.004, two-sided
        p = 0.00267 (the classic worked example of the pooled z-test)."""
        result = compare(120, 200, 90, 200)
        assert result.difference == pytest.approx(0.15)
        pooled = 210 / 400
        z = 0.15 / math.sqrt(pooled * (1 - pooled) * (2 / 200))
        assert z == pytest.approx(3.004, abs=1e-3)
        assert result.p_value == pytest.approx(2 * (1 - NORMAL.cdf(z)), rel=1e-9)
        assert result.p_value == pytest.approx(0.00267, abs=1e-5)

    def test_wald_interval_independently(self) -> None:
        """The interval is d ± z_0.975 times the unpooled standard error."""
        result = compare(30, 80, 20, 90)
        p1, p2 = 30 / 80, 20 / 90
        se = math.sqrt(p1 * (1 - p1) / 80 + p2 * (1 - p2) / 90)
        z = NORMAL.inv_cdf(0.975)
        assert result.low == pytest.approx(p1 - p2 - z * se, rel=1e-12)
        assert result.high == pytest.approx(p1 - p2 + z * se, rel=1e-12)

    def test_minimum_detectable_difference(self) -> None:
        """MDE = (z_0.975 + z_0.80) sqrt(pbar(1-pbar)(1/n1 + 1/n2)): about 0.0499 for
        pbar 0.5 with 1,570 members a group (the usual 'n for 5 points at 50%')."""
        result = compare(785, 1570, 785, 1570)
        expected = (NORMAL.inv_cdf(0.975) + NORMAL.inv_cdf(0.8)) * math.sqrt(0.25 * 2 / 1570)
        assert result.detectable == pytest.approx(expected, rel=1e-12)
        assert result.detectable == pytest.approx(0.05, abs=1e-3)
        assert result.p_value == pytest.approx(1.0)

    def test_empty_group(self) -> None:
        """Without members in both groups there is nothing to compare."""
        assert compare(3, 10, 0, 0).difference is None

    def test_everyone_reached(self) -> None:
        """All reached in both groups: the difference is 0, no p-value, no MDE."""
        result = compare(10, 10, 5, 5)
        assert result.difference == 0 and result.p_value is None and result.detectable is None

    def test_bad_counts(self) -> None:
        """More reached than members is an error."""
        with pytest.raises(ValueError):
            compare(11, 10, 0, 5)
