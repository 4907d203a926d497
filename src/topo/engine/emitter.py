"""Writing Python source from a journey, under rules that keep the journey's text data.

The journey compiler (:mod:`topo.engine.generated`) turns a validated journey into Python
functions. A journey is text someone else wrote, so everything it contributes to that source
goes through this module, under four rules, each enforced here and tested
(``tests/engine/test_journey_compiler.py``):

1. **Literals through one door.** :meth:`Emitter.literal` writes exactly ``str``, ``int``,
   ``bool``, ``None`` and finite ``float`` values as source (``repr`` of the exact type: a ``str``
   subclass could override ``repr``; ``repr`` of ``inf`` or ``nan`` would be a bare name), and
   refuses everything else. Any other value (a list, a set, a function, a huge integer) is handed
   to the code as a value with :meth:`Emitter.value`, under a name the emitter makes.
2. **Names are the emitter's.** Every identifier in the output comes from :meth:`Emitter.name`
   (``_`` and a number), from the fixed names of :data:`FIXED_NAMES`, or from a builtin of
   :data:`BUILTINS`. No text of the journey becomes a name or a comment.
3. **Checked before it is compiled.** :meth:`Emitter.compile` parses the source again and
   refuses it unless every name it loads, stores or deletes is one of those, every attribute
   it touches is one of :data:`ATTRIBUTES`, and it has no import, ``global``, lambda or class.
   The emitter writes none of these, so a refusal means a defect: it is raised, never worked
   around.
4. **Run with nothing else.** The code runs with a namespace of the values it was handed and a
   ``__builtins__`` of exactly :data:`BUILTINS`; nothing is written to disk or cached there.

Expressions are emitted by an explicit match on the syntax node kinds of the language
(:mod:`topo.engine.guard_source`), never by ``ast.unparse`` of the journey's text.
"""

from __future__ import annotations

import ast
import builtins
import functools
import math
import re
from collections.abc import Callable, Set
from types import CodeType
from typing import Any

__all__ = ["ATTRIBUTES", "BUILTINS", "FIXED_NAMES", "Emitter", "UnsafeSource"]

BUILTINS: frozenset[str] = frozenset(
    {"bool", "dict", "float", "int", "iter", "len", "next", "str", "type"}
)
"""The builtins generated code may use."""

FIXED_NAMES: frozenset[str] = frozenset(
    {
        "raw",
        "journal",
        "state",
        "slots",
        "stamp",
        "at",
        "at_text",
        "fields",
        "attributes",
        "node",
        "out",
        "occasion",
        "member",
        "event_id",
        "seen",
        "earlier",
        "value",
        "kind",
        "target",
        "source",
        "visited",
        "moved",
        "mark",
        "present",
        "handler",
        "ledger",
        "last",
        "grants",
        "oldest",
        "number",
        "trigger",
        "first",
        "memo",
        "step",
        "looked",
        "origin",
        "holds",
        "found",
        "engine",
        "events",
        "on_reject",
        "error",
    }
)
"""The names generated code uses for its own locals and parameters."""

ATTRIBUTES: frozenset[str] = frozenset(
    {
        # the event's text, its time, dictionaries and lists
        "get", "isascii", "year", "pop", "append", "setdefault", "add", "encode", "hexdigest",
        "join",
        # a member's state (topo.engine.member_state.MemberState)
        "member", "node", "entered_at", "clock", "metrics", "seen", "attributes",
        "last_activity", "history", "ledger", "stay", "grants", "snapshot", "enter",
        # a grant's occasion (topo.engine.engine._Occasion)
        "at", "stamp", "cause", "made", "written",
        # the engine that runs the code: its store (for get), the interpreter's event path
        # (everything but the common event) and the methods both paths share, read on each
        # call so that an engine's own replacements are honoured
        "store", "message", "_interpret", "_keep", "_grant", "_explain", "_fire_until",
    }
)  # fmt: skip
"""The attributes generated code may read or set: nothing else (no ``__class__``...)."""

_MADE = re.compile(r"_[0-9]+")
_LARGEST_LITERAL = 2**63  # beyond this an integer is handed over as a value


class UnsafeSource(RuntimeError):
    """Generated source broke a rule of :mod:`topo.engine.emitter` (a defect in topo)."""


class Emitter:
    """Collects the values generated code is handed, and writes its literals and names."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}
        self._count = 0
        self._by_id: dict[int, str] = {}

    def name(self) -> str:
        """A new identifier, made here: ``_`` and a number."""
        self._count += 1
        return f"_{self._count}"

    def value(self, value: object) -> str:
        """The name under which the code reads ``value`` (one name per object)."""
        known = self._by_id.get(id(value))
        if known is not None and self.namespace[known] is value:
            return known
        made = self.name()
        self.namespace[made] = value
        self._by_id[id(value)] = made
        return made

    def literal(self, value: object) -> str:
        """``value`` as source: only ``str``, ``int``, ``bool``, ``None`` and finite ``float``."""
        kind = type(value)
        if value is None or kind is bool:
            return repr(value)
        if kind is int:
            if -_LARGEST_LITERAL < value < _LARGEST_LITERAL:  # type: ignore[operator]
                return repr(value)
            raise UnsafeSource("a huge integer is handed over as a value, not written")
        if kind is float:
            if not math.isfinite(value):  # type: ignore[arg-type]
                raise UnsafeSource("inf and nan are handed over as values, not written")
            return repr(value)
        if kind is str:
            return str.__repr__(value)
        raise UnsafeSource(f"a {kind.__name__} is handed over as a value, not written")

    def constant(self, value: object) -> str:
        """``value`` as a literal where one is allowed, else as a value handed over."""
        try:
            return self.literal(value)
        except UnsafeSource:
            return self.value(value)

    def compile(self, source: str, label: str) -> dict[str, Callable[..., Any]]:
        """Check ``source`` against the rules, compile and run it; the functions it defines."""
        code = _checked(source, frozenset(self.namespace), label)
        allowed = {name: getattr(builtins, name) for name in BUILTINS}
        scope: dict[str, Any] = {"__builtins__": allowed, **self.namespace}
        exec(code, scope)  # the source passed check(): the emitter's own code, nothing else
        return {
            name: function
            for name, function in scope.items()
            if name not in self.namespace and name != "__builtins__" and callable(function)
        }


@functools.lru_cache(maxsize=256)
def _checked(source: str, handed: frozenset[str], label: str) -> CodeType:
    """``source`` checked and compiled: once per text (engines of one journey share it; the
    cache is this process's memory, never a file)."""
    tree = ast.parse(source)
    check(tree, handed)
    return compile(tree, f"<journey {label}>", "exec")


_FORBIDDEN = (
    ast.Import,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
    ast.Lambda,
    ast.ClassDef,
    ast.AsyncFunctionDef,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
)


def check(source: str | ast.Module, handed: Set[str]) -> None:
    """Raise :class:`UnsafeSource` unless ``source`` (text, or its syntax tree) keeps the
    rules (see the module)."""
    tree = ast.parse(source) if isinstance(source, str) else source
    name, attribute, function = ast.Name, ast.Attribute, ast.FunctionDef
    forbidden = set(_FORBIDDEN)
    for node in ast.walk(tree):
        kind = type(node)
        if kind is name:
            _allowed_name(node.id, handed)  # type: ignore[attr-defined]
        elif kind is attribute:
            if node.attr not in ATTRIBUTES:  # type: ignore[attr-defined]
                raise UnsafeSource(f"generated code may not touch the attribute {node.attr!r}")  # type: ignore[attr-defined]
        elif kind is function:
            _allowed_name(node.name, handed)  # type: ignore[attr-defined]
            for argument in node.args.args:  # type: ignore[attr-defined]
                _allowed_name(argument.arg, handed)
        elif kind in forbidden:
            raise UnsafeSource(f"generated code may not hold {kind.__name__}")


def _allowed_name(name: str, handed: Set[str]) -> None:
    if name in FIXED_NAMES or name in BUILTINS or name in handed or _MADE.fullmatch(name):
        return
    raise UnsafeSource(f"generated code may not use the name {name!r}")
