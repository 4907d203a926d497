"""Metrics: every kind, exact windows, where filters, null before the first event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from math import fsum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import dedent
from topo.engine.metrics import MetricBook
from topo.journey.loader import load_text
from topo.journey.shape import build_journey

T0 = datetime(2026, 1, 1, tzinfo=UTC)

JOURNEY = dedent(
    """
    topo: 1
    journey: m
    version: 1
    owners: {crm: {}}
    attributes: {region: {type: str}}
    events:
      purchase:
        fields:
          amount: {type: float, min: 0}
          offering: {type: str, required: false}
      visit: {}
    metrics:
      purchases: {count: purchase}
      spend: {sum: purchase.amount}
      spend_7d: {sum: purchase.amount, window: 7d}
      biggest: {max: purchase.amount}
      smallest_7d: {min: purchase.amount, window: 7d}
      last_offering: {last: purchase.offering}
      offerings: {distinct: purchase.offering}
      offerings_7d: {distinct: purchase.offering, window: 7d}
      first_seen: {first_at: any}
      last_seen_7d: {last_at: any, window: 7d}
      talks: {count: purchase, where: "event.offering == 'talks'"}
      north: {count: purchase, where: "member.region == 'north'"}
    nodes:
      s: {kind: start, owner: crm}
      p: {kind: peak, owner: crm}
    moves:
      - {from: s, to: p, on: purchase}
    """
)


def book_of(text: str) -> MetricBook:
    """The metrics of the journey ``text``."""
    document = load_text(text).document
    assert document is not None
    journey = build_journey(document).journey
    assert journey is not None
    return MetricBook(journey)


@pytest.fixture
def book() -> MetricBook:
    return book_of(JOURNEY)


def feed(
    book: MetricBook, events: list[tuple[str, float, dict[str, Any]]], **attrs: Any
) -> list[Any]:
    state = book.new_state()
    for kind, days, fields in events:
        book.observe(state, kind, T0 + timedelta(days=days), fields, attrs)
    return state


class TestBeforeAnyEvent:
    """Before any event counts, count, sum and distinct are 0 and the others null."""

    def test_initial_values(self, book: MetricBook) -> None:
        """A new member's metrics."""
        values = book.values(book.new_state(), T0)
        assert values == {
            "purchases": 0, "spend": 0, "spend_7d": 0, "biggest": None, "smallest_7d": None,
            "last_offering": None, "offerings": 0, "offerings_7d": 0, "first_seen": None,
            "last_seen_7d": None, "talks": 0, "north": 0,
        }  # fmt: skip


class TestKinds:
    """Each kind aggregates what it should."""

    def test_every_kind(self, book: MetricBook) -> None:
        """Three purchases and a visit."""
        state = feed(
            book,
            [
                ("purchase", 0, {"amount": 10.0, "offering": "talks"}),
                ("visit", 1, {}),
                ("purchase", 2, {"amount": 30.0, "offering": "courses"}),
                ("purchase", 9, {"amount": 5.0}),
            ],
            region="north",
        )
        values = book.values(state, T0 + timedelta(days=9))
        assert values["purchases"] == 3 and values["spend"] == 45.0
        # day 2 is exactly 7 days before day 9: out of the window, like day 0
        assert values["spend_7d"] == 5.0
        assert values["biggest"] == 30.0 and values["smallest_7d"] == 5.0
        assert values["last_offering"] == "courses"  # the last purchase had no offering
        assert values["offerings"] == 2 and values["offerings_7d"] == 0
        assert values["first_seen"] == T0 and values["last_seen_7d"] == T0 + timedelta(days=9)
        assert values["talks"] == 1 and values["north"] == 3

    def test_any_includes_profile(self, book: MetricBook) -> None:
        """``any`` metrics count profile events too."""
        state = feed(book, [("profile", 3, {"region": "north"})])
        assert book.values(state, T0 + timedelta(days=3))["first_seen"] == T0 + timedelta(days=3)

    def test_same_instant_in_order(self, book: MetricBook) -> None:
        """Events at the same instant count in the order they were observed."""
        state = feed(
            book,
            [
                ("purchase", 1, {"amount": 1.0, "offering": "a"}),
                ("purchase", 1, {"amount": 2.0, "offering": "b"}),
            ],
        )
        assert book.values(state, T0 + timedelta(days=1))["last_offering"] == "b"


class TestWindows:
    """A window at time t covers the events with at > t - window, exactly."""

    def test_exactly_window_old_is_out(self, book: MetricBook) -> None:
        """An event exactly 7 days old no longer counts; a microsecond younger still does."""
        state = feed(book, [("purchase", 0, {"amount": 10.0})])
        seven = T0 + timedelta(days=7)
        assert book.values(state, seven - timedelta(microseconds=1))["spend_7d"] == 10.0
        assert book.values(state, seven)["spend_7d"] == 0

    def test_memory_is_bounded_by_the_window(self, book: MetricBook) -> None:
        """Taking an event in drops the events that fell out of the window, even when the
        metric is never read."""
        state = feed(book, [("purchase", d, {"amount": 1.0}) for d in range(100)])
        assert len(state[book.index["spend_7d"]]) == 7

    def test_reading_later_keeps_the_window(self, book: MetricBook) -> None:
        """Values read as of a later time (a state as of --until) drop nothing: an event
        before that time still sees the whole window."""
        state = feed(book, [("purchase", 0, {"amount": 1.0})])
        assert book.values(state, T0 + timedelta(days=30))["spend_7d"] == 0
        book.observe(state, "purchase", T0 + timedelta(days=1), {"amount": 2.0}, {})
        assert book.values(state, T0 + timedelta(days=1))["spend_7d"] == 3.0


INTEGER_SUMS = dedent(
    """
    topo: 1
    journey: ints
    version: 1
    owners: {crm: {}}
    events: {order: {fields: {items: {type: int}, amount: {type: float}}}}
    metrics:
      items_7d: {sum: order.items, window: 7d}
      amount_7d: {sum: order.amount, window: 7d}
    nodes:
      s: {kind: start, owner: crm}
      p: {kind: peak, owner: crm}
    moves:
      - {from: s, to: p, on: order}
    """
)


class TestWindowedSumTypes:
    """A windowed sum of an int field is an int; of a float field, the exact float sum."""

    def test_int_and_float(self) -> None:
        book = book_of(INTEGER_SUMS)
        state = book.new_state()
        for day, (items, amount) in enumerate([(2, 0.1), (3, 0.2), (4, 0.3)]):
            fields = {"items": items, "amount": amount}
            book.observe(state, "order", T0 + timedelta(days=day), fields, {})
        values = book.values(state, T0 + timedelta(days=2))
        assert values["items_7d"] == 9 and type(values["items_7d"]) is int
        assert values["amount_7d"] == 0.6  # 0.1 + 0.2 + 0.3 is 0.6000000000000001 added naively


class TestExactSums:
    """Sums are exact, not accumulated with rounding."""

    def test_tenths(self, book: MetricBook) -> None:
        """Ten purchases of 0.1 sum to exactly 1.0 (a naive float sum gives 0.9999999999999999)."""
        state = feed(book, [("purchase", 0, {"amount": 0.1})] * 10)
        assert book.values(state, T0)["spend"] == 1.0

    @given(st.lists(st.floats(0, 1e12, allow_nan=False), max_size=30))
    def test_whole_history_sum_is_fsum(self, amounts: list[float]) -> None:
        """The whole-history sum equals math.fsum of the amounts."""
        book = book_of(JOURNEY)
        state = feed(book, [("purchase", 0, {"amount": a}) for a in amounts])
        assert book.values(state, T0)["spend"] == (fsum(amounts) if amounts else 0)


STREAMS = st.lists(
    st.tuples(st.integers(0, 20 * 24 * 3600), st.floats(0, 1000, allow_nan=False)),
    max_size=40,
).map(sorted)


class TestWindowAgainstBruteForce:
    """Windowed metrics equal a brute-force count over the events inside the window."""

    @given(STREAMS, st.integers(0, 30 * 24 * 3600))
    def test_sum_count_min(self, stream: list[tuple[int, float]], later: int) -> None:
        """At any time after the last event, the window holds exactly the events younger than 7d."""
        book = book_of(JOURNEY)
        state = book.new_state()
        for second, amount in stream:
            book.observe(state, "purchase", T0 + timedelta(seconds=second), {"amount": amount}, {})
        now_second = (stream[-1][0] if stream else 0) + later
        now = T0 + timedelta(seconds=now_second)
        inside = [a for s, a in stream if s > now_second - 7 * 24 * 3600]
        values = book.values(state, now)
        assert values["spend_7d"] == (fsum(inside) if inside else 0)
        assert values["smallest_7d"] == (min(inside) if inside else None)
