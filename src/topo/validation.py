"""The validation pipeline: load, shape, references, guards; and the public entry points.

``topo.validate()`` reports every problem of every file and never raises; ``topo.load_journey()``
returns the journey model or raises :class:`topo.InvalidJourney` with all the diagnostics.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path as FilePath

from topo.analysis import analyse
from topo.codes import make
from topo.diagnostics import Diagnostic, Severity, sort_key
from topo.errors import InvalidJourney, UsageError
from topo.guards import check_guards
from topo.journey_texts import remember
from topo.loader import load_file, load_text
from topo.model import Journey
from topo.references import check_references
from topo.shape import build_journey
from topo.source import Document, Span
from topo.suggestions import suggestion_budget
from topo.suppressions import apply_suppressions

__all__ = ["check_document", "find_journeys", "load_journey", "validate", "validate_text"]

JOURNEY_SUFFIXES = (".yaml", ".yml")

StrPath = str | os.PathLike[str]


def check_document(
    document: Document, *, analysis: bool = True
) -> tuple[Journey | None, list[Diagnostic]]:
    """The journey model of a loaded document (None if it has errors) and all its problems."""
    with suggestion_budget():  # thousands of misspellings must not cost hours of hints
        return _check(document, analysis)


def _check(document: Document, analysis: bool) -> tuple[Journey | None, list[Diagnostic]]:
    shaped = build_journey(document)
    diagnostics = list(shaped.diagnostics)
    site = shaped.site(document)
    if site is not None:
        diagnostics += check_references(site)
        diagnostics += check_guards(site)
    analysed = analysis and site is not None and not _has_error(diagnostics)
    if site is not None and analysed:
        diagnostics += analyse(site)  # findings on a broken journey would be guesses
    diagnostics = apply_suppressions(diagnostics, document, analysed=analysed)
    diagnostics.sort(key=sort_key)
    if _has_error(diagnostics) or shaped.journey is None:
        return None, diagnostics
    remember(shaped.journey, document.source.text)
    return shaped.journey, diagnostics


def _has_error(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def find_journeys(paths: Iterable[StrPath]) -> list[FilePath]:
    """The journey files that ``paths`` name: files as given, folders searched for *.yaml/*.yml
    (but not scenario files, ``*.scenarios.yaml``, which ``topo test`` reads).

    Raises :class:`topo.UsageError` for a path that does not exist or a folder without journeys.
    """
    found: list[FilePath] = []
    for raw in paths:
        path = FilePath(raw)
        if path.is_dir():
            inside = sorted(_journey_files(path))
            if not inside:
                raise UsageError(f"{path}: no journey files (*.yaml, *.yml) in this folder")
            found += inside
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not found:
        raise UsageError("no journey files given")
    return found


def _journey_files(folder: FilePath) -> Iterator[FilePath]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            scenarios = name.endswith((".scenarios.yaml", ".scenarios.yml"))  # for topo test
            if name.endswith(JOURNEY_SUFFIXES) and not name.startswith(".") and not scenarios:
                yield FilePath(root) / name


def validate(paths: StrPath | Iterable[StrPath]) -> list[Diagnostic]:
    """Every problem of every journey file under ``paths``, sorted by file and position.

    Never raises: a path that names no journey, or a file that cannot be read, is itself
    reported as a diagnostic (code T100).
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    diagnostics: list[Diagnostic] = []
    for item in items:
        try:
            files = find_journeys([item])
        except UsageError as exc:
            diagnostics.append(
                make("unreadable", str(exc).split(": ", 1)[-1], str(item), Span(1, 1, 1, 1))
            )
            continue
        for file in files:
            diagnostics += _check_file(file)
    return sorted(diagnostics, key=sort_key)


def _check_file(file: FilePath) -> list[Diagnostic]:
    try:
        loaded = load_file(file)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return [make("unreadable", f"cannot read the file: {reason}", str(file), Span(1, 1, 1, 1))]
    if loaded.document is None:
        return list(loaded.diagnostics)
    _, diagnostics = check_document(loaded.document)
    return sorted([*loaded.diagnostics, *diagnostics], key=sort_key)


def validate_text(text: str, file: str = "<string>") -> list[Diagnostic]:
    """Every problem of a journey given as text; ``file`` is how diagnostics call it."""
    loaded = load_text(text, file)
    if loaded.document is None:
        return list(loaded.diagnostics)
    _, diagnostics = check_document(loaded.document)
    return sorted([*loaded.diagnostics, *diagnostics], key=sort_key)


def load_journey(path: StrPath, *, analysis: bool = True) -> Journey:
    """The journey in the file at ``path``.

    Raises :class:`topo.InvalidJourney` when the file has an error (or cannot be read); its
    ``diagnostics`` list every problem. Warnings do not stop loading. With ``analysis=False``
    the journey's analysis (T5xx: reachability, guards, ...) is skipped: a journey that breaks
    only those rules still loads, for tools that compare or draw any well-formed journey.
    """
    file = FilePath(path)
    if file.is_dir() or not file.exists():  # other kinds of file are refused by load_file
        what = "is a folder; give one journey file" if file.is_dir() else "no such file"
        raise InvalidJourney([make("unreadable", what, str(path), Span(1, 1, 1, 1))])
    try:
        loaded = load_file(file, name=str(path))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidJourney(
            [make("unreadable", f"cannot read the file: {reason}", str(path), Span(1, 1, 1, 1))]
        ) from None
    problems = list(loaded.diagnostics)
    journey = None
    if loaded.document is not None:
        journey, more = check_document(loaded.document, analysis=analysis)
        problems += more
    if journey is None or any(d.severity is Severity.ERROR for d in problems):
        raise InvalidJourney(sorted(problems, key=sort_key))
    return journey
