"""Message templates: ``{name}`` placeholders in an incentive's ``message``.

A placeholder names a metric, a non-pii attribute, ``node``, ``offering`` or ``incentive``;
nothing else is substituted: no conversions, attribute access or indexing. One format is
allowed, for numbers: ``{name:.Nf}`` with N from 0 to 9 writes the value as Python's
``format(value, ".Nf")``. Braces are doubled to be written literally (``{{`` and ``}}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from topo.journey.expressions import Problem
from topo.journey.suggestions import did_you_mean

__all__ = [
    "NUMBER_FORMAT",
    "TEMPLATE_NAMES",
    "Placeholder",
    "check_template",
    "compile_template",
    "placeholders",
]

TEMPLATE_NAMES = frozenset({"node", "offering", "incentive"})
"""The built-in placeholders besides metrics and non-pii attributes."""

NUMBER_FORMAT = re.compile(r"\.([0-9])f")
"""The one format a placeholder may have (after its ``:``): ``.Nf``, N decimals, N from 0 to 9."""

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A ``{name}`` or ``{name:format}`` in a template, with the offsets of its braces."""

    text: str
    """What stands between the braces."""
    start: int
    end: int

    @property
    def name(self) -> str:
        """The name, without the format and the spaces around it."""
        return self.text.partition(":")[0].strip()

    @property
    def format(self) -> str | None:
        """What follows the first ``:`` (None without one)."""
        _, colon, spec = self.text.partition(":")
        return spec if colon else None


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


def check_template(
    template: str,
    known: set[str],
    pii: set[str],
    not_numbers: Mapping[str, str] | None = None,
) -> Iterator[Problem]:
    """Every problem of ``template`` given the ``known`` placeholder names and ``pii`` ones.

    ``not_numbers`` maps the names whose value can never be a number to what they are
    (``"text"``, ``"a date attribute"``, ...): a number format on one of them is a problem.
    """
    for item in placeholders(template):
        if isinstance(item, Problem):
            yield item
            return
        name, start, end = item.name, item.start, item.end
        if not _IDENTIFIER.fullmatch(name):
            yield Problem("invalid-template", _shape_message(item.text), start, end)
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
        elif item.format is not None:
            yield from _format_problems(item, (not_numbers or {}).get(name))


def _format_problems(item: Placeholder, not_a_number: str | None) -> Iterator[Problem]:
    spec = item.format or ""
    begin = item.start + 1 + item.text.index(":") + 1  # just past the colon
    end = item.end - 1
    if not NUMBER_FORMAT.fullmatch(spec):
        digits = re.findall(r"[0-9]+", spec)
        near = len(digits) == 1 and int(digits[0]) <= 9
        hint = (
            f"did you mean {{{item.name}:.{int(digits[0])}f}}?"
            if near
            else f"as in {{{item.name}:.2f}}"
        )
        message = (
            f"{{{item.text}}}: the only format is .Nf, a number with N decimals "
            f"(N from 0 to 9); {hint}"
        )
        yield Problem("invalid-format", message, begin - 1 if begin == end else begin, end)
    elif not_a_number is not None:
        message = (
            f"{{{item.text}}}: {item.name} is {not_a_number}, never a number, and {spec} "
            f"writes numbers only; write {{{item.name}}}"
        )
        yield Problem("format-not-a-number", message, item.start, item.end)


def _shape_message(inside: str) -> str:
    if not inside.strip():
        return "an empty placeholder {}; name what to show, as in {node}"
    if "!" in inside:
        return f"{{{inside}}}: conversions are not supported; write {{name}} or {{name:.2f}}"
    if "." in inside or "[" in inside:
        return f"{{{inside}}}: attribute access and indexing are not supported; write {{name}}"
    return f"{{{inside}}} is not a placeholder; write {{name}} with a metric or attribute name"


Template = Callable[[Mapping[str, object]], str]


def compile_template(template: str) -> Template:
    """A checked template as a function from values (by placeholder name) to the message.

    Values are written as Python's ``str()`` would, timestamps and dates as their RFC 3339
    text, numbers under ``.Nf`` as ``format(value, ".Nf")``, and null (or a name the values
    lack) as empty text. The caller passes only what a message may show: metrics, non-pii
    attributes, ``node``, ``offering``, ``incentive``.
    """
    parts: list[str | tuple[str, str | None]] = []
    cursor = 0
    for item in placeholders(template):
        if isinstance(item, Problem):
            raise ValueError(f"not a valid template: {item.message}")
        parts.append(_literal(template[cursor : item.start]))
        parts.append((item.name, item.format))
        cursor = item.end
    parts.append(_literal(template[cursor:]))
    return lambda values: "".join(
        part if isinstance(part, str) else _written(values.get(part[0]), part[1]) for part in parts
    )


def _literal(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def _written(value: object, spec: str | None = None) -> str:
    if value is None:
        return ""
    if spec is not None and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            text = format(value, spec)
        except OverflowError:  # an int past the floats: its exact digits, as decimals
            text = format(Decimal(value), spec)
        # a tiny negative sum rounds to -0.00: a customer reads 0.00
        return text[1:] if text.startswith("-") and not text.strip("-0.,% ") else text
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
