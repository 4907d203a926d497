"""Renderers: diagnostics as text for people, JSON for tools, GitHub annotations, and SARIF.

Each renderer takes the diagnostics (already sorted) and the number of files checked and returns
the whole output as one string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from topo._version import __version__
from topo.diagnostics import Diagnostic, Severity
from topo.journey.codes import CODES

__all__ = ["FORMATS", "render_github", "render_json", "render_sarif", "render_text", "summary"]

JSON_SCHEMA_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


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


def render_github(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """GitHub Actions workflow commands: each diagnostic an inline annotation on a pull request."""
    lines = []
    for d in diagnostics:
        properties = ",".join(
            f"{key}={_github_property(str(value))}"
            for key, value in (
                ("file", d.file),
                ("line", d.line),
                ("col", d.column),
                ("endLine", d.end_line),
                ("endColumn", d.end_column),
                ("title", f"{d.code} {d.name}"),
            )
        )
        lines.append(f"::{d.severity} {properties}::{_github_data(d.message)}\n")
    return "".join(lines)


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def render_sarif(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """SARIF 2.1.0, for code-scanning tools that show findings inline."""
    index = {code.code: i for i, code in enumerate(CODES)}
    rules = [
        {
            "id": code.code,
            "name": code.name,
            "shortDescription": {"text": code.summary},
            "help": {"text": f"{code.summary} See docs/diagnostics/{code.code}.md in topo."},
            "defaultConfiguration": {"level": _sarif_level(code.severity)},
        }
        for code in CODES
    ]
    results = [_sarif_result(d, index[d.code]) for d in diagnostics]
    driver = {
        "name": "topo",
        "version": __version__,
        "rules": rules,
    }
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _sarif_result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    region = {
        "startLine": d.line,
        "startColumn": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
    }
    location = {
        "physicalLocation": {
            "artifactLocation": {"uri": _artifact_uri(d.file)},
            "region": region,
        }
    }
    return {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _sarif_level(d.severity),
        "message": {"text": d.message},
        "locations": [location],
    }


def _artifact_uri(file: str) -> str:
    """A file as a SARIF artifact URI: relative to the working folder where it lies below it
    (code-scanning tools resolve those against the repository), else an absolute file URI;
    percent-encoded either way, so that spaces, ``#`` and ``%`` in names survive."""
    path = PurePath(file)
    if path.is_absolute():
        try:
            path = Path(file).resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return Path(file).resolve().as_uri()
    return quote(path.as_posix(), safe="/")


def _sarif_level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


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
    "github": render_github,
    "sarif": render_sarif,
}
