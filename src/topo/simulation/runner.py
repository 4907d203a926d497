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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from topo.engine.collector import paused
from topo.engine.engine import Engine
from topo.engine.triggers import Trigger
from topo.errors import InvalidEvent, UsageError
from topo.journey.model import Journey
from topo.simulation.model import Once, Persona, Personas
from topo.simulation.sampling import (
    Draw,
    Generators,
    Stream,
    draw_duration,
    member_stream,
    synthetic,
    value_drawer,
)

__all__ = ["START", "Run", "run_population"]

START = datetime(2026, 1, 1, tzinfo=UTC)
"""Where a simulation starts unless told otherwise: a fixed date, so a run never depends on
the day it is made."""

_DAY = 86_400
_JOIN, _ONCE, _FIRST, _REPEAT, _EXPIRE, _RESPONSE = range(6)


@dataclass(frozen=True, slots=True)
class _Type:
    """How one persona sends one event type."""

    name: str
    once: Once | None
    first: Once | None  # a repeat process's first event
    every: float | None  # Poisson: mean seconds between events
    bgnbd: tuple[float, float, float, float, float] | None  # r, alpha, a, b, unit seconds
    fields: tuple[tuple[str, Draw], ...]


@dataclass(frozen=True, slots=True)
class _Response:
    type: int  # index into the persona's types
    rate: float | None
    seconds: int | None
    probability: float | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A persona, ready to draw from."""

    id: str
    spread: int | None  # seconds over which members join; None: all at the start
    attributes: tuple[tuple[str, Draw], ...]
    synthetic: tuple[tuple[str, Any], ...]  # pii attributes without a distribution
    types: tuple[_Type, ...]
    responses: dict[str, tuple[_Response, ...]]


class _Member:
    """One simulated member's behaviour: its generator, processes and active responses."""

    __slots__ = ("alive", "boosts", "drop", "id", "memo", "n", "plan", "rates", "stream", "version")

    def __init__(self, member_id: str, plan: _Plan, stream: Stream) -> None:
        self.id = member_id
        self.plan = plan
        self.stream = stream
        self.memo: dict[int, Any] = {}
        self.n = 0  # events sent, for their ids
        count = len(plan.types)
        self.rates = [0.0] * count  # events per second of each repeat process (0: none)
        self.drop = [0.0] * count  # BG/NBD: the chance to drop out after a repeat event
        self.alive = [False] * count  # a repeat process that has started and not dropped out
        self.version = [0] * count  # bumped when a pending wait is drawn again
        self.boosts: list[list[tuple[float, float]]] | None = None  # per type: (until, factor)

    def rate(self, index: int, now: float) -> float:
        rate = self.rates[index]
        boosts = self.boosts
        if boosts is not None:
            for until, factor in boosts[index]:
                if until > now:
                    rate *= factor
        return rate


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
) -> Run:
    """Simulate ``members`` members of ``personas`` on ``journey`` for ``days`` days.

    ``on_event`` and ``on_trigger`` see each event sent and each trigger granted as they
    happen (to write them out without keeping them); ``progress`` is told (day, days) at each
    midnight.
    """
    if members < 0 or days < 0:
        raise UsageError("members and days are whole numbers from 0")
    if start.utcoffset() is None:
        raise UsageError(
            "the start of a simulation needs an offset, as in 2026-01-01T00:00:00+00:00"
        )
    plans = [_plan(persona, journey) for persona in personas.population]
    edges = _edges([persona.share for persona in personas.population])
    engine = Engine(journey, explain=False)
    end_s = days * _DAY
    run = Run(engine, start, start + timedelta(seconds=end_s), members)
    if keep_events:
        run.events = []
    width = max(7, len(str(members)))
    heap: list[tuple[float, int, int, int, int, int]] = []  # exact times: no rounding drift
    seq = 0
    generators = Generators()
    population: list[_Member] = []
    by_id: dict[str, _Member] = {}
    for index in range(members):
        member_id = f"m{index:0{width}d}"
        stream = member_stream(seed, member_id, generators)
        plan = plans[_pick(edges, stream.uniform())]
        member = _Member(member_id, plan, stream)
        population.append(member)
        by_id[member_id] = member
        joined = 0.0 if plan.spread is None else stream.uniform() * plan.spread
        heap.append((joined, seq, index, _JOIN, 0, 0))
        seq += 1
    heapq.heapify(heap)

    at_text = _Clock(start)

    def send(member: _Member, kind: str, now: float, fields: dict[str, Any]) -> None:
        member.n += 1
        event = {"id": f"{member.id}-{member.n}", "member": member.id, "type": kind}
        event["at"] = at_text(int(now))  # written to the second; kept exact
        event.update(fields)
        try:
            triggers = engine.process(event)
        except InvalidEvent as error:
            reason = str(error)
            run.rejected[reason] = run.rejected.get(reason, 0) + 1
            return
        run.sent += 1
        if run.events is not None:
            run.events.append(event)
        if on_event is not None:
            on_event(event)
        if triggers:
            granted(triggers, now)

    def push(when: float, index: int, kind: int, type_index: int = 0, version: int = 0) -> None:
        nonlocal seq
        heapq.heappush(heap, (when, seq, index, kind, type_index, version))
        seq += 1

    def schedule(member: _Member, index: int, type_index: int, now: float) -> None:
        """Draw the wait to the next event of a running repeat process, from ``now``."""
        member.version[type_index] += 1
        rate = member.rate(type_index, now)
        if rate > 0:
            wait = member.stream.exponential(1.0 / rate)
            if now + wait <= end_s:
                push(now + wait, index, _REPEAT, type_index, member.version[type_index])

    def granted(triggers: Sequence[Trigger], now: float) -> None:
        run.triggers.extend(triggers)
        for trigger in triggers:
            if on_trigger is not None:
                on_trigger(trigger)
            member = by_id.get(trigger.member)
            if member is None:
                continue
            responses = member.plan.responses
            for response in (*responses.get(trigger.incentive, ()), *responses.get("any", ())):
                respond(member, response, now)

    def respond(member: _Member, response: _Response, now: float) -> None:
        index = int(member.id[1:])
        t = response.type
        if response.probability is not None:
            if member.stream.uniform() < response.probability:
                push(now, index, _RESPONSE, t)
            return
        assert response.rate is not None and response.seconds is not None
        if member.boosts is None:
            member.boosts = [[] for _ in member.plan.types]
        until = now + response.seconds
        boosts = member.boosts[t]
        boosts[:] = [b for b in boosts if b[0] > now]
        boosts.append((until, response.rate))
        push(until, index, _EXPIRE, t)
        if member.alive[t]:
            schedule(member, index, t, now)

    def join(member: _Member, index: int, now: float) -> None:
        plan, stream = member.plan, member.stream
        attributes = {name: draw(stream, member.memo) for name, draw in plan.attributes}
        for name, declared in plan.synthetic:
            attributes[name] = synthetic(declared, stream, start)
        for t, kind in enumerate(plan.types):
            if kind.once is not None:
                if stream.uniform() < kind.once.probability:
                    when = now + draw_duration(kind.once.after, stream)
                    if when <= end_s:
                        push(when, index, _ONCE, t)
                continue
            first = kind.first
            if first is None or stream.uniform() < first.probability:
                after = 0.0 if first is None else draw_duration(first.after, stream)
                if now + after <= end_s:
                    push(now + after, index, _FIRST, t)
        if attributes:
            send(member, "profile", now, attributes)

    def start_repeat(member: _Member, index: int, t: int, now: float) -> None:
        kind, stream = member.plan.types[t], member.stream
        if kind.every is not None:
            member.rates[t] = 1.0 / kind.every
        else:
            assert kind.bgnbd is not None
            r, alpha, a, b, unit = kind.bgnbd
            member.rates[t] = stream.gamma(r) / alpha / unit  # lambda per unit, per second
            member.drop[t] = stream.beta(a, b)
        member.alive[t] = True
        schedule(member, index, t, now)

    def fields_of(member: _Member, t: int) -> dict[str, Any]:
        stream, memo = member.stream, member.memo
        return {name: draw(stream, memo) for name, draw in member.plan.types[t].fields}

    next_midnight = _DAY
    pop = heapq.heappop
    with paused():  # bulk work: see topo.engine.collector
        while True:
            # Every item due before the next midnight (or the end), then the midnight's tick.
            ticks = next_midnight <= end_s
            while heap and (heap[0][0] < next_midnight if ticks else heap[0][0] <= end_s):
                now, _, index, kind, t, version = pop(heap)
                member = population[index]
                if kind == _REPEAT:
                    if version != member.version[t] or not member.alive[t]:
                        continue  # a wait drawn again since, or a member who dropped out
                    send(member, member.plan.types[t].name, now, fields_of(member, t))
                    drop = member.drop[t]
                    if drop and member.stream.uniform() < drop:
                        member.alive[t] = False  # BG/NBD: drops out after a repeat event
                    elif member.alive[t]:
                        schedule(member, index, t, now)
                elif kind == _JOIN:
                    join(member, index, now)
                elif kind in (_ONCE, _RESPONSE):
                    send(member, member.plan.types[t].name, now, fields_of(member, t))
                elif kind == _FIRST:
                    send(member, member.plan.types[t].name, now, fields_of(member, t))
                    start_repeat(member, index, t, now)
                elif member.alive[t]:  # _EXPIRE: a response ended; the rate changes back
                    schedule(member, index, t, now)
            if not ticks:
                break
            ticked = engine.tick(start + timedelta(seconds=next_midnight))
            if ticked:
                granted(ticked, next_midnight)
            if progress is not None:
                progress(next_midnight // _DAY, days)
            next_midnight += _DAY
    final = engine.tick(run.end)
    if final:
        run.triggers.extend(final)
        if on_trigger is not None:
            for trigger in final:
                on_trigger(trigger)
    if progress is not None:
        progress(days, days)
    return run


class _Clock:
    """RFC 3339 text of a time ``second`` seconds after the start, in the start's offset, as
    ``datetime.isoformat`` writes it: the date of each day worked out once."""

    __slots__ = ("dates", "offset", "start", "wall")

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.wall = start.hour * 3600 + start.minute * 60 + start.second
        text = start.isoformat()
        self.offset = text[19:] if start.microsecond == 0 else ""
        self.dates: dict[int, str] = {}

    def __call__(self, second: int) -> str:
        if not self.offset:  # a start with microseconds: as datetime writes it
            return (self.start + timedelta(seconds=second)).isoformat()
        day, rest = divmod(self.wall + second, _DAY)
        date = self.dates.get(day)
        if date is None:
            date = self.dates[day] = (self.start.date() + timedelta(days=day)).isoformat()
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{date}T{hours:02d}:{minutes:02d}:{seconds:02d}{self.offset}"


def _edges(shares: Sequence[float]) -> list[float]:
    total = sum(shares) or 1.0
    edges, acc = [], 0.0
    for share in shares:
        acc += share / total
        edges.append(acc)
    return edges


def _pick(edges: Sequence[float], u: float) -> int:
    for i, edge in enumerate(edges):
        if u < edge:
            return i
    return len(edges) - 1


def _plan(persona: Persona, journey: Journey) -> _Plan:
    types: list[_Type] = []
    index: dict[str, int] = {}
    for name, behaviour in persona.events.items():
        declared = journey.events[name].fields
        fields = tuple(
            (field_name, value_drawer(d, declared[field_name]))
            for field_name, d in behaviour.fields.items()
        )
        repeat = behaviour.repeat
        every = bgnbd = None
        if repeat is not None and repeat.poisson is not None:
            every = repeat.poisson.every.total_seconds()
        elif repeat is not None and repeat.bgnbd is not None:
            m = repeat.bgnbd
            bgnbd = (m.r, m.alpha, m.a, m.b, m.unit.total_seconds())
        index[name] = len(types)
        types.append(
            _Type(
                name, behaviour.once, None if repeat is None else repeat.first, every, bgnbd, fields
            )
        )
    for by_type in persona.respond.values():  # an event a response sends, with no behaviour
        for name in by_type:
            if name not in index and name in journey.events:
                index[name] = len(types)
                types.append(_Type(name, Once(probability=0.0), None, None, None, ()))
    responses: dict[str, tuple[_Response, ...]] = {}
    for incentive, by_type in persona.respond.items():
        responses[incentive] = tuple(
            _Response(
                index[name],
                response.rate,
                None if response.for_ is None else int(response.for_.total_seconds()),
                response.probability,
            )
            for name, response in by_type.items()
            if name in index
        )
    attributes = tuple(
        (name, value_drawer(d, journey.attributes[name]))
        for name, d in persona.attributes.items()
        if name in journey.attributes
    )
    synthetic_ones = tuple(
        (name, attribute)
        for name, attribute in journey.attributes.items()
        if attribute.pii and name not in persona.attributes
    )
    spread = persona.join.spread
    return _Plan(
        persona.id,
        None if spread is None else int(spread.total_seconds()),
        attributes,
        synthetic_ones,
        tuple(types),
        responses,
    )
