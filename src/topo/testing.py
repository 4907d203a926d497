"""Hypothesis strategies for journeys, and a state machine that checks topo's rules on any journey.

The public home of :mod:`topo.rehearsal.strategies` (see there)::

    from hypothesis import given
    from topo.testing import from_journey

    @given(from_journey(journey, members=5, duplicates=True, advances=True))
    def test_no_vip_without_spend(items): ...
"""

from topo.rehearsal.strategies import (
    START,
    JourneyMachine,
    events,
    from_journey,
    journey_machine,
    scenario_text,
)

__all__ = ["START", "JourneyMachine", "events", "from_journey", "journey_machine", "scenario_text"]
