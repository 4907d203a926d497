"""The JSON Schema of the journey format, for editors: ``topo schema`` prints it.

It is :class:`~topo.journey.model.Journey`'s own schema (by alias: ``from``, not ``from_``),
refined so that it accepts what the validator accepts as closely as JSON Schema can: ids and
names as patterns (dictionary keys too), durations and percentages as the format spells them,
the rules inside one entry (a move's ``on`` or ``after``, a metric's single kind, ...), and a
short description on every property for an editor's hover. What relates one section to another,
expressions and the graph are beyond it: that is ``topo validate``.

It declares draft 2020-12 but uses only keywords that mean the same in draft-07, because
yaml-language-server (VS Code's YAML extension and others) validates with draft-07 semantics.
"""

from __future__ import annotations

import copy
import json
import keyword
import typing
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import AfterValidator, BaseModel, WithJsonSchema
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from topo.journey import model
from topo.journey.durations import format_duration

__all__ = [
    "DURATION_PATTERN",
    "MESSAGE_PATTERN",
    "PERCENTAGE_PATTERN",
    "SCHEMA_ID",
    "journey_schema",
    "schema_text",
]

SCHEMA_ID = "urn:topo:schema:journey-1"
"""The schema's ``$id``: a name, not an address (no published URL exists yet)."""

DURATION_PATTERN = r"^[1-9][0-9]*[smhdw]$"
"""A positive whole number and one unit: ``90d``, ``12h``."""

MESSAGE_PATTERN = r"^([^{}]|\{\{|\}\}|\{\s*[a-z][a-z0-9_]*\s*(:\.[0-9]f)?\})*$"
"""A message template's shape: text, doubled braces, and ``{name}`` or ``{name:.Nf}``
placeholders (which names a message may show is ``topo validate``'s to say)."""

PERCENTAGE_PATTERN = r"^(100(\.0+)?|[1-9]?[0-9](\.[0-9]+)?)\s*%$"
"""From ``0%`` to ``100%``, decimals allowed: ``10%``, ``2.5%``."""

_METASCHEMA = "https://json-schema.org/draft/2020-12/schema"
_TITLE = "TOPO journey, format version 1"
_ABOUT = (
    "A customer journey in the TOPO format: owners, offerings, nodes from a start to a peak, "
    "moves between them, incentives and reminders. `topo validate` checks what a schema "
    "cannot: references between sections, expressions and the graph."
)
_SOURCE_PATTERN = model.SLUG_PATTERN
"""What count, first_at and last_at read: an event type (or ``any``)."""
_FIELD_SOURCE_PATTERN = model.SLUG_PATTERN.removesuffix("$") + r"\." + model.NAME_PATTERN[1:]
"""What the other kinds read: ``TYPE.FIELD``, an event type, a dot, a field's name."""
_PYTHON_WORDS = frozenset(word for word in keyword.kwlist if word.islower())
_NAME_WORDS = model.EXPRESSION_WORDS | _PYTHON_WORDS
"""Message placeholders of their own: no metric or attribute may take these names."""


def _pattern(pattern: str, reserved: frozenset[str] = frozenset()) -> JsonSchemaValue:
    schema: JsonSchemaValue = {"type": "string", "pattern": pattern}
    if reserved:
        schema["not"] = {"enum": sorted(reserved)}
    return schema


def _after_check(alias: object) -> Callable[..., Any]:
    """The function an ``Annotated[str, AfterValidator(...)]`` id type checks with."""
    return next(m.func for m in typing.get_args(alias)[1:] if isinstance(m, AfterValidator))


def _declared(alias: object) -> JsonSchemaValue:
    """What an ``Annotated[..., WithJsonSchema(...)]`` type of the model declares."""
    found = next(m for m in typing.get_args(alias)[1:] if isinstance(m, WithJsonSchema))
    return dict(found.json_schema or {})


_ID = _pattern(model.SLUG_PATTERN)
_CHECKS: dict[Callable[..., Any], JsonSchemaValue] = {
    _after_check(model.Id): _ID,
    _after_check(model.Name): _pattern(model.NAME_PATTERN, _NAME_WORDS),
    _after_check(model.FieldName): _pattern(model.NAME_PATTERN, _NAME_WORDS | model.ENVELOPE_KEYS),
    _after_check(model.EventTypeId): _pattern(model.SLUG_PATTERN, model.RESERVED_EVENT_TYPES),
}
"""The schema of each id type, by the function that checks it, so every use gets it."""

_ONE_OR_MORE_IDS = {"anyOf": [_ID, {"type": "array", "items": _ID, "minItems": 1}]}
_VALUE_TYPES = {
    "int": "integer",
    "float": "number",
    "str": "string",
    "bool": "boolean",
    "date": "string",
    "datetime": "string",
}
"""Each value type of an event field, and the JSON type of its ``one_of`` values."""
_NUMBERS = ("integer", "number")


def _percentage(share: float) -> str:
    return f"{share * 100:g}%"


_REPLACED: tuple[tuple[JsonSchemaValue, JsonSchemaValue, Callable[[float], str] | None], ...] = (
    (_declared(model.Duration), _pattern(DURATION_PATTERN), None),
    (_declared(model.Share), _pattern(PERCENTAGE_PATTERN), _percentage),
    (_declared(model.Ids), _ONE_OR_MORE_IDS, None),
)
"""What the model declares for durations, percentages and id lists, and what replaces it."""


class _JourneySchema(GenerateJsonSchema):
    """Pydantic's generator, with ids as patterns, keys checked, and defaults as written."""

    def function_after_schema(
        self, schema: core_schema.AfterValidatorFunctionSchema
    ) -> JsonSchemaValue:
        function = schema["function"]["function"]
        return dict(_CHECKS.get(function) or super().function_after_schema(schema))

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # Pydantic turns a key pattern into patternProperties, which lets other keys through.
        keys = self.generate_inner(schema["keys_schema"]) if "keys_schema" in schema else {}
        values = self.generate_inner(schema["values_schema"]) if "values_schema" in schema else {}
        names = {k: v for k, v in keys.items() if k not in ("type", "title")}
        result: JsonSchemaValue = {"type": "object", "additionalProperties": values or True}
        return {**result, "propertyNames": names} if names else result

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        # Unflattened, so that what the model declares for a type is found whole (see _REPLACED).
        return {"anyOf": [self.generate_inner(schema["schema"]), {"type": "null"}]}

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if isinstance(schema.get("default"), BaseModel):  # its properties show their own
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft)
        return super().encode_default(dft)


def _given(key: str) -> JsonSchemaValue:
    """``key`` is there and not null (the validator reads a null as absent)."""
    return {"required": [key], "properties": {key: {"not": {"type": "null"}}}}


def _exactly_one(*keys: str) -> JsonSchemaValue:
    return {"oneOf": [_given(key) for key in keys]}


def _if_type(types: list[str], then: JsonSchemaValue) -> JsonSchemaValue:
    return {"if": {"required": ["type"], "properties": {"type": {"enum": types}}}, "then": then}


def _field_rules() -> JsonSchemaValue:
    """``min``/``max`` only on numbers; ``one_of`` values of the field's own type."""
    by_json_type: dict[str, list[str]] = {}
    for value_type, json_type in _VALUE_TYPES.items():
        by_json_type.setdefault(json_type, []).append(value_type)
    rules = [
        _if_type(value_types, {"properties": {"one_of": {"items": {"type": json_type}}}})
        for json_type, value_types in by_json_type.items()
    ]
    not_numbers = [t for t, json_type in _VALUE_TYPES.items() if json_type not in _NUMBERS]
    no_bounds = {"min": {"type": "null"}, "max": {"type": "null"}}
    return {"allOf": [*rules, _if_type(not_numbers, {"properties": no_bounds})]}


_RULES: dict[str, JsonSchemaValue] = {
    "EventField": _field_rules(),
    "Metric": _exactly_one(*model.METRIC_KINDS),
    "Move": {**_exactly_one("on", "after"), "if": _given("since"), "then": _given("after")},
    "Node": {
        "if": {"required": ["kind"], "properties": {"kind": {"const": "exit"}}},
        "then": {"properties": {"on_enter": {"maxItems": 0}}},
    },
    "Reminder": {
        **_exactly_one("toward", "ahead_of"),
        "allOf": [
            {"if": _given("ahead_of"), "then": _given("by")},
            {"if": _given("by"), "then": _given("ahead_of")},
        ],
    },
}
"""Rules inside one entry that the model leaves to :mod:`topo.journey.references`."""

_TYPES = "int, float, str, bool, date or datetime"
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Journey": {
        "topo": "Format version of the file; only 1 exists.",
        "journey": "Id of this journey: a lowercase slug, such as knowledge-club.",
        "version": "Revision of this journey, a whole number from 1; raise it on every change.",
        "title": "Name of the journey, for people.",
        "description": "What the journey is for, in a sentence or two.",
        "owners": "Departments that own stages, by id; every node names one.",
        "offerings": "What the brand offers in exchange for value (TOPO step 1), by id.",
        "attributes": "Member profile attributes, by name; the built-in event `profile` sets them.",
        "events": "Behavioural event types, by id, and their typed fields; `profile` is built in.",
        "metrics": "Per-member aggregates over events, by name; expressions use them.",
        "nodes": "Stages, by id: exactly one start, checkpoints, at least one peak, and exits.",
        "moves": "Edges between nodes; of the moves that match, the first in file order is taken.",
        "incentives": "What a member gets, through which channel, at what cost, by id.",
        "reminders": "Nudges toward the next node, or ahead of a timer move.",
        "settings": "Evaluation policies.",
        "migrations": "Where members of older versions of this journey go.",
    },
    "Owner": {
        "title": "Name of the department, for people.",
        "contact": "How to reach the department, such as an e-mail address.",
    },
    "Offering": {
        "title": "Name of the offering, for people.",
        "kind": "product, service, event, content or other.",
    },
    "Attribute": {
        "type": f"Value type: {_TYPES}.",
        "pii": "Personal data: never in logs, reports or errors; conditions may use it.",
    },
    "EventType": {
        "fields": "The event's fields, by name; an event carries them beside id, member, type, at.",
    },
    "EventField": {
        "type": f"Value type: {_TYPES}. An integer is accepted for a float.",
        "required": "Whether every event must carry it (default true); else absent or null.",
        "min": "Smallest allowed value, inclusive; numbers only.",
        "max": "Largest allowed value, inclusive; numbers only.",
        "one_of": "The only values allowed, of the field's type.",
    },
    "Metric": {
        "count": "Number of events of a type (TYPE, or any).",
        "sum": "Sum of a number field: TYPE.FIELD.",
        "min": "Smallest value of a number field: TYPE.FIELD.",
        "max": "Largest value of a number field: TYPE.FIELD.",
        "last": "Latest value of a field: TYPE.FIELD.",
        "distinct": "Number of distinct values of a field: TYPE.FIELD.",
        "first_at": "Time of the first event of a type (TYPE, or any).",
        "last_at": "Time of the latest event of a type (TYPE, or any).",
        "window": "Sliding window, such as 365d; without it the whole history counts.",
        "where": "Expression over event.* that filters the events that count.",
    },
    "Node": {
        "kind": "start (exactly one), checkpoint, peak (at least one) or exit (terminal).",
        "owner": "Id of the owner (department) responsible for this stage.",
        "on_enter": "Incentive ids granted when a member enters the node.",
    },
    "Move": {
        "id": "Id of the move; a reminder's ahead_of refers to a timer move by it.",
        "from": "The node, or a list of nodes, the move leaves.",
        "to": "The node the move enters.",
        "on": "Event type, or a list of them, that triggers the move (either on or after).",
        "after": "Duration after which the timer move is due, such as 365d (either on or after).",
        "since": "When a timer's clock starts: entered (default), activity, or an event type.",
        "when": "Guard: an expression that must hold for the move to be taken.",
        "incentives": "Incentive ids the move grants.",
    },
    "Incentive": {
        "kind": "coupon, points, gift, upgrade, content or other.",
        "offering": "Id of the offering the incentive is about.",
        "channel": "How the member hears of it: sms, email, push, app, in_store, mail or other.",
        "cost": "What one grant costs the brand (for reports), 0 or more.",
        "message": (
            "Text sent; {x} names a metric, a non-pii attribute, node, offering, incentive; "
            "{x:.2f} writes a number with 2 decimals (.0f to .9f)."
        ),
        "once": "At most once per member, ever (default false).",
        "cooldown": "Least time between two grants to one member, such as 30d.",
        "holdout": "Share of members held out as a control group, such as 10% (default 0%).",
    },
    "Reminder": {
        "at": "The node, or a list of nodes, where the member must be.",
        "toward": "The node the reminder is about (either toward or ahead_of).",
        "ahead_of": "Id of a timer move out of `at` to warn ahead of (needs by).",
        "by": "How long before that move is due the reminder fires, such as 30d.",
        "when": "Guard: an expression that must hold for the reminder to fire.",
        "incentive": "Id of the incentive; its channel carries the reminder.",
        "cooldown": "Least time between two firings; without it, once per stay at the node.",
    },
    "Settings": {
        "late_events": "Events older than the member's clock: reject (default) or ignore.",
        "extra_fields": "Undeclared event fields: reject (default) or ignore.",
        "max_cascade": "Most moves one event may cause (default: the number of nodes).",
        "dedup_window": "How far back duplicate event ids are recognised (default 30d).",
        "pressure": "A cap on grants to one member over time (default: no limit).",
    },
    "Pressure": {
        "max": "Most grants to one member in any period of `per`.",
        "per": "Length of that period, such as 7d.",
    },
    "Migration": {
        "from_version": "The older version whose members this migration moves.",
        "nodes": "Old node id to the node its members go to now.",
    },
}
"""What an editor shows on hover, from the format's contract; every property has one."""


def journey_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a journey file, as a fresh dictionary."""
    generated = model.Journey.model_json_schema(
        by_alias=True, mode="validation", schema_generator=_JourneySchema
    )
    generated = _replace_declared(generated)
    definitions: dict[str, Any] = generated.pop("$defs")
    every = {**definitions, "Journey": generated}
    for definition in every.values():
        _tidy(definition)
    _refine(every)
    for name, descriptions in _DESCRIPTIONS.items():
        for key, text in descriptions.items():
            every[name]["properties"][key]["description"] = text
    header = {"$schema": _METASCHEMA, "$id": SCHEMA_ID, "title": _TITLE, "description": _ABOUT}
    # A deep copy: the id schemas and rules above are shared, and a caller may change the result.
    return copy.deepcopy({**generated, **header, "$defs": definitions})


def schema_text() -> str:
    """:func:`journey_schema` as the text ``topo schema`` prints: indented, keys sorted."""
    return json.dumps(journey_schema(), indent=2, sort_keys=True) + "\n"


def _replace_declared(value: Any) -> Any:
    """``value`` with what the model declares for durations, percentages and id lists replaced."""
    if isinstance(value, list):
        return [_replace_declared(item) for item in value]
    if not isinstance(value, dict):
        return value
    node = {key: _replace_declared(item) for key, item in value.items()}
    notes = {key: node.pop(key) for key in ("title", "default") if key in node}
    for declared, replacement, spell in _REPLACED:
        if node == declared:
            node = dict(replacement)
            if spell is not None and "default" in notes:
                notes["default"] = spell(notes["default"])
    return {**node, **notes}


def _tidy(definition: JsonSchemaValue) -> None:
    """Drop pydantic's made-up property titles, fold simple unions, write `code` as Markdown."""
    if "description" in definition:
        definition["description"] = definition["description"].replace("``", "`")
    for key, prop in definition.get("properties", {}).items():
        prop.pop("title", None)
        definition["properties"][key] = _simplify(prop)


def _simplify(schema: JsonSchemaValue) -> JsonSchemaValue:
    """``anyOf`` of plain types as one ``type`` list: ``{"type": ["string", "null"]}``."""
    if isinstance(schema.get("items"), dict):
        schema = {**schema, "items": _simplify(schema["items"])}
    if "anyOf" not in schema:
        return schema
    branches: list[JsonSchemaValue] = []
    for branch in map(_simplify, schema["anyOf"]):
        branches += branch["anyOf"] if set(branch) == {"anyOf"} else [branch]
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    merged = _merged_types(branches)
    return {**merged, **rest} if merged is not None else {**rest, "anyOf": branches}


_TYPE_KEYWORDS = frozenset({"type", "pattern", "minimum", "items", "minItems"})
"""Keywords that constrain only values of their own type, so branches can share a schema."""


def _merged_types(branches: list[JsonSchemaValue]) -> JsonSchemaValue | None:
    """One schema for the branches if it means the same, else None."""
    if any(set(b) - _TYPE_KEYWORDS or not isinstance(b.get("type"), str) for b in branches):
        return None
    if {"type": "number"} in branches:  # a number already admits the integers
        branches = [b for b in branches if b != {"type": "integer"}]
    types = [b["type"] for b in branches]
    constrained = [b for b in branches if len(b) > 1]
    if len(set(types)) != len(types) or len(constrained) > 1:
        return None
    merged = dict(constrained[0]) if constrained else {}
    merged["type"] = types if len(types) > 1 else types[0]
    return merged


def _refine(every: dict[str, JsonSchemaValue]) -> None:
    """What the model leaves to later stages but JSON Schema can still say."""
    journey = every["Journey"]["properties"]
    journey["topo"] = {"type": "integer", "const": 1}
    for section, reserved in (
        ("metrics", _NAME_WORDS),
        ("attributes", _NAME_WORDS | model.ENVELOPE_KEYS),
    ):
        names = _pattern(model.NAME_PATTERN, reserved | model.PLACEHOLDER_WORDS)
        journey[section]["propertyNames"] = {k: v for k, v in names.items() if k != "type"}
    cost = model.Incentive.model_fields["cost"].default
    every["Incentive"]["properties"]["cost"] = {"type": "number", "minimum": 0, "default": cost}
    message = every["Incentive"]["properties"]["message"]
    message["anyOf"] = [{"type": "string", "pattern": MESSAGE_PATTERN}, {"type": "null"}]
    del message["type"]
    metric = every["Metric"]["properties"]
    for kind in model.METRIC_KINDS:
        metric[kind]["pattern"] = (
            _FIELD_SOURCE_PATTERN if kind in model.FIELD_KINDS else _SOURCE_PATTERN
        )
        if kind in model.FIELD_KINDS:  # `any` has no fields to read
            metric[kind]["not"] = {"type": "string", "pattern": r"^any\."}
    for name, rules in _RULES.items():
        every[name].update(rules)
