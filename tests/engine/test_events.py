"""Events as they arrive: every rule of the format, the reasons people read, pii kept out."""

from __future__ import annotations

import dataclasses
import math
from collections import UserDict
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import topo
from topo.engine.events import REDACTED, Event, EventReader, redact
from topo.journey.model import Journey
from topo.journey.number_range import RANGE_TEXT

AT = "2026-03-01T10:15:00+08:00"
PLUS_8 = timezone(timedelta(hours=8))
ATTRIBUTES = {
    "region": {"type": "str"},
    "score": {"type": "int"},
    "balance": {"type": "float"},
    "vip": {"type": "bool"},
    "phone": {"type": "str", "pii": True},
    "birthday": {"type": "date", "pii": True},
    "verified_at": {"type": "datetime", "pii": True},
    "income": {"type": "float", "pii": True},
}
PURCHASE = {
    "fields": {
        "amount": {"type": "float", "min": 0},
        "offering": {"type": "str", "one_of": ["magazine", "talks", "courses"]},
        "plan": {"type": "str", "required": False},
    }
}


def journey(
    *,
    fields: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    extra_fields: str = "reject",
) -> Journey:
    """A small journey: ``purchase``, ``thing`` with ``fields``, and the attributes."""
    return Journey.model_validate(
        {
            "topo": 1,
            "journey": "demo",
            "version": 1,
            "owners": {"crm": {}},
            "attributes": ATTRIBUTES if attributes is None else attributes,
            "events": {"purchase": PURCHASE, "thing": {"fields": fields or {}}},
            "nodes": {
                "visitor": {"kind": "start", "owner": "crm"},
                "vip": {"kind": "peak", "owner": "crm"},
            },
            "settings": {"extra_fields": extra_fields},
        }
    )


READER = EventReader(journey())


def purchase(**changes: Any) -> dict[str, Any]:
    """A valid purchase, with keys changed (a value of ``...`` removes the key)."""
    raw = {
        "id": "e-1",
        "member": "m-42",
        "type": "purchase",
        "at": AT,
        "amount": 1200.0,
        "offering": "magazine",
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not ...}


def profile(**fields: Any) -> dict[str, Any]:
    """A profile event carrying ``fields``."""
    return {"id": "p-1", "member": "m-42", "type": "profile", "at": AT, **fields}


def refusal(raw: Any, reader: EventReader = READER) -> topo.InvalidEvent:
    """The InvalidEvent that reading ``raw`` raises."""
    with pytest.raises(topo.InvalidEvent) as caught:
        reader.read(raw)
    return caught.value


def value_of(spec: dict[str, Any], value: Any) -> object:
    """Read a ``thing`` whose one field ``value`` is declared by ``spec``; its value as read."""
    reader = EventReader(journey(fields={"value": spec}))
    raw = {"id": "t-1", "member": "m-1", "type": "thing", "at": AT, "value": value}
    return reader.read(raw).fields["value"]


def refused_value(spec: dict[str, Any], value: Any) -> topo.InvalidEvent:
    """The InvalidEvent for a ``thing`` whose one field ``value`` is declared by ``spec``."""
    reader = EventReader(journey(fields={"value": spec}))
    raw = {"id": "t-1", "member": "m-1", "type": "thing", "at": AT, "value": value}
    error = refusal(raw, reader)
    assert error.field == "value"
    return error


class TestEvent:
    """The Event value: frozen, slotted, comparable, and back to a mapping."""

    def test_read(self) -> None:
        """A valid purchase becomes an Event with its envelope and typed fields."""
        event = READER.read(purchase(amount=1200))
        assert event == Event(
            "e-1",
            "m-42",
            "purchase",
            datetime(2026, 3, 1, 10, 15, tzinfo=PLUS_8),
            AT,
            {"amount": 1200.0, "offering": "magazine"},
        )
        assert type(event.fields["amount"]) is float

    def test_frozen(self) -> None:
        """An Event's attributes cannot be reassigned."""
        event = READER.read(purchase())
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.id = "e-2"  # type: ignore[misc]

    def test_slots(self) -> None:
        """An Event has slots and no instance dictionary."""
        assert not hasattr(READER.read(purchase()), "__dict__")

    def test_hashable(self) -> None:
        """Equal events hash alike, although their fields are a dictionary."""
        assert hash(READER.read(purchase())) == hash(READER.read(purchase()))

    def test_to_dict(self) -> None:
        """to_dict gives the envelope with ``at`` as its text, then the fields."""
        event = READER.read(purchase(at="2026-03-01T02:15:00.5Z"))
        assert event.to_dict() == purchase(at="2026-03-01T02:15:00.5Z")


class TestEventRoundTrip:
    """An Event passed to read is checked again, as a mapping."""

    def test_event_reads_as_itself(self) -> None:
        """Reading an Event gives an equal Event."""
        event = READER.read(purchase(plan="monthly"))
        assert READER.read(event) == event

    def test_mapping_reads_as_the_event(self) -> None:
        """Reading an Event's to_dict gives an equal Event."""
        event = READER.read(profile(region=None, birthday="1990-01-02"))
        assert READER.read(event.to_dict()) == event
        assert event.fields == {"region": None, "birthday": date(1990, 1, 2)}

    def test_built_by_hand(self) -> None:
        """A correct Event built by hand passes."""
        at = datetime(2026, 3, 1, 10, 15, tzinfo=PLUS_8)
        event = Event("e-1", "m-1", "purchase", at, AT, {"amount": 5, "offering": "talks"})
        assert READER.read(event).fields == {"amount": 5.0, "offering": "talks"}

    @pytest.mark.parametrize(
        "changes,field,words",
        [
            ({"fields": {"amount": -5.0, "offering": "talks"}}, "amount", "below the minimum"),
            ({"fields": {"offering": "talks"}}, "amount", "missing"),
            ({"fields": {"amount": 5.0, "offering": "talks", "id": "x"}}, "id", "every event"),
            ({"fields": ["amount"]}, None, "fields must be a mapping"),
            ({"type": "purchse"}, None, "did you mean 'purchase'"),
            ({"id": ""}, None, "'id' is empty"),
            ({"at_text": None}, None, "'at_text' must be the text"),
            ({"at_text": "2026-03-01T10:15:00"}, None, "'at' has no offset"),
            ({"at": datetime(2026, 3, 1, 10, 15)}, None, "'at' is not the time its text says"),
            ({"at": datetime(2026, 3, 1, 2, 15, tzinfo=UTC)}, None, "with that offset"),
        ],
    )
    def test_wrong_by_hand(self, changes: dict[str, Any], field: str | None, words: str) -> None:
        """An Event built by hand that breaks a rule is refused like a mapping would be."""
        at = datetime(2026, 3, 1, 10, 15, tzinfo=PLUS_8)
        fields = {"amount": 5.0, "offering": "talks"}
        event = Event("e-1", "m-1", "purchase", at, AT, fields)
        error = refusal(dataclasses.replace(event, **changes))
        assert (error.field, words in str(error)) == (field, True), str(error)


class TestEnvelope:
    """id, member, type and at are required, and say so."""

    @pytest.mark.parametrize(
        "changes,message",
        [
            ({"id": ...}, "event without an id: 'id' is missing; every event needs an id"),
            ({"id": None}, "event without an id: 'id' is null"),
            ({"id": ""}, "event without an id: 'id' is empty"),
            ({"id": 5}, "event without an id: 'id' must be text, got the number 5"),
            ({"member": ...}, "event 'e-1': 'member' is missing; every event names the member"),
            ({"member": ""}, "event 'e-1': 'member' is empty"),
            ({"member": ["m"]}, "event 'e-1': 'member' must be text, got a list"),
            ({"type": ...}, "event 'e-1': 'type' is missing; every event names its type"),
            ({"type": 3}, "event 'e-1': 'type' must be text, got the number 3"),
            ({"type": "purchse"}, "event 'e-1': 'type' is 'purchse', not an event type of "),
            ({"type": "any"}, "event 'e-1': 'type' is 'any', not an event type of this journey"),
            ({"at": ...}, "event 'e-1': 'at' is missing; every event needs the time it happened"),
            ({"at": None}, "event 'e-1': 'at' is null"),
        ],
    )
    def test_refused(self, changes: dict[str, Any], message: str) -> None:
        """A missing, empty or wrongly typed envelope key is named, with no field."""
        error = refusal(purchase(**changes))
        assert str(error).startswith(message), str(error)
        assert error.field is None

    def test_unknown_type_suggests(self) -> None:
        """A misspelt type gets the nearest one; a strange one gets the list."""
        assert str(refusal(purchase(type="purchse"))).endswith("did you mean 'purchase'?")
        assert "(the types: profile, purchase, thing)" in str(refusal(purchase(type="zzz")))

    def test_event_id(self) -> None:
        """The error carries the event id when the event has a usable one."""
        assert refusal(purchase(amount="x")).event_id == "e-1"
        assert refusal(purchase(id=7, amount="x")).event_id is None

    def test_id_is_checked_first(self) -> None:
        """With several problems, the id comes first, then member, type, at, fields."""
        error = refusal(purchase(id=..., member=..., amount="x"))
        assert "'id' is missing" in str(error)
        assert "'member'" in str(refusal(purchase(member=..., at=..., amount="x")))
        assert "'at'" in str(refusal(purchase(at="x", amount="x")))

    @pytest.mark.parametrize("raw", [None, [], "e-1", 5])
    def test_not_a_mapping(self, raw: object) -> None:
        """Something that is not a mapping is refused with what it is."""
        assert str(refusal(raw)).startswith("event without an id: an event is a mapping")

    def test_other_mappings(self) -> None:
        """Any Mapping will do, not only a dict, and str subclasses count as text."""

        class Text(str):
            pass

        raw = UserDict(purchase(id=Text("e-9"), type=Text("purchase")))
        event = READER.read(raw)
        assert (type(event.id), event.type) == (str, "purchase")


class TestTimestamps:
    """``at``: RFC 3339 with an offset, kept as it came."""

    @pytest.mark.parametrize(
        "text,expected",
        [
            (AT, datetime(2026, 3, 1, 10, 15, tzinfo=PLUS_8)),
            ("2026-03-01T02:15:00Z", datetime(2026, 3, 1, 2, 15, tzinfo=UTC)),
            ("2026-03-01t02:15:00z", datetime(2026, 3, 1, 2, 15, tzinfo=UTC)),
            ("2026-03-01T02:15:00-00:00", datetime(2026, 3, 1, 2, 15, tzinfo=UTC)),
            ("2026-03-01T02:15:00.5Z", datetime(2026, 3, 1, 2, 15, 0, 500000, tzinfo=UTC)),
            ("2026-03-01T02:15:00.123456789Z", datetime(2026, 3, 1, 2, 15, 0, 123456, tzinfo=UTC)),
            (
                "2026-03-01T10:15:00-05:30",
                datetime(2026, 3, 1, 10, 15, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
            ),
        ],
    )
    def test_accepted(self, text: str, expected: datetime) -> None:
        """Z, offsets, lowercase t and z, and fractional seconds are read; the text is kept."""
        event = READER.read(purchase(at=text))
        assert (event.at, event.at.utcoffset(), event.at_text) == (
            expected,
            expected.utcoffset(),
            text,
        )

    def test_datetime_object(self) -> None:
        """An aware datetime is accepted; its text is its ISO form with the offset."""
        event = READER.read(purchase(at=datetime(2026, 3, 1, 10, 15, tzinfo=PLUS_8)))
        assert event.at_text == AT

    @pytest.mark.parametrize(
        "value,reason",
        [
            (
                "2026-05-04T09:30:00",
                "'at' has no offset: write it with the offset of its time "
                "zone, as 2026-05-04T09:30:00+00:00 for UTC",
            ),
            ("2026-03-01T10:15:00.25", "'at' has no offset"),
            (datetime(2026, 3, 1, 10, 15), "'at' has no offset"),
            ("2026-03-01", "'at' is a date without a time: write it as 2026-03-01T00:00:00+00:00"),
            (date(2026, 3, 1), "'at' is a date without a time"),
            ("2026-03-01 10:15:00+08:00", "'at' is not an RFC 3339 timestamp (got the text"),
            ("2026-03-01T10:15+08:00", "'at' is not an RFC 3339 timestamp"),
            ("2026-03-01T10:15:00+0800", "'at' is not an RFC 3339 timestamp"),
            ("20260301T101500Z", "'at' is not an RFC 3339 timestamp"),
            ("yesterday", "'at' is not an RFC 3339 timestamp (got the text 'yesterday')"),
            (1772331300, "'at' is not an RFC 3339 timestamp (got the number 1772331300)"),
            ("2026-13-01T10:15:00Z", "'at' has a part out of range"),
            ("2026-13-01", "'at' has a part out of range (got the text '2026-13-01')"),
            ("2026-02-30T10:15:00", "'at' has a part out of range (got the text"),
            ("2026-02-30T10:15:00Z", "'at' has a part out of range"),
            ("2026-03-01T24:00:00Z", "'at' has a part out of range"),
            ("2026-03-01T10:15:00+24:00", "'at' has a part out of range"),
            ("0001-01-01T00:00:00+01:00", "'at' is out of range"),
            ("9999-12-31T23:59:59-01:00", "'at' is out of range"),
            (
                datetime(2026, 3, 1, tzinfo=timezone(timedelta(seconds=30))),
                "'at' has an offset in seconds",
            ),
        ],
    )
    def test_refused(self, value: object, reason: str) -> None:
        """Timestamps without an offset, dates, other forms and impossible times are refused."""
        error = refusal(purchase(at=value))
        assert error.reason.startswith(reason), error.reason
        assert error.field is None

    def test_brief_example(self) -> None:
        """The reason for a missing offset shows the event's own time with one."""
        error = refusal(purchase(at="2026-05-04T09:30:00"))
        assert str(error) == (
            "event 'e-1': 'at' has no offset: write it with the offset of its time zone, as "
            "2026-05-04T09:30:00+00:00 for UTC"
        )

    def test_a_naive_datetime_object(self) -> None:
        """A Python datetime without tzinfo is shown as itself with an offset."""
        error = refusal(purchase(at=datetime(2026, 5, 4, 9, 30)))
        assert error.reason.endswith("as 2026-05-04T09:30:00+00:00 for UTC")

    def test_edges_of_the_calendar(self) -> None:
        """Year 1 and year 9999 are fine while they stay in range in UTC."""
        assert READER.read(purchase(at="0001-01-01T00:00:00Z")).at.year == 1
        assert READER.read(purchase(at="9999-12-31T23:59:59+01:00")).at.year == 9999


class TestNumbers:
    """int and float fields: an integer is a float, nothing else crosses over."""

    @pytest.mark.parametrize(
        "kind,value,expected",
        [
            ("int", 3, 3),
            ("int", -7, -7),
            ("int", 10**18, 10**18),
            ("float", 3.5, 3.5),
            ("float", 3, 3.0),
            ("float", -0.0, 0.0),
            ("float", 1e18, 1e18),
        ],
    )
    def test_accepted(self, kind: str, value: object, expected: object) -> None:
        """Integers for int and float, floats for float; the value comes back as declared."""
        got = value_of({"type": kind}, value)
        assert (type(got), got) == (type(expected), expected)

    @pytest.mark.parametrize(
        "kind,value,reason",
        [
            ("int", 3.0, "expected an integer, got the number 3.0"),
            ("int", 3.5, "expected an integer, got the number 3.5"),
            ("int", True, "expected an integer, got true"),
            ("int", "3", "expected an integer, got the text '3'"),
            ("int", None, "every thing event needs this field; it is null"),
            ("float", True, "expected a number, got true"),
            ("float", False, "expected a number, got false"),
            ("float", "abc", "expected a number, got the text 'abc'"),
            ("float", [1.0], "expected a number, got a list"),
            ("float", {"v": 1}, "expected a number, got a mapping"),
            ("float", math.nan, "expected a finite number, got the number NaN"),
            ("float", math.inf, "expected a finite number, got the number infinity"),
            ("float", -math.inf, "expected a finite number, got the number -infinity"),
            ("float", 10**400, f"a very large integer is out of range: {RANGE_TEXT}"),
        ],
    )
    def test_refused(self, kind: str, value: object, reason: str) -> None:
        """Floats (even 3.0) and booleans are not integers; NaN and infinities are invalid."""
        assert refused_value({"type": kind}, value).reason == reason

    @pytest.mark.parametrize(
        "kind,value",
        [
            ("int", 2**63 - 1),
            ("int", -(2**63)),
            ("float", 2**63 - 1),
            ("float", 9.2e18),
            ("float", -9.223372036854775808e18),
        ],
    )
    def test_the_ends_of_the_range(self, kind: str, value: object) -> None:
        """The largest and smallest 64-bit integers, and floats inside their range, are taken."""
        assert value_of({"type": kind}, value) == (float(value) if kind == "float" else value)

    @pytest.mark.parametrize(
        "kind,value,shown",
        [
            ("int", 2**63, "the number 9223372036854775808"),
            ("int", -(2**63) - 1, "the number -9223372036854775809"),
            ("int", 10**4299, "a very large integer"),
            ("float", 2**64, "the number 18446744073709551616"),
            ("float", 2**63 + 1000, "the number 9223372036854776808"),  # float() made it 2**63
            ("float", 9.3e18, "the number 9.3e+18"),
            ("float", -1e300, "the number -1e+300"),
            ("float", 1.7976931348623157e308, "the number 1.7976931348623157e+308"),
        ],
    )
    def test_out_of_range(self, kind: str, value: object, shown: str) -> None:
        """A number outside a 64-bit integer's range is invalid, whatever the field's bounds:
        no output could carry it, and sums of such numbers outgrow what Python writes."""
        reason = refused_value({"type": kind}, value).reason
        assert reason == f"{shown} is out of range: {RANGE_TEXT}"

    def test_brief_example(self) -> None:
        """The reason for text in a number field reads as the format's example."""
        error = refusal(purchase(amount="abc"))
        assert str(error) == "event 'e-1', field 'amount': expected a number, got the text 'abc'"


class TestOtherTypes:
    """str, bool, date and datetime fields."""

    @pytest.mark.parametrize(
        "kind,value,expected",
        [
            ("str", "", ""),
            ("str", "magazine", "magazine"),
            ("bool", True, True),
            ("bool", False, False),
            ("date", "2026-03-01", date(2026, 3, 1)),
            ("date", date(2024, 2, 29), date(2024, 2, 29)),
            ("datetime", AT, datetime(2026, 3, 1, 10, 15, tzinfo=PLUS_8)),
            ("datetime", "2026-03-01T02:15:00Z", datetime(2026, 3, 1, 2, 15, tzinfo=UTC)),
            ("datetime", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        ],
    )
    def test_accepted(self, kind: str, value: object, expected: object) -> None:
        """Each type takes its own values, dates and timestamps as text or as objects."""
        got = value_of({"type": kind}, value)
        assert (type(got), got) == (type(expected), expected)

    @pytest.mark.parametrize(
        "kind,value,reason",
        [
            ("str", 5, "expected text, got the number 5"),
            ("str", True, "expected text, got true"),
            ("bool", 1, "expected true or false, got the number 1"),
            ("bool", "true", "expected true or false, got the text 'true'"),
            ("date", "2026-3-1", "expected a date like 2026-03-01, got the text '2026-3-1'"),
            ("date", "01/03/2026", "expected a date like 2026-03-01, got the text '01/03/2026'"),
            ("date", "2026-02-30", "the text '2026-02-30' is not a real date"),
            ("date", 20260301, "expected a date like 2026-03-01, got the number 20260301"),
            (
                "date",
                datetime(2026, 3, 1, tzinfo=UTC),
                "expected a date like 2026-03-01, got the timestamp 2026-03-01T00:00:00+00:00",
            ),
            (
                "datetime",
                "2026-03-01T10:15:00",
                "the value has no offset: write it with the "
                "offset of its time zone, as 2026-03-01T10:15:00+00:00 for UTC",
            ),
            ("datetime", datetime(2026, 3, 1), "the value has no offset"),
            ("datetime", "2026-03-01", "the value is a date without a time"),
            ("datetime", date(2026, 3, 1), "the value is a date without a time"),
            ("datetime", 5, "the value is not an RFC 3339 timestamp (got the number 5)"),
        ],
    )
    def test_refused(self, kind: str, value: object, reason: str) -> None:
        """A value of another type is refused with what was expected and what came."""
        error = refused_value({"type": kind}, value)
        assert error.reason.startswith(reason), error.reason


class TestBounds:
    """min and max are inclusive."""

    @pytest.mark.parametrize(
        "spec,value",
        [
            ({"type": "int", "min": 1, "max": 5}, 1),
            ({"type": "int", "min": 1, "max": 5}, 5),
            ({"type": "float", "min": 0}, 0),
            ({"type": "float", "min": 0}, 0.0),
            ({"type": "float", "max": 2.5}, 2.5),
            ({"type": "int", "min": 0.5}, 1),
        ],
    )
    def test_inclusive(self, spec: dict[str, Any], value: object) -> None:
        """A value equal to a bound passes."""
        assert value_of(spec, value) == value

    @pytest.mark.parametrize(
        "spec,value,reason",
        [
            ({"type": "int", "min": 1, "max": 5}, 0, "the number 0 is below the minimum 1"),
            ({"type": "int", "min": 1, "max": 5}, 6, "the number 6 is above the maximum 5"),
            ({"type": "float", "min": 0}, -0.01, "the number -0.01 is below the minimum 0"),
            ({"type": "float", "max": 2.5}, 3, "the number 3 is above the maximum 2.5"),
            ({"type": "int", "min": 0.5}, 0, "the number 0 is below the minimum 0.5"),
        ],
    )
    def test_outside(self, spec: dict[str, Any], value: object, reason: str) -> None:
        """A value past a bound is refused, naming the bound."""
        assert refused_value(spec, value).reason == reason


class TestOneOf:
    """one_of with the language's equality: booleans are not numbers, 1 equals 1.0."""

    @pytest.mark.parametrize(
        "spec,value,expected",
        [
            ({"type": "str", "one_of": ["a", "b"]}, "b", "b"),
            ({"type": "int", "one_of": [1, 2]}, 1, 1),
            ({"type": "float", "one_of": [1, 2.5]}, 1.0, 1.0),
            ({"type": "float", "one_of": [1.0, 2.5]}, 1, 1.0),
            ({"type": "bool", "one_of": [True]}, True, True),
            ({"type": "date", "one_of": ["2026-03-01"]}, date(2026, 3, 1), date(2026, 3, 1)),
            (
                {"type": "datetime", "one_of": ["2026-03-01T10:15:00+08:00"]},
                "2026-03-01T02:15:00Z",
                datetime(2026, 3, 1, 2, 15, tzinfo=UTC),
            ),
        ],
    )
    def test_member(self, spec: dict[str, Any], value: object, expected: object) -> None:
        """A listed value passes; numbers compare as numbers, timestamps as instants."""
        got = value_of(spec, value)
        assert (type(got), got) == (type(expected), expected)

    @pytest.mark.parametrize(
        "spec,value,reason",
        [
            ({"type": "str", "one_of": ["a", "b"]}, "c", "'c' is not one of 'a', 'b'"),
            ({"type": "str", "one_of": ["a"]}, "A", "'A' is not one of 'a'"),
            ({"type": "int", "one_of": [1, 2]}, 3, "3 is not one of 1, 2"),
            ({"type": "int", "one_of": [1]}, True, "expected an integer, got true"),
            ({"type": "float", "one_of": [1, 0]}, False, "expected a number, got false"),
            ({"type": "bool", "one_of": [True]}, False, "false is not one of true"),
            ({"type": "bool", "one_of": [True]}, 1, "expected true or false, got the number 1"),
            ({"type": "date", "one_of": ["2026-03-01"]}, "2026-03-02", "2026-03-02 is not one"),
            (
                {"type": "int", "one_of": list(range(12))},
                20,
                "20 is not one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 or 2 more",
            ),
        ],
    )
    def test_not_member(self, spec: dict[str, Any], value: object, reason: str) -> None:
        """Anything else is refused with the list (shortened when long)."""
        assert refused_value(spec, value).reason.startswith(reason)

    def test_bounds_and_list(self) -> None:
        """A field with both bounds and one_of must satisfy both."""
        spec = {"type": "int", "min": 2, "one_of": [1, 2, 3]}
        assert value_of(spec, 3) == 3
        assert refused_value(spec, 1).reason == "the number 1 is below the minimum 2"


class TestRequired:
    """A required field may be neither absent nor null; an optional one may be either."""

    @pytest.mark.parametrize("value", [..., None])
    def test_required(self, value: object) -> None:
        """An absent or null required field is refused, naming the field."""
        error = refusal(purchase(amount=value))
        assert error.field == "amount"
        assert error.reason.startswith("every purchase event needs this field; it is ")

    @pytest.mark.parametrize("value", [..., None])
    def test_optional(self, value: object) -> None:
        """An absent or null optional field is left out of the fields."""
        assert "plan" not in READER.read(purchase(plan=value)).fields

    def test_optional_present(self) -> None:
        """An optional field that is there is checked and kept."""
        assert READER.read(purchase(plan="monthly")).fields["plan"] == "monthly"
        assert refusal(purchase(plan=5)).field == "plan"


class TestExtraFields:
    """Undeclared fields: refused by default, dropped with ``extra_fields: ignore``."""

    def test_rejected(self) -> None:
        """An undeclared field is refused, naming it, with the setting that would drop it."""
        error = refusal(purchase(colour="red"))
        assert error.field == "colour"
        assert error.reason == (
            "the purchase event declares no such field "
            "(settings.extra_fields: ignore would drop it)"
        )

    def test_misspelling_comes_first(self) -> None:
        """A misspelt required field is reported as the undeclared key, with a suggestion."""
        error = refusal(purchase(amount=..., amout=5))
        assert (error.field, error.reason) == (
            "amout",
            "the purchase event declares no such field; did you mean 'amount'?",
        )

    def test_ignored(self) -> None:
        """With ``ignore``, undeclared fields are dropped and the declared ones kept."""
        reader = EventReader(journey(extra_fields="ignore"))
        event = reader.read(purchase(colour="red", nested={"a": [1]}))
        assert event.fields == {"amount": 1200.0, "offering": "magazine"}

    def test_ignored_still_checks(self) -> None:
        """With ``ignore``, a missing required field is still refused."""
        reader = EventReader(journey(extra_fields="ignore"))
        assert refusal(purchase(amount=..., amout=5), reader).field == "amount"

    def test_profile(self) -> None:
        """In a profile event an unknown attribute is refused, or dropped with ``ignore``."""
        error = refusal(profile(regoin="north"))
        assert (error.field, error.reason) == (
            "regoin",
            "the journey has no such attribute; did you mean 'region'?",
        )
        assert EventReader(journey(extra_fields="ignore")).read(profile(regoin="x")).fields == {}

    def test_non_text_key(self) -> None:
        """A key that is not text is undeclared too."""
        assert refusal({**purchase(), 5: "x"}).field == "5"


class TestProfile:
    """profile events set the attributes they carry; null clears one."""

    def test_attributes(self) -> None:
        """Each attribute is typed as declared."""
        event = READER.read(
            profile(
                region="north",
                score=3,
                balance=2,
                vip=False,
                birthday="1990-05-06",
                verified_at="2026-01-01T00:00:00Z",
            )
        )
        assert event.type == "profile"
        assert event.fields == {
            "region": "north",
            "score": 3,
            "balance": 2.0,
            "vip": False,
            "birthday": date(1990, 5, 6),
            "verified_at": datetime(2026, 1, 1, tzinfo=UTC),
        }

    def test_null_clears(self) -> None:
        """An explicit null is kept as None; attributes not carried are left out."""
        assert READER.read(profile(region=None, phone=None)).fields == {
            "region": None,
            "phone": None,
        }

    def test_all_optional(self) -> None:
        """A profile event may carry no attribute at all."""
        assert READER.read(profile()).fields == {}

    def test_wrong_type(self) -> None:
        """An attribute of the wrong type is refused, naming it."""
        error = refusal(profile(score="3"))
        assert (error.field, error.reason) == ("score", "expected an integer, got the text '3'")

    def test_journey_without_attributes(self) -> None:
        """Without attributes, a profile event carries nothing."""
        reader = EventReader(journey(attributes={}))
        assert reader.read(profile()).fields == {}
        assert refusal(profile(region="x"), reader).field == "region"


class TestPii:
    """Reasons never quote the value of a pii attribute."""

    @pytest.mark.parametrize(
        "field,value",
        [
            ("phone", 912345678),
            ("phone", ["0912-345-678"]),
            ("birthday", "1990-13-45"),
            ("birthday", "31/12/1990"),
            ("birthday", 19901231),
            ("birthday", datetime(1990, 12, 31, 23, 59, tzinfo=UTC)),
            ("verified_at", "2025-12-31T23:59:59"),
            ("verified_at", "2025-12-31"),
            ("verified_at", "2025-13-31T23:59:59Z"),
            ("verified_at", "last tuesday at noon"),
            ("verified_at", 1767225599),
            ("income", "98765.43"),
            ("income", math.nan),
            ("income", 10**400),
        ],
    )
    def test_not_quoted(self, field: str, value: object) -> None:
        """A wrong pii value is refused as "the value", never quoted."""
        error = refusal(profile(**{field: value}))
        assert error.field == field
        assert "the value" in error.reason
        for shown in _spellings(value):
            assert shown not in str(error), str(error)

    def test_field_named_like_pii(self) -> None:
        """A field of another event named like a pii attribute is not quoted either."""
        reader = EventReader(journey(fields={"phone": {"type": "int"}}))
        raw = {"id": "t-1", "member": "m", "type": "thing", "at": AT, "phone": "0912-345-678"}
        assert "0912" not in str(refusal(raw, reader))

    def test_wrong_type_of_event(self) -> None:
        """An event refused for its type does not quote the pii values it carries."""
        error = refusal(profile(type="profil", phone="0912-345-678"))
        assert "0912" not in str(error)


def _spellings(value: object) -> list[str]:
    """The ways a value could appear in a message."""
    if isinstance(value, list):
        return [s for v in value for s in _spellings(v)]
    if isinstance(value, int) and abs(value) > 10**100:
        return [str(value)[:20]]
    if isinstance(value, datetime | date):
        return [value.isoformat(), str(value)]
    return [str(value), repr(value)]


class TestRedact:
    """Reject files get a copy with pii values replaced."""

    def test_profile(self) -> None:
        """pii attributes become ``***``; other values and nulls stay."""
        raw = profile(phone="0912-345-678", birthday=None, region="north")
        assert redact(raw, journey()) == {**raw, "phone": REDACTED}
        assert raw["phone"] == "0912-345-678"

    def test_any_event(self) -> None:
        """A key named like a pii attribute is masked whatever the event's type."""
        raw = purchase(phone="0912", amount="x")
        assert redact(raw, journey())["phone"] == REDACTED
        assert redact(raw, journey())["amount"] == "x"

    def test_a_misspelled_key(self) -> None:
        """A profile event's key that is no attribute (``phnoe``) may be a pii one misspelled:
        masked, as is any key an event's type does not declare."""
        raw = profile(phnoe="0912-345-678", region="north")
        assert redact(raw, journey()) == {**raw, "phnoe": REDACTED}
        raw = purchase(amount=5.0, email="ann@example.com")
        assert redact(raw, journey()) == {**raw, "email": REDACTED}

    def test_an_unknown_type(self) -> None:
        """An event of a type the journey does not know shows its envelope only."""
        raw = purchase(type="profil", phnoe="0912", offering=...)
        envelope = {k: raw[k] for k in ("id", "member", "type", "at")}
        assert redact(raw, journey()) == {**envelope, "phnoe": REDACTED, "amount": REDACTED}

    def test_the_reader_redacts_alike(self) -> None:
        """The compiled journey's reader (which replay uses) masks exactly as redact does."""
        raw = profile(phnoe="0912", phone="0912", region=5)
        assert EventReader(journey()).redact(raw) == redact(raw, journey())

    def test_no_pii(self) -> None:
        """Without pii attributes the copy is equal and separate."""
        raw = purchase()
        copy = redact(raw, journey(attributes={}))
        assert copy == raw
        assert copy is not raw


class TestMessages:
    """Reasons are one line, for people."""

    @pytest.mark.parametrize(
        "raw",
        [
            purchase(id="e\n1", amount="line\nbreak"),
            purchase(type="a\u2028b"),
            purchase(at="2026-03-01\n"),
            purchase(offering="x" * 500),
        ],
    )
    def test_one_line(self, raw: dict[str, Any]) -> None:
        """Line breaks in values are escaped and long values shortened."""
        message = str(refusal(raw))
        assert "\n" not in message and "\u2028" not in message
        assert len(message) < 200


# --- properties ---------------------------------------------------------------------------

TYPES = ("int", "float", "str", "bool", "date", "datetime")
OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
AWARE = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=OFFSETS)
DATES = st.dates(date(1900, 1, 1), date(2200, 1, 1))
FINITE = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
SMALL_INTS = st.integers(-(10**9), 10**9)


def _plain_values(kind: str) -> st.SearchStrategy[Any]:
    """Values of a type as they come in a JSON event."""
    return {
        "int": SMALL_INTS,
        "float": FINITE | SMALL_INTS,
        "str": st.text(max_size=20),
        "bool": st.booleans(),
        "date": DATES.map(date.isoformat),
        "datetime": AWARE.map(datetime.isoformat),
    }[kind]


@st.composite
def declarations(draw: st.DrawFn) -> dict[str, Any]:
    """A field declaration: a type, required or not, maybe bounds or a one_of list."""
    kind = draw(st.sampled_from(TYPES))
    spec: dict[str, Any] = {"type": kind, "required": draw(st.booleans())}
    choice = draw(st.sampled_from(["none", "bounds", "one_of"]))
    if choice == "bounds" and kind in ("int", "float"):
        low, high = sorted(draw(st.lists(SMALL_INTS, min_size=2, max_size=2)))
        spec.update(draw(st.sampled_from([{"min": low}, {"max": high}, {"min": low, "max": high}])))
    elif choice == "one_of":
        spec["one_of"] = draw(st.lists(_plain_values(kind), min_size=1, max_size=4))
    return spec


def _typed(kind: str, value: Any) -> object:
    """A valid value as the reader returns it."""
    if kind == "float":
        return float(value)
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "datetime" and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def valid_values(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a field declared by ``spec`` accepts, as text or as Python objects."""
    kind = spec["type"]
    if "one_of" in spec:
        listed = st.sampled_from(spec["one_of"])
        if kind in ("date", "datetime"):
            return listed | listed.map(lambda text: _typed(kind, text))
        return listed
    if kind in ("int", "float"):
        low, high = spec.get("min", -(10**9)), spec.get("max", 10**9)
        ints = st.integers(low, high)
        return ints if kind == "int" else ints | st.floats(low, high)
    if kind == "date":
        return DATES.map(date.isoformat) | DATES
    if kind == "datetime":
        utc = AWARE.map(lambda d: d.astimezone(UTC).isoformat().replace("+00:00", "Z"))
        return AWARE.map(datetime.isoformat) | AWARE | utc
    return _plain_values(kind)


def invalid_values(spec: dict[str, Any]) -> list[object]:
    """Values that break ``spec``: another type, NaN, past a bound, not listed, null."""
    kind = spec["type"]
    wrong: dict[str, list[object]] = {
        "int": [3.0, True, "3", math.nan],
        "float": [True, "1.5", math.nan, math.inf, -math.inf, [1.0]],
        "str": [5, True, ["a"]],
        "bool": [1, 0, "true"],
        "date": ["2026-3-1", "2026-02-30", 20260301, datetime(2026, 3, 1, tzinfo=UTC)],
        "datetime": ["2026-03-01T10:15:00", "2026-03-01", datetime(2026, 3, 1), 5],
    }
    values = wrong[kind]
    if "min" in spec:
        values.append(spec["min"] - 1)
    if "max" in spec:
        values.append(spec["max"] + 1)
    if "one_of" in spec:
        values += _unlisted(kind, [_typed(kind, v) for v in spec["one_of"]])
    if spec["required"]:
        values.append(None)
    return values


def _unlisted(kind: str, listed: list[Any]) -> list[object]:
    """A value of the type that is not in ``listed``, if there is one."""
    if kind in ("int", "float"):
        return [max(listed) + 1]
    if kind == "str":
        return ["".join(listed) + "x"]
    if kind == "bool":
        return [not listed[0]] if len(set(listed)) == 1 else []
    step = timedelta(days=1) if kind == "date" else timedelta(seconds=1)
    return [(max(listed) + step).isoformat()]


def _comparable(fields: Any) -> dict[str, tuple[type, object, object]]:
    """Fields with their types and, for timestamps, their offsets, so that 1 != 1.0 here."""
    return {
        name: (type(v), v, v.utcoffset() if isinstance(v, datetime) else None)
        for name, v in fields.items()
    }


class TestProperties:
    """Any valid event is read as given; any single broken rule is reported at its field."""

    @given(st.data())
    def test_valid_events(self, data: st.DataObject) -> None:
        """An event built from valid values is accepted with its fields as typed."""
        specs = data.draw(st.lists(declarations(), min_size=1, max_size=4), label="fields")
        reader = EventReader(journey(fields={f"f{i}": s for i, s in enumerate(specs)}))
        raw: dict[str, Any] = {"id": "t-1", "member": "m-1", "type": "thing", "at": AT}
        expected: dict[str, object] = {}
        for i, spec in enumerate(specs):
            value = data.draw(valid_values(spec), label=f"f{i}")
            if not spec["required"] and data.draw(st.booleans(), label=f"leave out f{i}"):
                if data.draw(st.booleans(), label=f"null f{i}"):
                    raw[f"f{i}"] = None
                continue
            raw[f"f{i}"] = value
            expected[f"f{i}"] = _typed(spec["type"], value)
        event = reader.read(raw)
        assert _comparable(event.fields) == _comparable(expected)
        assert reader.read(event) == event

    @given(st.data())
    def test_broken_field(self, data: st.DataObject) -> None:
        """Breaking one field's rule raises InvalidEvent naming that field."""
        specs = data.draw(st.lists(declarations(), min_size=1, max_size=4), label="fields")
        reader = EventReader(journey(fields={f"f{i}": s for i, s in enumerate(specs)}))
        raw: dict[str, Any] = {"id": "t-1", "member": "m-1", "type": "thing", "at": AT}
        for i, spec in enumerate(specs):
            raw[f"f{i}"] = data.draw(valid_values(spec), label=f"f{i}")
        broken = data.draw(st.integers(0, len(specs)), label="broken")
        if broken == len(specs):
            raw["undeclared"] = data.draw(_plain_values("str"), label="undeclared")
            name = "undeclared"
        else:
            name = f"f{broken}"
            options: list[object] = [*invalid_values(specs[broken]), ...]
            if not specs[broken]["required"]:
                options.remove(...)
            value = data.draw(st.sampled_from(options), label="invalid value")
            if value is ...:
                del raw[name]
            else:
                raw[name] = value
        error = refusal(raw, reader)
        assert (error.field, error.event_id) == (name, "t-1"), str(error)

    @given(
        key=st.sampled_from(["id", "member", "type", "at"]),
        value=st.sampled_from([..., None, "", 5, ["x"], "2026-03-01T10:15:00", "2026-03-01"]),
    )
    def test_broken_envelope(self, key: str, value: object) -> None:
        """Breaking a key every event has raises InvalidEvent whose reason names that key."""
        assume(key not in ("id", "member") or not isinstance(value, str) or not value)
        error = refusal(purchase(**{key: value}))
        assert f"{key!r}" in error.reason and error.field is None
