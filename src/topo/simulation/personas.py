"""Loading a personas file and checking it against its journey.

The file is read by the journey's own loader (:mod:`topo.journey.loader`), so that every key and
value keeps its place in the file, YAML's problems are the journey's T1xx codes, and ``on``,
``off``, ``yes`` and ``no`` stay text. Its shape is the model of :mod:`topo.simulation.model`
(T2xx, as a journey's shape). Then each persona is checked against the journey (T6xx): the
event types, fields, attributes and incentives it names, the shares, and whether each
distribution fits the type of what it draws. Every problem is reported at once, each at its
line and column; nothing the file holds raises anything but :class:`InvalidPersonas`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import yaml
from pydantic import ValidationError

from topo.diagnostics import Diagnostic, Severity, sort_key
from topo.errors import InvalidPersonas
from topo.journey.codes import make
from topo.journey.durations import format_duration, parse_percentage
from topo.journey.loader import Loaded, load_file, load_text
from topo.journey.model import EventType, Journey
from topo.journey.shape import shape_problems
from topo.journey.source import Document, Path, Span
from topo.journey.suggestions import did_you_mean, suggestion_budget
from topo.simulation.distribution_fit import (
    SHARE_TOLERANCE,
    Target,
    check_after,
    check_distribution,
)
from topo.simulation.model import Personas, json_schema

__all__ = [
    "SCHEMA_ID",
    "InvalidPersonas",
    "check_personas",
    "check_personas_text",
    "load_personas",
    "personas_schema",
    "personas_schema_text",
    "personas_text",
]

SCHEMA_ID = "urn:topo:schema:personas-1"
"""The personas schema's ``$id``: a name, not an address."""


def check_personas_text(
    text: str, file: str, journey: Journey
) -> tuple[Personas | None, list[Diagnostic]]:
    """The personas file given as ``text`` and all its problems against ``journey``, sorted by
    position; the model is None when there is an error. ``file`` is how diagnostics call it."""
    return _checked(load_text(text, file), journey)


def load_personas(path: str | os.PathLike[str], journey: Journey) -> Personas:
    """The personas file at ``path``, checked against ``journey``.

    Raises :class:`InvalidPersonas` (``.diagnostics``: every problem, in file order) when the
    file cannot be read, is not a personas file, or does not fit the journey.
    """
    shown = os.fspath(path)
    try:
        loaded = load_file(shown)
    except FileNotFoundError:
        raise InvalidPersonas([_unreadable("no such file", shown)]) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidPersonas([_unreadable(f"cannot read the file: {reason}", shown)]) from None
    personas, diagnostics = _checked(loaded, journey)
    if personas is None:
        raise InvalidPersonas(diagnostics)
    return personas


def check_personas(personas: Personas, journey: Journey) -> Personas:
    """A personas model made in Python, checked against ``journey`` as a file would be (it is
    written as one and read back, so its diagnostics point into that text).

    Raises :class:`InvalidPersonas` when it does not fit the journey.
    """
    checked, diagnostics = check_personas_text(personas_text(personas), "<personas>", journey)
    if checked is None:
        raise InvalidPersonas(diagnostics)
    return personas


def _unreadable(message: str, file: str) -> Diagnostic:
    return make("unreadable", message, file, Span(1, 1, 1, 1))


def _checked(loaded: Loaded, journey: Journey) -> tuple[Personas | None, list[Diagnostic]]:
    diagnostics = [_reworded(d) for d in loaded.diagnostics]
    personas = None
    if loaded.document is not None:
        with suggestion_budget():  # thousands of misspellings must not cost hours of hints
            personas, problems = _shaped(loaded.document)
            diagnostics += [_without_pii(d, loaded.document, journey) for d in problems]
            diagnostics += _Check(loaded.document, journey).problems()
    diagnostics.sort(key=sort_key)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        return None, diagnostics
    return personas, diagnostics


_JOURNEY_WORDS = {
    "a journey is a mapping that starts with `topo: 1`": (
        "a personas file is a mapping that starts with `personas: 1`"
    ),
    "a journey is read from": "a personas file is read from",
    "split the journey or check": "check",
}


def _reworded(diagnostic: Diagnostic) -> Diagnostic:
    """The loader's message about a journey, said of a personas file."""
    message = diagnostic.message
    for journey_words, personas_words in _JOURNEY_WORDS.items():
        message = message.replace(journey_words, personas_words)
    return replace(diagnostic, message=message)


def _without_pii(diagnostic: Diagnostic, document: Document, journey: Journey) -> Diagnostic:
    """A shape problem inside a pii attribute's distribution, said without the pii: its path
    stops at the distribution's kind, and what it held (a choice's value, a value) is not
    quoted (the checks after the shape stage never quote pii either)."""
    path = diagnostic.path
    if not (
        len(path) > 4
        and path[0] == "population"
        and path[2] == "attributes"
        and isinstance(path[3], str)
        and getattr(journey.attributes.get(path[3]), "pii", False)
    ):
        return diagnostic
    kept = f"population[{path[1]}].attributes.{path[3]}.{path[4]}"
    full = kept + "".join(f".{part}" for part in path[5:])
    message = diagnostic.message
    reason = message[len(full) + 2 :] if message.startswith(full + ": ") else message
    secrets = [str(part) for part in path[5:]]
    held = _at(document.data, path) if path[4] == "value" else None  # a choice holds shares
    if isinstance(held, str | int | float) and not isinstance(held, bool):
        secrets.append(str(held))
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            reason = reason.replace(secret, "(a pii value)")
    return replace(diagnostic, message=f"{kept}: {reason}", path=path[:5])


def _at(data: Any, path: Path) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and type(part) is int and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _shaped(document: Document) -> tuple[Personas | None, list[Diagnostic]]:
    try:
        return Personas.model_validate(document.data), []
    except ValidationError as exc:
        return None, shape_problems(exc.errors(), document, Personas, "the personas file")


@dataclass(frozen=True, slots=True)
class _Check:
    """The checks of a loaded personas file against its journey, on the data as written:
    what the shape stage refused is skipped here, what it let through is checked."""

    document: Document
    journey: Journey

    def problems(self) -> list[Diagnostic]:
        return list(self._population())

    def at_key(self, name: str, message: str, path: Path) -> Diagnostic:
        return make(name, message, self.document.file, self.document.source.key(path), path)

    def at_value(self, name: str, message: str, path: Path) -> Diagnostic:
        return make(name, message, self.document.file, self.document.source.value(path), path)

    def _population(self) -> Iterator[Diagnostic]:
        data = self.document.data
        population = data.get("population") if isinstance(data, dict) else None
        if not isinstance(population, list):
            return
        seen: set[str] = set()
        shares: list[float | None] = []
        for index, persona in enumerate(population):
            if not isinstance(persona, dict):
                continue
            path: Path = ("population", index)
            persona_id = persona.get("id")
            if isinstance(persona_id, str) and persona_id in seen:
                message = f"two personas have the id {persona_id!r}; give each its own id"
                yield self.at_value("duplicate-persona", message, (*path, "id"))
            seen.add(persona_id if isinstance(persona_id, str) else "")
            shares.append(_share(persona.get("share")))
            yield from self._persona(persona, path)
        known = [share for share in shares if share is not None]
        if shares and len(known) == len(shares) and abs(sum(known) - 1) > SHARE_TOLERANCE:
            message = (
                f"the personas' shares add up to {_percent(sum(known))}; they must add up to 100%"
            )
            yield self.at_key("shares-total", message, ("population",))

    def _persona(self, persona: dict[Any, Any], path: Path) -> Iterator[Diagnostic]:
        yield from self._attributes(persona.get("attributes"), (*path, "attributes"))
        events = persona.get("events")
        if isinstance(events, dict):
            for event_type, behaviour in events.items():
                yield from self._events(event_type, behaviour, (*path, "events", event_type))
        respond = persona.get("respond")
        if isinstance(respond, dict):
            sent = events if isinstance(events, dict) else {}
            for incentive, responses in respond.items():
                place = (*path, "respond", incentive)
                yield from self._respond(incentive, responses, place, sent)

    def _attributes(self, attributes: Any, path: Path) -> Iterator[Diagnostic]:
        if not isinstance(attributes, dict):
            return
        for name, raw in attributes.items():
            place = (*path, name)
            declared = self.journey.attributes.get(name) if isinstance(name, str) else None
            if declared is None:
                hint = did_you_mean(str(name), self.journey.attributes)
                message = f"the journey declares no attribute {str(name)!r}{hint}"
                yield self.at_key("undeclared-attribute", message, place)
                continue
            target = Target(f"the attribute {name!r}", declared.type, None, declared.pii)
            yield from check_distribution(self, raw, place, target)

    def _event_type(self, event_type: Any, place: Path) -> Diagnostic | EventType:
        """The journey's declaration of ``event_type``, or the problem of naming it."""
        if event_type == "profile":
            message = (
                "`profile` is not an event a persona sends: the attributes are sent as one "
                "profile event when the member joins; draw them under `attributes`"
            )
            return self.at_key("profile-behaviour", message, place)
        declared = self.journey.events.get(event_type) if isinstance(event_type, str) else None
        if declared is None:
            hint = did_you_mean(str(event_type), self.journey.events)
            message = (
                f"unknown event type {str(event_type)!r}: the journey does not declare it{hint}"
            )
            return self.at_key("undeclared-event", message, place)
        return declared

    def _events(self, event_type: Any, behaviour: Any, place: Path) -> Iterator[Diagnostic]:
        declared = self._event_type(event_type, place)
        if isinstance(declared, Diagnostic):
            yield declared
            return
        if not isinstance(behaviour, dict):
            return
        for kind in ("once", "repeat"):
            timing = behaviour.get(kind)
            if kind == "repeat" and isinstance(timing, dict):
                timing, kind = timing.get("first"), "repeat.first"
            if isinstance(timing, dict) and "after" in timing:
                yield from check_after(self, timing["after"], (*place, *kind.split("."), "after"))
        yield from self._fields(event_type, declared, behaviour.get("fields", {}), place)

    def _fields(
        self, event_type: str, declared: EventType, fields: Any, place: Path
    ) -> Iterator[Diagnostic]:
        if not isinstance(fields, dict):
            return
        for name, raw in fields.items():
            field = declared.fields.get(name) if isinstance(name, str) else None
            if field is None:
                hint = did_you_mean(str(name), declared.fields)
                message = f"the event type {event_type!r} has no field {str(name)!r}{hint}"
                yield self.at_key("undeclared-field", message, (*place, "fields", name))
                continue
            target = Target(f"the field {name!r}", field.type, field.one_of)
            yield from check_distribution(self, raw, (*place, "fields", name), target)
        missing = _required(declared, fields)
        if missing:
            message = (
                f"the persona sends {event_type!r} without a distribution for its required "
                f"field{'s' if len(missing) > 1 else ''} {_listed(missing)}; give "
                f"{'each' if len(missing) > 1 else 'it'} one under `fields`"
            )
            yield self.at_key("field-without-distribution", message, place)

    def _respond(
        self, incentive: Any, responses: Any, place: Path, sent: dict[Any, Any]
    ) -> Iterator[Diagnostic]:
        if incentive != "any" and (
            not isinstance(incentive, str) or incentive not in self.journey.incentives
        ):
            hint = did_you_mean(str(incentive), [*self.journey.incentives, "any"])
            message = (
                f"the journey declares no incentive {str(incentive)!r}; `respond` takes "
                f"incentive ids, or `any` for every incentive{hint}"
            )
            yield self.at_key("undeclared-incentive", message, place)
        if not isinstance(responses, dict):
            return
        for event_type, response in responses.items():
            declared = self._event_type(event_type, (*place, event_type))
            if isinstance(declared, Diagnostic):
                yield declared
            elif isinstance(response, dict) and "probability" in response:
                yield from self._sends(event_type, declared, sent, (*place, event_type))
            elif isinstance(response, dict) and "rate" in response:
                yield from self._speeds(event_type, sent, (*place, event_type))

    def _speeds(self, event_type: str, sent: dict[Any, Any], place: Path) -> Iterator[Diagnostic]:
        """A response that multiplies a rate needs a process with a rate: a ``repeat``."""
        behaviour = sent.get(event_type)
        if isinstance(behaviour, dict) and "repeat" in behaviour:
            return
        how = "sends once" if isinstance(behaviour, dict) else "does not send"
        message = (
            f"this response multiplies the rate of {event_type!r}, which the persona {how}: "
            "only a `repeat` behaviour has a rate; to send it in response, use "
            "{probability: P}"
        )
        yield self.at_key("rate-without-repeat", message, place)

    def _sends(
        self, event_type: str, declared: EventType, sent: dict[Any, Any], place: Path
    ) -> Iterator[Diagnostic]:
        """A response that sends an event draws its fields from the persona's behaviour for
        that event type: without one, its required fields have no distribution."""
        if event_type in sent:
            return
        missing = _required(declared, {})
        if missing:
            message = (
                f"this response sends {event_type!r}, whose required "
                f"field{'s' if len(missing) > 1 else ''} {_listed(missing)} the persona does "
                f"not draw: add {event_type!r} under `events` with its `fields` "
                "(`once: {probability: 0%}` if the persona sends it only in response)"
            )
            yield self.at_key("field-without-distribution", message, place)


def _required(declared: EventType, fields: dict[Any, Any]) -> list[str]:
    return [name for name, f in declared.fields.items() if f.required and name not in fields]


def _listed(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _share(value: Any) -> float | None:
    """A share as the model reads it, or None when the shape stage refuses it."""
    if not isinstance(value, str):
        return None
    try:
        return parse_percentage(value)
    except ValueError:
        return None


def _percent(share: float) -> str:
    return f"{share * 100:.10g}%"


def personas_schema() -> dict[str, Any]:
    """The personas file's JSON Schema (draft 2020-12), by alias (``for``, not ``for_``)."""
    schema = json_schema()
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID,
            "title": "TOPO personas, format version 1",
            "description": (
                "Who the simulated members of a journey are: personas, each a share of the "
                "members with its own joining, attributes, events and responses to incentives. "
                "`topo simulate --personas` checks what a schema cannot: the event types, "
                "fields, attributes and incentives against the journey."
            ),
        }
    )
    return schema


def personas_schema_text() -> str:
    """:func:`personas_schema` as the text of ``schema/personas-1.schema.json``."""
    return json.dumps(personas_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def personas_text(personas: Personas) -> str:
    """``personas`` as the text of a personas file, which :func:`check_personas_text` reads
    back into the same model (durations as ``90d``, shares as ``70%``)."""
    data = personas.model_dump(by_alias=True, exclude_none=True)
    return yaml.safe_dump(_written(data), sort_keys=False, allow_unicode=True)


_SHARE_KEYS = frozenset({"share", "probability"})


def _written(value: Any, key: object = None, in_choice: bool = False) -> Any:
    """A dumped value as the file writes it."""
    if isinstance(value, dict):
        return {k: _written(v, k, key == "choice") for k, v in value.items()}
    if isinstance(value, list):
        return [_written(item) for item in value]
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, float) and (key in _SHARE_KEYS or in_choice):
        return f"{value * 100:.12f}".rstrip("0").rstrip(".") + "%"
    return value
