"""The index of members' next due timers: one entry per member, taken in due order.

:meth:`topo.Engine.tick` fires the timers due by a time in due-time order across members
(ties: member id). The index holds each member's next due time once: setting it again
replaces the entry, so a journey whose timers restart on every event (``since: activity``)
keeps one entry per member, not one per event, and a tick pays only for the timers due.

Entries live in buckets of one hour of due time (a dictionary per bucket, member -> due), and
the buckets' numbers in a heap. A tick drains the earliest bucket through a small heap of its
entries, in (due, member) order; an entry set while its bucket drains joins that heap, and
one that changed since is skipped. Setting, replacing and removing an entry cost a few
dictionary operations, whatever the number of members.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

__all__ = ["TimerIndex"]

_HOUR = 3_600_000_000  # microseconds


class TimerIndex:
    """Each member's next due time (microseconds), one entry per member."""

    __slots__ = ("_buckets", "_draining", "_due", "_keys", "_queue")

    def __init__(self) -> None:
        self._due: dict[str, int] = {}  # member -> due
        self._buckets: dict[int, dict[str, int]] = {}  # bucket -> its members' due times
        self._keys: list[int] = []  # the buckets, a heap (each at most once)
        self._draining: int | None = None  # the bucket a tick is taking entries from
        self._queue: list[tuple[int, str]] = []  # that bucket's entries, a heap

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, member: str) -> bool:
        return member in self._due

    def get(self, member: str) -> int | None:
        """The member's indexed due time, or None."""
        return self._due.get(member)

    def set(self, member: str, due: int | None) -> None:
        """Index ``due`` as the member's next timer (None: the member has none)."""
        old = self._due.get(member)
        if old == due:
            return
        if old is not None:
            bucket = self._buckets[old // _HOUR]
            del bucket[member]
        if due is None:
            del self._due[member]
            return
        self._due[member] = due
        key = due // _HOUR
        found = self._buckets.get(key)
        if found is None:
            self._buckets[key] = {member: due}
            heapq.heappush(self._keys, key)
        else:
            found[member] = due
        if key == self._draining:
            heapq.heappush(self._queue, (due, member))

    def due_by(self, limit: int) -> int:
        """How many entries are due at or before ``limit``."""
        return sum(1 for due in self._due.values() if due <= limit)

    def pop(self, limit: int) -> tuple[int, str] | None:
        """Remove and give the earliest entry due at or before ``limit`` (ties: member id),
        or None when none is due."""
        while True:
            if self._draining is not None:
                queue = self._queue
                bucket = self._buckets[self._draining]
                while queue:
                    due, member = queue[0]
                    if due > limit:
                        return None
                    heapq.heappop(queue)
                    if bucket.get(member) == due:  # not replaced since
                        del bucket[member]
                        del self._due[member]
                        return due, member
                self._finish()
                continue
            keys = self._keys
            if not keys or keys[0] * _HOUR > limit:
                return None
            key = keys[0]
            entries = self._buckets.get(key)
            if not entries:
                heapq.heappop(keys)
                self._buckets.pop(key, None)
                continue
            self._draining = key
            self._queue = [(due, member) for member, due in entries.items()]
            heapq.heapify(self._queue)

    def _finish(self) -> None:
        """The draining bucket is empty: let it go."""
        key = self._draining
        assert key is not None
        self._draining, self._queue = None, []
        if not self._buckets[key]:
            del self._buckets[key]
            if self._keys and self._keys[0] == key:
                heapq.heappop(self._keys)

    def pause(self) -> None:
        """A tick ended: forget the draining bucket's order (its entries stay indexed)."""
        self._draining, self._queue = None, []

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return ((due, member) for member, due in self._due.items())
