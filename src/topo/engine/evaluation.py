"""Evaluating expressions: each guard compiled once into Python closures, never ``eval``'d.

:func:`compile_expression` turns a checked expression (see :mod:`topo.journey.expressions`) into an
:class:`Expression`: a callable that takes a :class:`Context` and returns the value. Only the
language's constructs compile; anything else is refused at compile time, so a journey's text can
never run as Python. The values follow the contract and ``docs/decisions.md``:

- ``==``/``!=`` treat null as a value; values of different types are never equal (booleans are
  not numbers); ordering compares two numbers, two texts or two timestamps, anything else
  (null included) is false; ``in``/``not in`` look in a list, and are false for a null value;
- arithmetic with null, with a value that is not a number, dividing by zero, or a result no
  number can hold (beyond a float's range) gives null;
- ``days_since``/``days_between`` give fractional days (a date counts as midnight UTC);
  ``min``/``max`` are null if any argument is; ``round`` rounds half to even;
- a guard holds when its value is truthy (null, 0, empty text, false and ``[]`` are not).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from topo.journey.expressions import LITERAL_NAMES, parse

__all__ = ["NOTHING", "Context", "Expression", "compile_expression", "holds"]

Value = Any
NOTHING: Mapping[str, Any] = MappingProxyType({})
"""An empty mapping no one can change: what the evaluator passes for what a context lacks,
instead of a new dict each time."""
Compiled = Callable[["Context"], Value]


@dataclass(slots=True)
class Context:
    """What an expression can see: the member's metrics and attributes, the event's fields,
    the member's node and when they entered it, and the time being evaluated."""

    metrics: Mapping[str, Value] = field(default_factory=dict)
    attributes: Mapping[str, Value] = field(default_factory=dict)
    fields: Mapping[str, Value] = field(default_factory=dict)
    node: str | None = None
    now: datetime | None = None
    entered_at: datetime | None = None
    slots: list[Value] | None = None  # the member's metric state, for guards compiled on it
    stamp: int = 0  # ``now`` in microseconds, for guards compiled on the metric state


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression: call it with a :class:`Context` to get its value."""

    text: str
    evaluate: Compiled
    metrics: frozenset[str]
    test: Callable[[Context], bool]  # whether it holds, as a guard: ``evaluate`` made a bool

    def __call__(self, context: Context) -> Value:
        return self.evaluate(context)

    def holds(self, context: Context) -> bool:
        """Whether the expression, as a guard, holds in ``context``."""
        return self.test(context)


Slots = Mapping[str, tuple[int, Callable[[Value, int], Value] | None]]
"""Where a metric lives in a member's metric state: its index, and how to read its slot at a
time in microseconds (None: the slot is the value)."""


def compile_expression(text: str, slots: Slots | None = None) -> Expression:
    """The compiled form of a checked expression; raises ValueError for anything else.

    By default a metric is read from ``Context.metrics`` by name. With ``slots`` (the
    evaluator's metric layout, :attr:`topo.engine.metrics.MetricBook.slots`) it is read straight
    from ``Context.slots`` as of ``Context.stamp``, which saves a mapping lookup per read.
    """
    tree = parse(text)
    if not isinstance(tree, ast.Expression):
        raise ValueError(f"not a valid expression: {tree.message}")
    compiler = _Compiler(slots)
    evaluate = compiler.compile(tree.body)
    # Comparisons, and/or (two parts) and not give a bool already: the guard is the closure.
    boolean = isinstance(tree.body, ast.Compare | ast.BoolOp) or (
        isinstance(tree.body, ast.UnaryOp) and isinstance(tree.body.op, ast.Not)
    )
    test = evaluate if boolean else lambda ctx: truthy(evaluate(ctx))
    return Expression(text, evaluate, frozenset(compiler.metrics), test)


def holds(expression: Expression | None, context: Context) -> bool:
    """Whether a guard holds; no guard always holds."""
    return expression is None or expression.holds(context)


def truthy(value: Value) -> bool:
    """Truthiness of the language (that of Python's plain values)."""
    return bool(value)


def is_number(value: Value) -> bool:
    """Numbers are int and float; booleans are not numbers."""
    kind = type(value)
    return kind is int or kind is float


def same(a: Value, b: Value) -> bool:
    """``==`` of the language."""
    if a is None or b is None:
        return a is b
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    a, b = _instant(a), _instant(b)
    return type(a) is type(b) and bool(a == b)


def _instant(value: Value) -> Value:
    """A date as midnight UTC, so that dates and timestamps compare and subtract."""
    if type(value) is date:
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _ordered(a: Value, b: Value) -> bool:
    """Whether ``a`` and ``b`` can be ordered: two numbers, two texts, two timestamps."""
    if is_number(a) and is_number(b):
        return True
    return type(a) is type(b) and type(a) in (str, datetime)


def comparison(op: type[ast.cmpop]) -> Callable[[Value, Value], bool]:
    """The test of a comparison operator of the language, on two values."""
    if op is ast.Eq:
        return same
    if op is ast.NotEq:
        return lambda a, b: not same(a, b)
    if op is ast.In:
        return lambda a, b: a is not None and isinstance(b, list) and any(same(a, x) for x in b)
    if op is ast.NotIn:
        return lambda a, b: a is not None and isinstance(b, list) and not any(same(a, x) for x in b)
    test = _ORDER[op]

    def ordered(a: Value, b: Value) -> bool:
        a, b = _instant(a), _instant(b)
        return _ordered(a, b) and bool(test(a, b))

    return ordered


_ORDER: dict[type[ast.cmpop], Callable[[Value, Value], Value]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def arithmetic(op: type[ast.operator]) -> Callable[[Value, Value], Value]:
    """An arithmetic operator of the language: null unless both are numbers, or for a result
    no number can hold."""

    def apply(a: Value, b: Value) -> Value:
        if not (is_number(a) and is_number(b)):
            return None
        if op in (ast.Div, ast.Mod) and b == 0:
            return None
        try:
            result = ARITHMETIC[op](a, b)
        except OverflowError:  # an integer too large for a float, met by a float or divided
            return None
        if type(result) is float and result - result != 0.0:  # beyond a float's range
            return None
        return result

    return apply


ARITHMETIC: dict[type[ast.operator], Callable[[Value, Value], Value]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}


def negated(value: Value) -> Value:
    """Unary minus of the language: null for anything but a number."""
    return -value if is_number(value) else None


def chained(tests: tuple[Callable[[Value, Value], bool], ...]) -> Callable[[list[Value]], bool]:
    """A chained comparison (``a < b <= c``) on its operands' values, read once each."""

    def chain(values: list[Value]) -> bool:
        return all(test(values[i], values[i + 1]) for i, test in enumerate(tests))

    return chain


def _days(seconds: float) -> float:
    return seconds / 86400


def days_between(a: Value, b: Value) -> Value:
    a, b = _instant(a), _instant(b)
    if type(a) is not datetime or type(b) is not datetime:
        return None
    return _days((b - a).total_seconds())


def extreme(name: str) -> Callable[..., Value]:
    """``min`` or ``max`` of the language: null if any value is, or if they cannot be ordered."""
    pick = min if name == "min" else max

    def chosen(*values: Value) -> Value:
        if any(v is None for v in values):
            return None
        values = tuple(_instant(v) for v in values)
        if all(_ordered(values[0], v) for v in values):
            return pick(values)
        return None

    return chosen


def absolute(value: Value) -> Value:
    return abs(value) if is_number(value) else None


def rounded(value: Value) -> Value:
    if not is_number(value) or (type(value) is float and not math.isfinite(value)):
        return None
    return round(value)  # Python rounds half to even, as the contract says


class _Compiler:
    """Builds closures from a syntax tree, one small closure per construct."""

    def __init__(self, slots: Slots | None = None) -> None:
        self.metrics: set[str] = set()
        self.slots = slots or {}

    def metric(self, name: str) -> Compiled:
        """How to read metric ``name``: from its slot when the layout is known, else by name."""
        self.metrics.add(name)
        if name not in self.slots:
            return lambda ctx: ctx.metrics.get(name)
        index, read = self.slots[name]
        if read is None:
            return lambda ctx: ctx.slots[index]  # type: ignore[index]
        return lambda ctx: read(ctx.slots[index], ctx.stamp)  # type: ignore[index]

    def compile(self, node: ast.expr) -> Compiled:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise ValueError(f"{type(node).__name__} is not part of the language")
        compiled: Compiled = method(node)
        return compiled

    def _Constant(self, node: ast.Constant) -> Compiled:
        value = node.value
        if value is not None and type(value) not in (bool, int, float, str):
            raise ValueError(f"the literal {value!r} is not part of the language")
        return lambda _: value

    def _List(self, node: ast.List) -> Compiled:
        items = [self.compile(item) for item in node.elts]
        return lambda ctx: [item(ctx) for item in items]

    def _Name(self, node: ast.Name) -> Compiled:
        name = node.id
        if name in LITERAL_NAMES:
            literal = LITERAL_NAMES[name]
            return lambda _: literal
        if name == "node":
            return lambda ctx: ctx.node
        if name == "now":
            return lambda ctx: ctx.now
        if name == "entered_at":
            return lambda ctx: ctx.entered_at
        return self.metric(name)

    def _Attribute(self, node: ast.Attribute) -> Compiled:
        owner, attr = node.value, node.attr
        if isinstance(owner, ast.Name) and owner.id == "member":
            return lambda ctx: ctx.attributes.get(attr)
        if isinstance(owner, ast.Name) and owner.id == "event":
            return lambda ctx: ctx.fields.get(attr)
        raise ValueError("attribute access is allowed only as member.NAME or event.NAME")

    def _BoolOp(self, node: ast.BoolOp) -> Compiled:
        parts = [self.compile(value) for value in node.values]
        conjunction = isinstance(node.op, ast.And)
        if len(parts) == 2:  # the usual guard: two conditions, without a generator's cost
            first, second = parts
            if conjunction:
                return lambda ctx: bool(first(ctx)) and bool(second(ctx))
            return lambda ctx: bool(first(ctx)) or bool(second(ctx))
        if conjunction:
            return lambda ctx: all(truthy(part(ctx)) for part in parts)
        return lambda ctx: any(truthy(part(ctx)) for part in parts)

    def _UnaryOp(self, node: ast.UnaryOp) -> Compiled:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda ctx: not truthy(operand(ctx))
        if isinstance(node.op, ast.USub):
            return lambda ctx: negated(operand(ctx))
        raise ValueError(f"the operator {type(node.op).__name__} is not part of the language")

    def _BinOp(self, node: ast.BinOp) -> Compiled:
        if type(node.op) not in ARITHMETIC:
            raise ValueError(f"the operator {type(node.op).__name__} is not part of the language")
        left, right, apply = (
            self.compile(node.left),
            self.compile(node.right),
            arithmetic(type(node.op)),
        )
        return lambda ctx: apply(left(ctx), right(ctx))

    def _Compare(self, node: ast.Compare) -> Compiled:
        operands = [self.compile(node.left), *(self.compile(c) for c in node.comparators)]
        tests = [comparison(type(op)) for op in node.ops]
        fast = self._threshold(node)
        if fast is not None:
            return fast
        if len(tests) == 1:
            left, right, test = operands[0], operands[1], tests[0]
            return lambda ctx: test(left(ctx), right(ctx))

        chain = chained(tuple(tests))
        return lambda ctx: chain([operand(ctx) for operand in operands])

    def _threshold(self, node: ast.Compare) -> Compiled | None:
        """The common guard ``metric op NUMBER`` as one closure (the engine's hot path)."""
        if len(node.ops) != 1 or type(node.ops[0]) not in _ORDER:
            return None
        left, right = node.left, node.comparators[0]
        if not (isinstance(left, ast.Name) and isinstance(right, ast.Constant)):
            return None
        bound = right.value
        if left.id in LITERAL_NAMES or left.id in ("node", "now", "entered_at"):
            return None
        if not is_number(bound):
            return None
        test = _ORDER[type(node.ops[0])]
        if left.id in self.slots and self.slots[left.id][1] is None:
            self.metrics.add(left.id)
            index = self.slots[left.id][0]

            def kept(ctx: Context) -> bool:  # a count, say: its slot is its value
                value = ctx.slots[index]  # type: ignore[index]
                kind = type(value)
                return (kind is int or kind is float) and bool(test(value, bound))

            return kept
        read = self.metric(left.id)

        def threshold(ctx: Context) -> bool:
            value = read(ctx)
            kind = type(value)
            return (kind is int or kind is float) and bool(test(value, bound))

        return threshold

    def _Call(self, node: ast.Call) -> Compiled:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ValueError("only the built-in functions can be called, without keywords")
        args = [self.compile(arg) for arg in node.args]
        name = node.func.id
        if name == "days_since" and len(args) == 1:
            (arg,) = args
            return lambda ctx: days_between(arg(ctx), ctx.now)
        if name == "days_between" and len(args) == 2:
            first, second = args
            return lambda ctx: days_between(first(ctx), second(ctx))
        if name in ("min", "max") and len(args) >= 2:
            pick = extreme(name)
            return lambda ctx: pick(*(arg(ctx) for arg in args))
        if name in ("abs", "round") and len(args) == 1:
            (arg,) = args
            function = absolute if name == "abs" else rounded
            return lambda ctx: function(arg(ctx))
        raise ValueError(f"{name}() with {len(args)} arguments is not part of the language")
