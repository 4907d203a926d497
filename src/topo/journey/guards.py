"""Expression and message checks of a journey: every ``when``, ``where`` and ``message``.

Each place an expression stands decides what it may name (its :class:`Scope`): a move on events
sees the fields that all its event types declare; a timer move or a reminder sees no event; a
metric's ``where`` sees its event, member attributes and ``now``, but no metric and no node.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from topo.diagnostics import Diagnostic
from topo.journey.expressions import Problem, Scope, check
from topo.journey.model import NUMBER_TYPES
from topo.journey.site import Site
from topo.journey.source import Path
from topo.journey.templates import TEMPLATE_NAMES, check_template

__all__ = ["check_guards"]

_TIMER_CONTEXT = (
    "a timer move has no event; use metrics, member attributes, node, now or entered_at"
)
_REMINDER_CONTEXT = "a reminder looks at the member, not at an event; use metrics or attributes"
_WHERE_POSITION = "is not available in a metric's `where`; metrics do not depend on the node"
_WHERE_CONTEXT = "a metric's `where` looks at one event; use event fields, member attributes or now"


def check_guards(site: Site) -> Iterator[Diagnostic]:
    """Every problem of the journey's expressions and message templates."""
    j = site.journey
    base = Scope(metrics=_names(site, "metrics"), attributes=_names(site, "attributes"))
    for metric_id, metric in j.metrics.items():
        if metric.where is not None:
            scope = Scope(
                metrics=base.metrics,
                attributes=base.attributes,
                event_fields=_where_fields(site, metric.event_type),
                position=False,
                position_context=_WHERE_POSITION,
                metrics_context=_WHERE_CONTEXT,
            )
            yield from _expression(site, ("metrics", metric_id, "where"), metric.where, scope)
    for i, move in enumerate(j.moves):
        if move.when is None:
            continue
        if move.on is not None:
            fields = _known_fields(site, move.on)
            scope = Scope(base.metrics, base.attributes, event_fields=fields)
        else:
            scope = Scope(base.metrics, base.attributes, event_context=_TIMER_CONTEXT)
        yield from _expression(site, ("moves", i, "when"), move.when, scope)
    for i, reminder in enumerate(j.reminders):
        if reminder.when is not None:
            scope = Scope(base.metrics, base.attributes, event_context=_REMINDER_CONTEXT)
            yield from _expression(site, ("reminders", i, "when"), reminder.when, scope)
    yield from _messages(site)


def _names(site: Site, section: str) -> frozenset[str]:
    """The names of a section; when some of its entries are broken, every name passes."""
    names = frozenset(getattr(site.journey, section))
    return names | site.ghosts.get(section, frozenset())


def _known_fields(site: Site, event_types: list[str]) -> Mapping[str, frozenset[str]]:
    """The fields of each event type whose fields are known.

    Types that are unknown or broken are left out: their own error is reported, and a second
    one about their fields would only be noise.
    """
    known = {}
    for event_type in event_types:
        fields = site.fields_of(event_type)
        if fields is not None:
            known[event_type] = frozenset(fields)
    return known


def _where_fields(site: Site, event_type: str) -> Mapping[str, frozenset[str]]:
    """The event types a metric's ``where`` may see (for ``any``: all, ``profile`` included)."""
    if event_type == "any":
        return _known_fields(site, sorted(site.event_types()))
    return _known_fields(site, [event_type])


def _messages(site: Site) -> Iterator[Diagnostic]:
    j = site.journey
    pii = {name for name, attribute in j.attributes.items() if attribute.pii}
    known = {*_names(site, "metrics"), *(_names(site, "attributes") - pii), *TEMPLATE_NAMES}
    not_numbers = _not_numbers(site)
    for incentive_id, incentive in j.incentives.items():
        if incentive.message is not None:
            path: Path = ("incentives", incentive_id, "message")
            for problem in check_template(incentive.message, known, pii, not_numbers):
                if not _masked(site, problem):
                    yield _at(site, path, problem)


def _not_numbers(site: Site) -> dict[str, str]:
    """What each placeholder name whose value is never a number is, for ``{name:.Nf}``."""
    j = site.journey
    found = dict.fromkeys(TEMPLATE_NAMES, "text")
    for name, attribute in j.attributes.items():
        if attribute.type not in NUMBER_TYPES:
            found[name] = f"a {attribute.type} attribute"
    for name, metric in j.metrics.items():
        if metric.kind in ("first_at", "last_at"):
            found[name] = f"a time (a {metric.kind} metric)"
        elif metric.kind in ("last", "min", "max") and metric.field is not None:
            fields = site.fields_of(metric.event_type) or {}
            kind = fields.get(metric.field)
            if kind is not None and kind not in NUMBER_TYPES:
                found[name] = f"the {metric.kind} of a {kind} field"
    return found


def _expression(site: Site, path: Path, text: str, scope: Scope) -> Iterator[Diagnostic]:
    for problem in check(text, scope):
        if not _masked(site, problem):
            yield _at(site, path, problem)


def _masked(site: Site, problem: Problem) -> bool:
    """Whether a problem may only be the echo of a section that is broken as a whole."""
    echoes = {
        "unknown-name": "metrics",
        "unknown-attribute": "attributes",
        "unknown-placeholder": "metrics",
    }
    section = echoes.get(problem.name)
    return section in site.broken or (
        problem.name == "unknown-placeholder" and "attributes" in site.broken
    )


def _at(site: Site, path: Path, problem: Problem) -> Diagnostic:
    return site.inside(problem.name, problem.message, path, problem.start, problem.end)
