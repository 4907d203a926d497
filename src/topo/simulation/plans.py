"""A persona made ready to draw from: its event types, fields and responses as tuples, and the
stream of each member's generator that each of them reads (see ``sampling``)."""

from __future__ import annotations

from dataclasses import dataclass

from topo.journey.model import Attribute, Journey
from topo.simulation.model import Persona
from topo.simulation.sampling import Delay, Values, delay_drawer, value_drawer

__all__ = [
    "CHANCES",
    "JOIN",
    "PERSONA",
    "SYNTHETIC",
    "Plan",
    "Response",
    "Type",
    "attribute_stream",
    "plan",
]

# Streams of a member's generator (see topo.simulation.sampling): what each purpose reads.
PERSONA = 0  # which persona the member is
JOIN = 1  # when it joins
CHANCES = 2  # the chance of each probability response, one number per response
SYNTHETIC = 3  # pii attributes without a distribution: counter j for the j-th
_ATTRIBUTES = 100  # attribute i: 100 + 2i (and the next stream, for a Gamma-Gamma rate)
_TYPES = 10_000  # event type t: 10,000 + 1,000t + one of the offsets below
START_CHANCE, START_DELAY, RATE, DROP, WAITS, DROPS = range(6)
_FIELDS = 10  # field f of type t: type's stream + 10 + 2f


def attribute_stream(i: int) -> int:
    return _ATTRIBUTES + 2 * i


@dataclass(frozen=True, slots=True)
class Type:
    """How one persona sends one event type."""

    name: str
    stream: int  # the first stream of this type (add START_CHANCE, ..., DROPS)
    start: tuple[float, Delay] | None  # chance, and delay from joining, of its (first) event
    repeat: bool  # a repeat process starts at that first event
    every: float | None  # Poisson: mean seconds between events
    bgnbd: tuple[float, float, float, float, float] | None  # r, alpha, a, b, unit seconds
    names: tuple[str, ...]  # its fields, drawn with ``values`` from ``field_streams``
    values: tuple[Values, ...]
    field_streams: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Response:
    type: int  # index into the persona's types
    rate: float | None
    seconds: int | None
    probability: float | None


@dataclass(frozen=True, slots=True)
class Plan:
    """A persona, ready to draw from."""

    number: int  # its place in the personas file
    id: str
    spread: int | None  # seconds over which members join; None: all at the start
    attributes: tuple[tuple[str, Values], ...]
    synthetic: tuple[tuple[str, Attribute], ...]  # pii attributes without a distribution
    types: tuple[Type, ...]
    responses: dict[str, tuple[Response, ...]]  # per incentive, ``any``'s included
    any: tuple[Response, ...]  # to an incentive with no response of its own


def plan(number: int, persona: Persona, journey: Journey) -> Plan:
    types: list[Type] = []
    index: dict[str, int] = {}
    for name, behaviour in persona.events.items():
        t = len(types)
        stream = _TYPES + 1000 * t
        declared = journey.events[name].fields
        values = tuple(value_drawer(d, declared[n]) for n, d in behaviour.fields.items())
        repeat = behaviour.repeat
        every = bgnbd = None
        delay = stream + START_DELAY
        if repeat is None:
            once = behaviour.once
            assert once is not None
            start: tuple[float, Delay] = (once.probability, delay_drawer(once.after, delay))
        else:
            first = repeat.first
            start = (1.0, delay_drawer(None, delay))
            if first is not None:
                start = (first.probability, delay_drawer(first.after, delay))
            if repeat.poisson is not None:
                every = repeat.poisson.every.total_seconds()
            elif repeat.bgnbd is not None:
                m = repeat.bgnbd
                bgnbd = (m.r, m.alpha, m.a, m.b, m.unit.total_seconds())
        index[name] = t
        types.append(
            Type(
                name,
                stream,
                start,
                repeat is not None,
                every,
                bgnbd,
                tuple(behaviour.fields),
                values,
                tuple(stream + _FIELDS + 2 * f for f in range(len(values))),
            )
        )
    for by_type in persona.respond.values():  # an event a response sends, with no behaviour
        for name in by_type:
            if name not in index and name in journey.events:
                index[name] = len(types)
                stream = _TYPES + 1000 * len(types)
                types.append(Type(name, stream, None, False, None, None, (), (), ()))
    own: dict[str, tuple[Response, ...]] = {}
    for incentive, by_type in persona.respond.items():
        own[incentive] = tuple(
            Response(
                index[name],
                response.rate,
                None if response.for_ is None else int(response.for_.total_seconds()),
                response.probability,
            )
            for name, response in by_type.items()
            if name in index
        )
    to_any = own.pop("any", ())
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
    return Plan(
        number,
        persona.id,
        None if spread is None else int(spread.total_seconds()),
        attributes,
        synthetic_ones,
        tuple(types),
        {incentive: (*mine, *to_any) for incentive, mine in own.items()},
        to_any,
    )
