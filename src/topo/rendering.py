"""Renderers: diagnostics as text for people and as JSON for tools.

Each renderer takes the diagnostics (already sorted) and the number of files checked and returns
the whole output as one string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from topo.diagnostics import Diagnostic, Severity

__all__ = ["FORMATS", "render_json", "render_text", "summary"]

JSON_SCHEMA_VERSION = 1


def render_text(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """One ``path:line:col: severity CODE message`` line per diagnostic."""
    return "".join(f"{d.render()}\n" for d in diagnostics)


def render_json(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """A JSON document: the format version, counts, and every diagnostic as an object."""
    errors, warnings = _counts(diagnostics)
    document = {
        "version": JSON_SCHEMA_VERSION,
        "files": files,
        "errors": errors,
        "warnings": warnings,
        "diagnostics": [d.to_dict() for d in diagnostics],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def summary(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """A one-line summary for people: ``4 files checked: 2 errors, 1 warning``."""
    errors, warnings = _counts(diagnostics)
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if not errors and not warnings:
        return f"{checked}: no problems"
    parts = [f"{errors} error{'s' if errors != 1 else ''}"]
    parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"{checked}: {', '.join(parts)}"


def _counts(diagnostics: Sequence[Diagnostic]) -> tuple[int, int]:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    return errors, len(diagnostics) - errors


FORMATS: dict[str, Callable[[Sequence[Diagnostic], int], str]] = {
    "text": render_text,
    "json": render_json,
}
