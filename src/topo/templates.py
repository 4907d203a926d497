"""Message templates: ``{name}`` placeholders in an incentive's ``message``.

A placeholder names a metric, a non-pii attribute, ``node``, ``offering`` or ``incentive``;
nothing else is substituted: no format specs, conversions, attribute access or indexing. Braces
are doubled to be written literally (``{{`` and ``}}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from topo.expressions import Problem
from topo.suggestions import did_you_mean

__all__ = ["TEMPLATE_NAMES", "Placeholder", "check_template", "placeholders"]

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
