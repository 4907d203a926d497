"""A member's whole state as JSON-ready data, and back, exactly.

This is what a durable store writes and what ``topo export`` / ``topo import`` carry: every
field of :class:`topo.engine.member_state.MemberState`, so that a member decoded from it continues
exactly as one that was never written out (its windows, recent event ids, timers and ledger).

JSON has no times, dates, sets or tuples, and object keys are text; those values are written as
one-key objects whose key starts with ``$``:

- ``{"$t": "2026-03-01T10:15:00+08:00"}`` a time (RFC 3339 with its own offset, exact to the
  microsecond), ``{"$d": "2026-03-01"}`` a date;
- ``{"$tuple": [...]}``, ``{"$set": [...]}`` (sorted, so equal sets are written alike);
- ``{"$map": [[key, value], ...]}`` a mapping whose keys are not all text, or one of whose keys
  starts with ``$`` (so that no event id is ever read as a tag).

Floats are written with Python's shortest exact ``repr``, so they read back bit for bit.
:func:`decode` refuses anything else with a :class:`ValueError` that names the field.

A durable store keeps a member's history apart from the rest of its state, appending only the
entries new since its last commit: :func:`encode` with ``history=False`` writes the state without
them, :func:`encode_entries` and :func:`decode_entries` write and read a run of entries.

:func:`json_text` writes the text with orjson, byte for byte what ``json.dumps`` (compact, with
``ensure_ascii=False``) writes, several times faster; the standard library writes the rare values
orjson writes otherwise (floats below 0.0001 or from 1e16 up, integers past 64 bits).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

import orjson

from topo.engine.member_state import Entry, MemberState

__all__ = [
    "FORMAT",
    "decode",
    "decode_entries",
    "dumps",
    "encode",
    "encode_entries",
    "json_text",
    "loads",
]

FORMAT = "topo-member/1"
"""The name and version of this layout, written in every encoded state."""

_FIELDS = tuple(f.name for f in fields(MemberState))
_LATER = frozenset({"joined_at"})
"""Fields added to the layout after states were written: a state without one reads as None."""


def encode(state: MemberState, *, history: bool = True) -> dict[str, Any]:
    """``state`` as data ``json.dumps`` writes (with ``allow_nan=False`` too); with
    ``history=False``, its history as an empty list (a store that keeps it apart).

    The fields whose shape the engine fixes (times, tuples of whole numbers, history entries,
    recent event ids) are written directly; the rest (metric slots, attributes, explanations)
    go through the general :func:`_value`. Both write the same data (a test checks it).
    """
    seen = state.seen
    return {
        "format": FORMAT,
        "member": state.member,
        "node": state.node,
        "entered_at": {"$t": _written(state.entered_at)},
        "clock": state.clock,
        "metrics": _value(state.metrics),
        "seen": seen if _plain_keys(seen) else _value(seen),
        "attributes": None if state.attributes is None else _value(state.attributes),
        "last_activity": _time(state.last_activity, kept=False),
        "last_of_type": None if state.last_of_type is None else _value(state.last_of_type),
        "restarts": None if state.restarts is None else _value(state.restarts),
        "considered": None if state.considered is None else _value(state.considered),
        "stay": _numbers(state.stay),
        "ledger": _numbers(state.ledger),
        "grants": _numbers(state.grants),
        "history": [_entry(entry) for entry in state.history] if history else [],
        "explanation": None if state.explanation is None else _value(state.explanation),
        "due": state.due,
        "joined_at": _time(state.joined_at),
    }


def encode_generally(state: MemberState) -> dict[str, Any]:
    """What :func:`encode` writes, field by field through :func:`_value` (for tests)."""
    data: dict[str, Any] = {"format": FORMAT}
    for name in _FIELDS:
        data[name] = _value(getattr(state, name))
    return data


def _plain_keys(mapping: dict[str, int]) -> bool:
    """Whether every key is text not starting with ``$``, and every value a whole number."""
    for key, value in mapping.items():
        if type(key) is not str or key[:1] == "$" or type(value) is not int:
            return False
    return True


def _time(value: datetime | None, *, kept: bool = True) -> Any:
    """A time or None; ``kept=False`` for a time that changes at almost every change (the last
    activity), whose text is not worth keeping in :data:`_WRITTEN`."""
    if value is None:
        return None
    if type(value) is not datetime:
        return _value(value)
    return {"$t": _written(value) if kept else value.isoformat()}


_WRITTEN: dict[int, tuple[datetime, str]] = {}
"""Recent times as RFC 3339 text, each beside the very object it was written from, by the
object's ``id`` (an aware time's own hash asks for its offset, which costs more than the
lookup): a member's times are shared objects that a store writes again at each commit, and
``isoformat`` costs more than the rest of writing one. The object is kept with its text, so
its ``id`` is not another's while the entry lasts."""


def _written(value: datetime) -> str:
    """``value.isoformat()``, from :data:`_WRITTEN` when that object was written lately."""
    kept = _WRITTEN.get(id(value))
    if kept is not None and kept[0] is value:
        return kept[1]
    if len(_WRITTEN) >= 1 << 16:
        _WRITTEN.clear()
    text = value.isoformat()
    _WRITTEN[id(value)] = (value, text)
    return text


def _numbers(value: tuple[int | None, ...] | None) -> Any:
    if value is None:
        return None
    for item in value:
        if item is not None and type(item) is not int:
            return _value(value)
    return {"$tuple": list(value)}


def _entry(entry: tuple[Any, ...]) -> Any:
    """A history entry: a tuple of text and one time (:data:`topo.engine.member_state.Entry`)."""
    if len(entry) == 6:
        kind, move, source, target, at, cause = entry
        if (
            type(at) is datetime
            and type(kind) is type(move) is type(source) is type(target) is type(cause) is str
        ):
            return {"$tuple": [kind, move, source, target, {"$t": _written(at)}, cause]}
    elif len(entry) == 5:
        kind, incentive, reason, at, cause = entry
        if (
            type(at) is datetime
            and type(kind) is type(incentive) is type(reason) is type(cause) is str
        ):
            return {"$tuple": [kind, incentive, reason, {"$t": _written(at)}, cause]}
    return {
        "$tuple": [
            item
            if type(item) is str
            else {"$t": _written(item)}
            if type(item) is datetime
            else _value(item)
            for item in entry
        ]
    }


def encode_entries(entries: Sequence[Entry]) -> list[Any]:
    """History entries as :func:`encode` writes them in a state's ``history``."""
    return [_entry(entry) for entry in entries]


def decode_entries(data: Any) -> list[Entry]:
    """The history entries :func:`encode_entries` wrote; a :class:`ValueError` for anything
    else."""
    try:
        entries = _read(data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"history: {exc}") from None
    except RecursionError:
        raise ValueError("history: nested too deeply") from None
    if not _SHAPES["history"](entries):
        raise ValueError(f"history: {_SAID['history']}")
    return entries  # type: ignore[no-any-return]  # the shape was checked


def decode(data: Mapping[str, Any]) -> MemberState:
    """The state that :func:`encode` wrote; a :class:`ValueError` naming the field for
    anything else."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a member's state is a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise ValueError(f"not a member state of this topo: format {data.get('format')!r}, "
                         f"expected {FORMAT!r}")  # fmt: skip
    missing = [name for name in _FIELDS if name not in data and name not in _LATER]
    if missing:
        raise ValueError(f"a member's state lacks {', '.join(missing)}")
    values: dict[str, Any] = {}
    for name in _FIELDS:
        if name not in data:
            continue  # a field added after the state was written: its default
        try:
            values[name] = _read(data[name])
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{name}: {exc}") from None
        except RecursionError:
            raise ValueError(f"{name}: nested too deeply") from None
    for name, wanted in _SHAPES.items():
        if name in values and not wanted(values[name]):
            raise ValueError(f"{name}: {_SAID[name]}")
    return MemberState(**values)


def _optional(kind: type) -> Any:
    return lambda value: value is None or type(value) is kind


def _numbers_or_none(value: Any) -> bool:
    return type(value) is tuple and all(v is None or type(v) is int for v in value)


_SHAPES: dict[str, Any] = {
    "member": lambda v: type(v) is str,
    "node": lambda v: type(v) is str,
    "entered_at": lambda v: type(v) is datetime,
    "clock": lambda v: type(v) is int,
    "metrics": lambda v: type(v) is list,
    "seen": lambda v: (
        type(v) is dict and all(type(k) is str and type(t) is int for k, t in v.items())
    ),
    "attributes": _optional(dict),
    "last_activity": _optional(datetime),
    "last_of_type": _optional(list),
    "restarts": _optional(dict),
    "considered": _optional(dict),
    "stay": lambda v: type(v) is tuple and all(type(i) is int for i in v),
    "ledger": lambda v: v is None or _numbers_or_none(v),
    "grants": lambda v: v is None or _numbers_or_none(v),
    "history": lambda v: type(v) is list and all(type(e) is tuple and e for e in v),
    "explanation": _optional(list),
    "due": lambda v: v is None or type(v) is int,
    "joined_at": _optional(datetime),
}
_SAID = {
    "member": "must be text",
    "node": "must be text",
    "entered_at": "must be a time",
    "clock": "must be a whole number of microseconds",
    "metrics": "must be a list",
    "seen": "must map event ids to whole numbers",
    "stay": "must be a tuple of whole numbers",
    "ledger": "must be null or a tuple of whole numbers and nulls",
    "grants": "must be null or a tuple of whole numbers and nulls",
    "history": "must be a list of tuples",
    "due": "must be null or a whole number",
    "last_activity": "must be null or a time",
    "joined_at": "must be null or a time",
} | {name: "has the wrong type" for name in ("attributes", "last_of_type", "restarts",
                                            "considered", "explanation")}  # fmt: skip


def dumps(state: MemberState) -> str:
    """``state`` as one line of JSON (for JSON lines files)."""
    return json_text(encode(state))


def json_text(data: Any) -> str:
    """``data`` as compact JSON text: for data :func:`encode` made, byte for byte what
    ``json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))`` writes,
    and raising what it raises, several times faster (orjson).

    orjson writes floats below 0.0001 or from 1e16 up otherwise (``0.00001`` for ``1e-05``,
    and some versions ``1e16`` for ``1e+16``), and NaN as ``null``; :func:`encode` hands
    those over as :class:`_Float`, which orjson refuses, so ``json.dumps`` writes them
    (integers past 64 bits and lone surrogates too). Other data is written alike by both,
    but for such floats, which only a trigger's cost might hold, and then in a form that
    reads back the same."""
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class _Float(float):
    """A float that orjson writes otherwise than ``json.dumps`` (see :func:`json_text`)."""

    __slots__ = ()


def loads(text: str | bytes) -> Any:
    """The data of JSON text, exactly as ``json.loads`` reads it (faster, with orjson): a
    :class:`ValueError` for text that is not JSON."""
    if type(text) is str and _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # lone surrogates, say: as json reads them, or not
            pass
    return json.loads(text)


# orjson reads an integer past 64 bits as a float (a 19-digit one may be past them): text with
# 19 digits in a row is read by json. Floats never have as many (json writes 17 at most, and an
# exponent from 1e16 on); an id of many digits is read by json, more slowly, and the same.
_LONG_NUMBER = re.compile(r"[0-9]{19}")


_SCALARS = frozenset({type(None), bool, int, str})
"""What is written as it is (a float goes through :func:`_value`: see :func:`json_text`)."""


def _value(value: Any) -> Any:
    kind = type(value)
    if kind is float:  # the floats both write alike stay; the rest json.dumps writes
        return value if 1e-4 <= abs(value) < 1e16 or value == 0.0 else _Float(value)
    if kind is tuple:  # a window's entries are (time, value) pairs: those first, directly
        if len(value) == 2:
            at, number = value
            kind = type(number)
            if type(at) is int and (
                kind is int or (kind is float and (1e-4 <= abs(number) < 1e16 or number == 0.0))
            ):
                return {"$tuple": [at, number]}
        return {"$tuple": [item if type(item) in _SCALARS else _value(item) for item in value]}
    if value is None or kind in (bool, int, str):
        return value
    if kind is datetime:
        return {"$t": _written(value)}
    if kind is date:
        return {"$d": value.isoformat()}
    if kind is list:  # scalars, the most common items, without a call each
        return [item if type(item) in _SCALARS else _value(item) for item in value]
    if kind is set:
        return {"$set": sorted((_value(item) for item in value), key=_order)}
    if kind is dict:
        if all(type(key) is str and not key.startswith("$") for key in value):
            return {key: _value(item) for key, item in value.items()}
        return {"$map": [[_value(key), _value(item)] for key, item in value.items()]}
    raise TypeError(f"a member's state holds a {kind.__name__}, which topo cannot write")


def _order(encoded: Any) -> str:
    return json.dumps(encoded, sort_keys=True)


def _read(value: Any) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [_read(item) for item in value]
    if type(value) is not dict:
        raise TypeError(f"unexpected {type(value).__name__}")
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "$t":
            found = datetime.fromisoformat(inner)
            if found.utcoffset() is None:
                raise ValueError(f"the time {inner!r} has no offset")
            return found
        if tag == "$d":
            return date.fromisoformat(inner)
        if tag == "$tuple":
            return tuple(_read(item) for item in inner)
        if tag == "$set":
            return {_read(item) for item in inner}
        if tag == "$map":
            return {_read(key): _read(item) for key, item in inner}
        if tag.startswith("$"):
            raise ValueError(f"unknown tag {tag!r}")
    return {key: _read(item) for key, item in value.items()}
