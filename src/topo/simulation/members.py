"""Simulated members, and their event processes as arrays: a week's repeat events made at once.

A member's random numbers are a function of its key and a counter (see ``sampling``), so they
can be drawn many members at a time with numpy. :class:`Population` holds one *slot* per member
and event type of its persona (the member's ``base`` plus the type's place), and in arrays what
each slot's repeat process needs: its next event's time, its rate, its drop-out chance, what
running responses multiply the rate by, and its counters. Members who join in a week are set up
together as the week starts; then :meth:`Population.made` makes the whole population's repeat
events of the week together (their fields, drop-outs and next waits, drawn for every slot due at
once, as often as the fastest process needs), and the runner sends them in time order. A
response that changes a process's rate within the week draws its next wait on its own
(:meth:`schedule`); the events made for that process for the rest of the week are then dropped
(the runner skips them), and their numbers are not used again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import numpy as np

from topo.simulation.plans import (
    DROP,
    DROPS,
    RATE,
    START_CHANCE,
    SYNTHETIC,
    WAITS,
    Plan,
    Type,
    attribute_stream,
)
from topo.simulation.sampling import (
    Array,
    beta_variates,
    exponential_variates,
    gamma_variates,
    member_keys,
    synthetic,
    uniform,
    uniforms,
)

__all__ = ["DROPS_OUT", "FIRST", "ONCE", "Made", "Member", "Population"]

_ROWS, _WAITS, _DROPS = range(3)  # the counters of each slot
Made = tuple[list[float], list[int], list[int], list[tuple[Any, ...]]]
"""A week's repeat events in time order: their times, slots, what each does to its process
(:data:`FIRST`, :data:`DROPS_OUT`, :data:`ONCE` for a ``once`` event, or 0) and fields."""
FIRST, DROPS_OUT, ONCE = 1, 2, 3


class Member:
    """One simulated member: its id, key, persona and first slot; the events it has sent (for
    their ids); its attributes until they are sent."""

    __slots__ = ("base", "chances", "id", "key", "n", "plan", "profile")

    def __init__(self, member_id: str, key: int, plan: Plan, base: int) -> None:
        self.id = member_id
        self.key = key
        self.plan = plan
        self.base = base
        self.n = 0
        self.chances = 0  # probability responses drawn for
        self.profile: dict[str, Any] | None = None


class Population:
    """The run's members (set up a week at a time by :meth:`join`) and one slot per member and
    event type, for ``members`` members whose personas (``chosen``, indexes into ``plans``) and
    keys are given in the order they join."""

    def __init__(
        self,
        seed: int,
        plans: list[Plan],
        chosen: Array,
        keys: Array,
        end: float,
        start: datetime,
    ) -> None:
        self.seed, self.plans, self.end, self.start = seed, plans, end, start
        counts = np.array([len(p.types) for p in plans], dtype=np.int64)[chosen]
        ends = np.cumsum(counts)
        self.bases = ends - counts  # each member's first slot, in joining order
        size = int(ends[-1]) if len(ends) else 0
        self.types: list[Type] = [kind for p in plans for kind in p.types]
        firsts = np.cumsum([0] + [len(p.types) for p in plans])[:-1]
        place = np.arange(size, dtype=np.int64) - np.repeat(self.bases, counts)
        self.group = np.repeat(firsts[chosen], counts) + place  # the slot's (persona, type)
        streams = np.array([kind.stream for kind in self.types] or [0], dtype=np.int64)
        self.streams = streams[self.group]
        self.keys = np.repeat(keys, counts)
        self.next = np.full(size, math.inf)  # its next repeat event, when not made or queued
        self.rate = np.zeros(size)  # events per second of a repeat process
        self.drop = np.zeros(size)  # BG/NBD: the chance to drop out after each event
        self.factor = np.ones(size)  # what the running responses multiply the rate by
        self.change = np.full(size, math.inf)  # when that factor changes next
        self.first = np.full(size, math.inf)  # when a repeat process makes its first event
        self.fresh = np.zeros(size, dtype=bool)  # its first event not made yet
        self.once = np.zeros(size, dtype=bool)  # a `once` type: at most one event, ever
        self.spent = bytearray(size)  # a once type's event sent (by itself or a response)
        self.counters = np.zeros((3, size), dtype=np.int64)
        self.alive = [False] * size  # a repeat process started, and not dropped out
        self.version = [0] * size  # bumped when its next event is drawn again
        self.owner: list[Member | None] = [None] * size
        self.kind: list[Type | None] = [None] * size
        self.boosts: dict[int, list[tuple[float, float]]] = {}  # slot: (until, factor)

    # -- a week of repeat events, many slots at a time -------------------------------------

    def made(self, until: float) -> Made:
        """The events due before ``until``: for each slot due, its event, and for a repeat
        process whether it drops out after it and its next wait, again while any falls before
        ``until``. Slots whose next event falls later keep it in :attr:`next`."""
        nxt, counters = self.next, self.counters
        due = np.flatnonzero(nxt < until)
        times: list[Array] = []
        slots: list[Array] = []
        drops: list[Array] = []
        rows: list[tuple[Any, ...]] = []
        while due.size:
            at = nxt[due]
            times.append(at)
            slots.append(due)
            rows.extend(self._rows(due))
            dropping = np.zeros(due.size, dtype=bool)
            fresh = self.fresh[due]
            chance = self.drop[due]
            maybe = np.flatnonzero((chance > 0) & ~fresh)  # no drop-out at the first event
            if maybe.size:
                some = due[maybe]
                u = uniforms(self.keys[some], self.streams[some] + DROPS, counters[_DROPS, some])
                counters[_DROPS, some] += 1
                dropping[maybe] = u < chance[maybe]
            if fresh.any():
                self.fresh[due[fresh]] = False
            drops.append(fresh * FIRST + dropping * DROPS_OUT + self.once[due] * ONCE)
            nxt[due] = math.inf
            repeats = ~dropping & (self.rate[due] > 0)  # not a once event, nor a rate too small
            going, at = due[repeats], at[repeats]
            u = uniforms(self.keys[going], self.streams[going] + WAITS, counters[_WAITS, going])
            counters[_WAITS, going] += 1
            wait = exponential_variates(u)
            with np.errstate(divide="ignore", over="ignore"):  # a tiny rate: never again
                when = at + wait / (self.rate[going] * self.factor[going])
            change = self.change[going]
            for i in np.flatnonzero((when >= change) & (change < math.inf)).tolist():
                # a response ends (or starts) before this wait is spent
                when[i] = self._after(int(going[i]), float(at[i]), float(wait[i]))
            when[when > self.end] = math.inf
            nxt[going] = when
            due = going[when < until]
        if not times:
            return [], [], [], []
        at_all, slot_all = np.concatenate(times), np.concatenate(slots)
        order = np.lexsort((slot_all, at_all))
        return (
            at_all[order].tolist(),
            slot_all[order].tolist(),
            np.concatenate(drops)[order].tolist(),
            [rows[i] for i in order.tolist()],
        )

    def _rows(self, slots: Array) -> list[tuple[Any, ...]]:
        """The fields of one event of each of ``slots`` (drawn per persona and type)."""
        counters = self.counters[_ROWS, slots]
        self.counters[_ROWS, slots] += 1
        rows: list[tuple[Any, ...]] = [()] * len(slots)
        groups = self.group[slots]
        for g in np.unique(groups).tolist():
            kind = self.types[g]
            if not kind.values:
                continue
            mine = np.flatnonzero(groups == g)
            keys, at = self.keys[slots[mine]], counters[mine]
            columns = [
                values.many(keys, at, stream)
                for values, stream in zip(kind.values, kind.field_streams, strict=True)
            ]
            for i, row in zip(mine.tolist(), zip(*columns, strict=True), strict=True):
                rows[i] = row
        return rows

    # -- one slot at a time, as responses and first events need ------------------------------

    def schedule(self, slot: int, now: float, midnight: float) -> float | None:
        """Draw the next wait of a running repeat process from ``now``: its time when that is
        before ``midnight`` (the caller queues it), else None (kept in :attr:`next`, or never
        when past the end)."""
        self.version[slot] += 1
        self.next[slot] = math.inf
        rate = float(self.rate[slot])
        if rate <= 0:  # a BG/NBD rate too small to be a number of seconds: never again
            return None
        counters = self.counters
        counter = int(counters[_WAITS, slot])
        counters[_WAITS, slot] = counter + 1
        u = uniform(int(self.keys[slot]), int(self.streams[slot]) + WAITS, counter)
        wait = float(exponential_variates(u))
        when = now + wait / rate if slot not in self.boosts else self._after(slot, now, wait)
        if when > self.end:
            return None
        if when < midnight:
            return when
        self.next[slot] = when
        return None

    def refresh(self, slot: int, when: float) -> None:
        """What the responses multiply the slot's rate by from ``when``, and until when."""
        self.factor[slot], self.change[slot] = _factor(self.boosts.get(slot, ()), when)

    def dropped(self, slot: int) -> bool:
        """BG/NBD: whether the member drops out after this repeat event."""
        chance = float(self.drop[slot])
        if chance <= 0:
            return False
        counter = int(self.counters[_DROPS, slot])
        self.counters[_DROPS, slot] = counter + 1
        return uniform(int(self.keys[slot]), int(self.streams[slot]) + DROPS, counter) < chance

    def row(self, member: Member, t: int) -> tuple[Any, ...]:
        """The fields of ``member``'s next event of type ``t`` sent on its own."""
        slot = member.base + t
        counter = int(self.counters[_ROWS, slot])
        self.counters[_ROWS, slot] = counter + 1
        kind = member.plan.types[t]
        return tuple(
            values.one(member.key, counter, stream)
            for values, stream in zip(kind.values, kind.field_streams, strict=True)
        )

    def boost(self, slot: int, until: float, by: float, now: float) -> None:
        """A response multiplies the slot's rate by ``by`` from ``now`` to ``until``."""
        boosts = [b for b in self.boosts.get(slot, ()) if b[0] > now]
        boosts.append((until, by))
        self.boosts[slot] = boosts

    def _after(self, slot: int, now: float, wait: float) -> float:
        """When the slot's process, boosted as its responses say, has gone through ``wait``
        from ``now``; what the responses multiply its rate by from then is kept."""
        when, self.factor[slot], self.change[slot] = _after(
            now, wait, float(self.rate[slot]), self.boosts[slot]
        )
        return when

    # -- joining ------------------------------------------------------------------------------

    def join(
        self,
        ranks: Array,
        numbers: Array,
        joined: Array,
        personas: Array,
        ids: Callable[[int], str],
    ) -> list[tuple[Member, float]]:
        """Set up the members with these ``numbers`` (the ``ranks``-th to join, joining at
        ``joined`` seconds, as ``personas``), their first event of each type they will send made
        with its week's events: each member, and when it joins."""
        out: list[tuple[Member, float]] = []
        for plan in self.plans:
            mine = personas == plan.number
            if mine.any():
                out.extend(self._join(plan, ranks[mine], numbers[mine], joined[mine], ids))
        out.sort(key=lambda item: (item[1], item[0].id))  # by when they join, then by id
        return out

    def _join(
        self, plan: Plan, ranks: Array, numbers: Array, joined: Array, ids: Callable[[int], str]
    ) -> list[tuple[Member, float]]:
        keys = member_keys(self.seed, numbers)
        bases = self.bases[ranks]
        count = len(numbers)
        zero = np.zeros(count, dtype=np.uint64)
        members = [
            Member(ids(number), key, plan, base)
            for number, key, base in zip(
                numbers.tolist(), keys.tolist(), bases.tolist(), strict=True
            )
        ]
        for member in members:
            for t, kind in enumerate(plan.types):
                self.owner[member.base + t] = member
                self.kind[member.base + t] = kind
        columns = {
            name: values.many(keys, zero, attribute_stream(i))
            for i, (name, values) in enumerate(plan.attributes)
        }
        for j, (name, declared) in enumerate(plan.synthetic):
            drawn = uniforms(keys, SYNTHETIC, j).tolist()
            columns[name] = [synthetic(declared, u, self.start) for u in drawn]
        if columns:
            for i, member in enumerate(members):
                member.profile = {name: column[i] for name, column in columns.items()}
        for t, kind in enumerate(plan.types):
            if kind.start is None:
                continue
            chance, delay = kind.start
            when = joined + delay(keys, zero)
            going = when <= self.end
            if chance < 1.0:
                going &= uniforms(keys, kind.stream + START_CHANCE, zero) < chance
            slots = bases + t
            if kind.every is not None:
                self.rate[slots] = 1.0 / kind.every
            elif kind.bgnbd is not None:
                r, alpha, a, b, unit = kind.bgnbd
                # per member lambda ~ Gamma(r, rate alpha) per unit, as a rate per second
                u = uniforms(keys, kind.stream + RATE, zero)
                self.rate[slots] = gamma_variates(r, u) / alpha / unit
                self.drop[slots] = beta_variates(a, b, uniforms(keys, kind.stream + DROP, zero))
            started = np.flatnonzero(going)
            if not started.size:
                continue
            self.next[slots[started]] = when[started]  # made with its week's events
            self.once[slots[started]] = not kind.repeat
            if kind.repeat:
                self.first[slots[started]] = when[started]
                self.fresh[slots[started]] = True
        return list(zip(members, joined.tolist(), strict=True))


def _after(
    now: float, wait: float, rate: float, boosts: list[tuple[float, float]]
) -> tuple[float, float, float]:
    """When a process at ``rate`` (per second), multiplied by the ``boosts`` (until, factor)
    that still run, has gone through ``wait`` (a unit exponential): the rate is piecewise
    constant, so the wait is spent piece by piece, each at its rate. With what the boosts
    multiply the rate by from then, and until when."""
    t = now
    while True:
        factor, change = _factor(boosts, t)
        speed = rate * factor
        if change == math.inf:
            return (t + wait / speed if speed > 0 else math.inf), factor, change
        if speed * (change - t) >= wait:
            when = t + wait / speed
            if when < change:
                return when, factor, change
            return (when, *_factor(boosts, when))
        wait -= speed * (change - t)
        t = change


def _factor(boosts: Iterable[tuple[float, float]], at: float) -> tuple[float, float]:
    """What the ``boosts`` running at ``at`` multiply a rate by, and when that changes next."""
    factor, change = 1.0, math.inf
    for until, by in boosts:
        if until > at:
            factor *= by
            if until < change:
                change = until
    return factor, change
