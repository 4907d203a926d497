"""The values of an event's fields: each checked against its declaration and typed.

:func:`field_check` makes, once per field, a check for the field's type, bounds and
``one_of``; a check returns the value as its type or raises :class:`Refusal` with a reason for
people. Reasons never show a pii value. :func:`timestamp` reads RFC 3339 times with an offset.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from topo.journey.model import NUMBER_TYPES, EventField
from topo.journey.number_range import FLOAT_LIMIT, LARGEST, RANGE_TEXT, SMALLEST

__all__ = [
    "EXAMPLE_TIMESTAMP",
    "TIMESTAMP",
    "Check",
    "Refusal",
    "clip",
    "describe",
    "field_check",
    "is_text",
    "iso_text",
    "literal",
    "timestamp",
    "timestamp_text",
]

EXAMPLE_TIMESTAMP: Final = "2026-03-01T10:15:00+08:00"
_DIGITS = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]+)?"
TIMESTAMP = re.compile(_DIGITS + "(?:Z|[+-][0-9]{2}:[0-9]{2})").fullmatch
"""Whether text has the shape of an RFC 3339 timestamp with an offset (``Z`` or ``+hh:mm``)."""
_NAIVE_TIMESTAMP = re.compile(_DIGITS).fullmatch
_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_ABSENT: Final = object()
_SHOWN_CHOICES = 10
_SHOWN_CHARACTERS = 40
_LARGE = 10**30
_NOT_SHOWN = "(pii values are never shown)"

Check = Callable[[Any], object]
"""A field's check: the value as its declared type, or :class:`Refusal`."""
Allowed = frozenset[object] | None
"""A field's ``one_of`` values as its type, or None when any value of the type will do."""
Number = int | float


class Refusal(Exception):
    """A value breaks its declaration; the reader adds the event id and the field."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


def describe(value: object) -> str:
    """A short description of a value for a reason: ``the text 'abc'``, ``the number 3.0``."""
    if value is None or value is True or value is False:
        return literal(value)
    if isinstance(value, str):
        return f"the text {clip(value)!r}"
    if isinstance(value, int) and abs(value) >= _LARGE:
        return "a very large integer"  # its digits would not help, and may not even print
    if isinstance(value, int | float):
        return f"the number {_number(value)}"
    if isinstance(value, datetime):
        naive = "" if value.utcoffset() is not None else " (without an offset)"
        return f"the timestamp {value.isoformat()}{naive}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a value of type {type(value).__name__}"


def field_check(spec: EventField, *, secret: bool) -> Check:
    allowed, choices = _allowed(spec)
    if spec.type in NUMBER_TYPES:
        make = _integer_check if spec.type == "int" else _float_check
        return make(spec.min, spec.max, allowed, choices, secret)
    makers = {"str": _text_check, "bool": _bool_check, "date": _date_check}
    return makers.get(spec.type, _datetime_check)(allowed, choices, secret)


def _integer_check(
    low: Number | None, high: Number | None, allowed: Allowed, choices: str, secret: bool
) -> Check:
    def check(value: Any) -> object:
        if type(value) is not int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise Refusal(_wrong(value, "an integer", secret))
            value = int(value)
        if not SMALLEST <= value <= LARGEST:
            raise Refusal(_out_of_range(value, secret))
        if (
            (low is not None and value < low)
            or (high is not None and value > high)
            or (allowed is not None and value not in allowed)
        ):
            raise Refusal(_out_of_bounds(value, low, high, choices, secret))
        return value

    return check


def _float_check(
    low: Number | None, high: Number | None, allowed: Allowed, choices: str, secret: bool
) -> Check:
    def check(value: Any) -> object:
        number = value if type(value) is float else _as_float(value, secret)
        if not -FLOAT_LIMIT <= number <= FLOAT_LIMIT:  # false for NaN, too
            if number - number != 0.0:  # NaN and the infinities
                raise Refusal(_wrong(value, "a finite number", secret))
            raise Refusal(_out_of_range(value, secret))
        if (
            (low is not None and number < low)
            or (high is not None and number > high)
            or (allowed is not None and number not in allowed)
        ):
            raise Refusal(_out_of_bounds(value, low, high, choices, secret))  # as it came
        return number

    return check


def _as_float(value: object, secret: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refusal(_wrong(value, "a number", secret))
    if isinstance(value, int) and not SMALLEST <= value <= LARGEST:  # before float() rounds
        raise Refusal(_out_of_range(value, secret))  # 2**63 + 1000 into 2**63
    return float(value)


def _out_of_range(value: object, secret: bool) -> str:
    return f"{_subject(value, secret)} is out of range: {RANGE_TEXT}"


def _out_of_bounds(
    value: float, low: Number | None, high: Number | None, choices: str, secret: bool
) -> str:
    if low is not None and value < low:
        return f"{_subject(value, secret)} is below the minimum {_number(low)}"
    if high is not None and value > high:
        return f"{_subject(value, secret)} is above the maximum {_number(high)}"
    return _outside(value, choices, secret)


def _text_check(allowed: Allowed, choices: str, secret: bool) -> Check:
    def check(value: Any) -> object:
        if type(value) is not str:
            if not isinstance(value, str):
                raise Refusal(_wrong(value, "text", secret))
            value = str(value)
        if not value.isascii() and not is_text(value):
            raise Refusal(_NOT_TEXT)
        if allowed is not None and value not in allowed:
            raise Refusal(_outside(value, choices, secret))
        return value

    return check


_NOT_TEXT = "it holds a lone surrogate (as a JSON escape like \\udcff can write), which no text has"


def is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text that UTF-8 can write (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bool_check(allowed: Allowed, choices: str, secret: bool) -> Check:
    def check(value: Any) -> object:
        if value is not True and value is not False:
            raise Refusal(_wrong(value, "true or false", secret))
        if allowed is not None and value not in allowed:
            raise Refusal(_outside(value, choices, secret))
        return value

    return check


def _date_check(allowed: Allowed, choices: str, secret: bool) -> Check:
    def check(value: Any) -> object:
        if type(value) is not date:
            value = _as_date(value, secret)
        if allowed is not None and value not in allowed:
            raise Refusal(_outside(value, choices, secret))
        return value

    return check


def _as_date(value: object, secret: bool) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return date(value.year, value.month, value.day)
    if isinstance(value, str) and _DATE(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise Refusal(f"{_subject(value, secret)} is not a real date") from None
    raise Refusal(_wrong(value, "a date like 2026-03-01", secret))


def _datetime_check(allowed: Allowed, choices: str, secret: bool) -> Check:
    def check(value: Any) -> object:
        value = timestamp(value, "the value", secret)
        if allowed is not None and value not in allowed:
            raise Refusal(_outside(value, choices, secret))
        return value

    return check


def _allowed(spec: EventField) -> tuple[Allowed, str]:
    """The ``one_of`` values as the field's type (dates and timestamps parsed), and their text."""
    if spec.one_of is None:
        return None, ""
    values = [v for v in (_choice(v, spec.type) for v in spec.one_of) if v is not _ABSENT]
    shown = [literal(v) for v in values[:_SHOWN_CHOICES]]
    more = len(values) - len(shown)
    text = ", ".join(shown) + (f" or {more} more" if more else "")
    return frozenset(values), text


def _choice(value: object, kind: str) -> object:
    """A ``one_of`` value as the field's type, or ``_ABSENT`` if it cannot be one."""
    try:
        if kind in NUMBER_TYPES:
            return (
                value if isinstance(value, int | float) and not isinstance(value, bool) else _ABSENT
            )
        if kind == "date":
            return _as_date(value, secret=True)
        if kind == "datetime":
            return timestamp(value, "", True)
    except Refusal:
        return _ABSENT
    expected = {"str": str, "bool": bool}[kind]
    return value if type(value) is expected else _ABSENT


def timestamp(value: object, subject: str, secret: bool) -> datetime:
    """An aware datetime from RFC 3339 text with an offset, or from an aware datetime."""
    if type(value) is str and TIMESTAMP(value) is not None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if 1 < parsed.year < 9999:
                return parsed
    return _odd_timestamp(value, subject, secret)


def _odd_timestamp(value: object, subject: str, secret: bool) -> datetime:
    write = f"write it as {EXAMPLE_TIMESTAMP}"
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            raise Refusal(f"{subject} has no offset: {_with_offset(value.isoformat(), secret)}")
        if offset.seconds % 60 or offset.microseconds:
            raise Refusal(f"{subject} has an offset in seconds; RFC 3339 offsets are whole minutes")
        return _representable(value, subject)
    if isinstance(value, date):
        raise Refusal(f"{subject} is a date without a time: {write}")
    text = value.upper() if isinstance(value, str) else ""  # RFC 3339 allows 't' and 'z'
    if TIMESTAMP(text):
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise Refusal(f"{subject} has a part out of range{_got(value, secret)}") from None
        return _representable(parsed, subject)
    if _NAIVE_TIMESTAMP(text):
        if not _parses(datetime.fromisoformat, text):  # advice must not repeat a bad part
            raise Refusal(f"{subject} has a part out of range{_got(value, secret)}")
        raise Refusal(f"{subject} has no offset: {_with_offset(str(value), secret)}")
    if _DATE(text):
        if not _parses(date.fromisoformat, text):
            raise Refusal(f"{subject} has a part out of range{_got(value, secret)}")
        like = write if secret else f"write it as {value}T00:00:00+00:00 (midnight UTC)"
        raise Refusal(f"{subject} is a date without a time: {like}")
    raise Refusal(f"{subject} is not an RFC 3339 timestamp{_got(value, secret)}: {write}")


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _with_offset(naive: str, secret: bool) -> str:
    """How to write a time that lacks an offset: the time itself with one (not a pii one)."""
    if secret:
        return f"write it with the offset of its time zone, as {EXAMPLE_TIMESTAMP}"
    return f"write it with the offset of its time zone, as {naive}+00:00 for UTC"


def _representable(value: datetime, subject: str) -> datetime:
    if value.year in (1, 9999):  # only there can the offset carry it out of range
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise Refusal(
                f"{subject} is out of range: in UTC it falls outside years 1 to 9999"
            ) from None
    return value


def iso_text(text: str, at: datetime) -> str:
    """``at.isoformat()``, which is ``text`` itself when ``text`` (RFC 3339 with an offset,
    as :data:`TIMESTAMP` matches it, the text ``at`` was read from) is written that way
    already: with no fraction of a second or six digits of one that are not all zero, an
    offset other than ``-00:00`` (written ``+00:00``) and no hour 24."""
    size = len(text)
    if (
        (size == 25 or (size == 32 and at.microsecond))
        and text[-6] in "+-"
        and text[-6:] != "-00:00"
        and text[11:13] != "24"
    ):
        return text
    return at.isoformat()


def timestamp_text(value: object, at: datetime) -> str:
    return str(value) if isinstance(value, str) else at.isoformat()


def _wrong(value: object, expected: str, secret: bool) -> str:
    if secret:
        return f"the value is not {expected} {_NOT_SHOWN}"
    return f"expected {expected}, got {describe(value)}"


def _outside(value: object, choices: str, secret: bool) -> str:
    shown = "the value" if secret else literal(value)
    return f"{shown} is not one of {choices}"


def _subject(value: object, secret: bool) -> str:
    return "the value" if secret else describe(value)


def _got(value: object, secret: bool) -> str:
    return "" if secret else f" (got {describe(value)})"


def literal(value: object) -> str:
    """A value as the journey would write it: true, null, 'text', 3.5, 2026-03-01."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(clip(value))
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, date):
        return value.isoformat()
    return describe(value)


def _number(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "infinity" if value > 0 else "-infinity"
        return repr(value)
    if isinstance(value, int) and abs(value) >= _LARGE:
        return "a very large integer"
    return str(value)


def clip(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARACTERS else text[:_SHOWN_CHARACTERS] + "..."
