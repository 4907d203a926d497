"""The guard logic: what it decides must agree with evaluating the guard on every value.

Guards over one name ``x`` are generated as trees, written as text for ``condition_of``, and
evaluated directly under the language's rules by the oracle in tests/guard_language.py, which
tests/engine/test_evaluation.py checks the evaluator against too, so the analysis and the
evaluator read the language alike. Values are drawn from a set that has a member in every
region the constants 0..10 cut out.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guard_language import GUARDS, UNIVERSE, evaluate, is_number, text
from topo.analysis.conditions import INF, Condition, Interval, Values, condition_of

DOMAINS = {
    "anything": Values(),
    "count": Values(False, (Interval(0, INF, True, False),), frozenset(), False, integral=True),
    "optional 0..10": Values(True, (Interval(0, 10),), frozenset(), False, integral=True),
    "one_of a, b": Values(False, (), frozenset({"a", "b"}), False),
    "boolean": Values(True, (), frozenset({True, False}), False),
}


def in_domain(value: object, domain: Values) -> bool:
    if value is None:
        return domain.null
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = not domain.integral or float(value).is_integer()
        return whole and any(i.contains(value) for i in domain.numbers)
    listed = value in domain.others and type(value) in {type(o) for o in domain.others}
    return not listed if domain.others_excluded else listed


def condition(tree: Any, domain: str) -> Condition:
    return condition_of(text(tree), {"x": DOMAINS[domain]})


def truths(tree: Any, domain: str) -> list[tuple[object, bool]]:
    return [(v, evaluate(tree, v)) for v in UNIVERSE if in_domain(v, DOMAINS[domain])]


class TestAgainstEvaluation:
    """Decisions agree with evaluating the guard on every value of the domain."""

    @given(GUARDS, st.sampled_from(sorted(DOMAINS)))
    def test_can_hold(self, tree: Any, domain: str) -> None:
        """A decided guard can hold exactly when some value makes it true."""
        found = condition(tree, domain)
        if found.decided():
            assert found.can_hold() == any(t for _, t in truths(tree, domain)), text(tree)

    @given(GUARDS, st.sampled_from(sorted(DOMAINS)))
    def test_can_be_false(self, tree: Any, domain: str) -> None:
        """A decided guard can be false exactly when some value makes it false."""
        found = condition(tree, domain)
        if found.decided():
            assert found.can_be_false() == any(not t for _, t in truths(tree, domain)), text(tree)

    @given(GUARDS, st.sampled_from(sorted(DOMAINS)))
    def test_witness_makes_the_guard_true(self, tree: Any, domain: str) -> None:
        """A witness is a value of the domain for which the guard holds."""
        witness = condition(tree, domain).witness()
        if witness is not None and "x" in witness:
            assert in_domain(witness["x"], DOMAINS[domain])
            assert evaluate(tree, witness["x"]), (text(tree), witness)

    @given(GUARDS, GUARDS, st.sampled_from(sorted(DOMAINS)))
    def test_both(self, first: Any, second: Any, domain: str) -> None:
        """Two decided guards can both hold exactly when some value makes both true."""
        both = condition(first, domain).both(condition(second, domain))
        if both.decided():
            expected = any(
                evaluate(first, v) and evaluate(second, v) for v, _ in truths(first, domain)
            )
            assert both.can_hold() == expected

    @given(GUARDS, st.sampled_from(sorted(DOMAINS)))
    def test_lower_bound_is_sound(self, tree: Any, domain: str) -> None:
        """Every number that passes the guard is at least its lower bound."""
        bound = condition(tree, domain).lower_bound("x")
        for value, true in truths(tree, domain):
            if true and is_number(value):
                assert value >= bound, (text(tree), value, bound)  # type: ignore[operator]


class TestUndecided:
    """What the logic does not decide is never called impossible or always true."""

    @pytest.mark.parametrize(
        "guard",
        [
            "x + 1 > 5 and x < 0",
            "days_since(x) > 3 and days_since(x) < 1",
            "x > y and y > x",
            "x < 'b'",
        ],
    )
    def test_not_decided(self, guard: str) -> None:
        """Arithmetic, functions, two names and text ordering are left undecided."""
        found = condition_of(guard, {})
        assert not found.decided()
        assert found.can_hold() and found.can_be_false()
        assert found.witness() is None

    def test_too_many_terms_is_undecided(self) -> None:
        """A guard whose disjunctive form would be huge is left undecided, not expanded."""
        guard = " and ".join(f"(x{i} == 1 or x{i} == 2)" for i in range(12))
        found = condition_of(guard, {})
        assert found.terms is None and found.can_hold() and found.can_be_false()


class TestExamplesOfTheIssue:
    """The cases the analysis issue names."""

    def test_contradiction(self) -> None:
        """``spend > 100 and spend < 50`` can never hold."""
        assert not condition_of("spend > 100 and spend < 50", {}).can_hold()

    def test_negative_count(self) -> None:
        """``purchases < 0`` can never hold for a count."""
        assert not condition_of("purchases < 0", {"purchases": DOMAINS["count"]}).can_hold()

    def test_one_of_outside(self) -> None:
        """A one_of field compared with a value outside it never holds."""
        assert not condition_of("x == 'c'", {"x": DOMAINS["one_of a, b"]}).can_hold()

    def test_whole_numbers(self) -> None:
        """Between 2 and 3 there is no count."""
        assert not condition_of("x > 2 and x < 3", {"x": DOMAINS["count"]}).can_hold()
        assert condition_of("x > 2 and x < 3", {}).can_hold()

    def test_witness_of_overlap(self) -> None:
        """Two thresholds overlap above the higher one; the witness shows a value there."""
        both = condition_of("spend >= 3000", {}).both(condition_of("spend >= 20000", {}))
        assert both.witness() == {"spend": 20000}


HUGE_NUMBERS = st.one_of(
    st.integers(),
    st.integers(1, 10).map(lambda k: 10 ** (300 * k)),
    st.integers(1, 10).map(lambda k: -(10 ** (300 * k))),
    st.floats(allow_nan=False),
)


def _literal(value: float) -> str:
    if isinstance(value, float) and value in (INF, -INF):
        return "1e400" if value > 0 else "-1e400"
    return repr(value)


class TestAnyNumber:
    """The logic never raises on a number, however large: ints beyond floats count as infinite."""

    @given(
        HUGE_NUMBERS,
        HUGE_NUMBERS,
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.sampled_from(sorted(DOMAINS)),
    )
    def test_every_question_has_an_answer(
        self, first: float, second: float, op: str, domain: str
    ) -> None:
        """can_hold, can_be_false, witness, bounds: all answer for guards on huge literals."""
        a, b = _literal(first), _literal(second)
        guard = f"x {op} {a} and {b} {op} x or x in [{a}, {b}]"
        condition = condition_of(guard, {"x": DOMAINS[domain]})
        condition.can_hold()
        condition.can_be_false()
        condition.witness()
        condition.lower_bound("x")
        condition.bounded_above("x")
        condition.both(condition_of(f"x {op} {b}", {})).witness()

    @given(HUGE_NUMBERS, HUGE_NUMBERS, st.booleans())
    def test_domains_with_huge_bounds(self, low: float, high: float, integral: bool) -> None:
        """A domain bounded by numbers beyond floats still samples and intersects."""
        domain = Values(False, (Interval(low, high),), frozenset(), False, integral)
        (domain & Values(False, (Interval(0, INF),), frozenset(), False)).sample()
        domain.negate().sample()
