"""Evaluating expressions: the contract's values, exactly, and nothing run as Python."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guard_language import GUARDS, UNIVERSE, evaluate, text
from topo.engine.evaluation import Context, compile_expression, holds

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def value(expression: str, **metrics: Any) -> Any:
    return compile_expression(expression)(Context(metrics=metrics, now=NOW))


class TestNull:
    """Null is a value for == and !=, false for ordering and in, null through arithmetic."""

    @pytest.mark.parametrize(
        "expression,expected",
        [
            ("x == null", True),
            ("x != null", False),
            ("x == 0", False),
            ("x < 5", False),
            ("x >= 5", False),
            ("not (x < 5)", True),
            ("x in [null, 1]", False),
            ("x not in [1]", False),
            ("x + 1", None),
            ("-x", None),
            ("min(x, 1)", None),
            ("days_since(x)", None),
        ],
    )
    def test_null(self, expression: str, expected: Any) -> None:
        """Each operation with a null operand gives what the contract says."""
        assert value(expression, x=None) == expected


class TestTypes:
    """Values of the wrong type compare as false; booleans are not numbers."""

    @pytest.mark.parametrize(
        "expression,expected",
        [
            ("x == '5'", False),
            ("x != '5'", True),
            ("x < 'a'", False),
            ("x == true", False),
            ("true == 1", False),
            ("true < 2", False),
            ("x == 5.0", True),
            ("x in [5.0, 6]", True),
            ("x + true", None),
            ("x + 'a'", None),
            ("'a' < 'b'", True),
            ("'b' < 'a'", False),
        ],
    )
    def test_types(self, expression: str, expected: Any) -> None:
        """Mixed types never raise and give the contract's value."""
        assert value(expression, x=5) == expected


BEYOND_FLOATS = " * ".join(["x"] * 17)
"""The largest 64-bit integer to the 17th power: an int of 2**1071, past any float."""


class TestArithmetic:
    """Arithmetic on numbers; division or modulo by zero is null."""

    @pytest.mark.parametrize(
        "expression,expected",
        [
            ("x + 1", 6),
            ("x - 10", -5),
            ("x * 2", 10),
            ("x / 2", 2.5),
            ("x % 3", 2),
            ("x / 0", None),
            ("x % 0", None),
            ("-x", -5),
            ("abs(-x)", 5),
            ("round(2.5)", 2),
            ("round(3.5)", 4),
            ("round(-0.5)", 0),
            ("min(x, 3, 7)", 3),
            ("max(x, 3, 7)", 7),
            ("min(x, 'a')", None),
        ],
    )
    def test_values(self, expression: str, expected: Any) -> None:
        """Each arithmetic form gives its value."""
        assert value(expression, x=5) == expected

    @pytest.mark.parametrize(
        "expression",
        [
            f"{BEYOND_FLOATS} / 2",  # an int past a float's range, divided
            f"{BEYOND_FLOATS} * 1.5",
            f"{BEYOND_FLOATS} % 2.5",
            f"{BEYOND_FLOATS} - 0.5",
            "x * 1e300 * 1e300",  # a float's own overflow: infinity
            "x * 1e300 * 1e300 - x * 1e300 * 1e300",
            "round(x * 1e300 * 1e300)",
        ],
    )
    def test_overflow_is_null(self, expression: str) -> None:
        """Arithmetic whose result no number can hold gives null, as a division by zero does:
        a guard over it is false, never an exception after the member changed."""
        assert value(expression, x=9_223_372_036_854_775_807) is None

    def test_chains(self) -> None:
        """A chain holds when every link does."""
        assert value("0 < x <= 5 < 6", x=5) is True
        assert value("0 < x < 5", x=5) is False


class TestTime:
    """Days between timestamps; a date counts as midnight UTC."""

    def test_days_since_a_timestamp(self) -> None:
        """Fractional days from a timestamp to now, whatever its offset."""
        then = datetime(2026, 2, 27, 20, 0, tzinfo=timezone(timedelta(hours=8)))
        assert value("days_since(t)", t=then) == pytest.approx(2.0)  # 20:00+08:00 is 12:00 UTC

    def test_days_since_a_date(self) -> None:
        """A date is midnight UTC."""
        assert value("days_since(d)", d=date(2026, 2, 28)) == pytest.approx(1.5)

    def test_days_between(self) -> None:
        """days_between(a, b) is b - a in days."""
        a, b = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 11, 12, tzinfo=UTC)
        assert value("days_between(a, b)", a=a, b=b) == pytest.approx(10.5)
        assert value("days_between(a, 5)", a=a) is None

    def test_timestamps_and_dates_compare(self) -> None:
        """A timestamp and a date compare as instants."""
        assert value("t > d", t=NOW, d=date(2026, 3, 1)) is True
        assert value("t == d", t=datetime(2026, 3, 1, tzinfo=UTC), d=date(2026, 3, 1)) is True


class TestNames:
    """Names read the context: metrics, member attributes, event fields, node and times."""

    def test_every_kind_of_name(self) -> None:
        """Each name reads its part of the context."""
        expression = compile_expression(
            "spend >= 100 and member.region == 'north' and event.amount > 5 and node == 'buyer'"
            " and entered_at < now"
        )
        context = Context(
            metrics={"spend": 100},
            attributes={"region": "north"},
            fields={"amount": 6},
            node="buyer",
            now=NOW,
            entered_at=NOW - timedelta(days=1),
        )
        assert expression.holds(context)
        assert expression.metrics == frozenset({"spend"})

    def test_missing_names_are_null(self) -> None:
        """A metric, attribute or field the context lacks is null."""
        assert value("spend == null and member.x == null and event.y == null") is True

    def test_no_guard_holds(self) -> None:
        """A move without a guard always moves."""
        assert holds(None, Context())


class TestNothingRunsAsPython:
    """Only the language compiles."""

    @pytest.mark.parametrize(
        "expression",
        [
            "__import__('os').system('true')",
            "x[0]",
            "(lambda: 1)()",
            "x.real",
            "len(x)",
            "2 ** 8",
            "x if x else 1",
        ],
    )
    def test_refused(self, expression: str) -> None:
        """Anything outside the language is refused at compile time."""
        with pytest.raises(ValueError):
            compile_expression(expression)


class TestAgreesWithTheAnalysis:
    """The evaluator and the guard analysis read the same language the same way."""

    @given(GUARDS)
    def test_same_truth_as_the_reference_evaluation(self, tree: Any) -> None:
        """On every value, the compiled guard holds exactly when the analysis' reference says."""
        expression = compile_expression(text(tree))
        for x in UNIVERSE:
            assert expression.holds(Context(metrics={"x": x})) == evaluate(tree, x), (text(tree), x)

    @given(
        st.floats(allow_nan=False, allow_infinity=False),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    def test_threshold_fast_path(self, x: float, bound: float) -> None:
        """The fast path for 'metric op number' agrees with the general comparison (a metric
        is never infinite: the numbers events bring are in range, and so are their sums)."""
        for op in ("<", "<=", ">", ">="):
            fast = compile_expression(f"x {op} {bound!r}")
            general = compile_expression(f"x + 0 {op} {bound!r}")
            assert fast.holds(Context(metrics={"x": x})) == general.holds(Context(metrics={"x": x}))


class TestGuardsOnTheMetricLayout:
    """Guards compiled on the engine's metric layout read the member's slots directly."""

    def test_a_slot_that_is_its_value(self) -> None:
        """A metric whose slot is its value (a count, a last): null and booleans are not numbers."""
        guard = compile_expression("x >= 1", {"x": (0, None)})
        found = [guard.holds(Context(slots=[value])) for value in (None, True, 0, 1, 1.5, "2")]
        assert found == [False, False, False, True, True, False]

    def test_a_slot_read_as_of_a_time(self) -> None:
        """A windowed metric is read with its reader, as of the context's time in microseconds."""

        def read(slot: Any, stamp: int) -> Any:
            return sum(v for t, v in slot if t > stamp - 10)

        guard = compile_expression("x >= 5 and y", {"x": (0, read), "y": (1, None)})
        slots = [[(0, 4), (8, 2)], True]
        assert guard.holds(Context(slots=slots, stamp=9))  # both events inside: 6
        assert not guard.holds(Context(slots=slots, stamp=10))  # the first is out: 2
        assert guard.metrics == {"x", "y"}

    def test_test_is_the_truth_of_the_value(self) -> None:
        """An expression's test is the language's truth of its value, for guards that are a
        bare metric, arithmetic, a comparison or a function call."""
        for written in ("x", "x + 1", "not x", "x > 0 or x < 0", "min(x, 1)"):
            guard = compile_expression(written, {"x": (0, None)})
            for value in (None, 0, 1, -1, 0.0, True, False):
                context = Context(slots=[value])
                assert guard.test(context) is bool(guard(context)), (written, value)
