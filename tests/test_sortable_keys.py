"""``topo.workers.sortable``: keys as bytes that sort exactly as the keys do (Spark sorts them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.engine.metrics import microseconds
from topo.workers import sortable

NUMBERS = st.one_of(
    st.integers(-(2**53), 2**53),
    st.integers(-(2**116), 2**116),  # past 2**53 a float does not hold every whole number
    st.sampled_from([2**53 + 1, float(2**53), 2**63, float(2**63), 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
)
TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from(["\x00", "\x01"])
)


def shaped(shape: list[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(*(NUMBERS if kind == "n" else TEXTS for kind in shape))


class TestSortable:
    """Bytes order is tuple order, for keys of one shape and for keys of the workers' shapes."""

    @given(st.data(), st.lists(st.sampled_from(["n", "t"]), min_size=1, max_size=4))
    def test_same_shape(self, data: st.DataObject, shape: list[str]) -> None:
        a, b = data.draw(shaped(shape)), data.draw(shaped(shape))
        if a == b:
            assert sortable(a) == sortable(b) or 0.0 in a  # -0.0 == 0.0 in Python
        else:
            assert (sortable(a) < sortable(b)) == (a < b)

    @given(st.integers(0, 10**6), st.integers(0, 10**6), TEXTS, st.integers(0, 9))
    def test_the_replay_keys(self, line: int, due: int, member: str, count: int) -> None:
        """An event's records come before those of the advance to ``until``; ints and floats
        compare by value (a simulation's midnight is an int, its events' times floats)."""
        assert sortable((0, line, "", count)) < sortable((1, due, member, count))
        assert sortable((float(due), 0)) > sortable((due, -1))

    def test_a_text_sorts_before_a_longer_one_it_begins(self) -> None:
        assert sortable(("a",)) < sortable(("a\x00",)) < sortable(("a\x01",)) < sortable(("ab",))

    def test_times_of_any_year(self) -> None:
        """A trigger's due time in microseconds, up to the year 9999, past what a float holds
        exactly: found by a property test of the Spark replay's keys."""
        late = microseconds(datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC))
        assert late > 2**53
        keys = [(1, late - 1, "m", 1), (1, late, "a", 2), (1, late, "m", 1), (1, late + 1, "", 0)]
        assert sorted(keys, key=sortable) == sorted(keys)

    @pytest.mark.parametrize("key", [(2**117,), (True,), (None,), ([1],)])
    def test_what_it_cannot_order_is_refused(self, key: tuple[Any, ...]) -> None:
        with pytest.raises((ValueError, TypeError)):
            sortable(key)
