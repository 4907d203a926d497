"""The journey model: every section of the format as pydantic v2 models.

The model holds what a journey *says*; it is format-neutral (the loader reads YAML into it,
the shape stage maps its validation errors back to the file). Rules that relate one section to
another (an owner that must exist, a start that must be unique) are checked by
:mod:`topo.journey.references` with the model in hand, not here.
"""

from __future__ import annotations

import keyword
import math
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from topo.journey.durations import parse_duration, parse_percentage
from topo.journey.number_range import RANGE_TEXT, in_range

__all__ = [
    "BUILTIN_EVENT_TYPES",
    "EXPRESSION_WORDS",
    "FUNCTION_NAMES",
    "METRIC_KINDS",
    "Attribute",
    "EventField",
    "EventType",
    "Incentive",
    "Journey",
    "Metric",
    "Migration",
    "Move",
    "Node",
    "Offering",
    "Owner",
    "Pressure",
    "Reminder",
    "Settings",
    "number_problem",
]

SLUG_PATTERN = r"^[a-z][a-z0-9_-]*$"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
FUNCTION_NAMES = ("days_since", "days_between", "min", "max", "abs", "round")
EXPRESSION_WORDS = frozenset(
    {
        "node",
        "now",
        "entered_at",
        "member",
        "event",
        "and",
        "or",
        "not",
        "in",
        "true",
        "false",
        "null",
        *FUNCTION_NAMES,
    }
)
"""Words of the expression language; no attribute, metric or field may be called so."""

BUILTIN_EVENT_TYPES = frozenset({"profile", "any"})
"""``profile`` is the built-in event that sets attributes; ``any`` stands for every type."""

RESERVED_EVENT_TYPES = BUILTIN_EVENT_TYPES | {"entered", "activity"}
"""Event type ids that would be read as something else (``since: entered`` is not a type)."""

ENVELOPE_KEYS = frozenset({"id", "member", "type", "at"})
"""Keys every event carries; fields (and attributes, the fields of ``profile``) stand beside
them at the top level of an event, so they may not take these names."""

METRIC_KINDS = ("count", "sum", "min", "max", "last", "distinct", "first_at", "last_at")
FIELD_KINDS = frozenset({"sum", "min", "max", "last", "distinct"})
"""Metric kinds that read a field (``TYPE.FIELD``); the others count events (``TYPE``)."""
NUMBER_TYPES = frozenset({"int", "float"})
PLACEHOLDER_WORDS = frozenset({"offering", "incentive"})
"""Message placeholders of their own, which no metric or attribute may be called."""

_SLUG = re.compile(SLUG_PATTERN)
_NAME = re.compile(NAME_PATTERN)


def _error(code: str, message: str) -> PydanticCustomError:
    # The error type is the diagnostic's name, so the shape stage maps it without a table.
    return PydanticCustomError(code, "{message}", {"message": message})


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise _error(
            "invalid-id",
            f"{value!r} is not a valid id; ids start with a lowercase letter and contain only "
            "lowercase letters, digits, '_' and '-'",
        )
    return value


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise _error(
            "invalid-id",
            f"{value!r} is not a valid name; expressions use it, so it starts with a lowercase "
            "letter and contains only lowercase letters, digits and '_'",
        )
    if value in EXPRESSION_WORDS or keyword.iskeyword(value):
        raise _error(
            "reserved-name",
            f"{value!r} is a word of the expression language; choose another name",
        )
    return value


def _check_field_name(value: str) -> str:
    _check_name(value)
    if value in ENVELOPE_KEYS:
        raise _error(
            "reserved-name",
            f"{value!r} is a key every event already has (id, member, type, at); "
            "choose another name",
        )
    return value


def _check_event_type(value: str) -> str:
    _check_slug(value)
    if value in BUILTIN_EVENT_TYPES:
        raise _error("reserved-name", f"the event type {value!r} is built in; choose another name")
    if value in RESERVED_EVENT_TYPES:
        raise _error(
            "reserved-name",
            f"{value!r} is a word of `since:`; an event type of that name would be ambiguous",
        )
    return value


def _to_duration(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise _error("invalid-duration", f"{value!r} is not a duration; write one like 90d or 12h")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _error("invalid-duration", str(exc)) from None


def _to_share(value: Any) -> float:
    if not isinstance(value, str):
        raise _error(
            "invalid-percentage",
            f"{value!r} is not a percentage; write the share with a % sign, like 10%",
        )
    try:
        return parse_percentage(value)
    except ValueError as exc:
        raise _error("invalid-percentage", str(exc)) from None


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def number_problem(value: int | float, written: str | None = None) -> str | None:
    """Why a number of a journey is refused (outside :mod:`topo.journey.number_range`), or None.

    ``written`` is the number as the file writes it (``1e400``, which Python reads as inf).
    """
    if in_range(value):
        return None
    shown = written if written is not None else repr(value)
    if len(shown) > 24:  # a 400-digit number is not repeated whole
        digits = sum(c.isdigit() for c in shown)
        shown = f"{shown[:20]}… ({digits} digits)"
    if written is None and isinstance(value, float) and not math.isfinite(value):
        return f"{shown} is not a finite number; {RANGE_TEXT}"  # .inf, .nan
    return f"the number {shown} is out of range; {RANGE_TEXT}"


def _check_range(value: Any) -> Any:
    """Every number of a journey lies in the range topo accepts (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    problem = number_problem(value)
    if problem is not None:
        raise _error("invalid-value", problem)
    return value


def _check_format(value: int) -> int:
    if value != 1:
        raise _error("unsupported-format", f"format version {value} is not supported; use topo: 1")
    return value


Id = Annotated[str, AfterValidator(_check_slug)]
Name = Annotated[str, AfterValidator(_check_name)]
FieldName = Annotated[str, AfterValidator(_check_field_name)]
EventTypeId = Annotated[str, AfterValidator(_check_event_type)]
Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    WithJsonSchema({"type": "string", "pattern": r"^[1-9][0-9]*[smhdw]$"}),
]
Share = Annotated[
    float,
    BeforeValidator(_to_share),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?\s*%$"}),
]
Ids = Annotated[
    list[Id],
    BeforeValidator(_one_or_many),
    Field(min_length=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]
ValueType = Literal["int", "float", "str", "bool", "date", "datetime"]
Number = Annotated[float | int, AfterValidator(_check_range)]
"""A number of the journey: an int or a float in :mod:`topo.journey.number_range`'s range."""
Whole = Annotated[int, AfterValidator(_check_range)]
"""A whole number of the journey, in :mod:`topo.journey.number_range`'s range."""
Positive = Annotated[int, Field(ge=1), AfterValidator(_check_range)]
"""A whole number from 1 (a version, a count), in :mod:`topo.journey.number_range`'s range."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Owner(_Model):
    """A department that owns stages of the journey."""

    title: str | None = None
    contact: str | None = None


class Offering(_Model):
    """Something the brand offers in exchange for value (TOPO step 1)."""

    title: str | None = None
    kind: Literal["product", "service", "event", "content", "other"]


class Attribute(_Model):
    """A typed member profile attribute; ``pii`` ones never leave the member's state."""

    type: ValueType
    pii: bool = False


class EventField(_Model):
    """A typed field of an event type."""

    type: ValueType
    required: bool = True
    min: Number | None = None
    max: Number | None = None
    one_of: (
        Annotated[
            list[Annotated[str | int | float | bool, AfterValidator(_check_range)]],
            Field(min_length=1),
        ]
        | None
    ) = None


class EventType(_Model):
    """A behavioural event type and its fields."""

    fields: dict[FieldName, EventField] = {}


class Metric(_Model):
    """A per-member aggregate over events: exactly one kind, an optional window and filter."""

    count: str | None = None
    sum: str | None = None
    min: str | None = None
    max: str | None = None
    last: str | None = None
    distinct: str | None = None
    first_at: str | None = None
    last_at: str | None = None
    window: Duration | None = None
    where: str | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Metric:
        kinds = [kind for kind in METRIC_KINDS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            found = "none" if not kinds else " and ".join(kinds)
            raise _error(
                "metric-kind",
                f"a metric has exactly one kind ({', '.join(METRIC_KINDS)}); found {found}",
            )
        return self

    @property
    def kind(self) -> str:
        """The metric's kind: ``count``, ``sum``, ... ."""
        return next(kind for kind in METRIC_KINDS if getattr(self, kind) is not None)

    @property
    def source(self) -> str:
        """What the metric reads: ``TYPE`` or ``TYPE.FIELD`` as written."""
        value: str = getattr(self, self.kind)
        return value

    @property
    def event_type(self) -> str:
        """The event type the metric counts (``any`` for every type)."""
        return self.source.split(".", 1)[0]

    @property
    def field(self) -> str | None:
        """The field the metric reads, or None for count, first_at and last_at."""
        parts = self.source.split(".", 1)
        return parts[1] if len(parts) == 2 else None


class Node(_Model):
    """A stage of the journey: the start, a checkpoint, a peak or an exit."""

    kind: Literal["start", "checkpoint", "peak", "exit"]
    owner: Id
    on_enter: list[Id] = []


class Move(_Model):
    """An edge between nodes, taken on an event (``on``) or after a time (``after``)."""

    id: Id | None = None
    from_: Ids = Field(alias="from")
    to: Id
    on: Ids | None = None
    after: Duration | None = None
    since: Id | None = None
    when: str | None = None
    incentives: list[Id] = []


class Incentive(_Model):
    """What a member gets, through which channel, at what cost, with which caps."""

    kind: Literal["coupon", "points", "gift", "upgrade", "content", "other"]
    offering: Id | None = None
    channel: Literal["sms", "email", "push", "app", "in_store", "mail", "other"]
    cost: Annotated[Number, Field(ge=0)] = 0
    message: str | None = None
    once: bool = False
    cooldown: Duration | None = None
    holdout: Share = 0.0


class Reminder(_Model):
    """A nudge toward the next node, or ahead of a timer move."""

    at: Ids
    toward: Id | None = None
    ahead_of: Id | None = None
    by: Duration | None = None
    when: str | None = None
    incentive: Id
    cooldown: Duration | None = None


class Pressure(_Model):
    """At most ``max`` grants to one member in any ``per``."""

    max: Positive
    per: Duration


class Settings(_Model):
    """Evaluation policies."""

    late_events: Literal["reject", "ignore"] = "reject"
    extra_fields: Literal["reject", "ignore"] = "reject"
    max_cascade: Positive | None = None
    dedup_window: Duration = timedelta(days=30)
    pressure: Pressure | None = None


class Migration(_Model):
    """Where members of an older version of the journey go."""

    from_version: Positive
    nodes: dict[Id, Id]


class Journey(_Model):
    """A whole journey file: the TOPO path of one brand's membership programme."""

    topo: Annotated[Whole, AfterValidator(_check_format)]
    journey: Id
    version: Positive
    title: str | None = None
    description: str | None = None
    owners: dict[Id, Owner]
    offerings: dict[Id, Offering] = {}
    attributes: dict[FieldName, Attribute] = {}
    events: dict[EventTypeId, EventType] = {}
    metrics: dict[Name, Metric] = {}
    nodes: dict[Id, Node]
    moves: list[Move] = []
    incentives: dict[Id, Incentive] = {}
    reminders: list[Reminder] = []
    settings: Settings = Settings()
    migrations: list[Migration] = []
