"""Diagnostics: what is wrong with a journey, where, and how bad.

A :class:`Diagnostic` is frozen data. Checks *yield* diagnostics and never raise; the caller
decides what a diagnostic means (``topo validate`` prints them and fails on an error;
``topo.load_journey`` raises :class:`topo.InvalidJourney` when an error means the journey cannot
run, and loads a draft whose errors are only findings of the analysis: see
:func:`topo.validation.cannot_run`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Diagnostic", "PathPart", "Severity", "Span", "sort_key"]

PathPart = str | int


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A stretch of a file: 1-based line and column of its start, and of just past its end."""

    line: int
    column: int
    end_line: int
    end_column: int


class Severity(StrEnum):
    """How bad a diagnostic is: an error fails ``topo validate`` (and, unless it is a finding
    of the analysis about a draft, stops the journey from running); a warning does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one file, at one place.

    ``line`` and ``column`` are 1-based and point at the first character of the problem;
    ``end_line`` and ``end_column`` point just past its last character. ``path`` is the
    place in the document (``("moves", 2, "when")``), empty for the file as a whole.
    """

    code: str
    name: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    path: tuple[PathPart, ...] = field(default=())

    @property
    def span(self) -> Span:
        """Where the diagnostic points, as a :class:`Span`."""
        return Span(self.line, self.column, self.end_line, self.end_column)

    def render(self) -> str:
        """The diagnostic as one line: ``path:line:col: severity CODE message``.

        A line break in the message becomes a space, so that one diagnostic is one line.
        """
        message = " ".join(self.message.splitlines())
        return f"{self.file}:{self.line}:{self.column}: {self.severity} {self.code} {message}"

    def to_dict(self) -> dict[str, Any]:
        """The diagnostic as plain JSON-ready data (the ``--format json`` shape)."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "path": list(self.path),
        }


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str, str]:
    """Order diagnostics by file, then position, then code, then message."""
    d = diagnostic
    return (d.file, d.line, d.column, d.code, d.message)
