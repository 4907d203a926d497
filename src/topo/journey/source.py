"""Source positions: where every key and value of a journey file stands.

The loader hands the later stages a :class:`Document`: the plain data and a :class:`SourceMap`
from document paths (``("moves", 2, "when")``) to :class:`Span` s. Every later stage points at
the file through it, down to a character inside an expression.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from topo.diagnostics import Span

__all__ = ["Document", "Path", "ScalarSource", "SourceMap", "Span"]

Path = tuple[str | int, ...]

# Characters the YAML scalar styles put in the source without carrying them into the value:
# quotes, escapes, indentation and folded line breaks.
_SKIPPABLE = frozenset(" \t\r\n'\"\\")
_WHITESPACE = frozenset(" \t\r\n")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}


@dataclass(frozen=True, slots=True)
class ScalarSource:
    """Where a string scalar's text stands in the file, to locate characters inside it."""

    start: int
    end: int
    style: str | None


@dataclass(slots=True)
class SourceMap:
    """Spans of every key and value of one document, and a locator for text inside strings."""

    text: str
    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)
    scalars: dict[Path, ScalarSource] = field(default_factory=dict)
    strings: dict[Path, str] = field(default_factory=dict)
    _line_starts: list[int] = field(default_factory=list, init=False, repr=False)
    _aligned: dict[Path, tuple[ScalarSource, str, list[int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # The line breaks YAML knows: \n, \r (alone or before \n), NEL, LS and PS.
        self._line_starts = [0, *(m.end() for m in _LINE_BREAK.finditer(self.text))]

    def position(self, index: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset in the file's text."""
        row = bisect.bisect_right(self._line_starts, index) - 1
        return row + 1, index - self._line_starts[row] + 1

    def value(self, path: Path) -> Span:
        """The span of the value at ``path``, or of its nearest ancestor that has one."""
        for prefix in _prefixes(path):
            if prefix in self.values:
                return self.values[prefix]
        return Span(1, 1, 1, 1)

    def key(self, path: Path) -> Span:
        """The span of the mapping key that holds ``path``; its value's span for list items."""
        for prefix in _prefixes(path):
            if prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Span(1, 1, 1, 1)

    def inside(self, path: Path, start: int, end: int) -> Span:
        """The span of characters ``start:end`` of the string value at ``path``.

        Quotes, escapes and folded line breaks make a string's characters stand elsewhere in
        the file than in the value; each character is aligned with its place in the source.
        Falls back to the whole value when the path holds no string scalar.
        """
        scalar = self.scalars.get(path)
        if scalar is None:
            return self.value(path)
        offsets = self._offsets(path, scalar)
        first = offsets[min(start, len(offsets) - 1)]
        last = offsets[min(max(end, start + 1), len(offsets)) - 1] + 1
        return Span(*self.position(first), *self.position(last))

    def _offsets(self, path: Path, scalar: ScalarSource) -> list[int]:
        """Where each character of the string at ``path`` is written, aligned once per string:
        a long guard with thousands of problems is walked once, not once per problem."""
        value = self.strings.get(path, "")
        cached = self._aligned.get(path)
        if cached is not None and cached[0] is scalar and cached[1] is value:
            return cached[2]
        offsets = _align(value, self.text, scalar)
        self._aligned[path] = (scalar, value, offsets)
        return offsets


def _prefixes(path: Path) -> Sequence[Path]:
    return [path[:n] for n in range(len(path), -1, -1)]


def _align(value: str, text: str, scalar: ScalarSource) -> list[int]:
    """For each character of ``value``, the offset in ``text`` where it is written.

    A greedy walk: value characters appear in the source in order, with only quotes,
    indentation and line breaks between them. In a double-quoted string an escape
    (``\\t``, ``\\x41``, ``\\u00e9``) is one character of the value, placed at its backslash.
    """
    j = scalar.start
    if scalar.style in ("'", '"'):
        j += 1
    elif scalar.style in ("|", ">"):
        newline = text.find("\n", j)
        j = newline + 1 if newline >= 0 else j
    escapes = scalar.style == '"'
    offsets: list[int] = []
    for ch in value:
        found = _find(ch, text, j, scalar.end, escapes)
        if found is None:
            offsets.append(offsets[-1] if offsets else j)
            continue
        at, j = found
        offsets.append(at)
    return offsets or [scalar.start]


def _find(ch: str, text: str, start: int, end: int, escapes: bool) -> tuple[int, int] | None:
    """Where ``ch`` is written from ``start`` on, and where the next character's search starts."""
    wanted_space = ch in _WHITESPACE
    k = start
    while k < end:
        here = text[k]
        if escapes and here == "\\" and k + 1 < end:
            following = text[k + 1]
            if following in "\r\n":  # an escaped line break joins the next line, whose
                k += 2  # indentation is dropped: neither stands for a character
                while k < end and text[k] in " \t\r\n":
                    k += 1
                continue
            if following == ch:  # \" and \\ write the character itself after the backslash
                return k + 1, k + 2
            decoded, length = _escape(text, k)
            return (k, k + length) if decoded == ch else None
        if here == ch or (wanted_space and here in _WHITESPACE):
            return k, k + 1
        if here not in _SKIPPABLE:
            return None
        k += 1
    return None


def _escape(text: str, k: int) -> tuple[str, int]:
    """The character a double-quoted escape at ``text[k]`` stands for, and its length."""
    letter = text[k + 1]
    digits = _ESCAPE_DIGITS.get(letter)
    if digits is None:
        return _ESCAPES.get(letter, letter), 2
    try:
        return chr(int(text[k + 2 : k + 2 + digits], 16)), 2 + digits
    except ValueError:
        return letter, 2


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded journey file: its plain data and where each part of it stands."""

    file: str
    data: Any
    source: SourceMap
