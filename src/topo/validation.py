"""The validation pipeline: load, shape, references, guards, analysis; and the public entry points.

``topo.validate()`` reports every problem of every file and never raises. ``topo.load_journey()``
returns the journey model or raises :class:`topo.InvalidJourney` with all the diagnostics.

The contract tells two kinds of problem apart. A journey that **cannot run** breaks the format,
its references, expressions or messages (codes T1xx-T4xx, and T511/T512: rules of the format
that the analysis finds); ``load_journey`` refuses it. A journey that runs but is **badly
designed** has only *findings* of the analysis (unreachable nodes, dead ends, guards that never
hold ...) and warnings: it is a draft, ``load_journey`` returns it (so that it can be rehearsed),
and :func:`findings_of` gives its findings; ``load_journey(path, strict=True)`` refuses it too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path as FilePath

from topo.analysis.checks import CHECKS, FORMAT_RULES, analyse, codes_not_run
from topo.diagnostics import Diagnostic, Severity, sort_key
from topo.errors import InvalidJourney, UsageError
from topo.journey.codes import make
from topo.journey.guards import check_guards
from topo.journey.journey_texts import Beside, remember
from topo.journey.loader import load_file, load_text
from topo.journey.model import Journey
from topo.journey.references import check_references
from topo.journey.shape import build_journey
from topo.journey.source import Document, Span
from topo.journey.suggestions import suggestion_budget
from topo.journey.suppressions import apply_suppressions

__all__ = [
    "cannot_run",
    "check_document",
    "draft_report",
    "find_journeys",
    "findings_of",
    "load_journey",
    "validate",
    "validate_text",
]

JOURNEY_SUFFIXES = (".yaml", ".yml")
_NOT_JOURNEYS = tuple(
    f".{kind}{suffix}" for kind in ("scenarios", "personas") for suffix in JOURNEY_SUFFIXES
)
"""Files beside journeys that a folder walk skips: scenario files (``topo test``) and personas
files (``topo simulate --personas``)."""

StrPath = str | os.PathLike[str]


def check_document(
    document: Document, *, analysis: bool = True, earlier: Sequence[Diagnostic] = ()
) -> tuple[Journey | None, list[Diagnostic]]:
    """The journey model of a loaded document and all its problems; the model is None when
    one of them means that the journey cannot run (see :func:`cannot_run`).

    ``earlier`` are the problems found while reading the document (a duplicate key ...): they
    too make parts of it unsound to analyse. The analysis runs as far as it is sound on what
    loaded, and says which of its checks did not run (T519); ``analysis=False`` skips it.
    """
    with suggestion_budget():  # thousands of misspellings must not cost hours of hints
        return _check(document, analysis, earlier)


def _check(
    document: Document, analysis: bool, earlier: Sequence[Diagnostic]
) -> tuple[Journey | None, list[Diagnostic]]:
    shaped = build_journey(document)
    diagnostics = list(shaped.diagnostics)
    site = shaped.site(document)
    not_run = _ANALYSIS_CODES
    if site is not None:
        diagnostics += check_references(site)
        diagnostics += check_guards(site)
        if analysis:
            errors = [d for d in [*earlier, *diagnostics] if d.severity is Severity.ERROR]
            not_run = codes_not_run(site, errors)
            diagnostics += analyse(site, errors)
    diagnostics = apply_suppressions(diagnostics, document, not_run=not_run)
    diagnostics.sort(key=sort_key)
    if shaped.journey is None or any(cannot_run(d) for d in [*earlier, *diagnostics]):
        return None, diagnostics
    remember(shaped.journey, document.source.text)
    return shaped.journey, diagnostics


_ANALYSIS_CODES = frozenset(code for check in CHECKS for code in check.codes)


def cannot_run(diagnostic: Diagnostic) -> bool:
    """Whether ``diagnostic`` means that its journey cannot run: an error of the format, its
    references, expressions or messages. The other errors are findings of the analysis about
    a journey that runs but is badly designed (a draft)."""
    if diagnostic.severity is not Severity.ERROR:
        return False
    return not diagnostic.code.startswith("T5") or diagnostic.code in FORMAT_RULES


def find_journeys(paths: Iterable[StrPath]) -> list[FilePath]:
    """The journey files that ``paths`` name: files as given, folders searched for *.yaml/*.yml
    (but not scenario files, ``*.scenarios.yaml``, which ``topo test`` reads, nor personas
    files, ``*.personas.yaml``, which ``topo simulate`` reads).

    Raises :class:`topo.UsageError` for a path that does not exist or a folder without journeys.
    """
    found: list[FilePath] = []
    for raw in paths:
        path = FilePath(raw)
        kind = _kind_of(raw)
        if kind == "folder":
            inside = sorted(_journey_files(path))
            if not inside:
                raise UsageError(f"{path}: no journey files (*.yaml, *.yml) in this folder")
            found += inside
        elif kind == "file":
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not found:
        raise UsageError("no journey files given")
    return found


def _kind_of(raw: StrPath) -> str:
    """What ``raw`` names: ``folder``, ``file`` (anything else that is there: the load stage
    refuses what is not a regular file) or ``missing``; a :class:`UsageError` saying why when
    it cannot even be looked at (a name too long, a loop of links, no permission)."""
    if not os.fspath(raw):
        raise UsageError("an empty path names no file or folder")
    try:
        found = os.stat(raw)
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as exc:
        shown = str(raw) if len(str(raw)) <= 80 else str(raw)[:80] + "..."
        raise UsageError(f"{shown}: {exc.strerror or exc}") from None
    return "folder" if stat.S_ISDIR(found.st_mode) else "file"


def _journey_files(folder: FilePath) -> Iterator[FilePath]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            beside = name.endswith(_NOT_JOURNEYS)  # scenarios for topo test, personas
            if name.endswith(JOURNEY_SUFFIXES) and not name.startswith(".") and not beside:
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
    _, diagnostics = check_document(loaded.document, earlier=loaded.diagnostics)
    return sorted([*loaded.diagnostics, *diagnostics], key=sort_key)


def validate_text(text: str, file: str = "<string>") -> list[Diagnostic]:
    """Every problem of a journey given as text; ``file`` is how diagnostics call it."""
    loaded = load_text(text, file)
    if loaded.document is None:
        return list(loaded.diagnostics)
    _, diagnostics = check_document(loaded.document, earlier=loaded.diagnostics)
    return sorted([*loaded.diagnostics, *diagnostics], key=sort_key)


def load_journey(path: StrPath, *, strict: bool = False, analysis: bool = True) -> Journey:
    """The journey in the file at ``path``.

    Raises :class:`topo.InvalidJourney` when the journey cannot run: the file has an error of
    the format, its references, expressions or messages (or cannot be read); its
    ``diagnostics`` list every problem of the file. A journey that runs but is badly designed
    (a draft: only findings of the analysis, such as a dead end, and warnings) is returned, and
    :func:`findings_of` gives those findings. With ``strict=True`` a journey with any finding
    or warning is refused too, as ``topo validate --strict`` fails it.

    ``analysis=False`` skips the analysis (T5xx) altogether: nothing is looked for, and
    :func:`findings_of` gives None. It is for tools that compare or draw any well-formed
    journey and need no findings; it cannot be combined with ``strict=True``.
    """
    if strict and not analysis:
        raise ValueError(
            "strict=True refuses a journey with findings of the analysis, and analysis=False "
            "skips the analysis; choose one"
        )
    file = FilePath(path)
    try:
        kind = _kind_of(path)
    except UsageError as exc:
        what = str(exc).split(": ", 1)[-1]
        raise InvalidJourney([make("unreadable", what, str(path), Span(1, 1, 1, 1))]) from None
    if kind != "file":  # other kinds of file than regular ones are refused by load_file
        what = "is a folder; give one journey file" if kind == "folder" else "no such file"
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
        journey, more = check_document(
            loaded.document, analysis=analysis, earlier=loaded.diagnostics
        )
        problems += more
    problems.sort(key=sort_key)
    if journey is None or (strict and problems):
        raise InvalidJourney(problems)
    if analysis:
        _FINDINGS.put(journey, tuple(problems))
    return journey


_FINDINGS: Beside[tuple[Diagnostic, ...]] = Beside()


def findings_of(journey: Journey) -> tuple[Diagnostic, ...] | None:
    """The findings of a journey that :func:`load_journey` returned: every diagnostic that
    ``topo.validate`` reports for its file, in file order, with the severity it gives them (an
    error among them makes ``topo validate`` fail: the journey runs as a draft). Empty for a
    journey without problems; None for a journey that was not loaded by ``load_journey`` or
    was loaded with ``analysis=False``, whose findings nobody looked for."""
    return _FINDINGS.get(journey)


def draft_report(
    file: str, findings: Sequence[Diagnostic], *, strict_option: str = "--strict"
) -> list[str]:
    """The lines that tell a person running a journey about its findings: each finding as a
    warning (``path:line:col: warning CODE message``: the journey runs), then one line that
    says whether ``topo validate`` fails it and that ``strict_option`` refuses it. No lines
    when there is no finding."""
    if not findings:
        return []
    lines = [replace(d, severity=Severity.WARNING).render() for d in findings]
    errors = sum(1 for d in findings if d.severity is Severity.ERROR)
    warnings = len(findings) - errors
    if errors:
        counts = f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
        lines.append(
            f"topo: {file} runs as a draft: `topo validate` fails it ({counts} above); "
            f"{strict_option} refuses it"
        )
    else:
        lines.append(f"topo: {file} runs with {_count(warnings, 'warning')} (above); "
                     f"{strict_option} refuses it")  # fmt: skip
    return lines


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
