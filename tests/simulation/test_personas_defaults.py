"""The default population: what a journey without a personas file is simulated with."""

from __future__ import annotations

from pathlib import Path

import pytest

import topo
from conftest import JOURNEY_FILES, MINIMAL, ROOT, dedent
from topo.journey.loader import load_text
from topo.simulation.defaults import default_personas
from topo.simulation.personas import check_personas_text, personas_text
from topo.validation import check_document

JOURNEYS = JOURNEY_FILES


def _journey(text: str) -> topo.Journey:
    document = load_text(text).document
    assert document is not None
    journey, diagnostics = check_document(document)
    assert journey is not None, [d.render() for d in diagnostics]
    return journey


class TestDefaultPersonas:
    """One persona, every declared event type, every field within its declaration."""

    @pytest.mark.parametrize("path", JOURNEYS, ids=[p.stem for p in JOURNEYS])
    def test_fits_every_shipped_journey(self, path: Path) -> None:
        """Written as a file, the default population has no diagnostics against its journey,
        and reads back as the same model."""
        journey = topo.load_journey(path)
        personas = default_personas(journey)
        read, diagnostics = check_personas_text(personas_text(personas), "default", journey)
        assert [d.render() for d in diagnostics] == []
        assert read == personas

    @pytest.mark.parametrize("path", JOURNEYS, ids=[p.stem for p in JOURNEYS])
    def test_every_event_type(self, path: Path) -> None:
        """Every declared event type is sent, with a distribution for each field."""
        journey = topo.load_journey(path)
        [persona] = default_personas(journey).population
        assert persona.share == 1.0 and persona.join.spread is not None
        assert set(persona.events) == set(journey.events)
        for event_type, declared in journey.events.items():
            assert set(persona.events[event_type].fields) == set(declared.fields)

    def test_behaviours(self) -> None:
        """Joining moves are sent once, opt-outs rarely, purchases repeat, a sign-up at joining."""
        journey = topo.load_journey(ROOT / "journeys" / "knowledge-club.yaml")
        events = default_personas(journey).population[0].events
        assert events["verify_phone"].once is not None
        assert events["verify_phone"].once.probability == 0.9
        assert events["unsubscribe"].once is not None
        assert events["unsubscribe"].once.probability == 0.05
        assert events["signup"].once is not None and events["signup"].once.probability == 1
        assert events["purchase"].repeat is not None
        assert events["purchase"].repeat.poisson is not None

    def test_every_type_of_field_and_attribute(self) -> None:
        """Fields and attributes of every type, with and without bounds, get a distribution
        that fits them; pii attributes are left to the simulator."""
        text = MINIMAL.replace(
            "events:\n",
            dedent(
                """
                attributes:
                  tier: {type: int}
                  vip: {type: bool}
                  birthday: {type: date, pii: true}
                  since: {type: date}
                  last_seen: {type: datetime}
                  score: {type: float}
                  nickname: {type: str}
                events:
                  visit:
                    fields:
                      minutes: {type: int, min: 1, max: 90}
                      rating: {type: float, max: 5}
                      size: {type: float, min: 1000}
                      level: {type: int, one_of: [1, 2, 3]}
                      on_app: {type: bool, required: false}
                      day: {type: date}
                      at_time: {type: datetime}
                      note: {type: str}
                """
            ),
        )
        journey = _journey(text)
        personas = default_personas(journey)
        _, diagnostics = check_personas_text(personas_text(personas), "default", journey)
        assert [d.render() for d in diagnostics] == []
        assert "birthday" not in personas.population[0].attributes
        fields = personas.population[0].events["visit"].fields
        assert fields["minutes"].uniform == [1, 90]
        assert fields["level"].choice is not None and set(fields["level"].choice) == {1, 2, 3}
