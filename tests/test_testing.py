"""topo.testing: strategies that draw valid streams for any journey, and the journey state
machine, run on every shipped journey."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topo
from conftest import ROOT
from topo.rehearsal import compile_for, run_scenario
from topo.scenarios import load_scenarios
from topo.testing import events, from_journey, journey_machine, scenario_text

JOURNEYS = sorted((ROOT / "journeys").glob("*.yaml"))
LOADED = {p.stem: topo.load_journey(p) for p in JOURNEYS}


@pytest.mark.parametrize("name", sorted(LOADED))
def test_the_state_machine_holds_on_every_shipped_journey(name: str) -> None:
    machine = journey_machine(LOADED[name], path=f"../{name}.yaml")
    machine.TestCase.settings = settings(
        max_examples=15, stateful_step_count=25, deadline=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    machine.TestCase().runTest()


@pytest.mark.parametrize("name", sorted(LOADED))
def test_events_are_valid_for_their_journey(name: str) -> None:
    journey = LOADED[name]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(sorted(journey.events)))
        event = data.draw(events(journey, kind))
        topo.Engine(journey).process(event)  # raises InvalidEvent if it were not valid

    check()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_journey(LOADED["retail-tiers"], members=4, advances=True))
def test_streams_are_in_time_order_and_valid(items: list[Any]) -> None:
    engine = topo.Engine(LOADED["retail-tiers"])
    last = None
    for item in items:
        at = item if isinstance(item, datetime) else datetime.fromisoformat(item["at"])
        assert last is None or at >= last
        last = at
        if isinstance(item, datetime):
            engine.tick(item)
        else:
            engine.process(item)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_journey(LOADED["grocery"], invalid=True, duplicates=True, late=True))
def test_streams_mix_in_what_was_asked(items: list[Any]) -> None:
    """Whatever the mix, process_many agrees with process one by one."""
    one, many = topo.Engine(LOADED["grocery"]), topo.Engine(LOADED["grocery"])
    found = []
    for item in items:
        with contextlib.suppress(topo.InvalidEvent):
            found += one.process(item)
    assert many.process_many(items, on_reject=lambda e, r: None) == found


def test_a_counterexample_prints_as_a_scenario_file(tmp_path: Path) -> None:
    """What the machine prints loads as a scenario file and runs."""
    items: list[Any] = [
        {"id": "e-1", "member": "m0", "type": "purchase", "at": "1997-01-01T00:00:00+00:00",
         "amount": 12.5, "cds": 1},
        datetime.fromisoformat("1997-08-01T00:00:00+00:00"),
    ]  # fmt: skip
    (tmp_path / "cdnow.yaml").write_text((ROOT / "journeys" / "cdnow.yaml").read_text())
    path = tmp_path / "found.scenarios.yaml"
    path.write_text(scenario_text("cdnow.yaml", items))
    loaded = load_scenarios(path)
    assert run_scenario(compile_for(loaded), loaded.scenarios[0], loaded, None) is None


def test_the_machine_catches_a_timer_that_ignores_its_since(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug that counts `since: activity` timers from entering the node makes CDNOW's lapse
    fire 20 hours early: the machine says so, with the steps as a scenario file."""
    from datetime import timedelta

    original = topo.Engine._clock_start

    def broken(self: Any, state: Any, move: Any) -> Any:
        return state.entered_at if move.since == "activity" else original(self, state, move)

    monkeypatch.setattr(topo.Engine, "_clock_start", broken)
    machine = journey_machine(LOADED["cdnow"], path="../cdnow.yaml", members=1)()
    event: dict[str, Any] = {"member": "m0", "type": "purchase", "amount": 1.0, "cds": 1}
    machine._feed({**event, "id": "a", "at": machine.clock.isoformat()})
    machine.clock += timedelta(hours=20)
    machine._feed({**event, "id": "b", "at": machine.clock.isoformat()})
    machine.advance(180)
    with pytest.raises(AssertionError, match="lapse fired early") as raised:
        machine.timers_never_fire_early()
    assert 'member: "m0"' in str(raised.value) and "advance:" in str(raised.value)
