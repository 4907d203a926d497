"""Members' random numbers: SplitMix64 per member, the same number drawn alone or in bulk, and
distributions that are what they say."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import ROOT
from topo.journey.model import EventField
from topo.simulation.members import Ahead, Member
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


def test_a_stock_drawn_ahead_holds_the_values_drawn_one_by_one() -> None:
    """Topping up a member's stock in a batch gives the values that drawing them one by one
    gives: a run does not depend on when stocks are topped up."""
    journey = load_journey(ROOT / "journeys" / "knowledge-club.yaml")
    personas = load_personas(ROOT / "journeys" / "knowledge-club.personas.yaml", journey)
    reader = plan(0, personas.population[0], journey)
    t = next(i for i, kind in enumerate(reader.types) if kind.name == "purchase")
    ahead = Ahead(0, [reader], 365 * 86_400.0, START)
    batched, alone = Member("m1", 99, reader), Member("m1", 99, reader)
    for member in (batched, alone):
        member.rates[t] = 1 / 86_400
    ahead.top_up(reader, t, [Member("m0", 7, reader), batched], 0.0)
    n = len(batched.rows[t])
    assert n >= 3
    assert [batched.rows[t].pop() for _ in range(n)] == [Ahead.row(alone, t) for _ in range(n)]
    assert [batched.waits[t].pop() for _ in range(n)] == [Ahead.wait(alone, t) for _ in range(n)]
