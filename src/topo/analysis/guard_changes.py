"""How two versions of a guard (or an event filter) differ, and the shape a guard keeps.

Guards are compared as syntax trees (parsed with :func:`topo.journey.expressions.parse`, never
evaluated), so re-spacing a guard is no change, and a guard in which only the number of a
comparison changed is reported as a threshold that was raised or lowered. A guard's shape
(:func:`guard_shape`) is its tree with those numbers taken out, so that a move whose threshold
changed is still found to be the same move.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from topo.analysis.change_wording import show
from topo.journey.expressions import parse

__all__ = ["GuardChange", "guard_changes", "guard_shape"]

Number = int | float
GuardChange = tuple[str, str | Number | None, str | Number | None]
"""One difference of a guard: the sentence for people, and the values before and after."""

_PLACEHOLDER = "_number_"  # not a valid name of the language, so it cannot clash


def guard_changes(label: str, was: str | None, now: str | None) -> Iterator[GuardChange]:
    """How a guard (``label``: ``guard`` or ``filter``) changed: added, removed, a threshold
    raised or lowered (one difference a threshold), or changed; nothing if only re-spaced."""
    if was is None or now is None:
        detail = f"{label} {show(now)} added" if was is None else f"{label} {show(was)} removed"
        yield detail, was, now
        return
    thresholds = _thresholds(was, now)
    if thresholds is None:
        yield f"{label} changed from {show(was)} to {show(now)}", was, now
        return
    for subject, before, after in thresholds:
        direction = "raised" if after > before else "lowered"
        yield f"threshold of {subject} {direction} from {before} to {after}", before, after


def guard_shape(when: str | None) -> str | None:
    """A guard with the numbers of its comparisons taken out (None: no guard)."""
    if when is None:
        return None
    tree = parse(when)
    return ast.dump(_Thresholds().visit(tree)) if isinstance(tree, ast.Expression) else when


def _thresholds(was: str, now: str) -> list[tuple[str, Number, Number]] | None:
    """The comparisons whose number changed, when nothing else did; None when more changed.

    An empty list means the two texts are the same expression (only spacing or quotes differ).
    """
    old_tree, new_tree = parse(was), parse(now)
    if not isinstance(old_tree, ast.Expression) or not isinstance(new_tree, ast.Expression):
        return None
    old_numbers, new_numbers = _Thresholds(), _Thresholds()
    if ast.dump(old_numbers.visit(old_tree)) != ast.dump(new_numbers.visit(new_tree)):
        return None
    return [
        (subject, before, after)
        for (subject, before), (_, after) in zip(old_numbers.found, new_numbers.found, strict=True)
        if before != after
    ]


class _Thresholds(ast.NodeTransformer):
    """Takes the numbers out of comparisons, noting what each number was compared with."""

    def __init__(self) -> None:
        self.found: list[tuple[str, Number]] = []

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        operands = [node.left, *node.comparators]
        for i, operand in enumerate(operands):
            number = _number(operand)
            neighbours = [operands[k] for k in (i - 1, i + 1) if 0 <= k < len(operands)]
            subjects = [n for n in neighbours if not isinstance(_strip(n), ast.Constant)]
            if number is not None and subjects:
                self.found.append((ast.unparse(subjects[0]), number))
                operands[i] = ast.Name(id=_PLACEHOLDER, ctx=ast.Load())
        node.left, node.comparators = operands[0], operands[1:]
        self.generic_visit(node)
        return node


def _strip(node: ast.expr) -> ast.expr:
    """``-5`` as the constant 5, anything else as it is."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    return node


def _number(node: ast.expr) -> Number | None:
    """The number a comparison operand is (``-5`` too), or None when it is not a number."""
    inner = _strip(node)
    if not isinstance(inner, ast.Constant) or isinstance(inner.value, bool):
        return None
    if not isinstance(inner.value, int | float):
        return None
    return -inner.value if inner is not node else inner.value
