"""The guard language's rules written out plainly: a test oracle for guards over one name ``x``.

The analysis's guard logic (tests/analysis/test_conditions.py) and the engine's evaluator
(tests/engine/test_evaluation.py) are both checked against :func:`evaluate`, so that they read
the language alike: null is a value for ``==``/``!=``; ordering compares two numbers or two
texts, and with null or mixed types is false, as is ``in`` with null; booleans are not numbers.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

UNIVERSE: list[object] = [
    None, True, False, "a", "b", "zz", "", 1000, -1000,
    *range(-2, 13), *[k + 0.5 for k in range(-2, 12)],
]  # fmt: skip
CONSTANTS = st.sampled_from([None, 0, 1, 3, 5, 10, 2.5, "a", "b", True])


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
