"""``topo.spark.simulate``: the summary, events, triggers and states of ``topo simulate`` with
the same seed, for any number of partitions."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import ROOT
from topo.lines import json_line
from topo.simulation.simulation import simulate as simulate_here

CLUB = ROOT / "journeys" / "knowledge-club.yaml"
PERSONAS = ROOT / "journeys" / "knowledge-club.personas.yaml"
SIZE = {"members": 300, "days": 90, "seed": 4}


@pytest.fixture(scope="module")
def here() -> Any:
    return simulate_here(CLUB, PERSONAS, **SIZE)


class TestSimulateOnSpark:
    """Each partition makes its share of the members in place; the driver adds them up."""

    @pytest.mark.parametrize("partitions", [1, 4])
    def test_summary_equals_topo_simulate(self, spark: Any, here: Any, partitions: int) -> None:
        from topo.spark import simulate

        done = simulate(
            spark,
            CLUB,
            PERSONAS,
            partitions=partitions,
            outputs=("events", "triggers", "states"),
            **SIZE,
        )
        try:
            assert done.summary == here.summary
            assert list(done.lines("events")) == [json_line(e) for e in here.events]
            assert list(done.lines("triggers")) == [json_line(t.to_dict()) for t in here.triggers]
            assert len(list(done.lines("states"))) == len(here.states)
            assert done.counts.sent == here.first.sent
        finally:
            done.unpersist()

    def test_without_a_summary_no_walk_comes_to_the_driver(self, spark: Any) -> None:
        from topo.errors import UsageError
        from topo.spark import simulate

        done = simulate(spark, CLUB, members=50, days=30, partitions=2, summary=False)
        try:
            assert all(not any(part.walks) for part in done.parts)
            assert done.counts.joined > 0 and done.counts.sent > 0
            with pytest.raises(UsageError, match="kept no walks"):
                done.summary  # noqa: B018
        finally:
            done.unpersist()

    def test_bad_partitions_is_one_sentence(self, spark: Any) -> None:
        from topo.errors import UsageError
        from topo.spark import simulate

        with pytest.raises(UsageError, match="partitions is a whole number from 1"):
            simulate(spark, CLUB, partitions=-2, members=1)
        with pytest.raises(UsageError, match="partitions is a whole number from 1"):
            simulate(spark, CLUB, partitions=0, members=1)
