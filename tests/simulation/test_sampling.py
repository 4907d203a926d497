"""Members' random numbers: SplitMix64 per member, the same number drawn alone or in bulk, and
distributions that are what they say."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import ROOT
from topo.journey.model import EventField
from topo.simulation.members import DROPS_OUT, FIRST, Member, Population
from topo.simulation.model import Distribution
from topo.simulation.personas import load_personas
from topo.simulation.plans import plan
from topo.simulation.runner import START
from topo.simulation.sampling import (
    beta_variates,
    exponential_variates,
    gamma_variates,
    uniform,
    uniforms,
    value_drawer,
)
from topo.validation import load_journey

keys = st.integers(0, 2**64 - 1)
streams = st.integers(0, 60_000)
counters = st.integers(0, 2**32 - 1)


def test_splitmix64_reference_values() -> None:
    """SplitMix64 seeded with 0 starts 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4 (Vigna's
    reference code); a uniform number keeps its top 52 bits, plus half of the last step."""
    for counter, output in enumerate((0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4)):
        expected = ((output >> 12) * 2 + 1) * 2.0**-53
        assert uniform(0, 0, counter) == expected
        assert uniforms(np.array([0], dtype=np.uint64), 0, counter).tolist() == [expected]


@settings(max_examples=300)
@given(key=keys, stream=streams, counter=counters)
def test_one_number_alone_is_the_same_number_in_bulk(key: int, stream: int, counter: int) -> None:
    bulk = uniforms(np.array([key, key], dtype=np.uint64), stream, np.array([counter, 0]))
    assert bulk.tolist()[0] == uniform(key, stream, counter)
    assert 0.0 < bulk[0] < 1.0


DISTRIBUTIONS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"value": 3}, {"type": "int", "min": 0, "max": 2}),
    ({"choice": {"a": "20%", "b": "50%", "c": "30%"}}, {"type": "str"}),
    ({"choice": {1: "50%", 9: "50%"}}, {"type": "int", "max": 5}),
    ({"uniform": [10, 20]}, {"type": "float"}),
    ({"normal": {"mean": 0, "sd": 2}}, {"type": "int", "min": -1}),
    ({"lognormal": {"median": 120, "sigma": 0.6}}, {"type": "float", "max": 300}),
    ({"gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44}}, {"type": "float", "min": 0}),
]


@pytest.mark.parametrize(("distribution", "declared"), DISTRIBUTIONS)
@settings(max_examples=40, deadline=None)
@given(member_keys=st.lists(keys, min_size=1, max_size=6), first=st.integers(0, 1000))
def test_a_value_drawn_alone_equals_the_same_value_drawn_in_bulk(
    distribution: dict[str, Any], declared: dict[str, Any], member_keys: list[int], first: int
) -> None:
    """What a member draws on its own (out of stock) is what a batch would have drawn."""
    values = value_drawer(Distribution(**distribution), EventField(**declared))
    counters = np.arange(first, first + len(member_keys))
    bulk = values.many(np.array(member_keys, dtype=np.uint64), counters, 1234)
    alone = [values.one(k, c, 1234) for k, c in zip(member_keys, counters.tolist(), strict=True)]
    assert bulk == alone
    assert [type(v) for v in bulk] == [type(v) for v in alone]


def sample(n: int = 20_000, stream: int = 7) -> Any:
    return uniforms(np.uint64(12345), stream, np.arange(n))


@pytest.mark.parametrize(
    ("variates", "reference"),
    [
        (lambda u: exponential_variates(u), stats.expon()),
        (lambda u: gamma_variates(0.243, u), stats.gamma(0.243)),
        (lambda u: gamma_variates(6.25, u), stats.gamma(6.25)),
        (lambda u: beta_variates(0.793, 2.426, u), stats.beta(0.793, 2.426)),
    ],
)
def test_variates_follow_their_distribution(variates: Any, reference: Any) -> None:
    """Kolmogorov-Smirnov on 20,000 values of one member's stream."""
    assert stats.kstest(variates(sample()), reference.cdf).pvalue > 0.001


def test_uniform_numbers_are_uniform_and_streams_independent() -> None:
    a, b = sample(stream=1), sample(stream=2)
    assert stats.kstest(a, "uniform").pvalue > 0.001
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.03


def population(journey: Any, reader: Any, t: int, members: int) -> Population:
    chosen = np.zeros(members, dtype=np.int64)
    keys = np.arange(7, 7 + members, dtype=np.uint64)
    people = Population(0, [reader], chosen, keys, 365 * 86_400.0, START)
    slots = people.bases + t
    people.rate[slots] = 1 / 86_400 * (1 + np.arange(members))  # one a day, two a day, ...
    people.drop[slots] = 0.2
    people.next[slots] = 3600.0 * np.arange(members)
    people.fresh[slots] = True  # the first event of each: no drop-out after it
    return people


@settings(max_examples=20, deadline=None)
@given(members=st.integers(1, 6), days=st.integers(1, 4))
def test_events_made_in_bulk_hold_the_events_drawn_one_by_one(members: int, days: int) -> None:
    """The repeat events made for every slot at once are those each slot's process
    makes one event at a time (fields, drop-outs and waits; none after the first event), when
    no response intervenes."""
    journey = load_journey(ROOT / "journeys" / "knowledge-club.yaml")
    personas = load_personas(ROOT / "journeys" / "knowledge-club.personas.yaml", journey)
    reader = plan(0, personas.population[0], journey)
    t = next(i for i, kind in enumerate(reader.types) if kind.name == "purchase")
    bulk, alone = population(journey, reader, t, members), population(journey, reader, t, members)
    made = []
    for day in range(1, days + 1):
        times, slots, thens, rows = bulk.made(day * 86_400.0)
        made += list(zip(times, slots, rows, thens, strict=True))
    one_by_one = []
    for slot in (alone.bases + t).tolist():
        member = Member(f"m{slot}", int(alone.keys[slot]), reader, slot - t)
        at, then = float(alone.next[slot]), FIRST
        while at < days * 86_400.0:
            row = alone.row(member, t)
            if then != FIRST and alone.dropped(slot):
                then = DROPS_OUT
            one_by_one.append((at, slot, row, then))
            if then == DROPS_OUT:
                break
            then = 0
            at = alone.schedule(slot, at, math.inf) or math.inf
    assert made == sorted(one_by_one, key=lambda e: (e[0], e[1]))
    assert len({e[1] for e in made}) == members
