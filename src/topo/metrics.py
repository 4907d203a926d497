"""Per-member metrics: every kind of the format, with exact sliding windows.

A :class:`MetricBook` is compiled once per journey. A member's metrics are one plain list (the
*state*), one slot per metric, so that millions of members cost little: a count is an int, a
``last`` is its value, a windowed metric is a small deque of the events still inside its window
(memory bounded by what the window needs, as the contract asks).

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

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import fsum
from typing import Any

from topo.evaluation import Context, Expression, compile_expression
from topo.model import Journey, Metric

__all__ = ["MetricBook", "microseconds"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def microseconds(at: datetime) -> int:
    """An aware time as whole microseconds since 1970 (exact: no float rounding)."""
    return (at - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    kind: str
    event_type: str
    field: str | None
    window: int | None  # microseconds
    where: Expression | None


class MetricBook:
    """The metrics of one journey: how to start, feed and read a member's metric state."""

    def __init__(self, journey: Journey) -> None:
        self.specs = tuple(_spec(name, metric) for name, metric in journey.metrics.items())
        self.names = tuple(spec.name for spec in self.specs)
        self.index = {name: i for i, name in enumerate(self.names)}
        types = {*journey.events, "profile"}
        self._feeds = {
            t: tuple(i for i, s in enumerate(self.specs) if s.event_type in (t, "any"))
            for t in types
        }

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
    ) -> None:
        """Let every metric of ``event_type`` take in one event (step 4 of the evaluation)."""
        stamp = microseconds(at)
        context: Context | None = None
        for index in self._feeds.get(event_type, ()):
            spec = self.specs[index]
            if spec.where is not None:
                context = context or Context(fields=fields, attributes=attributes or {}, now=at)
                if not spec.where.holds(context):
                    continue
            value = stamp if spec.field is None else fields.get(spec.field)
            if value is None:
                continue  # an event without the field does not count
            state[index] = _take(spec, state[index], value if spec.field else at, stamp)

    def value(self, state: list[Any], index: int, now: datetime) -> Any:
        """Metric ``index`` of a member as of ``now`` (windows drop what fell out)."""
        spec = self.specs[index]
        slot = state[index]
        if spec.window is None:
            return _read(spec, slot)
        return _read_window(spec, slot, microseconds(now) - spec.window)

    def values(self, state: list[Any], now: datetime) -> dict[str, Any]:
        """Every metric of a member as of ``now``, by name."""
        return {spec.name: self.value(state, i, now) for i, spec in enumerate(self.specs)}

    def view(self, state: list[Any], now: datetime) -> Mapping[str, Any]:
        """A read-only mapping of the member's metrics as of ``now``, computed when read."""
        return _View(self, state, now)


class _View(Mapping[str, Any]):
    __slots__ = ("book", "now", "state")

    def __init__(self, book: MetricBook, state: list[Any], now: datetime) -> None:
        self.book, self.state, self.now = book, state, now

    def __getitem__(self, name: str) -> Any:
        return self.book.value(self.state, self.book.index[name], self.now)

    def get(self, name: str, default: Any = None) -> Any:
        index = self.book.index.get(name)
        return default if index is None else self.book.value(self.state, index, self.now)

    def __iter__(self) -> Iterator[str]:
        return iter(self.book.names)

    def __len__(self) -> int:
        return len(self.book.names)


def _spec(name: str, metric: Metric) -> _Spec:
    window = None if metric.window is None else metric.window // _MICROSECOND
    where = None if metric.where is None else compile_expression(metric.where)
    return _Spec(name, metric.kind, metric.event_type, metric.field, window, where)


def _initial(spec: _Spec) -> Any:
    if spec.window is not None:
        return deque()
    if spec.kind == "count":
        return 0
    if spec.kind == "sum":
        return []  # exact partial sums
    if spec.kind == "distinct":
        return set()
    return None


def _take(spec: _Spec, slot: Any, value: Any, stamp: int) -> Any:
    """The slot after one event with ``value`` at ``stamp`` counted."""
    if spec.window is not None:
        slot.append((stamp, value))
        return slot
    kind = spec.kind
    if kind == "count":
        return slot + 1
    if kind == "sum":
        _add(slot, value)
        return slot
    if kind == "distinct":
        slot.add(_key(value))
        return slot
    if kind == "min":
        return value if slot is None or value < slot else slot
    if kind == "max":
        return value if slot is None or value > slot else slot
    if kind == "first_at":
        return value if slot is None else slot
    return value  # last, last_at


def _read(spec: _Spec, slot: Any) -> Any:
    if spec.kind == "sum":
        return _total(slot)
    if spec.kind == "distinct":
        return len(slot)
    return slot


def _read_window(spec: _Spec, slot: deque[tuple[int, Any]], after: int) -> Any:
    """A windowed metric: drop the events at or before ``after``, then aggregate the rest."""
    while slot and slot[0][0] <= after:
        slot.popleft()
    kind = spec.kind
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


def _key(value: Any) -> Any:
    """Distinct values by the language's equality: booleans are not numbers (1 is 1.0)."""
    return (bool, value) if isinstance(value, bool) else value


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
