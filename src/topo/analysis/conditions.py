"""What a guard says about the values it compares: a small logic of intervals and sets.

A guard is read into a disjunction of conjunctions (:class:`Condition`) of per-name
:class:`Values`: the values a name may take for the guard to hold. That is enough to decide,
for guards built from comparisons of one name with constants joined by ``and``, ``or`` and
``not``, whether a guard can hold at all, whether two guards can hold together (and for which
values), and whether a guard can ever be false.

What is *decided*: ``NAME op CONSTANT`` (and chains of them) for ``== != < <= > >=``,
``NAME in [CONSTANTS]``, ``NAME not in [...]``, a bare name (truthiness), ``true``/``false``/
``null``, and ``and``/``or``/``not`` of those. Everything else (arithmetic, functions, two names
compared, ``now``, timestamps) is *undecided*: it may be true or false, and a conjunction that
holds one is never reported as impossible, nor used as a witness.

Null follows the language: ``==``/``!=`` treat null as a value; ordering and ``in`` with null
are false; so ``not (x < 5)`` holds for a null ``x``.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from topo.journey.expressions import LITERAL_NAMES, parsed

__all__ = ["Condition", "Interval", "Values", "condition_of"]

INF = math.inf
_HUGE = int(sys.float_info.max)
"""Ints up to this convert to floats; larger ones are taken as infinite."""
MAX_TERMS = 256
"""Guards whose disjunctive form has more terms than this are left undecided."""


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Numbers from ``low`` to ``high``; ``*_closed`` says whether the bound itself is in."""

    low: float
    high: float
    low_closed: bool = True
    high_closed: bool = True

    def __post_init__(self) -> None:
        # An int beyond floats' range (a 400-digit literal) lies beyond every float, as the
        # infinities do; kept as it is, the float arithmetic below would raise OverflowError.
        if type(self.low) is int and not -_HUGE <= self.low <= _HUGE:
            object.__setattr__(self, "low", INF if self.low > 0 else -INF)
        if type(self.high) is int and not -_HUGE <= self.high <= _HUGE:
            object.__setattr__(self, "high", INF if self.high > 0 else -INF)

    def intersect(self, other: Interval) -> Interval:
        # At equal bounds the open one is the tighter: (value, open) sorts it last for the
        # lower bound, (value, closed) sorts it first for the upper bound.
        low, low_open = max((self.low, not self.low_closed), (other.low, not other.low_closed))
        high, high_closed = min((self.high, self.high_closed), (other.high, other.high_closed))
        return Interval(low, high, not low_open, high_closed)

    def is_empty(self, integral: bool) -> bool:
        return self.sample(integral) is None

    def sample(self, integral: bool) -> float | None:
        """A value inside, preferring a closed bound, or None when there is none."""
        if self.low > self.high:
            return None
        for value in self._candidates(integral):
            if math.isfinite(value) and self.contains(value):
                return value
        return None

    def _candidates(self, integral: bool) -> list[float]:
        low, high = self.low, self.high
        if integral:  # the least whole number inside, or the greatest when unbounded below
            if math.isfinite(low):
                return [math.ceil(low) if self.low_closed else math.floor(low) + 1]
            if math.isfinite(high):
                return [math.floor(high) if self.high_closed else math.ceil(high) - 1]
            return [0.0]
        # Next to a bound, nextafter finds a number even where +1 is lost to rounding (1e16 + 1).
        if math.isfinite(low) and math.isfinite(high):
            return [low, high, (low + high) / 2, math.nextafter(low, high)]
        if math.isfinite(low):
            return [low, low + 1, math.nextafter(low, INF)]
        if math.isfinite(high):
            return [high, high - 1, math.nextafter(high, -INF)]
        return [0.0]

    def contains(self, value: float) -> bool:
        above = value > self.low or (self.low_closed and value == self.low)
        below = value < self.high or (self.high_closed and value == self.high)
        return above and below


EVERYTHING = (Interval(-INF, INF, False, False),)


@dataclass(frozen=True, slots=True)
class Values:
    """The values one name may take: null or not, numbers (intervals), other values (a set).

    ``others`` holds texts and booleans; when ``others_excluded`` is True it lists the values
    that are *not* allowed (everything else is).
    """

    null: bool = True
    numbers: tuple[Interval, ...] = EVERYTHING
    others: frozenset[object] = frozenset()
    others_excluded: bool = True
    integral: bool = False

    def __and__(self, other: Values) -> Values:
        integral = self.integral or other.integral
        numbers = tuple(
            both
            for a in self.numbers
            for b in other.numbers
            if not (both := a.intersect(b)).is_empty(integral)
        )
        if self.others_excluded and other.others_excluded:
            others, excluded = self.others | other.others, True
        elif self.others_excluded:
            others, excluded = other.others - self.others, False
        elif other.others_excluded:
            others, excluded = self.others - other.others, False
        else:
            others, excluded = self.others & other.others, False
        return Values(self.null and other.null, numbers, others, excluded, integral)

    def negate(self) -> Values:
        return Values(
            not self.null,
            _complement(self.numbers),
            self.others,
            not self.others_excluded,
            self.integral,
        )

    def is_empty(self) -> bool:
        return self.sample() is _NOTHING

    def sample(self) -> object:
        """A value allowed here (None stands for null), or ``_NOTHING``."""
        for interval in self.numbers:
            value = interval.sample(self.integral)
            if value is not None:
                return int(value) if float(value).is_integer() else value
        if not self.others_excluded and self.others:
            return sorted(self.others, key=repr)[0]
        if self.others_excluded:
            return _fresh_text(self.others)
        return None if self.null else _NOTHING


_NOTHING = object()


def _fresh_text(taken: frozenset[object]) -> object:
    for candidate in ("x", "other", "something else"):
        if candidate not in taken:
            return candidate
    return "x" * (len(taken) + 2)


def _complement(intervals: tuple[Interval, ...]) -> tuple[Interval, ...]:
    result = []
    low, low_closed = -INF, False
    for interval in sorted(intervals):
        result.append(Interval(low, interval.low, low_closed, not interval.low_closed))
        low, low_closed = interval.high, not interval.high_closed
    result.append(Interval(low, INF, low_closed, False))
    return tuple(i for i in result if not i.is_empty(False))


def _equal(value: object) -> Values:
    if value is None:
        return Values(True, (), frozenset(), False)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Values(False, (Interval(value, value),), frozenset(), False)
    return Values(False, (), frozenset({value}), False)


def _ordered(op: ast.cmpop, value: float) -> Values:
    intervals = {
        ast.Lt: Interval(-INF, value, False, False),
        ast.LtE: Interval(-INF, value, False, True),
        ast.Gt: Interval(value, INF, False, False),
        ast.GtE: Interval(value, INF, True, False),
    }
    return Values(False, (intervals[type(op)],), frozenset(), False)


Term = tuple[Mapping[str, Values], bool]
"""One conjunction: the values each constrained name may take, and whether it holds an
undecided part."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A guard as a disjunction of conjunctions; None terms means "too large to decide"."""

    terms: tuple[Term, ...] | None
    domains: Mapping[str, Values] = field(default_factory=dict, repr=False)

    def satisfiable_terms(self) -> list[Term]:
        """The conjunctions that some values of the names make true (undecided parts aside)."""
        if self.terms is None:
            return [({}, True)]
        return [term for term in self.terms if self._possible(term)]

    def _possible(self, term: Term) -> bool:
        return not any((self._domain(name) & values).is_empty() for name, values in term[0].items())

    def _domain(self, name: str) -> Values:
        return self.domains.get(name, Values())

    def can_hold(self) -> bool:
        """Whether some values make the guard true."""
        return bool(self.satisfiable_terms())

    def can_be_false(self) -> bool:
        """Whether some values make the guard false."""
        return self.negate().can_hold()

    def decided(self) -> bool:
        """Whether every part of the guard is of the decided kinds."""
        return self.terms is not None and not any(undecided for _, undecided in self.terms)

    def both(self, other: Condition) -> Condition:
        """Both guards hold."""
        return Condition(_product(self.terms, other.terms), {**self.domains, **other.domains})

    def negate(self) -> Condition:
        """The guard is false."""
        return Condition(_negate(self.terms), self.domains)

    def witness(self) -> dict[str, object] | None:
        """Values of the names for which the guard holds, using decided terms only."""
        for names, undecided in self.satisfiable_terms():
            if not undecided:
                return {
                    name: (self._domain(name) & values).sample()
                    for name, values in sorted(names.items())
                }
        return None

    def lower_bound(self, name: str) -> float:
        """The least value of ``name`` the guard asks for (-inf where it does not ask)."""
        bounds = []
        for names, _ in self.satisfiable_terms():
            if name not in names:
                return -INF  # this way of holding the guard asks nothing of the name
            asked = names[name]  # what the guard itself says, not what the domain allows
            lowest = min((i.low for i in asked.numbers), default=-INF)
            bounds.append(-INF if asked.null else lowest)
        return min(bounds, default=-INF)

    def bounded_above(self, name: str) -> bool:
        """Whether every way the guard can hold caps ``name`` from above (``x < 5``)."""
        terms = self.satisfiable_terms()
        return bool(terms) and all(
            name in names
            and not names[name].null
            and all(i.high < INF for i in names[name].numbers)
            for names, _ in terms
        )


def _product(
    left: tuple[Term, ...] | None, right: tuple[Term, ...] | None
) -> tuple[Term, ...] | None:
    if left is None or right is None or len(left) * len(right) > MAX_TERMS:
        return None
    return tuple(_conjoin(a, b) for a in left for b in right)


def _conjoin(a: Term, b: Term) -> Term:
    names = dict(a[0])
    for name, values in b[0].items():
        names[name] = names[name] & values if name in names else values
    return names, a[1] or b[1]


def _negate(terms: tuple[Term, ...] | None) -> tuple[Term, ...] | None:
    if terms is None:
        return None
    result: tuple[Term, ...] | None = ((({}, False)),)
    for names, undecided in terms:
        alternatives: list[Term] = [
            ({name: values.negate()}, False) for name, values in names.items()
        ]
        if undecided:
            alternatives.append(({}, True))
        result = _product(result, tuple(alternatives))
    return result


TRUE: tuple[Term, ...] = (({}, False),)
FALSE: tuple[Term, ...] = ()
UNDECIDED: tuple[Term, ...] = (({}, True),)


def condition_of(text: str | None, domains: Mapping[str, Values]) -> Condition:
    """The condition of a guard text (no guard: always true), with the names' domains."""
    return Condition(TRUE if text is None else _terms(text), domains)


@functools.lru_cache(maxsize=65536)
def _terms(text: str) -> tuple[Term, ...] | None:
    """A guard's disjunctive form; it depends on the text only, so it is cached by text."""
    tree = parsed(text)
    if not isinstance(tree, ast.Expression):
        return UNDECIDED
    return _read(tree.body)


def _read(node: ast.expr) -> tuple[Term, ...] | None:
    if isinstance(node, ast.BoolOp):
        parts = [_read(value) for value in node.values]
        if isinstance(node.op, ast.And):
            result: tuple[Term, ...] | None = TRUE
            for part in parts:
                result = _product(result, part)
            return result
        if any(part is None for part in parts):
            return None
        return tuple(term for part in parts for term in part or ())
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _negate(_read(node.operand))
    if isinstance(node, ast.Compare):
        return _compare(node)
    constant = _constant(node)
    if constant is not _NOTHING:
        return TRUE if constant else FALSE
    name = _name(node)
    if name is not None:  # truthiness: not null, not 0, not empty, not false
        truthy = Values(False, _complement((Interval(0, 0),)), frozenset({"", False}), True)
        return (({name: truthy}, False),)
    return UNDECIDED


def _compare(node: ast.Compare) -> tuple[Term, ...] | None:
    result: tuple[Term, ...] | None = TRUE
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        result = _product(result, _atom(left, op, right))
        left = right
    return result


def _atom(left: ast.expr, op: ast.cmpop, right: ast.expr) -> tuple[Term, ...]:
    name, value = _name(left), _constant(right)
    if name is None and not isinstance(op, ast.In | ast.NotIn):  # constant op name: turn around
        name, value = _name(right), _constant(left)
        op = _MIRROR.get(type(op), op)
    if name is None or value is _NOTHING:
        left_value, right_value = _constant(left), _constant(right)
        if left_value is not _NOTHING and right_value is not _NOTHING:
            return TRUE if _constant_compare(left_value, op, right_value) else FALSE
        return UNDECIDED
    values = _values(op, value)
    return UNDECIDED if values is None else (({name: values}, False),)


_MIRROR: dict[type[ast.cmpop], ast.cmpop] = {
    ast.Lt: ast.Gt(),
    ast.LtE: ast.GtE(),
    ast.Gt: ast.Lt(),
    ast.GtE: ast.LtE(),
}


def _values(op: ast.cmpop, value: object) -> Values | None:
    """The values of a name for which ``name op value`` holds, or None if undecided."""
    if isinstance(op, ast.Eq):
        return _equal(value)
    if isinstance(op, ast.NotEq):
        return _equal(value).negate()
    if isinstance(op, ast.In | ast.NotIn) and isinstance(value, list):
        members = [_equal(item) for item in value if item is not None]
        inside = _union(members)
        return inside if isinstance(op, ast.In) else replace(inside.negate(), null=False)
    if isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE) and _is_number(value):
        return _ordered(op, value)  # type: ignore[arg-type]
    return None


def _union(members: Iterable[Values]) -> Values:
    numbers: list[Interval] = []
    others: set[object] = set()
    for member in members:
        numbers += member.numbers
        others |= member.others
    return Values(False, tuple(numbers), frozenset(others), False)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _constant_compare(left: object, op: ast.cmpop, right: object) -> bool:
    compare = _OPERATORS.get(type(op))
    try:
        return bool(compare(left, right)) if compare is not None else False
    except TypeError:  # values of the wrong type compare as false, as the language says
        return False


_OPERATORS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda item, items: isinstance(items, list) and any(_same(item, i) for i in items),
    ast.NotIn: lambda item, items: (
        isinstance(items, list) and not any(_same(item, i) for i in items)
    ),
}


def _same(a: object, b: object) -> bool:
    """Equality of the language: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _name(node: ast.expr) -> str | None:
    """``spend``, ``member.region`` or ``event.amount``; None for anything else."""
    if (
        isinstance(node, ast.Name)
        and node.id not in LITERAL_NAMES
        and node.id not in ("now", "entered_at")
    ):
        return node.id
    owner = node.value if isinstance(node, ast.Attribute) else None
    if (
        isinstance(node, ast.Attribute)
        and isinstance(owner, ast.Name)
        and owner.id in ("member", "event")
    ):
        return f"{owner.id}.{node.attr}"
    return None


def _constant(node: ast.expr) -> object:
    """The constant ``node`` stands for, or ``_NOTHING``."""
    if isinstance(node, ast.Constant) and isinstance(
        node.value, bool | int | float | str | type(None)
    ):
        return node.value
    if isinstance(node, ast.Name) and node.id in LITERAL_NAMES:
        return LITERAL_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant(node.operand)
        return -inner if _is_number(inner) else _NOTHING  # type: ignore[operator]
    if isinstance(node, ast.List):
        items = [_constant(item) for item in node.elts]
        return _NOTHING if any(item is _NOTHING for item in items) else items
    return _NOTHING
