"""Suppressions: ``# topo: disable=T506, unused-metric`` turns codes off for one file.

The comment stands on a line of its own, anywhere in the file, and names codes (``T506``) or
names (``overlapping-moves``), separated by commas. A suppression that suppresses nothing is
reported itself (T109), so that stale ones do not pile up; so is one that names no code. Problems
of reading the file (T1xx) and the notice that some analysis did not run (T519) cannot be
suppressed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from topo.diagnostics import Diagnostic
from topo.journey.codes import CODES, make
from topo.journey.source import Document, Span
from topo.journey.suggestions import did_you_mean

__all__ = ["Suppression", "apply_suppressions", "suppressions_in"]

_COMMENT = re.compile(r"^(\s*#\s*topo:\s*disable\s*=\s*)(.*?)\s*$")
_BY_KEY = {key: code.code for code in CODES for key in (code.code, code.name)}


@dataclass(frozen=True, slots=True)
class Suppression:
    """One code named in a ``# topo: disable=`` comment, and where it is written."""

    word: str
    code: str | None
    span: Span


def suppressions_in(text: str, inside_text: frozenset[int] = frozenset()) -> Iterator[Suppression]:
    """Every code named in the text's suppression comments, in order.

    ``inside_text`` holds the lines that belong to a multi-line string value: a line there that
    looks like a comment is part of the string, not a suppression.
    """
    for row, line in enumerate(text.splitlines(), start=1):
        match = _COMMENT.match(line)
        if match is None or row in inside_text:
            continue
        column = len(match.group(1)) + 1
        for word in match.group(2).split(","):
            stripped = word.strip()
            offset = word.index(stripped) if stripped else 0
            span = Span(row, column + offset, row, column + offset + len(stripped))
            if stripped:
                yield Suppression(stripped, _BY_KEY.get(stripped), span)
            column += len(word) + 1


def apply_suppressions(
    diagnostics: list[Diagnostic], document: Document, *, not_run: Collection[str] = ()
) -> list[Diagnostic]:
    """The diagnostics that no suppression turns off, and a T109 for each idle suppression.

    Problems of reading the file (T1xx) cannot be suppressed: a file that cannot be read must
    not pass because of a comment in it; nor can the notice that some analysis did not run
    (T519), so that it is never silent. Suppressions of the codes in ``not_run`` (the checks
    that did not run because of errors) are not judged: they may be needed later.
    """
    found = list(suppressions_in(document.source.text, _string_lines(document)))
    misplaced = [
        make("unused-suppression", _MISPLACED, document.file, span) for span in _trailing(document)
    ]
    if not found:
        return [*diagnostics, *misplaced]
    codes = {s.code for s in found if s.code is not None and not _unsuppressible(s.code)}
    kept = [d for d in diagnostics if d.code not in codes]
    used = {d.code for d in diagnostics if d.code in codes}
    for suppression in found:
        message = _idle(suppression, used, not_run)
        if message is not None:
            kept.append(make("unused-suppression", message, document.file, suppression.span))
    return [*kept, *misplaced]


def _unsuppressible(code: str) -> bool:
    return code.startswith("T1") or code == _SKIPPED


_SKIPPED = next(code.code for code in CODES if code.name == "analysis-skipped")
_SUPPRESSIBLE = [key for key, code in _BY_KEY.items() if not _unsuppressible(code)]


def _idle(suppression: Suppression, used: set[str], not_run: Collection[str]) -> str | None:
    """Why a suppression does nothing, or None when it does something (or cannot be judged)."""
    code = suppression.code
    if code is None:
        hint = did_you_mean(suppression.word, _SUPPRESSIBLE)
        return f"{suppression.word!r} is no diagnostic code or name{hint}"
    if code.startswith("T1"):
        return f"{suppression.word} is a problem of reading the file; it cannot be suppressed"
    if code == _SKIPPED:
        return (
            f"{suppression.word} says which checks did not run; it cannot be suppressed "
            "(fix the errors that stop them instead)"
        )
    if code in used or code in not_run:
        return None
    return f"nothing in this file is reported as {suppression.word}; remove the suppression"


_MISPLACED = (
    "a suppression after other text on its line suppresses nothing; "
    "put `# topo: disable=...` on a line of its own"
)
_TRAILING = re.compile(r"\s*[^\s#].*?(#\s*topo:\s*disable\b)")


def _trailing(document: Document) -> Iterator[Span]:
    """Suppression comments written after other text on their line (outside string values)."""
    source = document.source
    inside = sorted((s.start, s.end) for s in source.scalars.values())
    starts = [start for start, _ in inside]
    offset = 0
    for row, line in enumerate(source.text.splitlines(keepends=True), start=1):
        match = _TRAILING.match(line)
        if match is not None and not _COMMENT.match(line):
            index = offset + match.start(1)
            if not _in_a_string(index, inside, starts):
                column = match.start(1) + 1
                yield Span(row, column, row, column + len(match.group(1)))
        offset += len(line)


def _in_a_string(index: int, inside: list[tuple[int, int]], starts: list[int]) -> bool:
    """Whether ``index`` falls inside one of the (sorted, disjoint) string spans ``inside``;
    a binary search, so that a file of many commented lines is not read once per line."""
    at = bisect.bisect_right(starts, index) - 1
    return at >= 0 and inside[at][0] <= index < inside[at][1]


def _string_lines(document: Document) -> frozenset[int]:
    """The lines after the first of every multi-line string value (block or folded text)."""
    source = document.source
    lines: set[int] = set()
    for scalar in source.scalars.values():
        first, _ = source.position(scalar.start)
        last, _ = source.position(max(scalar.end - 1, scalar.start))
        lines.update(range(first + 1, last + 1))
    return frozenset(lines)
