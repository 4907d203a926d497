"""Simulated members and what they draw ahead, many members at a time.

A member's random numbers are a function of its key and a counter (see ``sampling``), so they
can be drawn whenever is cheapest without changing them. :class:`Ahead` draws them in batches
with numpy: the members who join in a week are set up together as the week starts (their
attributes, which event types they start and when, their BG/NBD rate and drop-out chance), and
each member keeps a small stock per event type (the fields of its next events, its next waits,
the numbers that decide its drop-outs) that is topped up weekly for every member running low,
together. A member who runs out within the week draws its next value on its own.
"""

from __future__ import annotations

from collections.abc import Callable
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

__all__ = ["Ahead", "Member"]

_WEEK = 7 * 86_400.0


class Member:
    """One simulated member: its key, processes, active responses, and its stock per event
    type (kept in reverse: the next value is the last)."""

    __slots__ = (
        "alive",
        "boosts",
        "chances",
        "drop",
        "drops",
        "flagged",
        "id",
        "key",
        "low",
        "n",
        "plan",
        "profile",
        "rates",
        "rows",
        "taken",
        "version",
        "waits",
    )

    def __init__(self, member_id: str, key: int, plan: Plan) -> None:
        self.id = member_id
        self.key = key
        self.plan = plan
        self.n = 0  # events sent, for their ids
        self.chances = 0  # probability responses drawn for
        self.profile: dict[str, Any] | None = None  # attributes, sent when it joins
        count = len(plan.types)
        self.rates = [0.0] * count  # events per second of each repeat process (0: none)
        self.drop = [0.0] * count  # BG/NBD: the chance to drop out after a repeat event
        self.alive = [False] * count  # a repeat process that has started and not dropped out
        self.version = [0] * count  # bumped when a pending wait is drawn again
        self.boosts: list[list[tuple[float, float]]] | None = None  # per type: (until, factor)
        self.rows: list[list[tuple[Any, ...]]] = [[] for _ in range(count)]
        self.waits: list[list[float]] = [[] for _ in range(count)]
        self.drops: list[list[float]] = [[] for _ in range(count)]
        self.taken = [[0, 0, 0] for _ in range(count)]  # rows, waits, drops drawn so far
        self.low = [0] * count  # a stock this small is topped up next week
        self.flagged = [False] * count

    def factor(self, t: int, now: float) -> float:
        """What the responses running at ``now`` multiply type ``t``'s rate by."""
        factor = 1.0
        if self.boosts is not None:
            for until, by in self.boosts[t]:
                if until > now:
                    factor *= by
        return factor


class Ahead:
    """Draws ahead for a run's members: :meth:`join` sets up a day's joiners, :meth:`want` and
    :meth:`top_up` keep their stocks."""

    def __init__(self, seed: int, plans: list[Plan], end: float, start: datetime) -> None:
        self.seed = seed
        self.plans = plans
        self.end = end
        self.start = start
        self.wanting: dict[tuple[int, int], list[Member]] = {}

    def want(self, member: Member, t: int) -> None:
        """Top ``member``'s stock of type ``t`` up when the next week starts."""
        member.flagged[t] = True
        self.wanting.setdefault((member.plan.number, t), []).append(member)

    def top_up_wanted(self, now: float) -> None:
        wanting, self.wanting = self.wanting, {}
        for (number, t), members in wanting.items():
            self.top_up(self.plans[number], t, members, now)

    def top_up(self, plan: Plan, t: int, members: list[Member], now: float) -> None:
        """Fill the stocks of type ``t`` of ``members`` (all of ``plan``) for what they are
        expected to need over the next two weeks: topped up weekly, they seldom run out."""
        kind = plan.types[t]
        end = self.end
        need = np.zeros((3, len(members)), dtype=np.int64)
        for i, member in enumerate(members):
            member.flagged[t] = False
            rate = member.rates[t]
            if not kind.repeat or rate <= 0:  # what it sends next, no more
                member.low[t] = -1
                need[0, i] = max(0, 1 - len(member.rows[t]))
                continue
            per_week = rate * member.factor(t, now) * _WEEK
            low = int(per_week * 1.5) + 1
            target = low + int(per_week * 2) + 3
            left = rate * (end - now)
            drop = member.drop[t]
            if drop > 0:
                left = min(left, 1.0 / drop)
            target = min(target, int(left * 1.5) + 2)
            member.low[t] = min(low, target - 1)
            need[0, i] = max(0, target - len(member.rows[t]))
            need[1, i] = max(0, target - len(member.waits[t]))
            if drop > 0:
                need[2, i] = max(0, target - len(member.drops[t]))
        keys = np.array([member.key for member in members], dtype=np.uint64)
        if need[0].any():
            k, c = self._counters(keys, members, t, 0, need[0])
            columns = [
                values.many(k, c, stream)
                for values, stream in zip(kind.values, kind.field_streams, strict=True)
            ]
            rows: list[tuple[Any, ...]] = (
                list(zip(*columns, strict=True)) if columns else [()] * len(k)
            )
            _share(rows, members, need[0], "rows", t)
        if need[1].any():
            k, c = self._counters(keys, members, t, 1, need[1])
            waits = exponential_variates(uniforms(k, kind.stream + WAITS, c)).tolist()
            _share(waits, members, need[1], "waits", t)
        if need[2].any():
            k, c = self._counters(keys, members, t, 2, need[2])
            _share(uniforms(k, kind.stream + DROPS, c).tolist(), members, need[2], "drops", t)

    # A member out of stock within a week draws its next value on its own, in plain Python.

    @staticmethod
    def row(member: Member, t: int) -> tuple[Any, ...]:
        """The fields of ``member``'s next event of type ``t``."""
        kind = member.plan.types[t]
        counter = member.taken[t][0]
        member.taken[t][0] += 1
        key = member.key
        return tuple(
            values.one(key, counter, stream)
            for values, stream in zip(kind.values, kind.field_streams, strict=True)
        )

    @staticmethod
    def wait(member: Member, t: int) -> float:
        """``member``'s next wait of type ``t``, in units of its rate."""
        counter = member.taken[t][1]
        member.taken[t][1] += 1
        u = uniform(member.key, member.plan.types[t].stream + WAITS, counter)
        return float(exponential_variates(u))

    @staticmethod
    def drop_number(member: Member, t: int) -> float:
        """The uniform number that decides ``member``'s next drop-out of type ``t``."""
        counter = member.taken[t][2]
        member.taken[t][2] += 1
        return uniform(member.key, member.plan.types[t].stream + DROPS, counter)

    @staticmethod
    def _counters(
        keys: Array, members: list[Member], t: int, which: int, need: Array
    ) -> tuple[Array, Array]:
        """Each member's key, once per value it needs, and the counters of those values."""
        first = np.array([member.taken[t][which] for member in members], dtype=np.int64)
        for member, n in zip(members, need.tolist(), strict=True):
            member.taken[t][which] += n
        ends = np.cumsum(need)
        starts = np.repeat(first - (ends - need), need)
        return np.repeat(keys, need), starts + np.arange(int(ends[-1]))

    def join(
        self, numbers: Array, joined: Array, personas: Array, ids: Callable[[int], str]
    ) -> list[tuple[Member, float, list[tuple[float, int]]]]:
        """Set up the members with these ``numbers`` (joining at ``joined`` seconds, as
        ``personas``): each member, when it joins, and when (seconds, type) it starts each
        event type it will send."""
        out: list[tuple[Member, float, list[tuple[float, int]]]] = []
        for plan in self.plans:
            mine = personas == plan.number
            if not mine.any():
                continue
            out.extend(self._join_plan(plan, numbers[mine], joined[mine], ids))
        out.sort(key=lambda item: (item[1], item[0].id))  # by when they join, then by id
        return out

    def _join_plan(
        self, plan: Plan, numbers: Array, joined: Array, ids: Callable[[int], str]
    ) -> list[tuple[Member, float, list[tuple[float, int]]]]:
        keys = member_keys(self.seed, numbers)
        count = len(numbers)
        zero = np.zeros(count, dtype=np.uint64)
        members = [
            Member(ids(number), key, plan)
            for number, key in zip(numbers.tolist(), keys.tolist(), strict=True)
        ]
        columns = {
            name: values.many(keys, zero, attribute_stream(i))
            for i, (name, values) in enumerate(plan.attributes)
        }
        for j, (name, declared) in enumerate(plan.synthetic):
            drawn = uniforms(keys, SYNTHETIC, j).tolist()
            columns[name] = [synthetic(declared, u, self.start) for u in drawn]
        for i, member in enumerate(members):
            if columns:
                member.profile = {name: column[i] for name, column in columns.items()}
        starts: list[list[tuple[float, int]]] = [[] for _ in range(count)]
        for t, kind in enumerate(plan.types):
            if kind.start is None:
                continue
            chance, delay = kind.start
            when = joined + delay(keys, zero)
            going = when <= self.end
            if chance < 1.0:
                going &= uniforms(keys, kind.stream + START_CHANCE, zero) < chance
            rates: list[float] | None = None
            drops: list[float] | None = None
            if kind.every is not None:
                rates = [1.0 / kind.every] * count
            elif kind.bgnbd is not None:
                r, alpha, a, b, unit = kind.bgnbd
                # per member lambda ~ Gamma(r, rate alpha) per unit, as a rate per second
                u = uniforms(keys, kind.stream + RATE, zero)
                rates = (gamma_variates(r, u) / alpha / unit).tolist()
                drops = beta_variates(a, b, uniforms(keys, kind.stream + DROP, zero)).tolist()
            started = []
            for i in np.flatnonzero(going).tolist():
                member = members[i]
                if rates is not None:
                    member.rates[t] = rates[i]
                if drops is not None:
                    member.drop[t] = drops[i]
                starts[i].append((float(when[i]), t))
                started.append(member)
            if started:
                self.top_up(plan, t, started, float(joined.min()))
        return [
            (member, float(at), sorted(first))
            for member, at, first in zip(members, joined.tolist(), starts, strict=True)
        ]


def _share(
    values: list[Any],
    members: list[Member],
    need: Array,
    stock: str,
    t: int,
) -> None:
    """Hand each member its ``need`` of ``values`` (in counter order), in front of what it
    still has (the stock is used from its end)."""
    at = 0
    for member, n in zip(members, need.tolist(), strict=True):
        if n:
            chunk = values[at : at + n]
            chunk.reverse()
            lists = getattr(member, stock)  # its rows, waits or drops: per type, a list
            lists[t] = chunk + lists[t]
            at += n
