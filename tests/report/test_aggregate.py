"""Several runs combined: each number becomes its mean and 90% interval over the runs."""

from __future__ import annotations

import numpy as np
import pytest

from topo.report.aggregate import combine


def run(joined: int, weeks: list[tuple[str, int]], median: float | None) -> dict[str, object]:
    return {
        "format": 1,
        "header": {"journey": "club", "version": 2, "runs": 1, "members": joined},
        "funnel": {"joined": joined, "nodes": [{"node": "a", "kind": "start", "reached": joined}]},
        "incentives": {"weeks": [{"week": w, "grants": n} for w, n in weeks]},
        "time": {"to_node": [{"node": "b", "median": median}]},
    }


class TestCombine:
    def test_numbers_become_intervals(self) -> None:
        """Mean and numpy's linear 5th and 95th percentiles; names kept from the first run."""
        combined = combine([run(n, [], 1.0) for n in (10, 20, 30, 40)])
        joined = combined["funnel"]["joined"]
        low, high = np.percentile([10, 20, 30, 40], [5, 95])
        assert joined == {"mean": 25.0, "low": pytest.approx(low), "high": pytest.approx(high)}
        assert combined["funnel"]["nodes"][0]["kind"] == "start"
        assert combined["header"]["runs"] == 4
        assert combined["header"]["version"] == 2  # a setting, not a figure

    def test_rows_matched_by_name_missing_is_zero(self) -> None:
        """A week one run lacks counts as zero there; new rows are sorted into place."""
        combined = combine(
            [run(1, [("2026-01-05", 4)], 1.0), run(1, [("2026-01-05", 2), ("2026-01-12", 6)], 1.0)]
        )
        weeks = combined["incentives"]["weeks"]
        assert [w["week"] for w in weeks] == ["2026-01-05", "2026-01-12"]
        assert weeks[0]["grants"]["mean"] == 3.0
        assert weeks[1]["grants"]["mean"] == 3.0 and weeks[1]["grants"]["low"] == pytest.approx(0.3)

    def test_none_is_left_out(self) -> None:
        """A median some runs never reached is averaged over the runs that have it."""
        medians = [2.0, None, 4.0]
        combined = combine([run(1, [], m) for m in medians])
        assert combined["time"]["to_node"][0]["median"]["mean"] == 3.0
        assert combine([run(1, [], None)])["time"]["to_node"][0]["median"] is None

    def test_one_run(self) -> None:
        """One run gives intervals of zero width."""
        assert combine([run(5, [], 1.0)])["funnel"]["joined"] == {
            "mean": 5.0, "low": 5.0, "high": 5.0,
        }  # fmt: skip

    def test_nothing_to_combine(self) -> None:
        """No summaries is an error."""
        with pytest.raises(ValueError):
            combine([])
