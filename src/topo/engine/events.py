"""Events as they arrive: checked against one journey, or refused with a reason for people.

An event is a mapping (a JSON object): the four keys every event has (``id``, ``member``,
``type``, ``at``) and, beside them at the top level, the fields its type declares. The built-in
type ``profile`` carries the journey's attributes as its fields, all optional; a null clears one.

:class:`EventReader` is built once per journey. It turns each event type into a plan (one check
per field, made for that field's type, bounds and ``one_of``), so reading an event is a handful
of dictionary lookups and type tests. :meth:`EventReader.read` returns an :class:`Event` or
raises :class:`topo.InvalidEvent` naming the event id, the field and what was wrong.
:func:`redact` masks the pii values of a raw event, for reject files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any, Final

from topo.engine.field_values import (
    EXAMPLE_TIMESTAMP,
    Check,
    Refusal,
    clip,
    describe,
    field_check,
    is_text,
    timestamp,
    timestamp_text,
)
from topo.errors import InvalidEvent
from topo.journey.model import ENVELOPE_KEYS, EventField, Journey
from topo.journey.suggestions import did_you_mean

__all__ = ["PROFILE", "REDACTED", "Event", "EventReader", "pii_names", "redact"]

PROFILE: Final = "profile"
"""The built-in event type that sets the member's attributes."""
REDACTED: Final = "***"
"""What :func:`redact` writes in place of a pii value."""

_ABSENT: Final = object()  # an optional field the event does not carry


@dataclass(frozen=True, slots=True)
class Event:
    """A valid event: who, what, when, and its fields as typed values.

    ``at`` is timezone-aware; ``at_text`` is the timestamp as it came, so outputs can write it
    back with its own offset. ``fields`` holds int, float, str, bool, ``date`` and aware
    ``datetime`` values; an optional field the event did not carry is left out (for ``profile``
    events, an explicit null stays as None: it clears the attribute).
    """

    id: str
    member: str
    type: str
    at: datetime
    at_text: str
    fields: Mapping[str, object] = dataclass_field(hash=False)  # compared, but a dict has no hash

    def to_dict(self) -> dict[str, object]:
        """The event as a mapping, as it could have come in (``at`` as its text)."""
        envelope: dict[str, object] = {
            "id": self.id,
            "member": self.member,
            "type": self.type,
            "at": self.at_text,
        }
        return {**envelope, **self.fields}


# A frozen dataclass sets each attribute through object.__setattr__, which is most of the cost
# of reading an event; the reader, which has checked every value, sets the slots directly.
_SLOTS = tuple(Event.__dict__[name].__set__ for name in Event.__slots__)


def _new_event(
    event_id: str, member: str, kind: str, at: datetime, at_text: str, fields: dict[str, object]
) -> Event:
    """``Event(event_id, member, kind, at, at_text, fields)``, faster."""
    event = object.__new__(Event)
    set_id, set_member, set_type, set_at, set_at_text, set_fields = _SLOTS
    set_id(event, event_id)
    set_member(event, member)
    set_type(event, kind)
    set_at(event, at)
    set_at_text(event, at_text)
    set_fields(event, fields)
    return event


@dataclass(frozen=True, slots=True)
class _Plan:
    """What reading one event type checks: each field's name, check and whether it is required."""

    type: str
    fields: tuple[tuple[str, Check, bool], ...]
    known: frozenset[str]
    keep_null: bool


class EventReader:
    """Reads the events of one journey: each one valid, or an :class:`topo.InvalidEvent`."""

    def __init__(self, journey: Journey) -> None:
        pii = pii_names(journey)
        self._plans = {name: _plan(name, e.fields, pii) for name, e in journey.events.items()}
        attributes = {
            name: EventField(type=attribute.type, required=False)
            for name, attribute in journey.attributes.items()
        }
        self._plans[PROFILE] = _plan(PROFILE, attributes, pii, keep_null=True)
        self.reject_extras = journey.settings.extra_fields == "reject"
        self._shown = _shown_names(journey)

    def plan(self, kind: str) -> _Plan:
        """What reading an event of type ``kind`` checks (for the journey compiler)."""
        return self._plans[kind]

    def redact(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """:func:`redact` for this reader's journey (the names it shows worked out once)."""
        return _masked(raw, self._shown)

    def read(self, raw: Mapping[str, Any] | Event) -> Event:
        """The event ``raw`` as a valid :class:`Event`; raises :class:`topo.InvalidEvent`.

        An :class:`Event` is checked again, as the mapping :meth:`Event.to_dict` gives.
        """
        if type(raw) is not dict:
            if isinstance(raw, Event):
                return self._read_event(raw)
            if not isinstance(raw, Mapping):
                raise InvalidEvent(f"an event is a mapping of keys to values, got {describe(raw)}")
        event_id = raw.get("id")
        if type(event_id) is not str or not event_id or not event_id.isascii():
            event_id = _envelope_text(raw, "id", None)
        member = raw.get("member")
        if type(member) is not str or not member or not member.isascii():
            member = _envelope_text(raw, "member", event_id)
        kind = raw.get("type")
        plan = self._plans.get(kind) if type(kind) is str else None
        if plan is None:
            plan = self._unknown_type(raw, event_id)
        at_value = raw.get("at")
        try:
            at = timestamp(at_value, "'at'", False)
        except Refusal as refusal:
            if at_value is None:
                _envelope_text(raw, "at", event_id)  # says whether it is missing or null
            raise InvalidEvent(refusal.reason, event_id=event_id) from None
        at_text = at_value if type(at_value) is str else timestamp_text(at_value, at)
        return _new_event(
            event_id, member, plan.type, at, at_text, self._fields(raw, plan, event_id)
        )

    def _fields(self, raw: Mapping[str, Any], plan: _Plan, event_id: str) -> dict[str, object]:
        """The fields of ``raw`` that ``plan`` declares, checked and typed."""
        fields: dict[str, object] = {}
        present = 4  # the envelope keys, all present by now
        absent = _ABSENT
        try:
            for name, check, required in plan.fields:
                value = raw.get(name, absent)
                if value is absent:
                    if required:
                        raise Refusal(
                            f"every {plan.type} event needs this field; it is missing", missing=True
                        )
                    continue
                present += 1
                if value is None:
                    if required:
                        raise Refusal(f"every {plan.type} event needs this field; it is null")
                    if plan.keep_null:
                        fields[name] = None
                    continue
                fields[name] = check(value)
        except Refusal as refusal:
            raise self._refuse(raw, plan, event_id, name, refusal) from None
        if len(raw) != present and self.reject_extras:
            raise self._undeclared(raw, plan, event_id)
        return fields

    def _read_event(self, event: Event) -> Event:
        event_id = event.id if isinstance(event.id, str) and event.id else None
        if not isinstance(event.fields, Mapping):
            reason = f"its fields must be a mapping, got {describe(event.fields)}"
            raise InvalidEvent(reason, event_id=event_id)
        if not isinstance(event.at_text, str):
            reason = f"'at_text' must be the text of 'at', got {describe(event.at_text)}"
            raise InvalidEvent(reason, event_id=event_id)
        for key in event.fields:
            if key in ENVELOPE_KEYS:
                reason = f"{key!r} is a key every event has, not one of its fields"
                raise InvalidEvent(reason, event_id=event_id, field=key)
        again = self.read(event.to_dict())
        if again.at != event.at or again.at.utcoffset() != event.at.utcoffset():
            reason = f"'at' is not the time its text says ({event.at_text}), with that offset"
            raise InvalidEvent(reason, event_id=again.id)
        return again

    def _unknown_type(self, raw: Mapping[str, Any], event_id: str | None) -> _Plan:
        kind = _envelope_text(raw, "type", event_id)
        if kind in self._plans:  # a subclass of str
            return self._plans[kind]
        types = sorted(self._plans)
        hint = did_you_mean(kind, types) or f" (the types: {', '.join(types)})"
        reason = f"'type' is {clip(kind)!r}, not an event type of this journey{hint}"
        raise InvalidEvent(reason, event_id=event_id)

    def _refuse(
        self,
        raw: Mapping[str, Any],
        plan: _Plan,
        event_id: str,
        name: str,
        refusal: Refusal,
    ) -> InvalidEvent:
        # A required field missing next to an undeclared key is most likely a misspelling:
        # the undeclared key is the better thing to report.
        if refusal.missing and self.reject_extras and any(k not in plan.known for k in raw):
            return self._undeclared(raw, plan, event_id)
        return InvalidEvent(refusal.reason, event_id=event_id, field=name)

    def _undeclared(self, raw: Mapping[str, Any], plan: _Plan, event_id: str) -> InvalidEvent:
        key = next(k for k in raw if k not in plan.known)
        name = key if isinstance(key, str) else repr(key)
        declared = [f for f, _, _ in plan.fields]
        if plan.type == PROFILE:
            what = "the journey has no such attribute"
        else:
            what = f"the {plan.type} event declares no such field"
        hint = did_you_mean(name, declared) or " (settings.extra_fields: ignore would drop it)"
        return InvalidEvent(f"{what}{hint}", event_id=event_id, field=name)


def redact(raw: Mapping[str, Any], journey: Journey) -> dict[str, Any]:
    """A copy of ``raw`` that shows only what the journey declares and is not pii: every other
    value is replaced by ``***`` (nulls stay null).

    Shown: the envelope (``id``, ``member``, ``type``, ``at``), the fields the event's type
    declares, and for a ``profile`` event the non-pii attributes. Masked: pii attributes (a key
    of that name in any event, since an event of the wrong type may still carry the value),
    and every key the journey does not know, in an event of any type, known or not, since a
    misspelled key (``phnoe``) or a field a source sends by mistake may hold personal data."""
    return _masked(raw, _shown_names(journey))


def _masked(raw: Mapping[str, Any], shown_by_type: dict[object, frozenset[str]]) -> dict[str, Any]:
    kind = raw.get("type")
    shown = shown_by_type.get(kind, ENVELOPE_KEYS) if type(kind) is str else ENVELOPE_KEYS
    return {k: v if k in shown or v is None else REDACTED for k, v in raw.items()}


def _shown_names(journey: Journey) -> dict[object, frozenset[str]]:
    """For each event type (``profile`` included), the keys a reject may show the value of."""
    secret = pii_names(journey)
    shown: dict[object, frozenset[str]] = {
        name: ENVELOPE_KEYS.union(event.fields).difference(secret)
        for name, event in journey.events.items()
    }
    shown[PROFILE] = ENVELOPE_KEYS.union(journey.attributes).difference(secret)
    return shown


def pii_names(journey: Journey) -> frozenset[str]:
    """The names whose values never leave a member's state: its pii attributes, and any event
    field named like one (in every event type)."""
    return frozenset(name for name, attribute in journey.attributes.items() if attribute.pii)


def _plan(
    name: str, declared: Mapping[str, EventField], pii: frozenset[str], *, keep_null: bool = False
) -> _Plan:
    fields = tuple(
        (field, field_check(spec, secret=field in pii), spec.required)
        for field, spec in declared.items()
    )
    return _Plan(name, fields, ENVELOPE_KEYS.union(declared), keep_null)


_PURPOSES = {
    "id": "every event needs an id, unique per member",
    "member": "every event names the member it is about",
    "type": f"every event names its type: an event type of the journey, or {PROFILE}",
    "at": f"every event needs the time it happened, like {EXAMPLE_TIMESTAMP}",
}


def _envelope_text(raw: Mapping[str, Any], key: str, event_id: str | None) -> str:
    """The non-empty text under ``key``, or :class:`InvalidEvent` saying what is wrong."""
    value = raw.get(key)
    if isinstance(value, str) and value and is_text(value):
        return str(value)
    if isinstance(value, str) and value:
        reason = f"{key!r} holds a lone surrogate (as a JSON escape like \\udcff can write)"
        raise InvalidEvent(
            f"{reason}; {_PURPOSES[key]}", event_id=None if key == "id" else event_id
        )
    if key not in raw:
        problem = "is missing"
    elif value is None:
        problem = "is null"
    elif isinstance(value, str):
        problem = "is empty"
    else:
        problem = f"must be text, got {describe(value)}"
    raise InvalidEvent(f"{key!r} {problem}; {_PURPOSES[key]}", event_id=event_id)
