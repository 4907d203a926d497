"""The registry of diagnostic codes: one entry per kind of problem topo can report.

Codes are stable: tools suppress, count and link them. The hundreds say which stage finds the
problem: T1xx reading the file, T2xx the shape of the format, T3xx expressions and message
templates, T4xx references between sections and the rules of the graph's structure, T5xx the
analysis of the journey as a graph and of its guards, T6xx a personas file checked against its
journey (see ``topo.simulation.personas``; a personas file's YAML and shape problems reuse T1xx
and T2xx). Each code has
a page under ``docs/diagnostics/`` (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from topo.diagnostics import Diagnostic, PathPart, Severity
from topo.journey.source import Span

__all__ = ["CODES", "Code", "code_named", "make"]


@dataclass(frozen=True, slots=True)
class Code:
    """A kind of problem: stable code, short name, severity and a one-line summary."""

    code: str
    name: str
    severity: Severity
    summary: str


_E = Severity.ERROR
_W = Severity.WARNING

CODES: tuple[Code, ...] = (
    # T1xx: reading the file
    Code(
        "T100",
        "unreadable",
        _E,
        "A path names no file, a folder without journeys, or an unreadable file.",
    ),
    Code("T101", "yaml-syntax", _E, "The file is not valid YAML."),
    Code("T102", "duplicate-key", _E, "A mapping has the same key twice."),
    Code("T103", "file-too-large", _E, "The file is larger than the loader accepts."),
    Code("T104", "alias-expansion", _E, "YAML aliases expand to too much data, or to themselves."),
    Code("T105", "not-a-mapping", _E, "The file is empty or its top level is not a mapping."),
    Code("T106", "not-utf8", _E, "The file is not UTF-8 text."),
    Code("T107", "nesting-too-deep", _E, "Mappings and lists are nested deeper than allowed."),
    Code(
        "T108", "unsupported-yaml", _E, "A YAML feature journeys do not use: a tag or complex key."
    ),
    Code(
        "T109",
        "unused-suppression",
        _W,
        "A suppression comment (`# topo: disable=`) suppresses nothing.",
    ),
    # T2xx: the shape of the format
    Code("T201", "unknown-key", _E, "A key the format does not know (often a typo)."),
    Code("T202", "missing-key", _E, "A required key is missing."),
    Code("T203", "wrong-type", _E, "A value has the wrong type (text for a number, ...)."),
    Code("T204", "invalid-value", _E, "A value is outside what the format allows."),
    Code("T205", "invalid-id", _E, "An id or name is not written as the format allows."),
    Code("T206", "reserved-name", _E, "An id or name is a word the format reserves."),
    Code("T207", "invalid-duration", _E, "A duration is not a positive number with a unit."),
    Code("T208", "invalid-percentage", _E, "A percentage is not written as 0% to 100%."),
    Code("T209", "unsupported-format", _E, "The `topo:` format version is not one topo reads."),
    Code("T210", "invalid-field", _E, "An event field declaration contradicts itself."),
    Code("T211", "metric-kind", _E, "A metric has no kind, or more than one."),
    # T3xx: expressions and message templates
    Code("T301", "expression-syntax", _E, "An expression is not valid syntax."),
    Code("T302", "forbidden-construct", _E, "An expression uses something the language excludes."),
    Code("T303", "unknown-name", _E, "An expression names no metric or built-in name."),
    Code(
        "T304",
        "unknown-attribute",
        _E,
        "An expression names an attribute (`member.X`) that is not declared.",
    ),
    Code(
        "T305",
        "unknown-event-field",
        _E,
        "An expression names an event field (`event.X`) its event types lack.",
    ),
    Code("T306", "name-out-of-context", _E, "A name the expression cannot see where it stands."),
    Code("T307", "unknown-function", _E, "A call to a function the language does not have."),
    Code("T308", "wrong-arity", _E, "A function is called with the wrong number of arguments."),
    Code("T309", "invalid-template", _E, "A message template is malformed."),
    Code("T310", "unknown-placeholder", _E, "A message placeholder names nothing known."),
    Code("T311", "pii-placeholder", _E, "A message placeholder names a pii attribute."),
    Code("T312", "invalid-format", _E, "A message placeholder has a format other than `.Nf`."),
    Code(
        "T313",
        "format-not-a-number",
        _E,
        "A message placeholder formats as a number a value that is never one.",
    ),
    # T4xx: references between sections and the structure of the graph
    Code("T401", "unknown-owner", _E, "A node names an owner that is not declared."),
    Code("T402", "unknown-offering", _E, "An incentive names an offering that is not declared."),
    Code("T403", "unknown-node", _E, "A move, reminder or migration names an undeclared node."),
    Code("T404", "unknown-event", _E, "A move, metric or `since` names an undeclared event type."),
    Code("T405", "unknown-incentive", _E, "An incentive id is not declared."),
    Code("T406", "unknown-field", _E, "A metric reads a field its event type does not declare."),
    Code("T407", "unknown-move", _E, "A reminder's `ahead_of` names no move id."),
    Code("T408", "start-count", _E, "The journey has no start node, or more than one."),
    Code("T409", "no-peak", _E, "The journey has no peak node."),
    Code("T410", "move-from-exit", _E, "A move leaves an exit node."),
    Code("T411", "move-into-start", _E, "A move enters the start node."),
    Code("T412", "self-move", _E, "A move goes from a node to itself."),
    Code("T413", "on-or-after", _E, "A move has both `on` and `after`, or neither."),
    Code("T414", "since-without-after", _E, "A move that is not a timer move has `since`."),
    Code("T415", "metric-field-type", _E, "A metric needs a number field but reads another type."),
    Code("T416", "metric-any", _E, "A metric that reads a field counts `any` event type."),
    Code("T417", "exit-incentive", _E, "An exit node grants incentives, or a move into it does."),
    Code("T418", "duplicate-move-id", _E, "Two moves have the same id."),
    Code("T419", "reminder-shape", _E, "A reminder lacks `toward` or `ahead_of`, or mixes them."),
    Code("T420", "invalid-migration", _E, "A migration's version is not older than the journey's."),
    Code("T421", "metric-source", _E, "A metric's source is not written as its kind needs."),
    Code("T422", "name-clash", _E, "A metric and an attribute share a name a message would use."),
    Code("T423", "pii-metric", _E, "A metric carries the value of a pii attribute."),
    # T5xx: analysis of the journey as a graph, and of its guards
    Code("T501", "unreachable-node", _E, "The start cannot reach this node by any moves."),
    Code("T502", "trap", _E, "No peak can be reached from this node, and it is not an exit."),
    Code("T503", "unreachable-peak", _E, "The start cannot reach this peak by any moves."),
    Code("T504", "dead-end", _E, "A checkpoint has no move out of it."),
    Code("T505", "guard-never-holds", _E, "A guard is false for every member, so it never fires."),
    Code("T506", "overlapping-moves", _W, "Two moves out of one node on one event can both hold."),
    Code(
        "T507",
        "backwards-threshold",
        _W,
        "A later move asks for less of a metric than earlier ones.",
    ),
    Code(
        "T508", "timer-before-window", _W, "A timer fires before a window its guard reads is full."
    ),
    Code("T509", "always-moves", _W, "A timer move's guard can never be false."),
    Code(
        "T510", "reminder-unreachable", _E, "A reminder points toward a node its `at` cannot reach."
    ),
    Code(
        "T511",
        "ahead-of-not-timer",
        _E,
        "A reminder's `ahead_of` names a move that is not a timer out of `at`.",
    ),
    Code(
        "T512",
        "reminder-too-early",
        _E,
        "An `ahead_of` reminder's `by` is not shorter than `after`.",
    ),
    Code("T513", "pressure", _W, "A member can collect more grants within `per` than `max`."),
    Code("T514", "unused-owner", _W, "An owner owns no node."),
    Code("T515", "unused-offering", _W, "No incentive is about this offering."),
    Code("T516", "unused-event", _W, "No move, metric or timer looks at this event type."),
    Code("T517", "unused-metric", _W, "No guard or message reads this metric."),
    Code("T518", "unused-incentive", _W, "No move, node or reminder grants this incentive."),
    Code(
        "T519",
        "analysis-skipped",
        _W,
        "Some analysis checks did not run: they read parts of the journey that have errors.",
    ),
    # T6xx: a personas file, checked against its journey
    Code("T601", "distribution-kind", _E, "A distribution has no kind or more than one."),
    Code("T602", "behaviour-kind", _E, "A join, behaviour, repeat or response mixes its forms."),
    Code("T603", "undeclared-event", _E, "A persona names an event type the journey lacks."),
    Code("T604", "undeclared-field", _E, "A persona draws a field its event type lacks."),
    Code("T605", "undeclared-attribute", _E, "A persona draws an attribute the journey lacks."),
    Code(
        "T606", "undeclared-incentive", _E, "A persona responds to an incentive the journey lacks."
    ),
    Code("T607", "shares-total", _E, "Population or choice shares do not add up to 100%."),
    Code("T608", "distribution-type", _E, "A distribution does not fit its value's type."),
    Code("T609", "outside-one-of", _E, "A drawn value is not one of the field's `one_of`."),
    Code(
        "T610",
        "field-without-distribution",
        _E,
        "A persona sends an event type without drawing one of its required fields.",
    ),
    Code("T611", "duplicate-persona", _E, "Two personas have the same id."),
    Code("T612", "profile-behaviour", _E, "A persona sends or responds with the `profile` event."),
    Code(
        "T613",
        "rate-without-repeat",
        _E,
        "A response multiplies the rate of an event type the persona does not repeat.",
    ),
)

_BY_NAME = {c.name: c for c in CODES}


def code_named(name: str) -> Code:
    """The registered code with this short name (a KeyError for a typo in topo itself)."""
    return _BY_NAME[name]


def make(
    name: str, message: str, file: str, span: Span, path: tuple[PathPart, ...] = ()
) -> Diagnostic:
    """A diagnostic of the code named ``name``, at ``span`` of ``file``."""
    code = _BY_NAME[name]
    return Diagnostic(
        code=code.code,
        name=code.name,
        severity=code.severity,
        message=message,
        file=file,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        path=path,
    )
