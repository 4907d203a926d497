"""What a member's state that comes from outside (``topo import``) must be before an engine
reads it.

:func:`~topo.engine.member_codec.decode` checks the shapes JSON can carry. :func:`check_member`
checks that the values are ones an engine could have written: times inside the calendar, numbers in
range, history entries of their two kinds, and, against the journey, each metric's slot and
each attribute's type. A state edited by hand (a sum of 4,300 digits, a clock past year 9999,
a count that is text) would otherwise pass an import and break the engine, an export or every
output later, with a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from topo.engine.compiled import CompiledJourney
from topo.engine.member_state import MemberState
from topo.engine.metrics import microseconds
from topo.errors import InvalidEvent
from topo.journey.number_range import in_range

__all__ = ["check_member"]

_EARLIEST = microseconds(datetime(1, 1, 2, tzinfo=UTC))
_LATEST = microseconds(datetime(9999, 12, 30, tzinfo=UTC))
_SUM_LIMIT = 2**127
"""A sum of numbers in range, one an event, stays far below this for any history."""


def check_member(state: MemberState, compiled: CompiledJourney | None) -> None:
    """Raise :class:`ValueError` naming the field (``metrics.spend: ...``) when ``state`` holds
    a value no engine writes; ``compiled``, when known, is the journey it was written under."""
    _stamp(state.clock, "clock")
    if state.due is not None:
        _stamp(state.due, "due")
    for event_id, stamp in state.seen.items():
        _stamp(stamp, f"seen[{event_id[:40]!r}]")
    _check(all(0 <= i < 2**31 for i in state.stay), "stay", "holds reminders by their place")
    _times(state.ledger or (), "ledger")
    _times(state.grants or (), "grants")
    for index, start in (state.considered or {}).items():
        _check(type(index) is int, "considered", "maps reminders (numbers) to times")
        _stamp(start, "considered")
    for label, at in (state.restarts or {}).items():
        _check(type(label) is str and type(at) is datetime, "restarts", "maps moves to times")
    kept = state.last_of_type or []
    _check(
        len(kept) % 2 == 0 and all(type(t) is str for t in kept[::2])
        and all(type(at) is datetime for at in kept[1::2]),
        "last_of_type", "alternates event types and times",
    )  # fmt: skip
    for entry in state.history:
        _check(_entry(entry), "history", f"holds an entry no engine writes: {_shown(entry)}")
    _attributes(state, compiled)
    _metrics(state.metrics, compiled)


def _attributes(state: MemberState, compiled: CompiledJourney | None) -> None:
    attributes = state.attributes or {}
    if compiled is None:
        for name, value in attributes.items():
            _check(_plain(value), f"attributes.{name}", "is not a value an attribute holds")
        return
    profile = {"id": "import", "member": "import", "type": "profile",
               "at": "2000-01-01T00:00:00+00:00", **attributes}  # fmt: skip
    try:
        compiled.events.read(profile)  # the attribute checks of profile events: no pii shown
    except InvalidEvent as error:
        where = f"attributes.{error.field}" if error.field else "attributes"
        raise ValueError(f"{where}: {error.reason}") from None


def _metrics(slots: list[Any], compiled: CompiledJourney | None) -> None:
    if compiled is None:
        for place, slot in enumerate(slots):
            _check(_loose(slot), f"metrics[{place}]", "holds a value no metric keeps")
        return
    specs = compiled.metrics.specs
    _check(len(slots) == len(specs), "metrics", f"has {len(slots)} slots, the journey "
           f"{len(specs)} metrics")  # fmt: skip
    types = _field_types(compiled)
    for spec, slot in zip(specs, slots, strict=True):
        field_type = types.get((spec.event_type, spec.field or ""))
        value_ok = _value_test(spec.kind, field_type)
        where = f"metrics.{spec.name}"
        if spec.window is not None:
            _check(type(slot) is list, where, "must be the list of a window's events")
            stamps = []
            for item in slot:
                _check(type(item) is tuple and len(item) == 2, where, "holds an odd event")
                _stamp(item[0], where)
                _check(value_ok(item[1]), where, f"holds {_shown(item[1])}")
                stamps.append(item[0])
            _check(stamps == sorted(stamps), where, "holds events out of time order")
        elif spec.kind == "count":
            _check(type(slot) is int and 0 <= slot < _SUM_LIMIT, where, "must be a count")
        elif spec.kind == "sum":
            _check(type(slot) is list and all(map(_summable, slot)), where,
                   "must be the partial sums of numbers in range")  # fmt: skip
        elif spec.kind == "distinct":
            _check(type(slot) is set and all(map(_loose, slot)), where, "must be a set")
        else:
            _check(slot is None or value_ok(slot), where, f"holds {_shown(slot)}")


def _field_types(compiled: CompiledJourney) -> dict[tuple[str, str], str]:
    journey = compiled.journey
    types: dict[tuple[str, str], str] = {
        (kind, name): field.type
        for kind, event in journey.events.items()
        for name, field in event.fields.items()
    }
    types.update({("profile", name): a.type for name, a in journey.attributes.items()})
    return types


def _value_test(kind: str, field_type: str | None) -> Callable[[Any], bool]:
    """What one value of a metric of ``kind`` (reading a field of ``field_type``) may be."""
    if kind in ("count", "first_at", "last_at"):
        return lambda v: type(v) is datetime  # the event's time
    wanted = _TYPES.get(field_type or "", object)
    return lambda v: isinstance(v, wanted) and _plain(v)


_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "int": int, "float": (int, float), "str": str, "bool": bool, "date": date,
    "datetime": datetime,
}  # fmt: skip


def _plain(value: Any) -> bool:
    """A value a field or an attribute holds: text, a number in range, a bool, a time."""
    if type(value) in (int, float):
        return in_range(value)
    return type(value) in (str, bool, date) or (
        type(value) is datetime and value.utcoffset() is not None
    )


def _loose(value: Any) -> bool:
    """A value some slot of some metric may hold (when the journey is not known)."""
    if value is None or _summable(value) or _plain(value):
        return True
    if type(value) is tuple:  # a window's event, a distinct boolean
        return all(map(_loose, value))
    if type(value) in (list, set):
        return all(map(_loose, value))
    return False


def _summable(value: Any) -> bool:
    return type(value) in (int, float) and -_SUM_LIMIT < value < _SUM_LIMIT


def _entry(entry: tuple[Any, ...]) -> bool:
    if entry and entry[0] == "move" and len(entry) == 6:
        _, move, source, target, at, cause = entry
        texts: tuple[Any, ...] = (move, source, target, cause)
    elif entry and entry[0] in ("granted", "withheld") and len(entry) == 5:
        _, incentive, reason, at, cause = entry
        texts = (incentive, reason, cause)
    else:
        return False
    return all(type(t) is str for t in texts) and type(at) is datetime


def _times(values: tuple[int | None, ...], where: str) -> None:
    for value in values:
        if value is not None:
            _stamp(value, where)


def _stamp(value: Any, where: str) -> None:
    """A time in microseconds (or a count of them), inside the calendar's years 1 to 9999."""
    _check(type(value) is int and _EARLIEST <= value <= _LATEST, where,
           "must be a time in microseconds between the years 1 and 9999")  # fmt: skip


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _check(holds: bool, where: str, what: str) -> None:
    if not holds:
        raise ValueError(f"{where} {what}")
