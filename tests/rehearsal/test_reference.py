"""The engine against the reference machine: generated journeys and event streams, same results.

The reference machine (``topo.rehearsal.reference``, built on ``transitions``) is a second, plain
implementation of the contract: timers found by scanning, caps by scanning every grant. On
every generated journey and stream, both must reject the same events and give the same
triggers (ids included), and every member must end at the same node.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings

import topo
from random_journeys import journeys, outcomes, streams
from topo.rehearsal.reference import ReferenceMachine


class TestEngineAgreesWithTheReference:
    """Same journey, same events: the same rejects, triggers and nodes."""

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(journeys(), streams())
    def test_same_outcomes(
        self, journey: topo.Journey, items: list[dict[str, Any] | datetime]
    ) -> None:
        """Both runners reject the same events, grant the same triggers, end at the same nodes;
        no two triggers share an id."""
        engine, reference = topo.Engine(journey), ReferenceMachine(journey)
        found = outcomes(engine, items)
        assert found == outcomes(reference, items)
        ids = [t["id"] for t in found if isinstance(t, dict)]
        assert len(ids) == len(set(ids)), "two triggers share an id"
        for member in ("a", "b", "c"):
            state = engine.state(member)
            assert (None if state is None else state["node"]) == reference.node(member)
