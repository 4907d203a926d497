"""The compile stage: a journey turned into lookups the evaluator runs."""

from __future__ import annotations

from datetime import timedelta

import topo
from topo.engine.compiled import compile_journey
from topo.engine.evaluation import Context

DAY = timedelta(days=1) // timedelta(microseconds=1)


class TestCompileShippedJourneys:
    """Every shipped journey compiles, and its lookups say what the file says."""

    def test_retail_tiers(self) -> None:
        """Moves by (node, event) in file order; timers per node; reminders per node and move."""
        compiled = compile_journey(topo.load_journey("journeys/retail-tiers.yaml"))
        assert compiled.start == "joined" and "opted_out" in compiled.exits
        ups = compiled.on_event[("silver", "purchase")]
        assert [m.target for m in ups] == ["gold"]
        # The engine's guards read the member's metric state (its slots) as of a time.
        book, slots = compiled.metrics, compiled.metrics.new_state()
        slots[book.index["spend_365d"]].append((0, 1000.0))
        assert ups[0].guard is not None
        assert ups[0].guard.holds(Context(slots=slots, stamp=365 * DAY - 1))
        assert not ups[0].guard.holds(Context(slots=slots, stamp=365 * DAY))  # out of the window
        [review] = [t for t in compiled.timers["silver"] if t.label == "silver_review"]
        assert review.after == 365 * DAY and review.target == "shopper"
        assert [r.incentive for r in compiled.ahead_of["silver_review"]] == ["keep_silver_nudge"]
        assert compiled.max_cascade == len(compiled.journey.nodes)
        assert compiled.pressure == (3, 7 * DAY)

    def test_every_shipped_journey(self) -> None:
        """Each journey under journeys/ compiles; every guard and message compiled."""
        for name in ("knowledge-club", "retail-tiers", "cdnow", "grocery"):
            compiled = compile_journey(topo.load_journey(f"journeys/{name}.yaml"))
            moves = [m for found in compiled.on_event.values() for m in found]
            moves += [m for found in compiled.timers.values() for m in found]
            pairs = {(m.index, m.source) for m in moves}  # a move on two events is listed twice
            assert pairs == {(i, s) for i, m in enumerate(compiled.journey.moves) for s in m.from_}
            for incentive in compiled.incentives.values():
                assert (incentive.message is None) == (
                    compiled.journey.incentives[incentive.id].message is None
                )
