"""Members' histories as a fit needs them, read from an event log as ``topo replay`` reads it.

Each event is checked by the journey's own :class:`topo.engine.events.EventReader` (an event
the journey would refuse is counted, not fitted); a member joins at its first event; per event
type, its events are kept as *customer-days*: the dates (in each event's own offset) on which
it sent that type, with each field's values of the day, as Fader, Hardie & Lee count
purchases. Dates are read in one offset for every event: ``until``'s, or the first event's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from topo.engine.events import PROFILE, EventReader
from topo.errors import InvalidEvent
from topo.journey.model import Journey
from topo.replay.readers import Unreadable, read_events

__all__ = ["Day", "Histories", "History", "read_histories"]


@dataclass
class Day:
    """One member's events of one type on one date: the first one's time, and each field's
    values."""

    first: datetime
    values: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class History:
    """One member: when it joined (its first event), its days per event type, and the
    attributes its ``profile`` events set."""

    joined: datetime
    days: dict[str, dict[date, Day]] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Histories:
    """Every member's history, the span of the events read (first and last event), and what
    was left out: events the journey refuses (counted by type and field), lines that are not
    events, events at or after ``until``, and events whose id the member used before."""

    members: dict[str, History]
    first: datetime | None
    last: datetime | None
    calendar: Any = None  # the tzinfo whose dates are the customer-days
    refused: dict[str, int] = field(default_factory=dict)  # by type and field, never a value
    unreadable: int = 0
    later: int = 0
    duplicates: int = 0


def read_histories(
    source: str | Path | Iterable[Mapping[str, Any] | Unreadable],
    journey: Journey,
    *,
    until: datetime | None = None,
) -> Histories:
    """The histories of the events of ``source`` (a file ``topo replay`` reads, or events as
    mappings) before ``until``."""
    reader = EventReader(journey)
    items: Iterable[Any] = (
        (item for _, item in read_events(source, journey))
        if isinstance(source, str | Path)
        else source
    )
    members: dict[str, History] = {}
    seen: set[tuple[str, str]] = set()
    out = Histories(members, None, None)
    for item in items:
        if isinstance(item, Unreadable):
            out.unreadable += 1
            continue
        try:
            event = reader.read(item)
        except InvalidEvent as error:
            kind = item.get("type") if isinstance(item, Mapping) else None
            where = f"{kind if isinstance(kind, str) else 'an event'}"
            where += "" if error.field is None else f".{error.field}"
            out.refused[where] = out.refused.get(where, 0) + 1
            continue
        at = event.at
        if until is not None and at >= until:
            out.later += 1
            continue
        if (event.member, event.id) in seen:
            out.duplicates += 1
            continue
        seen.add((event.member, event.id))
        out.first = at if out.first is None or at < out.first else out.first
        out.last = at if out.last is None or at > out.last else out.last
        history = members.get(event.member)
        if history is None:
            history = members[event.member] = History(at)
        elif at < history.joined:
            history.joined = at
        if event.type == PROFILE:
            history.attributes.update(event.fields)
            continue
        if out.calendar is None:  # customer-days are dates in one offset, the first event's
            out.calendar = at.tzinfo if until is None else until.tzinfo
        when = at.astimezone(out.calendar).date()
        days = history.days.setdefault(event.type, {})
        day = days.get(when)
        if day is None:
            day = days[when] = Day(at)
        elif at < day.first:
            day.first = at
        for name, value in event.fields.items():
            day.values.setdefault(name, []).append(value)
    return out
