"""Message templates: ``{name}`` placeholders in an incentive's ``message``.

A placeholder names a metric, a non-pii attribute, ``node``, ``offering`` or ``incentive``;
nothing else is substituted: no format specs, conversions, attribute access or indexing. Braces
are doubled to be written literally (``{{`` and ``}}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from topo.journey.expressions import Problem
from topo.journey.suggestions import did_you_mean

__all__ = ["TEMPLATE_NAMES", "Placeholder", "check_template", "compile_template", "placeholders"]

TEMPLATE_NAMES = frozenset({"node", "offering", "incentive"})
"""The built-in placeholders besides metrics and non-pii attributes."""

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A ``{name}`` in a template, with the offsets of its braces."""

    name: str
    start: int
    end: int


def placeholders(template: str) -> Iterator[Placeholder | Problem]:
    """The placeholders of ``template`` in order, or the problem that stops the reading."""
    i = 0
    while i < len(template):
        ch = template[i]
        if template.startswith(("{{", "}}"), i):
            i += 2
            continue
        if ch == "}":
            yield Problem(
                "invalid-template", "a lone '}'; write '}}' for a literal brace", i, i + 1
            )
            return
        if ch != "{":
            i += 1
            continue
        close = template.find("}", i + 1)
        opening = template.find("{", i + 1)
        if close < 0 or (0 <= opening < close):
            yield Problem(
                "invalid-template",
                "a '{' is never closed; write '{{' for a literal brace",
                i,
                i + 1,
            )
            return
        yield Placeholder(template[i + 1 : close], i, close + 1)
        i = close + 1


def check_template(template: str, known: set[str], pii: set[str]) -> Iterator[Problem]:
    """Every problem of ``template`` given the ``known`` placeholder names and ``pii`` ones."""
    for item in placeholders(template):
        if isinstance(item, Problem):
            yield item
            return
        name, start, end = item.name.strip(), item.start, item.end
        if not _IDENTIFIER.fullmatch(name):
            yield Problem("invalid-template", _shape_message(item.name), start, end)
        elif name in pii:
            message = f"{{{name}}} is a pii attribute; it may never appear in a message"
            yield Problem("pii-placeholder", message, start, end)
        elif name not in known:
            hint = did_you_mean(name, known)
            message = (
                f"{{{name}}} names nothing a message can show (metrics, non-pii "
                f"attributes, node, offering, incentive){hint}"
            )
            yield Problem("unknown-placeholder", message, start, end)


def _shape_message(inside: str) -> str:
    if not inside.strip():
        return "an empty placeholder {}; name what to show, as in {node}"
    if ":" in inside or "!" in inside:
        return f"{{{inside}}}: format specs and conversions are not supported; write {{name}}"
    if "." in inside or "[" in inside:
        return f"{{{inside}}}: attribute access and indexing are not supported; write {{name}}"
    return f"{{{inside}}} is not a placeholder; write {{name}} with a metric or attribute name"


Template = Callable[[Mapping[str, object]], str]


def compile_template(template: str) -> Template:
    """A checked template as a function from values (by placeholder name) to the message.

    Values are written as Python's ``str()`` would, timestamps and dates as their RFC 3339
    text, and null (or a name the values lack) as empty text. The caller passes only what a
    message may show: metrics, non-pii attributes, ``node``, ``offering``, ``incentive``.
    """
    parts: list[str | Placeholder] = []
    cursor = 0
    for item in placeholders(template):
        if isinstance(item, Problem):
            raise ValueError(f"not a valid template: {item.message}")
        parts.append(_literal(template[cursor : item.start]))
        parts.append(Placeholder(item.name.strip(), item.start, item.end))
        cursor = item.end
    parts.append(_literal(template[cursor:]))
    return lambda values: "".join(
        part if isinstance(part, str) else _written(values.get(part.name)) for part in parts
    )


def _literal(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def _written(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
