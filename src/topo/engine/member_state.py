"""What topo remembers of one member: where they are, since when, their metrics and attributes,
recent event ids, timer clocks, and the incentive ledger that the caps read.

The layout is made for millions of members. Times are kept as whole microseconds since 1970
where only comparisons need them, and as the aware datetime they came as where they are written
back with their offset (one datetime object, shared by every field that holds the same time).
Everything a member may never need (attributes, timer restarts, the ledger, the explanation) is
``None`` until it is first written, and each history entry is a tuple of shared strings, turned
into a mapping only when asked for (:func:`as_record`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = [
    "Entry",
    "MemberState",
    "Record",
    "Snapshot",
    "as_record",
    "clock_time",
    "last_of_type",
    "note_type",
]

Record = dict[str, Any]
"""One step of a member's history or explanation, as the public surface shows it."""
Entry = tuple[Any, ...]
"""One history entry as kept: ``("move", move, from, to, at, cause)``, or
``("granted" | "withheld", incentive, reason, at, cause)``; ``at`` is the aware datetime (often
the very object the member's other fields hold), written as RFC 3339 text when shown."""


@dataclass(slots=True)
class MemberState:
    """One member's state in one journey."""

    member: str
    node: str
    entered_at: datetime
    clock: int  # microseconds: the last event or timer processed for the member
    metrics: list[Any]
    seen: dict[str, int] = field(default_factory=dict)  # recent event ids -> their times
    attributes: dict[str, Any] | None = None
    last_activity: datetime | None = None
    last_of_type: list[Any] | None = None  # [type, last time, ...] of the types a since names
    restarts: dict[str, datetime] | None = None  # timer label -> restart time
    considered: dict[int, int] | None = None  # ahead_of reminder -> its clock start
    stay: tuple[int, ...] = ()  # reminders granted in this stay at the node
    ledger: tuple[int | None, ...] | None = None  # last grant of each incentive, then reminder
    grants: tuple[int, ...] | None = None  # recent grant times, oldest first, for pressure
    history: list[Entry] = field(default_factory=list)
    explanation: list[Record] | None = None
    due: int | None = None  # microseconds: the next timer's due time, as the engine indexed it
    joined_at: datetime | None = None  # the member's first event (None: a state kept before)

    def enter(self, node: str, at: datetime) -> None:
        """Move to ``node`` at ``at``: its timers start, its reminders are armed again."""
        self.node = node
        self.entered_at = at
        self.restarts = self.considered = None
        self.stay = ()

    def snapshot(self) -> Snapshot:
        """What :meth:`restore` needs to put the member back as it is now, if a change made
        after this fails halfway. Cheap: the history only grows, so its length is kept, not
        its entries; the rest is copied one level deep (a metric slot is a value, or a list or
        set the metrics change in place; the explanation, bounded, loses its oldest steps)."""
        metrics = [
            slot.copy() if type(slot) is list or type(slot) is set else slot
            for slot in self.metrics
        ]
        return (
            self.node,
            self.entered_at,
            self.clock,
            metrics,
            self.seen.copy(),
            None if self.attributes is None else self.attributes.copy(),
            self.last_activity,
            None if self.last_of_type is None else self.last_of_type.copy(),
            None if self.restarts is None else self.restarts.copy(),
            None if self.considered is None else self.considered.copy(),
            self.stay,
            self.ledger,
            self.grants,
            len(self.history),
            None if self.explanation is None else self.explanation.copy(),
            self.due,
        )

    def restore(self, snapshot: Snapshot) -> None:
        """Put the member back as it was when ``snapshot`` was taken (in place)."""
        (
            self.node,
            self.entered_at,
            self.clock,
            self.metrics,
            self.seen,
            self.attributes,
            self.last_activity,
            self.last_of_type,
            self.restarts,
            self.considered,
            self.stay,
            self.ledger,
            self.grants,
            history,
            self.explanation,
            self.due,
        ) = snapshot
        del self.history[history:]


Snapshot = tuple[Any, ...]
"""A member's state as :meth:`MemberState.snapshot` keeps it, for :meth:`MemberState.restore`."""


def as_record(entry: Entry) -> Record:
    """A history entry as the public surface shows it (a new mapping each time)."""
    if entry[0] == "move":
        _, move, source, target, at, cause = entry
        return {"move": move, "from": source, "to": target, "at": at.isoformat(), "cause": cause}
    kind, incentive, reason, at, cause = entry
    return {kind: incentive, "reason": reason, "at": at.isoformat(), "cause": cause}


def note_type(state: MemberState, kind: str, at: datetime) -> None:
    """Remember ``at`` as the time of the member's last event of type ``kind`` (for timers
    whose clock starts again on that type: the engine notes only the types a ``since`` names)."""
    kept = state.last_of_type
    if kept is None:
        state.last_of_type = [kind, at]
        return
    try:
        kept[kept.index(kind) + 1] = at  # a type name is never equal to a time
    except ValueError:
        kept += (kind, at)


def last_of_type(state: MemberState, kind: str) -> datetime | None:
    """The time of the member's last event of type ``kind``, or None."""
    kept = state.last_of_type
    if kept is None or kind not in kept:
        return None
    found: datetime = kept[kept.index(kind) + 1]
    return found


def clock_time(state: MemberState) -> datetime:
    """The member's clock as an aware time, written with the offset of its ``entered_at``."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=state.clock)
    return moment.astimezone(timezone(state.entered_at.utcoffset() or timedelta(0)))
