"""The guard logic: what it decides must agree with evaluating the guard on every value.

Guards over one name ``x`` are generated as trees, written as text for ``condition_of``, and
evaluated directly under the language's rules (null is a value for ``==``/``!=``; ordering
compares two numbers or two texts, and with null or mixed types is false, as is ``in`` with
null; booleans are not numbers). tests/test_evaluation.py checks the evaluator against the same
reference, so the analysis and the evaluator read the language alike. Values are
drawn from a set that has a member in every region the constants 0..10 cut out.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.conditions import INF, Condition, Interval, Values, condition_of

DOMAINS = {
    "anything": Values(),
    "count": Values(False, (Interval(0, INF, True, False),), frozenset(), False, integral=True),
    "optional 0..10": Values(True, (Interval(0, 10),), frozenset(), False, integral=True),
    "one_of a, b": Values(False, (), frozenset({"a", "b"}), False),
    "boolean": Values(True, (), frozenset({True, False}), False),
}
UNIVERSE: list[object] = [
    None, True, False, "a", "b", "zz", "", 1000, -1000,
    *range(-2, 13), *[k + 0.5 for k in range(-2, 12)],
]  # fmt: skip
CONSTANTS = st.sampled_from([None, 0, 1, 3, 5, 10, 2.5, "a", "b", True])


def in_domain(value: object, domain: Values) -> bool:
    if value is None:
        return domain.null
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = not domain.integral or float(value).is_integer()
        return whole and any(i.contains(value) for i in domain.numbers)
    listed = value in domain.others and type(value) in {type(o) for o in domain.others}
    return not listed if domain.others_excluded else listed


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def same(a: object, b: object) -> bool:
    """Equality of the language: booleans are not numbers; null equals only null."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if is_number(a) and is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def evaluate(tree: Any, x: object) -> bool:
    kind = tree[0]
    if kind == "cmp":
        _, op, c = tree
        if op == "==":
            return same(x, c)
        if op == "!=":
            return not same(x, c)
        texts = isinstance(x, str) and isinstance(c, str)
        if not (is_number(x) and is_number(c)) and not texts:
            return False  # ordering compares two numbers or two texts; anything else is false
        return {"<": x < c, "<=": x <= c, ">": x > c, ">=": x >= c}[op]  # type: ignore[operator]
    if kind in ("in", "not in"):
        if x is None:
            return False
        found = any(same(x, c) for c in tree[1])
        return found if kind == "in" else not found
    if kind == "bare":
        return bool(x)
    if kind == "const":
        return bool(tree[1])
    if kind == "not":
        return not evaluate(tree[1], x)
    left, right = evaluate(tree[1], x), evaluate(tree[2], x)
    return (left and right) if kind == "and" else (left or right)


def text(tree: Any) -> str:
    kind = tree[0]
    if kind == "cmp":
        return f"x {tree[1]} {literal(tree[2])}"
    if kind in ("in", "not in"):
        return f"x {kind} [{', '.join(literal(c) for c in tree[1])}]"
    if kind == "bare":
        return "x"
    if kind == "const":
        return literal(tree[1])
    if kind == "not":
        return f"not ({text(tree[1])})"
    return f"({text(tree[1])}) {kind} ({text(tree[2])})"


def literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


ATOMS = st.one_of(
    st.tuples(st.just("cmp"), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), CONSTANTS),
    st.tuples(st.sampled_from(["in", "not in"]), st.lists(CONSTANTS, max_size=3)),
    st.just(("bare",)),
    st.tuples(st.just("const"), st.sampled_from([True, False])),
)
GUARDS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), inner, inner),
    ),
    max_leaves=6,
)


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
