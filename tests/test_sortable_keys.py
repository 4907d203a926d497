"""``topo.workers.sortable``: keys as bytes that sort exactly as the keys do (Spark sorts them)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.workers import sortable

NUMBERS = st.one_of(
    st.integers(-(2**53), 2**53),
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

    @pytest.mark.parametrize("key", [(2**60,), (True,), (None,), ([1],)])
    def test_what_it_cannot_order_is_refused(self, key: tuple[Any, ...]) -> None:
        with pytest.raises((ValueError, TypeError)):
            sortable(key)
