"""topo.testing: strategies that draw valid streams for any journey, and the journey state
machine, run on every shipped journey."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import run_state_machine_as_test

import topo
import topo.testing
from conftest import JOURNEY_FILES, ROOT
from topo.rehearsal import strategies
from topo.rehearsal.runner import compile_for, run_scenario
from topo.rehearsal.scenarios import load_scenarios
from topo.testing import JourneyMachine, events, from_journey, journey_machine, scenario_text

JOURNEYS = JOURNEY_FILES
LOADED = {p.stem: topo.load_journey(p) for p in JOURNEYS}
ATTRIBUTE_GUARDS = topo.load_journey(ROOT / "tests" / "data" / "attribute-guards.yaml")
"""A journey whose moves read the member's attributes (region, age, a pii phone, a bool)."""
SETTLED = settings(database=None, derandomize=True, deadline=None,
                   suppress_health_check=list(HealthCheck))  # fmt: skip
"""The same examples on every run: a test about what the strategies reach cannot flake."""


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


def _examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """The first ``count`` examples the strategy draws, the same on every run."""
    found: list[Any] = []

    @settings(SETTLED, max_examples=count, phases=[Phase.generate])
    @given(strategy)
    def draw(example: Any) -> None:
        found.append(example)

    draw()
    return found


class TestProfileEvents:
    """Streams, single events and the state machine send ``profile`` events, which set the
    attributes that guards read."""

    @SETTLED
    @given(events(ATTRIBUTE_GUARDS, "profile"))
    def test_valid_and_typed(self, event: dict[str, Any]) -> None:
        """A profile event carries attributes of their declared types, or null to clear one."""
        assert set(event) - {"id", "member", "type", "at"} <= set(ATTRIBUTE_GUARDS.attributes)
        topo.Engine(ATTRIBUTE_GUARDS).process(event)

    def test_set_cleared_and_from_the_guards(self) -> None:
        """Among the draws: the literal a guard compares with, and a null that clears."""
        drawn = _examples(events(ATTRIBUTE_GUARDS, "profile"), 50)
        assert any(event.get("region") == "north" for event in drawn)
        assert any("age" in event and event["age"] is None for event in drawn)

    def test_a_stream_reaches_a_move_guarded_by_an_attribute(self) -> None:
        """Some streams set the region, then make a purchase: they reach ``north``."""

        def node(items: list[Any]) -> str | None:
            engine = topo.Engine(ATTRIBUTE_GUARDS)
            for item in items:
                engine.process(item)
            state = engine.state("m0")
            return None if state is None else str(state["node"])

        streams = _examples(from_journey(ATTRIBUTE_GUARDS, members=1), 20)
        assert "north" in {node(items) for items in streams}

    def test_the_state_machine_reaches_a_move_guarded_by_an_attribute(self) -> None:
        """The machine sends profile events: its members reach ``north``."""
        reached: set[str] = set()

        class Watching(journey_machine(ATTRIBUTE_GUARDS, members=1)):  # type: ignore[misc]
            def teardown(self) -> None:
                for member in self.engine.store.members():
                    state = self.engine.store.get(member)
                    reached.update(entry[3] for entry in state.history if entry[0] == "move")
                super().teardown()

        run_state_machine_as_test(
            Watching, settings=settings(SETTLED, max_examples=20, stateful_step_count=25)
        )
        assert "north" in reached

    def test_unknown_event_type(self) -> None:
        """A type the journey does not have is refused at once, with the types it has."""
        with pytest.raises(InvalidArgument, match="'order' is not an event type of the journey "
                           "'attribute-guards'; choose one of purchase, profile"):  # fmt: skip
            events(ATTRIBUTE_GUARDS, "order")

    def test_a_counterexample_with_profile_steps_reproduces(self, tmp_path: Path) -> None:
        """Profile steps print with their values, pii ones too (drawn, so synthetic), and a
        null that clears: the scenario file loads and the member is where the stream left it."""
        (tmp_path / "attribute-guards.yaml").write_text(
            (ROOT / "tests" / "data" / "attribute-guards.yaml").read_text()
        )
        at = "2026-01-01T00:00:00+00:00"
        items: list[Any] = [
            {"id": "e-1", "member": "m0", "type": "profile", "at": at, "region": "north",
             "age": 40, "phone": "bdf"},
            {"id": "e-2", "member": "m0", "type": "profile", "at": at, "phone": None},
            {"id": "e-3", "member": "m0", "type": "purchase", "at": at, "amount": 1.0},
        ]  # fmt: skip
        text = scenario_text("attribute-guards.yaml", items)
        assert 'fields: {region: "north", age: 40, phone: "bdf"}' in text
        assert "fields: {phone: null}" in text
        path = tmp_path / "found.scenarios.yaml"
        path.write_text(text + '      - {expect: {node: "north"}}\n')
        loaded = load_scenarios(path)
        assert run_scenario(compile_for(loaded), loaded.scenarios[0], loaded, None) is None


def _defined(module: ast.Module) -> Iterator[str]:
    """The names a module's own top-level statements define."""
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Assign):
            yield from (target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id


class TestPublicNames:
    """``topo.testing`` says what it offers, and ``help()`` reads well."""

    def test_all_is_sorted_and_complete(self) -> None:
        """``__all__`` is sorted as ruff sorts it (constants, classes, then functions) and
        names every public name the strategies module defines; ``topo.testing`` offers them all,
        as the same objects."""
        source = ast.parse(Path(strategies.__file__).read_text(encoding="utf-8"))
        public = {name for name in _defined(source) if not name.startswith("_")}
        kind = {True: 0, False: 1}
        ordered = sorted(public, key=lambda n: (kind[n.isupper()] if n[0].isupper() else 2, n))
        assert strategies.__all__ == ordered
        assert set(strategies.__all__) == public
        assert topo.testing.__all__ == strategies.__all__
        for name in topo.testing.__all__:
            assert getattr(topo.testing, name) is getattr(strategies, name)

    def test_every_rule_and_check_of_the_machine_is_documented(self) -> None:
        """Each rule and invariant says what it does: ``help(JourneyMachine)`` lists them."""
        own = {
            name: value
            for name, value in vars(JourneyMachine).items()
            if callable(value) and not name.startswith("_")
        }
        assert {name for name, value in own.items() if not value.__doc__} == set()
