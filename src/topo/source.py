"""Source positions: where every key and value of a journey file stands.

The loader hands the later stages a :class:`Document`: the plain data and a :class:`SourceMap`
from document paths (``("moves", 2, "when")``) to :class:`Span` s. Every later stage points at
the file through it, down to a character inside an expression.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Document", "Path", "ScalarSource", "SourceMap", "Span"]

Path = tuple[str | int, ...]

# Characters the YAML scalar styles put in the source without carrying them into the value:
# quotes, escapes, indentation and folded line breaks.
_SKIPPABLE = frozenset(" \t\r\n'\"\\")
_WHITESPACE = frozenset(" \t\r\n")


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A stretch of a file: 1-based line and column of its start, and of just past its end."""

    line: int
    column: int
    end_line: int
    end_column: int


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

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        self._line_starts = starts

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
        offsets = _align(self.strings.get(path, ""), self.text, scalar)
        first = offsets[min(start, len(offsets) - 1)]
        last = offsets[min(max(end, start + 1), len(offsets)) - 1] + 1
        return Span(*self.position(first), *self.position(last))


def _prefixes(path: Path) -> Sequence[Path]:
    return [path[:n] for n in range(len(path), -1, -1)]


def _align(value: str, text: str, scalar: ScalarSource) -> list[int]:
    """For each character of ``value``, the offset in ``text`` where it is written.

    A greedy walk: value characters appear in the source in order, with only quotes, escape
    backslashes, indentation and line breaks between them. A character that cannot be found
    (an escape such as ``\\t``) takes the place of the one before it.
    """
    j = scalar.start
    if scalar.style in ("'", '"'):
        j += 1
    elif scalar.style in ("|", ">"):
        newline = text.find("\n", j)
        j = newline + 1 if newline >= 0 else j
    offsets: list[int] = []
    for ch in value:
        k = j
        wanted_space = ch in _WHITESPACE
        while k < scalar.end:
            here = text[k]
            if here == ch or (wanted_space and here in _WHITESPACE):
                break
            if here not in _SKIPPABLE:
                k = scalar.end
                break
            k += 1
        if k >= scalar.end:
            offsets.append(offsets[-1] if offsets else j)
            continue
        offsets.append(k)
        j = k + 1
    return offsets or [scalar.start]


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded journey file: its plain data and where each part of it stands."""

    file: str
    data: Any
    source: SourceMap
