"""Guards as Python source: the journey compiler's half of :mod:`topo.engine.evaluation`.

:func:`expression_source` writes a checked expression as one Python expression with exactly the
value :func:`topo.engine.evaluation.compile_expression` gives, by an explicit match on the
language's syntax node kinds (anything else is refused). The hot shapes are written inline (a
metric against a number, ``and``/``or``, ``not``); every other construct calls the very function
the interpreter uses (``same``, an ordering, an arithmetic operation, ``days_since``...), handed
to the code as a value, so the two cannot drift apart. Literals and names go through the
:class:`~topo.engine.emitter.Emitter`; no text of the journey becomes a name.

The expression reads these locals of the generated code: ``slots`` (the member's metric state),
``stamp`` (the time in microseconds), ``at`` (``now``), ``node``, ``state`` (for
``entered_at``), ``attributes`` and ``fields``.
"""

from __future__ import annotations

import ast

from topo.engine import evaluation
from topo.engine.emitter import Emitter, UnsafeSource
from topo.engine.evaluation import Slots
from topo.journey.expressions import LITERAL_NAMES, parse

__all__ = ["expression_source", "metric_source"]

_ORDER_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_BUILT_IN_NAMES = ("node", "now", "entered_at")
_COMPARISONS = (*_ORDER_TEXT, ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def expression_source(
    text: str,
    slots: Slots,
    emitter: Emitter,
    memo: dict[str, str] | None = None,
    unread: object = None,
) -> str:
    """The source of the expression ``text`` (checked by :mod:`topo.journey.expressions`).

    ``memo``, when given, maps a metric's name to a local of the caller's code that holds
    its value once read (``unread`` until then): the first use reads it into the local."""
    tree = parse(text)
    if not isinstance(tree, ast.Expression):
        raise ValueError(f"not a valid expression: {tree.message}")
    return _Writer(slots, emitter, memo or {}, unread).write(tree.body)


def metric_source(
    name: str, slots: Slots, emitter: Emitter, memo: dict[str, str], unread: object
) -> str:
    """The source of metric ``name``'s value now, as :func:`expression_source` reads it."""
    return _Writer(slots, emitter, memo, unread).metric(name)


class _Writer:
    def __init__(self, slots: Slots, emitter: Emitter, memo: dict[str, str], unread: object):
        self.slots, self.emitter, self.memo, self.unread = slots, emitter, memo, unread

    def write(self, node: ast.expr) -> str:
        match node:
            case ast.Constant(value=value):
                if value is not None and type(value) not in (bool, int, float, str):
                    raise UnsafeSource(f"the literal {value!r} is not part of the language")
                return self.emitter.constant(value)
            case ast.List(elts=items):
                return "[" + ", ".join(self.write(item) for item in items) + "]"
            case ast.Name(id=name):
                return self.name(name)
            case ast.Attribute(value=ast.Name(id="member"), attr=attr):
                return f"attributes.get({self.emitter.literal(attr)})"
            case ast.Attribute(value=ast.Name(id="event"), attr=attr):
                return f"fields.get({self.emitter.literal(attr)})"
            case ast.BoolOp(op=op, values=values):
                joiner = " and " if isinstance(op, ast.And) else " or "
                return "(" + joiner.join(f"bool({self.write(v)})" for v in values) + ")"
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return f"(not bool({self.write(operand)}))"
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return self.call(evaluation.negated, operand)
            case ast.BinOp(op=op, left=left, right=right) if type(op) in evaluation.ARITHMETIC:
                return self.call(evaluation.arithmetic(type(op)), left, right)
            case ast.Compare():
                return self.compare(node)
            case ast.Call(func=ast.Name(id=name), args=args, keywords=[]):
                return self.function(name, args)
        raise UnsafeSource(f"{type(node).__name__} is not part of the language")

    def name(self, name: str) -> str:
        if name in LITERAL_NAMES:
            return self.emitter.literal(LITERAL_NAMES[name])
        if name == "node":
            return "node"
        if name == "now":
            return "at"
        if name == "entered_at":
            return "state.entered_at"
        return self.metric(name)

    def metric(self, name: str) -> str:
        if name not in self.slots:
            raise UnsafeSource("a guard reads only the journey's metrics")
        index, read = self.slots[name]
        slot = f"slots[{self.emitter.literal(index)}]"
        if read is None:
            return slot
        reading = f"{self.emitter.value(read)}({slot}, stamp)"
        local = self.memo.get(name)
        if local is None:
            return reading
        unread = self.emitter.value(self.unread)
        return f"({local} if {local} is not {unread} else ({local} := {reading}))"

    def call(self, function: object, *arguments: ast.expr) -> str:
        written = ", ".join(self.write(argument) for argument in arguments)
        return f"{self.emitter.value(function)}({written})"

    def compare(self, node: ast.Compare) -> str:
        for op in node.ops:
            if type(op) not in _COMPARISONS:
                raise UnsafeSource(f"the operator {type(op).__name__} is not part of the language")
        threshold = self.threshold(node)
        if threshold is not None:
            return threshold
        values = [node.left, *node.comparators]
        tests = [evaluation.comparison(type(op)) for op in node.ops]
        if len(tests) == 1:
            return self.call(tests[0], values[0], values[1])
        # A chain reads each operand once, then tests every pair (as the interpreter does).
        chain = self.emitter.value(evaluation.chained(tuple(tests)))
        return f"{chain}([{', '.join(self.write(v) for v in values)}])"

    def threshold(self, node: ast.Compare) -> str | None:
        """``metric op NUMBER``, inline: true when the metric is a number that passes."""
        if len(node.ops) != 1 or type(node.ops[0]) not in _ORDER_TEXT:
            return None
        left, right = node.left, node.comparators[0]
        if not (isinstance(left, ast.Name) and isinstance(right, ast.Constant)):
            return None
        if left.id in LITERAL_NAMES or left.id in _BUILT_IN_NAMES:
            return None
        if not evaluation.is_number(right.value):
            return None
        local = self.emitter.name()
        bound = self.emitter.constant(right.value)
        operator = _ORDER_TEXT[type(node.ops[0])]
        return (
            f"((type({local} := {self.metric(left.id)}) is int or type({local}) is float)"
            f" and {local} {operator} {bound})"
        )

    def function(self, name: str, args: list[ast.expr]) -> str:
        if name == "days_since" and len(args) == 1:
            return f"{self.emitter.value(evaluation.days_between)}({self.write(args[0])}, at)"
        if name == "days_between" and len(args) == 2:
            return self.call(evaluation.days_between, *args)
        if name in ("min", "max") and len(args) >= 2:
            return self.call(evaluation.extreme(name), *args)
        if name in ("abs", "round") and len(args) == 1:
            return self.call(evaluation.absolute if name == "abs" else evaluation.rounded, *args)
        raise UnsafeSource(f"{name}() with {len(args)} arguments is not part of the language")
