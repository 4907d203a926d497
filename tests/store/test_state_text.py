"""A member's state as a durable store writes it: orjson's text is byte for byte what
``json.dumps`` writes, and a history written in runs reads back as it was."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topo
from random_journeys import journeys, outcomes, streams
from topo.engine.member_codec import (
    decode,
    decode_entries,
    encode,
    encode_entries,
    json_text,
    loads,
)
from topo.engine.member_state import MemberState

T0 = datetime(2026, 3, 1, 10, 15, tzinfo=timezone(timedelta(hours=8)))


def standard(data: Any) -> str:
    """What the store wrote before orjson: the standard library's compact JSON."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# Every value a state's general fields (metrics, attributes, explanations) may hold.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # past 64 bits too
    st.floats(allow_nan=False, allow_infinity=False),  # 1e-300, 1e+300, -0.0 included
    st.text(),  # control characters, U+2028, astral planes
    st.datetimes(timezones=st.timezones()),  # offsets in seconds (historic zones) too
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
        st.dictionaries(st.integers(), inner, max_size=3),
        st.sets(st.one_of(st.integers(), st.text(max_size=3), st.floats(allow_nan=False))),
    ),
    max_leaves=12,
)


def state_with(metrics: list[Any]) -> MemberState:
    state = MemberState("m", "a", T0, 1, metrics)
    state.attributes = {"tier": metrics[0] if metrics else None}
    state.history.append(("move", "moves[0]", "a", "b", T0, "e-1"))
    state.history.append(("granted", "gift", "enter", T0, "e-1"))
    return state


class TestSameTextAsTheStandardLibrary:
    """The text orjson writes for a state is the one ``json.dumps`` wrote, byte for byte."""

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(values, max_size=4))
    def test_any_value_a_state_may_hold(self, metrics: list[Any]) -> None:
        state = state_with(metrics)
        for data in (encode(state), encode(state, history=False)):
            try:
                expected = standard(data)
            except ValueError:  # a lone surrogate: orjson refuses it just the same
                with pytest.raises(ValueError):
                    json_text(data)
                continue
            assert json_text(data) == expected
            assert decode(loads(expected)) == decode(json.loads(expected))

    @pytest.mark.parametrize(
        "number", [1e-05, -1e-07, 5e-324, 1e16, -1.5e300, 2.0**63, 0.0001, 9999999999999998.0]
    )
    def test_floats_orjson_writes_otherwise(self, number: float) -> None:
        """orjson writes 1e-05 as 0.00001, and (before 3.11) 1e+16 as 1e16: such floats are
        written by the standard library."""
        data = encode(state_with([number, [(1, number)], {"x": number}]))
        assert json_text(data) == standard(data)

    @pytest.mark.parametrize("number", [-(2**63) - 1, 2**64, 10**40, 2**63])
    def test_integers_past_64_bits_read_back_exactly(self, number: int) -> None:
        """orjson reads an integer past 64 bits as a float: such text is read by json."""
        state = state_with([number, {number}])
        assert decode(loads(json_text(encode(state)))) == state

    @pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
    def test_non_finite_numbers_are_refused_as_before(self, number: float) -> None:
        """orjson writes NaN as null; the state's text refuses it, as json.dumps does."""
        with pytest.raises(ValueError, match="Out of range float"):
            json_text(encode(state_with([number])))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(journeys(), streams())
    def test_states_the_engine_makes(self, journey: topo.Journey, items: list[Any]) -> None:
        engine = topo.Engine(journey)
        outcomes(engine, items)
        for member in engine.store.members():
            state = engine.store.get(member)
            assert state is not None
            assert json_text(encode(state)) == standard(encode(state))
            assert json_text(encode(state, history=False)) == standard(
                {**encode(state), "history": []}
            )


class TestHistoryInRuns:
    """A history written in runs of entries reads back as the entries it held."""

    def test_runs_read_back_in_order(self) -> None:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        entries: list[tuple[Any, ...]] = [
            ("move", "moves[0]", "a", "b", at, "e-1"),
            ("granted", "gift", "enter", at, "e-1"),
            ("withheld", "gift", "pressure", at + timedelta(days=1), "timer:x:0"),
            ("move", "odd", "a", "b", date(2026, 1, 2), 3),  # not the engine's: still kept
        ]
        runs = [json_text(encode_entries(entries[:1])), json_text(encode_entries(entries[1:]))]
        assert [entry for run in runs for entry in decode_entries(loads(run))] == entries

    @pytest.mark.parametrize(
        "data,message",
        [({"$tuple": []}, "must be a list of tuples"), ([["move"]], "must be a list of tuples"),
         ([{"$when": 1}], "unknown tag"), ("x", "must be a list of tuples")],
    )  # fmt: skip
    def test_anything_else_is_refused(self, data: Any, message: str) -> None:
        with pytest.raises(ValueError, match=f"history: .*{message}"):
            decode_entries(data)
