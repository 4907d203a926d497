"""The values each name of a journey's expressions can take, as ``conditions.Values``.

A ``count`` is a whole number from 0, a ``sum`` of a field with ``min: 0`` is never negative,
an optional event field may be null, a ``one_of`` field takes only its listed values, and so on.
The guard checks intersect what a guard asks with these domains, so that ``purchases < 0`` is
seen as impossible and a ``one_of`` field compared with a value outside the list is too.
"""

from __future__ import annotations

from collections.abc import Iterable

from topo.analysis.conditions import INF, Interval, Values
from topo.journey.model import NUMBER_TYPES, Attribute, EventField, Journey, Metric

__all__ = ["domains_for", "replace_null"]

_TEXTS = Values(null=True, numbers=(), others=frozenset(), others_excluded=True)
_TIMESTAMPS = _TEXTS  # compared with numbers a timestamp gives false: no number is in it


def domains_for(
    journey: Journey, event_types: Iterable[str] = (), nodes: Iterable[str] = ()
) -> dict[str, Values]:
    """The domain of every name a guard may use, for a guard on ``event_types`` at ``nodes``."""
    domains: dict[str, Values] = {}
    for metric_id, metric in journey.metrics.items():
        domains[metric_id] = _metric(journey, metric)
    for attribute_id, attribute in journey.attributes.items():
        domains[f"member.{attribute_id}"] = _typed(attribute.type, nullable=True)
    types = list(event_types)
    if len(types) == 1 and types[0] in journey.events:
        for field_id, field in journey.events[types[0]].fields.items():
            domains[f"event.{field_id}"] = _field(field)
    if len(types) == 1 and types[0] == "profile":
        for attribute_id, attribute in journey.attributes.items():
            domains[f"event.{attribute_id}"] = _attribute_field(attribute)
    places = frozenset(nodes)
    if places:
        domains["node"] = Values(null=False, numbers=(), others=places, others_excluded=False)
    return domains


def _typed(value_type: str, nullable: bool, low: float = -INF, high: float = INF) -> Values:
    if value_type in NUMBER_TYPES:
        interval = Interval(low, high, low > -INF, high < INF)
        return Values(nullable, (interval,), frozenset(), False, integral=value_type == "int")
    if value_type == "bool":
        return Values(nullable, (), frozenset({True, False}), False)
    return replace_null(_TEXTS, nullable)


def replace_null(values: Values, nullable: bool) -> Values:
    """``values`` with null allowed or not."""
    return Values(nullable, values.numbers, values.others, values.others_excluded, values.integral)


def _field(field: EventField) -> Values:
    nullable = not field.required
    if field.one_of is not None:
        numbers = tuple(
            Interval(v, v)
            for v in field.one_of
            if isinstance(v, int | float) and not isinstance(v, bool)
        )
        others = frozenset(
            v for v in field.one_of if not isinstance(v, int | float) or isinstance(v, bool)
        )
        return Values(nullable, numbers, others, False, integral=field.type == "int")
    low = -INF if field.min is None else field.min  # Interval copes with any int
    high = INF if field.max is None else field.max
    return _typed(field.type, nullable, low, high)


def _attribute_field(attribute: Attribute) -> Values:
    return _typed(attribute.type, nullable=True)


def _metric(journey: Journey, metric: Metric) -> Values:
    kind = metric.kind
    if kind in ("count", "distinct"):
        return Values(False, (Interval(0, INF, True, False),), frozenset(), False, integral=True)
    if kind in ("first_at", "last_at"):
        return _TIMESTAMPS
    field = _source_field(journey, metric)
    if field is None:
        return Values()
    if kind == "sum":
        low = 0.0 if field.min is not None and field.min >= 0 else -INF
        return Values(
            False, (Interval(low, INF, low > -INF, False),), frozenset(), False, field.type == "int"
        )
    return replace_null(_field(field), True)  # min, max, last: null before the first event


def _source_field(journey: Journey, metric: Metric) -> EventField | None:
    event = journey.events.get(metric.event_type)
    if event is None or metric.field is None:
        return None
    return event.fields.get(metric.field)
