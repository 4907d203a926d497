"""The expression language of ``when:`` and ``where:``: parsing and checking.

Expressions have Python's surface syntax and are parsed with :mod:`ast`, but they are data:
nothing is ever evaluated as Python. :func:`check` walks the tree, allows only the constructs
the format lists, resolves every name against a :class:`Scope`, and yields a :class:`Problem`
for everything else, with the character offsets of the offending part.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeGuard

from topo.journey.model import FUNCTION_NAMES, number_problem
from topo.journey.suggestions import did_you_mean

__all__ = ["ARITY", "LITERAL_NAMES", "Problem", "Scope", "check", "parse", "parsed"]

LITERAL_NAMES = {"true": True, "false": False, "null": None}
"""Lowercase literals the language adds to Python's ``True``, ``False`` and ``None``."""

ARITY: dict[str, tuple[int, int | None]] = {
    "days_since": (1, 1),
    "days_between": (2, 2),
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "round": (1, 1),
}
"""Each function's least and most number of arguments (None: no limit)."""

assert set(ARITY) == set(FUNCTION_NAMES)

_BOOL_OPS = (ast.And, ast.Or)
_UNARY_OPS = (ast.Not, ast.USub)
_BIN_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod)
_COMPARE_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.MatMult: "@",
    ast.UAdd: "unary +",
    ast.Invert: "~",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_CONSTRUCT_TEXT = {
    ast.Subscript: "subscripts (x[0])",
    ast.Slice: "slices",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.IfExp: "conditional expressions (x if c else y)",
    ast.Dict: "mappings ({...})",
    ast.Set: "sets ({...})",
    ast.Tuple: "tuples",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "assignments (:=)",
    ast.Starred: "starred arguments (*x)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_THOUSANDS = re.compile(r"[0-9],[0-9]{3}(?![0-9])")
_DURATION_IN_TEXT = re.compile(r"(?<![\w.])[0-9]+[smhdw](?![\w])")
_OTHER_LANGUAGES = {"===": "==", "!==": "!=", "=>": ">=", "=<": "<=", "&&": "and", "||": "or"}
"""Operators of other languages that people write by habit, and what this language writes."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What an expression may name where it stands.

    ``event_fields`` maps each event type the expression sees to its declared fields; None
    means ``event.*`` is not available here, and ``event_context`` says why, for the message.
    """

    metrics: frozenset[str]
    attributes: frozenset[str]
    event_fields: Mapping[str, frozenset[str]] | None = None
    event_context: str = "event fields can be used only in a move with `on` or a metric's `where`"
    position: bool = True
    position_context: str = ""
    metrics_context: str = ""
    extra: frozenset[str] = field(default=frozenset())

    def names(self) -> Iterator[str]:
        """Every plain name the expression could use here (for suggestions), read lazily: a
        suggestion that is not made does not pay for the journey's metrics."""
        yield "now"
        yield from LITERAL_NAMES
        yield from self.extra
        if self.position:
            yield from ("node", "entered_at")
        if not self.metrics_context:
            yield from self.metrics


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in an expression: the diagnostic's name, a message, and where.

    ``start`` and ``end`` are character offsets into the expression text.
    """

    name: str
    message: str
    start: int
    end: int


def parse(text: str) -> ast.Expression | Problem:
    """The syntax tree of ``text``, or the syntax problem with its offsets.

    Line breaks (from YAML block or folded scalars) count as spaces, so a long guard may be
    written over several lines; offsets stay those of ``text``. The tree is the caller's own.
    """
    return _parse(text)


@functools.lru_cache(maxsize=65536)
def parsed(text: str) -> ast.Expression | Problem:
    """:func:`parse`, cached by text, for readers only: the tree is shared and must not change.

    Every check reads every guard, and journeys repeat guards; this keeps it to one parse.
    """
    return _parse(text)


def _parse(text: str) -> ast.Expression | Problem:
    stripped = text.lstrip()
    lead = len(text) - len(stripped)
    flat = stripped.replace("\r", " ").replace("\n", " ").rstrip()
    if not flat:
        return Problem("expression-syntax", "the expression is empty", 0, max(len(text), 1))
    try:
        with warnings.catch_warnings():  # Python's warnings (an escape like '\d') are not
            warnings.simplefilter("ignore")  # the author's; under -W error they would refuse
            tree = ast.parse(flat, mode="eval")
    except (RecursionError, MemoryError):
        return Problem("expression-syntax", _TOO_DEEP, lead, lead + len(flat))
    except SyntaxError as exc:
        # SyntaxError.offset is 1-based and in characters; 0 means "at the end of the text".
        duration = _DURATION_IN_TEXT.search(_QUOTED.sub(lambda m: " " * len(m.group(0)), flat))
        if duration is not None:
            message = (
                f"invalid expression: {duration.group(0)!r} is a duration, not a value; "
                "compare a number of days, as in days_since(last_purchase) <= 14"
            )
            start, end = duration.span()
            return Problem("expression-syntax", message, lead + start, lead + end)
        for written, meant in _OTHER_LANGUAGES.items():
            found = flat.find(written)
            if found >= 0:
                message = (
                    f"invalid expression: {written!r} is not an operator here; write {meant!r}"
                )
                return Problem(
                    "expression-syntax", message, lead + found, lead + found + len(written)
                )
        detail = (exc.msg or "invalid syntax").replace("Perhaps you forgot a comma?", "").strip()
        if not exc.offset or exc.offset > len(flat):
            offset = len(flat) - 1
            detail = "the expression ends too early" if detail == "invalid syntax" else detail
        else:
            offset = exc.offset - 1
            if flat[offset] == "=" and detail == "invalid syntax":
                detail = "'=' is not a comparison; write '=='"
        return Problem(
            "expression-syntax", f"invalid expression: {detail}", lead + offset, lead + offset + 1
        )
    if _depth(tree) > MAX_DEPTH:  # every reader of the tree recurses; keep them all safe
        return Problem("expression-syntax", _TOO_DEEP, lead, lead + len(flat))
    if not flat.isascii():
        foreign = _non_ascii_name(flat)
        if foreign is not None:
            return Problem(
                "expression-syntax",
                f"invalid expression: {foreign[0]!r} is not written in plain letters a-z, digits "
                "and '_'; Python would read it as another name",
                lead + foreign[1],
                lead + foreign[1] + len(foreign[0]),
            )
    if lead or not flat.isascii():  # otherwise ast's byte columns are already the offsets
        _shift(tree, flat, lead)
    return tree


def check(text: str, scope: Scope) -> Iterator[Problem]:
    """Every problem of the expression ``text`` in ``scope``, in the order they stand."""
    tree = parsed(text)
    if isinstance(tree, Problem):
        yield tree
        return
    yield from _Checker(scope, text).visit(tree.body)


MAX_DEPTH = 64
"""How deeply an expression may nest; real guards need a handful of levels."""

_TOO_DEEP = f"invalid expression: it nests more than {MAX_DEPTH} levels deep; split it up"


def _non_ascii_name(text: str) -> tuple[str, int] | None:
    """A name written with letters beyond ASCII (fullwidth letters, ligatures) and its offset.

    Python folds such names to others (NFKC), so the guard would name something it does not
    show; names of the language are plain ASCII.
    """
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME and not token.string.isascii():
                return token.string, token.start[1]
    except (tokenize.TokenError, SyntaxError):
        return None
    return None


def _depth(tree: ast.AST) -> int:
    """The depth of a syntax tree, measured without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _char_offset(line: str, byte_offset: int) -> int:
    """ast counts columns in UTF-8 bytes; positions here are characters."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _shift(tree: ast.AST, flat: str, lead: int) -> None:
    """Rewrite every node's columns from UTF-8 bytes of ``flat`` to characters of the text."""
    for node in ast.walk(tree):
        if hasattr(node, "col_offset"):
            node.col_offset = lead + _char_offset(flat, node.col_offset)
            end = getattr(node, "end_col_offset", None)
            shifted = None if end is None else lead + _char_offset(flat, end)
            node.end_col_offset = shifted  # type: ignore[attr-defined]


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _span(node: ast.AST) -> tuple[int, int]:
    start: int = getattr(node, "col_offset", 0)
    end: int | None = getattr(node, "end_col_offset", None)
    return start, end if end is not None else start + 1


class _Checker:
    def __init__(self, scope: Scope, text: str) -> None:
        self.scope = scope
        self.text = text

    def problem(self, name: str, message: str, node: ast.AST) -> Problem:
        return Problem(name, message, *_span(node))

    def visit(self, node: ast.AST) -> Iterator[Problem]:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            what = _CONSTRUCT_TEXT.get(type(node), type(node).__name__)
            yield self.problem("forbidden-construct", f"{what} are not part of the language", node)
            return
        yield from method(node)

    def visit_all(self, nodes: list[ast.expr]) -> Iterator[Problem]:
        for child in nodes:
            yield from self.visit(child)

    def visit_Tuple(self, node: ast.Tuple) -> Iterator[Problem]:
        start, end = _span(node)
        if _THOUSANDS.search(self.text[start:end]):  # 1,500 is read by Python as a tuple
            message = "a comma inside a number: write 1500, not 1,500 (no thousands separators)"
        else:
            message = "tuples are not part of the language; write lists as [a, b]"
        yield self.problem("forbidden-construct", message, node)

    def visit_BoolOp(self, node: ast.BoolOp) -> Iterator[Problem]:
        yield from self.visit_all(node.values)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Iterator[Problem]:
        if not isinstance(node.op, _UNARY_OPS):
            start = _span(node)[0]
            text = _OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)
            message = f"the operator {text!r} is not part of the language"
            yield Problem("forbidden-construct", message, start, start + 1)
        value = node.operand.value if isinstance(node.operand, ast.Constant) else None
        if isinstance(node.op, ast.USub) and _is_number(value):  # -9223372036854775808 is in
            yield from self.number(node, -value)  # range, though its digits alone are not
            return
        yield from self.visit(node.operand)

    def visit_BinOp(self, node: ast.BinOp) -> Iterator[Problem]:
        yield from self.visit(node.left)
        if not isinstance(node.op, _BIN_OPS):
            yield self.operator(node.op, node.left, node.right)
        yield from self.visit(node.right)

    def visit_Compare(self, node: ast.Compare) -> Iterator[Problem]:
        yield from self.visit(node.left)
        left: ast.expr = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if not isinstance(op, _COMPARE_OPS):
                hint = (
                    "; compare with == or != instead" if isinstance(op, ast.Is | ast.IsNot) else ""
                )
                yield self.operator(op, left, right, hint)
            yield from self.visit(right)
            left = right

    def operator(self, op: ast.AST, left: ast.AST, right: ast.AST, hint: str = "") -> Problem:
        """A forbidden operator, pointed at where it is written between its operands."""
        text = _OPERATOR_TEXT.get(type(op), type(op).__name__)
        between_start, between_end = _span(left)[1], _span(right)[0]
        written = text.removeprefix("unary ").split()[0]
        found = self.text.find(written, between_start, between_end)
        start = found if found >= 0 else between_start
        end = start + len(text.removeprefix("unary ")) if found >= 0 else between_end
        message = f"the operator {text!r} is not part of the language{hint}"
        return Problem("forbidden-construct", message, start, end)

    def visit_Constant(self, node: ast.Constant) -> Iterator[Problem]:
        if node.value is not None and not isinstance(node.value, bool | int | float | str):
            what = {bytes: "byte strings are", complex: "complex numbers are"}.get(
                type(node.value), f"the literal {'...' if node.value is ... else node.value!r} is"
            )
            yield self.problem("forbidden-construct", f"{what} not part of the language", node)
        elif _is_number(node.value):
            yield from self.number(node, node.value)

    def number(self, node: ast.AST, value: int | float) -> Iterator[Problem]:
        """A number literal outside the range of numbers (``1e400`` too, which Python reads as
        infinity); ``node`` is the literal, with its sign."""
        start, end = _span(node)
        problem = number_problem(value, self.text[start:end])
        if problem is not None:
            yield Problem("forbidden-construct", problem, start, end)

    def visit_List(self, node: ast.List) -> Iterator[Problem]:
        yield from self.visit_all(node.elts)

    def visit_Name(self, node: ast.Name) -> Iterator[Problem]:
        problem = self.name_problem(node.id)
        if problem is not None:
            yield self.problem(problem[0], problem[1], node)

    def name_problem(self, name: str) -> tuple[str, str] | None:
        scope = self.scope
        if name in LITERAL_NAMES or name == "now" or name in scope.extra:
            return None
        if name in ("node", "entered_at"):
            return (
                None
                if scope.position
                else ("name-out-of-context", f"{name!r} {scope.position_context}")
            )
        if name in scope.metrics:
            return (
                None
                if not scope.metrics_context
                else ("name-out-of-context", f"the metric {name!r}: {scope.metrics_context}")
            )
        if name.startswith("__"):
            return "forbidden-construct", f"the name {name!r}: names with '__' are not allowed"
        if name in ("member", "event"):
            return (
                "forbidden-construct",
                f"write {name}.NAME to use a {name} {'attribute' if name == 'member' else 'field'}",
            )
        if name in FUNCTION_NAMES:
            return "forbidden-construct", f"{name} is a function; call it, as in {name}(...)"
        hint = did_you_mean(name, scope.names())
        return (
            "unknown-name",
            f"unknown name {name!r}: no metric or built-in name is called so{hint}",
        )

    def visit_Attribute(self, node: ast.Attribute) -> Iterator[Problem]:
        owner = node.value
        if not isinstance(owner, ast.Name) or owner.id not in ("member", "event"):
            message = "attribute access is allowed only as member.NAME or event.NAME"
            yield self.problem("forbidden-construct", message, node)
            return
        if node.attr.startswith("__"):
            message = f"the name {node.attr!r}: names with '__' are not allowed"
            yield self.problem("forbidden-construct", message, node)
        elif owner.id == "member":
            yield from self.member(node)
        else:
            yield from self.event(node)

    def member(self, node: ast.Attribute) -> Iterator[Problem]:
        if node.attr not in self.scope.attributes:
            hint = did_you_mean(node.attr, self.scope.attributes)
            message = f"member.{node.attr}: no attribute {node.attr!r} is declared{hint}"
            yield self.problem("unknown-attribute", message, node)

    def event(self, node: ast.Attribute) -> Iterator[Problem]:
        fields = self.scope.event_fields
        if fields is None:
            yield self.problem(
                "name-out-of-context", f"event.{node.attr}: {self.scope.event_context}", node
            )
            return
        lacking = sorted(kind for kind, names in fields.items() if node.attr not in names)
        if not lacking:
            return
        if len(lacking) == len(fields):
            known = set().union(*fields.values()) if fields else set()
            types = ", ".join(repr(t) for t in sorted(fields))
            message = f"event.{node.attr}: the event type {types} declares no field {node.attr!r}"
            if len(fields) > 1:
                message = (
                    f"event.{node.attr}: none of the event types {types} declares {node.attr!r}"
                )
            message += did_you_mean(node.attr, known)
        else:
            names = ", ".join(repr(t) for t in lacking)
            message = (
                f"event.{node.attr}: every event type seen here must declare "
                f"{node.attr!r}, and {names} does not"
            )
        yield self.problem("unknown-event-field", message, node)

    def visit_Call(self, node: ast.Call) -> Iterator[Problem]:
        func = node.func
        if isinstance(func, ast.Attribute):
            message = "methods cannot be called; only the built-in functions can"
            yield self.problem("forbidden-construct", message, func)
            yield from self.visit_all(node.args)
            return
        if not isinstance(func, ast.Name):  # abs(x)(1), -1(), ''(): a value is not a function
            start, end = _span(func)
            callee = (
                self.text[start:end] if end - start <= 30 else self.text[start : start + 29] + "…"
            )
            message = (
                f"{callee} cannot be called; only the built-in functions can, by name "
                f"({', '.join(FUNCTION_NAMES)})"
            )
            yield self.problem("forbidden-construct", message, func)
            yield from self.visit_all(node.args)
            return
        if func.id not in ARITY:
            hint = did_you_mean(func.id, ARITY)
            listed = ", ".join(FUNCTION_NAMES)
            message = f"{func.id}() is not a function of the language ({listed}){hint}"
            yield self.problem("unknown-function", message, func)
        elif any(isinstance(arg, ast.Starred) for arg in node.args):
            pass  # the starred argument is reported below; its count is unknown
        elif node.keywords:
            yield self.problem(
                "forbidden-construct",
                "keyword arguments are not part of the language",
                node.keywords[0],
            )
        else:
            yield from self.arity(func.id, node)
        yield from self.visit_all(node.args)

    def arity(self, name: str, node: ast.Call) -> Iterator[Problem]:
        least, most = ARITY[name]
        count = len(node.args)
        if count < least or (most is not None and count > most):
            wanted = f"{least}" if least == most else f"at least {least}"
            plural = "s" if (most or least) != 1 else ""
            message = f"{name}() takes {wanted} argument{plural}, not {count}"
            yield self.problem("wrong-arity", message, node)
