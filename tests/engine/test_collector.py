"""Bulk calls pause Python's cyclic garbage collector; the engine makes no cycles to collect."""

from __future__ import annotations

import gc
from datetime import timedelta
from typing import Any

import pytest

import topo
from conftest import ROOT
from topo.engine.collector import paused
from topo.replay.readers import read_events
from topo.replay.runner import replay

CDNOW = ROOT / "journeys" / "cdnow.yaml"
EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"


@pytest.fixture
def collector_on() -> Any:
    was_on = gc.isenabled()
    gc.enable()
    yield
    if not was_on:
        gc.disable()


class TestPaused:
    def test_off_inside_and_restored(self, collector_on: None) -> None:
        with paused():
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_restored_after_an_error(self, collector_on: None) -> None:
        with pytest.raises(ValueError), paused():
            raise ValueError
        assert gc.isenabled()

    def test_what_the_block_made_is_in_the_oldest_generation(self, collector_on: None) -> None:
        """Not left young for the first collection after the block to walk all at once."""
        gc.collect()  # every generation's count at 0: no older collection due soon after
        with paused():
            kept = [[i] for i in range(50_000)]
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert all(id(inner) in oldest for inner in kept[::1000])

    def test_a_cycle_made_in_the_block_is_still_collected(self, collector_on: None) -> None:
        class Node:
            pass

        with paused():
            node = Node()
            node.self = node  # type: ignore[attr-defined]
        gone = id(node)
        del node
        gc.collect()
        assert all(id(o) != gone for o in gc.get_objects())

    def test_a_program_s_own_freeze_is_kept(self, collector_on: None) -> None:
        frozen = [object() for _ in range(10)]  # noqa: F841 (held while frozen)
        gc.freeze()
        try:
            count = gc.get_freeze_count()
            with paused():
                pass
            assert gc.get_freeze_count() == count > 0
        finally:
            gc.unfreeze()

    def test_left_off_when_it_was_off(self, collector_on: None) -> None:
        gc.disable()
        with paused():
            pass
        assert not gc.isenabled()


class TestBulkCalls:
    def test_process_many_pauses_and_restores(self, collector_on: None) -> None:
        """Off while events are processed (seen from the reject callback), on afterwards."""
        engine = topo.Engine(topo.load_journey(CDNOW))
        seen: list[bool] = []
        engine.process_many(
            [{"id": "x"}], on_reject=lambda event, error: seen.append(gc.isenabled())
        )
        assert seen == [False] and gc.isenabled()

    def test_the_engine_makes_no_cycles(self, collector_on: None) -> None:
        """A replay of real events with rejects, explanations, states and a tick leaves nothing
        for the cyclic collector: pausing it loses no memory."""
        journey = topo.load_journey(CDNOW)
        gc.collect()
        with paused():
            engine = topo.Engine(journey, explain=True)
            items = list(read_events(EVENTS, journey))[:5_000]
            items += [(0, {"id": "bad"}), items[-1]]  # an invalid event and a duplicate
            report = replay(engine, iter(items), on_reject=lambda *rejected: None)
            for member in list(engine.store.members())[:100]:
                engine.state(member)
                engine.explain(member)
            last = max(
                event["at"] for _, event in items if isinstance(event, dict) and "at" in event
            )
            engine.tick(topo.engine.field_values.timestamp(last, "", False) + timedelta(days=400))
            assert report.rejected["invalid"] == 1 and report.rejected["duplicate"] == 1
            assert gc.collect() == 0
