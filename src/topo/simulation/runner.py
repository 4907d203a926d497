"""Running a population through a journey: behaviours make events, the real engine makes
triggers of them, and the triggers change what the members do next.

Every member follows its persona (chosen with its own generator, by the personas' shares):
it joins at a time of the run, sends its attributes as one ``profile`` event then, and each
event type it sends runs as a process of its own: ``once`` (at most one event, after a drawn
delay), or ``repeat`` (a Poisson or BG/NBD process that starts with a first event). Events of the
whole population go through one :class:`topo.Engine` in time order; the clock is advanced to
each midnight of the run (``Engine.tick``) so timers fire on the day they are due. A trigger
that reaches a member starts its persona's responses: a rate multiplied for a while (the
process's pending wait is drawn again from then: exponential waits forget how long they ran),
or one event sent at once with a probability. A grant a cap withheld is no grant.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from topo.engine.collector import paused
from topo.engine.engine import Engine
from topo.engine.triggers import Trigger
from topo.errors import InvalidEvent, UsageError
from topo.journey.model import Journey
from topo.simulation.members import DROPS_OUT, FIRST, ONCE, Member, Population
from topo.simulation.model import Personas
from topo.simulation.plans import CHANCES, JOIN, PERSONA, Plan, Response, Type, plan
from topo.simulation.sampling import choice, member_keys, uniform, uniforms
from topo.workers import worker_of

__all__ = ["START", "Place", "Run", "run_population"]

START = datetime(2026, 1, 1, tzinfo=UTC)
"""Where a simulation starts unless told otherwise: a fixed date, so a run never depends on
the day it is made."""

_DAY = 86_400
_JOIN, _FIRST, _REPEAT, _RESPONSE = range(4)


class Place:
    """A share of a run's members (worker ``number`` of ``count``: those
    :func:`topo.workers.worker_of` gives it), and where the run is in the order one process
    of all members keeps: :attr:`key` orders what is sent or granted now among what every
    share sends or grants (see :func:`run_population`)."""

    __slots__ = ("count", "key", "number")

    def __init__(self, number: int, count: int) -> None:
        self.number, self.count = number, count
        self.key: tuple[Any, ...] = ()


@dataclass
class Run:
    """What one run made: the engine (its store holds every member), the triggers in the order
    they were granted, the events in the order they were sent (when kept), and counts."""

    engine: Engine
    start: datetime
    end: datetime
    members: int
    triggers: list[Trigger] = field(default_factory=list)
    events: list[dict[str, Any]] | None = None
    sent: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


def run_population(
    journey: Journey,
    personas: Personas,
    *,
    members: int,
    days: int,
    start: datetime = START,
    seed: int = 0,
    keep_events: bool = True,
    on_event: Callable[[dict[str, Any]], object] | None = None,
    on_trigger: Callable[[Trigger], object] | None = None,
    progress: Callable[[int, int], object] | None = None,
    place: Place | None = None,
) -> Run:
    """Simulate ``members`` members of ``personas`` on ``journey`` for ``days`` days.

    ``on_event`` and ``on_trigger`` see each event sent and each trigger granted as they
    happen (to write them out without keeping them); ``progress`` is told (day, days) at each
    midnight.

    With ``place``, only its share of the members is run (each exactly as in a run of all:
    a member's numbers are its own), and ``place.key`` tells, as each event is sent and each
    trigger granted, where that falls in the order of a run of all members: ``(t, 0, base,
    seq)`` for a queued event at ``t`` (ties: the member's first slot, then the order queued),
    ``(t, 1, slot, k)`` for a week's event of that slot at ``t`` (``k`` > 0: the k-th event
    queued for the same instant since, which follows it at once), ``(midnight, -1)`` for the
    triggers of a midnight's tick and ``(end, 2)`` for the last tick's (whose order is the
    engine's: due time, then member).
    """
    if members < 0 or days < 0:
        raise UsageError("members and days are whole numbers from 0")
    if start.utcoffset() is None:
        raise UsageError(
            "the start of a simulation needs an offset, as in 2026-01-01T00:00:00+00:00"
        )
    plans = [plan(number, persona, journey) for number, persona in enumerate(personas.population)]
    engine = Engine(journey, explain=False)
    process = engine.process
    end_s = days * _DAY
    run = Run(engine, start, start + timedelta(seconds=end_s), members)
    if keep_events:
        run.events = []
    events = run.events
    width = max(7, len(str(members)))
    numbers, joined, chosen, keys = _joining(
        seed, plans, members, [p.share for p in personas.population]
    )
    last = int(np.searchsorted(joined, end_s, side="right"))  # who joins by the end
    days_of = (joined[:last] // _DAY).astype(np.int64)
    people = Population(seed, plans, chosen[:last], keys[:last], end_s, start)
    alive, version, nxt, owner = people.alive, people.version, people.next, people.owner
    spent = people.spent
    by_id: dict[str, Member] = {}
    # Members' single events (joining, responses) and repeat events a response drew again
    # within the week: those of later days wait in their day's list, today's are a heap. The
    # other events of a week are made together, as it starts (Population.made).
    # (when, member's first slot, seq, member, kind, type, version, key or None): exact times,
    # no rounding drift; ties go by member, then in the order queued, so a share of the members
    # runs its events in the order a run of all does. The key of an event queued for the very
    # instant of a week's event, which it follows at once, is that event's (see Place).
    Item = tuple[float, int, int, Member, int, int, int, tuple[Any, ...] | None]
    later: list[list[Item]] = [[] for _ in range(days + 1)]
    today: list[Item] = []
    moved: set[int] = set()  # slots whose rest of the week's made events no longer hold
    midnight = 0.0  # the end of the day being run
    horizon = 0.0  # the end of the week whose repeat events are made
    seq = 0
    root: list[Any] = [None, 0]  # the week's event whose instant queued events follow; their count
    wall, dates, times_of_day = _clock(start, days)
    kind_of = people.kind
    heappush = heapq.heappush

    def push(when: float, member: Member, kind: int, t: int, version: int) -> None:
        nonlocal seq
        key = None
        if place is not None and root[0] is not None and when == root[0][0]:
            root[1] += 1
            key = (*root[0][:3], root[1])
        item = (when, member.base, seq, member, kind, t, version, key)
        if when < midnight:  # today's
            heappush(today, item)
        else:
            later[int(when // _DAY)].append(item)
        seq += 1

    def ids(number: int) -> str:
        return f"m{number:0{width}d}"

    def send(member: Member, kind: Type, now: float, values: tuple[Any, ...]) -> None:
        member.n += 1
        member_id = member.id
        second = wall + int(now)  # written to the second; kept exact
        event = {
            "id": f"{member_id}-{member.n}",
            "member": member_id,
            "type": kind.name,
            "at": dates[second // _DAY] + times_of_day[second % _DAY],
        }
        if values:
            event.update(zip(kind.names, values))  # noqa: B905 (made together, one length)
        deliver(event, now)

    def deliver(event: dict[str, Any], now: float) -> None:
        try:
            triggers = process(event)
        except InvalidEvent as error:  # counted by what went wrong, not by which event
            field = "" if error.field is None else f".{error.field}"
            reason = f"{event['type']}{field}: {error.reason}"
            run.rejected[reason] = run.rejected.get(reason, 0) + 1
            return
        run.sent += 1
        if events is not None:
            events.append(event)
        if on_event is not None:
            on_event(event)
        if triggers:
            granted(triggers, now)

    def schedule(member: Member, t: int, now: float) -> None:
        """Draw the wait to the next event of a running repeat process, from ``now``."""
        slot = member.base + t
        moved.add(slot)  # what Population.day made for it today no longer holds
        when = people.schedule(slot, now, horizon)
        if when is not None:
            push(when, member, _REPEAT, t, version[slot])

    def granted(triggers: Sequence[Trigger], now: float) -> None:
        run.triggers.extend(triggers)
        for trigger in triggers:
            if on_trigger is not None:
                on_trigger(trigger)
            member = by_id.get(trigger.member)
            if member is None:
                continue
            p = member.plan
            for response in p.responses.get(trigger.incentive, p.any):
                respond(member, response, now)

    def respond(member: Member, response: Response, now: float) -> None:
        t = response.type
        if response.probability is not None:
            chance = uniform(member.key, CHANCES, member.chances)
            member.chances += 1
            if chance < response.probability:
                push(now, member, _RESPONSE, t, 0)
            return
        assert response.rate is not None and response.seconds is not None
        slot = member.base + t
        people.boost(slot, now + response.seconds, response.rate, now)
        if alive[slot]:
            schedule(member, t, now)
            return
        first = people.first[slot]  # a process whose first event is still to come
        if now <= first < horizon and slot not in moved:  # made already, at the old rate
            moved.add(slot)
            push(float(first), member, _FIRST, t, 0)
        elif first >= horizon:
            people.refresh(slot, float(first))

    def join(member: Member, now: float) -> None:
        """The member's attributes, as one profile event when it joins."""
        profile = member.profile or {}
        member.profile = None
        member.n += 1
        second = wall + int(now)
        event = {"id": f"{member.id}-{member.n}", "member": member.id, "type": "profile"}
        event["at"] = dates[second // _DAY] + times_of_day[second % _DAY]
        event.update(profile)
        deliver(event, now)

    def joining(first: int, until: int) -> None:
        """Set up the members who join from day ``first`` to before day ``until``."""
        lo, hi = np.searchsorted(days_of, [first, until]).tolist()
        if lo == hi:
            return
        ranks = np.arange(lo, hi, dtype=np.int64)
        if place is not None:  # only the share's members join
            mine = [worker_of(ids(n), place.count) == place.number for n in numbers[lo:hi].tolist()]
            ranks = ranks[np.array(mine, dtype=bool)]
        for member, at in people.join(ranks, numbers[ranks], joined[ranks], chosen[ranks], ids):
            by_id[member.id] = member
            if member.profile:
                push(at, member, _JOIN, 0, 0)

    def single(item: Item) -> None:
        """One of today's queued events."""
        now, base, seq, member, kind, t, drawn, key = item
        if place is not None:
            place.key = (now, 0, base, seq) if key is None else key
            root[0] = key  # what it queues for this instant follows the week's event
        slot = member.base + t
        if kind == _REPEAT:
            if drawn != version[slot] or not alive[slot]:
                return  # a wait drawn again since, or a member who dropped out
            # a response to it may draw the next wait already
            send(member, member.plan.types[t], now, people.row(member, t))
            if people.dropped(slot):
                alive[slot] = False  # BG/NBD: drops out after a repeat event
                nxt[slot] = math.inf
            elif version[slot] == drawn:
                schedule(member, t, now)
        elif kind == _JOIN:
            join(member, now)
        elif kind == _FIRST:
            alive[slot] = True  # a response to its first event may draw a wait
            before = version[slot]
            send(member, member.plan.types[t], now, people.row(member, t))
            if version[slot] == before:
                schedule(member, t, now)
        else:  # _RESPONSE
            sent = member.plan.types[t]
            if sent.start is not None and not sent.repeat:  # a `once` type: at most one, ever
                if spent[slot]:
                    return
                spent[slot] = 1
            send(member, sent, now, people.row(member, t))

    pop = heapq.heappop
    with paused():  # bulk work: see topo.engine.collector
        times: list[float] = []
        slots: list[int] = []
        thens: list[int] = []
        rows: list[tuple[Any, ...]] = []
        lo = 0
        for day in range(days + 1):  # the last "day" holds only what is due at the end
            if day % 7 == 0:  # members of the week set up, its repeat events made, together
                joining(day, day + 7)
                horizon = (day + 7) * _DAY
                moved.clear()
                times, slots, thens, rows = people.made(horizon)
                lo = 0
            midnight = (day + 1) * _DAY
            today = later[day]
            later[day] = []
            heapq.heapify(today)
            hi = bisect_left(times, midnight, lo)
            for now, slot, then, values in zip(  # noqa: B905 (made together, one length)
                times[lo:hi], slots[lo:hi], thens[lo:hi], rows[lo:hi]
            ):
                while today and today[0][0] <= now:
                    single(pop(today))
                if slot in moved:
                    continue  # a response drew this process's next event again
                if then == FIRST:
                    alive[slot] = True  # a response to its first event may draw a wait
                elif then == ONCE:
                    if spent[slot]:
                        continue  # a response sent it already: at most one, ever
                    spent[slot] = 1
                if place is not None:
                    place.key = root[0] = (now, 1, slot, 0)
                    root[1] = 0
                send(owner[slot], kind_of[slot], now, values)  # type: ignore[arg-type]
                if then == DROPS_OUT:
                    alive[slot] = False  # BG/NBD: drops out after a repeat event
                    nxt[slot] = math.inf
                root[0] = None
            lo = hi
            while today:
                single(pop(today))
            if day == days:
                break
            if place is not None:
                place.key, root[0] = (midnight, -1), None
            ticked = engine.tick(start + timedelta(seconds=midnight))
            if ticked:
                granted(ticked, midnight)
            if progress is not None:
                progress(day + 1, days)
    if place is not None:
        place.key = (float(end_s), 2)
    final = engine.tick(run.end)
    if final:
        run.triggers.extend(final)
        if on_trigger is not None:
            for trigger in final:
                on_trigger(trigger)
    if progress is not None:
        progress(days, days)
    return run


def _joining(
    seed: int, plans: Sequence[Plan], members: int, shares: Sequence[float]
) -> tuple[Any, Any, Any, Any]:
    """Every member's number, when it joins (seconds), persona and key, in the order they join
    (members who join at the same time in the order of their numbers)."""
    numbers = np.arange(members, dtype=np.int64)
    keys = member_keys(seed, numbers)
    zero = np.zeros(members, dtype=np.uint64)
    chosen = np.array(choice(dict(enumerate(shares))).many(keys, zero, PERSONA), dtype=np.int64)
    spreads = np.array([p.spread or 0 for p in plans], dtype=float)
    joined = uniforms(keys, JOIN, 0) * spreads[chosen] if members else np.zeros(0)
    order = np.argsort(joined, kind="stable")
    return numbers[order], joined[order], chosen[order], keys[order]


def _clock(start: datetime, days: int) -> tuple[int, list[str], list[str]]:
    """How to write the time ``s`` seconds after the start as ``datetime.isoformat`` does, in
    the start's offset, for a run of ``days`` days: with ``wall, dates, times = _clock(...)``
    and ``w = wall + s``, ``dates[w // 86_400] + times[w % 86_400]``. The date of each day is
    worked out once, and the time of day (with the start's microseconds and offset, which whole
    seconds from the start keep) read from a table of a day's 86,400 seconds."""
    wall = start.hour * 3600 + start.minute * 60 + start.second
    first = start.date()
    dates = [(first + timedelta(days=d)).isoformat() for d in range(days + 1)]
    return wall, dates, _times_of_day(start.isoformat()[19:])


@lru_cache(maxsize=4)  # 86,400 texts each
def _times_of_day(suffix: str) -> list[str]:
    """``THH:MM:SS`` and ``suffix`` for each second of a day (made once per suffix)."""
    return [
        f"T{h:02d}:{m:02d}:{s:02d}{suffix}" for h in range(24) for m in range(60) for s in range(60)
    ]
