"""The typed columns of a replay's outputs on Spark: the JSON fields of ``topo replay``'s files.

Triggers and withheld grants have the fields of :meth:`topo.Trigger.to_dict` (``at`` a
timestamp); a state's ``metrics`` and ``attributes`` are structs with a field per metric and
per attribute the journey declares (pii attributes are never written, so never a column),
typed by what each holds. A reject's ``event`` stays JSON text: an event is rejected mostly
for a value of the wrong type, which a typed column could not show.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import types as T

from topo.journey.model import Journey

__all__ = ["REJECT", "TRIGGER", "WITHHELD", "state_schema"]

_TEXT = ("id", "member", "incentive", "channel", "reason", "from", "to", "node")

TRIGGER = T.StructType(
    [T.StructField(name, T.StringType()) for name in _TEXT]
    + [
        T.StructField("at", T.TimestampType()),
        T.StructField("cause", T.StringType()),
        T.StructField("message", T.StringType()),
        T.StructField("cost", T.DoubleType()),
    ]
)
WITHHELD = T.StructType(
    [
        *TRIGGER.fields,
        T.StructField("withheld", T.StringType()),
        T.StructField("cap", T.StringType()),
    ]
)
REJECT = T.StructType(
    [
        T.StructField("event", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("line", T.LongType()),
    ]
)

_VALUES: dict[str, Any] = {
    "int": T.LongType(),
    "float": T.DoubleType(),
    "str": T.StringType(),
    "bool": T.BooleanType(),
    "date": T.DateType(),
    "datetime": T.TimestampType(),
}


def state_schema(journey: Journey) -> T.StructType:
    """A state line's columns for ``journey``: member, node, entered_at, metrics, attributes."""
    metrics = [T.StructField(name, _metric_type(journey, name)) for name in journey.metrics]
    attributes = [
        T.StructField(name, _VALUES[attribute.type])
        for name, attribute in journey.attributes.items()
        if not attribute.pii
    ]
    return T.StructType(
        [
            T.StructField("member", T.StringType()),
            T.StructField("node", T.StringType()),
            T.StructField("entered_at", T.TimestampType()),
            T.StructField("metrics", T.StructType(metrics)),
            T.StructField("attributes", T.StructType(attributes)),
        ]
    )


def _metric_type(journey: Journey, name: str) -> Any:
    metric = journey.metrics[name]
    kind = metric.kind
    if kind in ("count", "distinct"):
        return T.LongType()
    if kind in ("first_at", "last_at"):
        return T.TimestampType()
    if kind == "sum":
        return T.DoubleType()
    event, _, field = str(getattr(metric, kind)).partition(".")
    declared = journey.events.get(event)
    spec = None if declared is None else declared.fields.get(field)
    if spec is None:
        return T.StringType()
    if spec.type in ("int", "float"):
        return T.DoubleType()  # a min or max of whole numbers and fractions alike
    return _VALUES[spec.type]
