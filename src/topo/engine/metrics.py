"""Per-member metrics: every kind of the format, with exact sliding windows.

A :class:`MetricBook` is compiled once per journey. A member's metrics are one plain list (the
*state*), one slot per metric, so that millions of members cost little: a count is an int, a
``last`` is its value, a windowed metric is a short list of the events still inside its window,
oldest first (memory bounded by what the window needs, as the contract asks).

Rules, exactly as the contract says:

- a metric takes in the events of its type (``any``: every type, ``profile`` included) whose
  ``where`` holds, and, for field metrics, that carry the field (absent or null: not counted);
- with ``window: W`` a metric at time ``t`` covers the events with ``at > t - W``; times are
  compared as whole microseconds, so the boundary is exact;
- before any event counts, ``count``, ``sum`` and ``distinct`` are 0, the others null;
- sums are exact: a whole-history sum is kept as non-overlapping partial sums (Shewchuk's
  algorithm, as in ``math.fsum``), so adding never rounds; a windowed sum is summed exactly
  (``math.fsum``) over the events still in its window when it is read;
- events at the same instant count in the order they are observed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import fsum
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

from topo.engine.evaluation import Context, Expression, Slots, compile_expression
from topo.journey.model import Journey, Metric

__all__ = ["EPOCH", "MICROSECOND", "MetricBook", "drop", "microseconds", "taken_inline"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def microseconds(at: datetime) -> int:
    """An aware time as whole microseconds since 1970 (exact: no float rounding)."""
    return (at - EPOCH) // MICROSECOND


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    kind: str
    event_type: str
    field: str | None
    window: int | None  # microseconds
    where: Expression | None
    floats: bool = False  # its field is a float wherever it is declared: sums need no type scan


_second = itemgetter(1)  # a window entry's value
Take = Callable[[Any, Any, int], Any]
"""A metric's update: (slot, value, stamp) -> the slot after the event counted."""
Read = Callable[[Any, int], Any]
"""A metric's reading: (slot, stamp) -> its value at that time (in microseconds)."""


class MetricBook:
    """The metrics of one journey: how to start, feed and read a member's metric state.

    Each metric's update and reading are chosen once, here, for its kind and window, so that
    feeding or reading a metric is one call.
    """

    def __init__(self, journey: Journey) -> None:
        self.specs = tuple(_spec(name, metric, journey) for name, metric in journey.metrics.items())
        self.names = tuple(spec.name for spec in self.specs)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.readers: tuple[Read, ...] = tuple(_reader(spec) for spec in self.specs)
        self.slots: Slots = {
            name: (i, None if read is _as_kept else read)
            for i, (name, read) in enumerate(zip(self.names, self.readers, strict=True))
        }
        """Where each metric lives in a member's state, for guards compiled on it."""
        types = {*journey.events, "profile"}
        self._feeds = {
            t: tuple(
                (i, s.where, s.field, _taker(s))
                for i, s in enumerate(self.specs)
                if s.event_type in (t, "any")
            )
            for t in types
        }

    def feeds(self, event_type: str) -> tuple[tuple[int, Expression | None, str | None, Take], ...]:
        """What an event of ``event_type`` feeds, in order: (slot index, ``where``, field or
        None for the event itself, the update)."""
        return self._feeds.get(event_type, ())

    def new_state(self) -> list[Any]:
        """The metric state of a member no event has counted for yet."""
        return [_initial(spec) for spec in self.specs]

    def observe(
        self,
        state: list[Any],
        event_type: str,
        at: datetime,
        fields: Mapping[str, Any],
        attributes: Mapping[str, Any] | None = None,
        stamp: int | None = None,
    ) -> None:
        """Let every metric of ``event_type`` take in one event (step 4 of the evaluation);
        ``stamp`` is ``at`` in microseconds, when the caller has it already."""
        if stamp is None:
            stamp = microseconds(at)
        context: Context | None = None
        for index, where, name, take in self._feeds.get(event_type, ()):
            if where is not None:
                context = context or Context(fields=fields, attributes=attributes or {}, now=at)
                if not where.holds(context):
                    continue
            if name is None:
                state[index] = take(state[index], at, stamp)
                continue
            value = fields.get(name)
            if value is not None:  # an event without the field does not count
                state[index] = take(state[index], value, stamp)

    def values(self, state: list[Any], now: datetime) -> dict[str, Any]:
        """Every metric of a member as of ``now``, by name, changing nothing: ``now`` may be
        later than the member's clock, and a window read that late must not lose the events
        an event before ``now`` would still see."""
        stamp = microseconds(now)
        return {
            spec.name: read(list(slot) if spec.window is not None else slot, stamp)
            for spec, read, slot in zip(self.specs, self.readers, state, strict=True)
        }


def _spec(name: str, metric: Metric, journey: Journey) -> _Spec:
    window = None if metric.window is None else metric.window // MICROSECOND
    where = None if metric.where is None else compile_expression(metric.where)
    kind, event_type, name_of_field = metric.kind, metric.event_type, metric.field
    declared = [
        event.fields[name_of_field].type
        for type_name, event in journey.events.items()
        if event_type in (type_name, "any") and name_of_field in event.fields
    ]
    floats = bool(declared) and all(t == "float" for t in declared) and event_type != "any"
    return _Spec(name, kind, event_type, name_of_field, window, where, floats)


def _initial(spec: _Spec) -> Any:
    if spec.window is not None:
        return []
    if spec.kind == "count":
        return 0
    if spec.kind == "sum":
        return []  # exact partial sums
    if spec.kind == "distinct":
        return set()
    return None


def _taker(spec: _Spec) -> Take:
    """The update of one metric: what its slot becomes when an event with ``value`` counts."""
    window = spec.window
    if window is None:
        return _TAKE[spec.kind]

    def append(slot: list[tuple[int, Any]], value: Any, stamp: int) -> Any:
        # Events arrive in time order: what is out of the window now stays out, so it goes
        # (memory bounded by the window, even for a metric no guard ever reads).
        if slot and slot[0][0] <= stamp - window:
            drop(slot, stamp - window)
        slot.append((stamp, value))
        return slot

    _WINDOWS[append] = window
    return append


def _add_to(slot: list[Any], value: Any, stamp: int) -> Any:
    _add(slot, value)
    return slot


def _add_distinct(slot: set[Any], value: Any, stamp: int) -> Any:
    slot.add(_key(value))
    return slot


def _count(slot: int, value: Any, stamp: int) -> int:
    return slot + 1


def _last(slot: Any, value: Any, stamp: int) -> Any:
    return value


_TAKE: dict[str, Take] = {
    "count": _count,
    "sum": _add_to,
    "distinct": _add_distinct,
    "min": lambda slot, value, stamp: value if slot is None or value < slot else slot,
    "max": lambda slot, value, stamp: value if slot is None or value > slot else slot,
    "first_at": lambda slot, value, stamp: value if slot is None else slot,
    "last": _last,
    "last_at": _last,
}


_WINDOWS: WeakKeyDictionary[Take, int] = WeakKeyDictionary()  # _taker's updates: their window


def taken_inline(take: Take) -> tuple[str, int] | None:
    """How generated code may write an update in place of calling it: ``("count", 0)`` (the
    slot plus one), ``("last", 0)`` (the value), ``("window", W)`` (the window's expired
    entries dropped, then the event appended), or None (call it)."""
    if take is _count:
        return ("count", 0)
    if take is _last:
        return ("last", 0)
    window = _WINDOWS.get(take)
    return None if window is None else ("window", window)


def _reader(spec: _Spec) -> Read:
    """The reading of one metric at a time in microseconds."""
    window, kind = spec.window, spec.kind
    if window is not None and kind == "sum" and spec.floats:

        def float_sum(slot: list[tuple[int, float]], stamp: int) -> Any:
            if slot and slot[0][0] <= stamp - window:
                drop(slot, stamp - window)
            return fsum(map(_second, slot)) if slot else 0

        return float_sum
    if window is not None:
        return lambda slot, stamp: _read_window(kind, slot, stamp - window)
    if kind == "sum":
        return lambda slot, stamp: _total(slot)
    if kind == "distinct":
        return lambda slot, stamp: len(slot)
    return _as_kept


def _as_kept(slot: Any, stamp: int) -> Any:
    """The reading of a metric whose slot is its value (count, min, max, last, ...)."""
    return slot


def _read_window(kind: str, slot: list[tuple[int, Any]], after: int) -> Any:
    """A windowed metric: drop the events at or before ``after``, then aggregate the rest."""
    if slot and slot[0][0] <= after:
        drop(slot, after)
    if kind == "count":
        return len(slot)
    values = [value for _, value in slot]
    if kind == "sum":
        return _exact_sum(values)
    if kind == "distinct":
        return len({_key(v) for v in values})
    if not values:
        return None
    if kind == "min":
        return min(values)
    if kind == "max":
        return max(values)
    if kind == "first_at":
        return values[0]
    return values[-1]  # last, last_at


def drop(slot: list[tuple[int, Any]], after: int) -> None:
    """Drop the window's events at or before ``after`` (the oldest come first)."""
    kept = 0
    while kept < len(slot) and slot[kept][0] <= after:
        kept += 1
    del slot[:kept]


def _key(value: Any) -> Any:
    """Distinct values by the language's equality: booleans are not numbers (1 is 1.0). A
    boolean is kept as ``("bool", value)``, plain data, so a member's state can be written out."""
    return ("bool", value) if isinstance(value, bool) else value


def _add(partials: list[float], value: float) -> None:
    """Add ``value`` to exact partial sums (Shewchuk), in place."""
    if type(value) is int and all(type(p) is int for p in partials):
        partials[:] = [sum(partials) + value]  # whole numbers: one exact int
        return
    x = float(value)
    kept = 0
    for y in partials:
        y = float(y)
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        low = y - (high - x)
        if low:
            partials[kept] = low
            kept += 1
        x = high
    partials[kept:] = [x]


def _total(partials: list[Any]) -> int | float:
    return _exact_sum(partials)


def _exact_sum(values: list[Any]) -> int | float:
    """An exact sum: whole numbers as an int, otherwise correctly rounded (``math.fsum``)."""
    if all(type(v) is int for v in values):
        whole: int = sum(values)
        return whole
    return fsum(values)
