"""Random values for simulated members: one seeded generator per member, and the distributions
of the personas file drawn from it.

Every member draws from its own PCG64 stream, seeded from the run's seed and the member's id
(:func:`member_stream`), so a member's behaviour does not depend on how many other
members there are or in which order they are simulated. Draws are as numpy makes them; the same
topo and numpy versions give the same values on every machine. A member's :class:`Stream` takes
them from the generator in small blocks, because one numpy call per value would cost more than
the engine's own work on an event.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

import numpy as np

from topo.journey.durations import parse_duration
from topo.journey.model import Attribute, EventField
from topo.simulation.model import Distribution

__all__ = [
    "Draw",
    "Generators",
    "Stream",
    "draw_duration",
    "member_stream",
    "synthetic",
    "value_drawer",
]

Draw = Callable[["Stream", dict[int, Any]], Any]
"""Draws one value with a member's generator; the dict keeps what a distribution draws once per
member (a Gamma-Gamma member's spend rate)."""

_SECONDS_PER_DAY = 86_400.0


class Generators:
    """One run's numpy generator, lent to each member's :class:`Stream` in turn: a member keeps
    only its PCG64 state (two numbers), not a generator of its own (which costs a microsecond
    scale setup and almost a kilobyte per member)."""

    __slots__ = ("bits", "generator")

    def __init__(self) -> None:
        self.bits = np.random.PCG64(0)
        self.generator = np.random.Generator(self.bits)


def member_stream(seed: int, member: str, generators: Generators) -> Stream:
    """The random numbers of one member in one run: PCG64 from a state and an increment taken
    from SHA-256 of the seed and the member's id (a hash is as good a seed as any)."""
    digest = hashlib.sha256(f"topo-simulate:{seed}:{member}".encode()).digest()
    state = int.from_bytes(digest[:16], "big")
    increment = int.from_bytes(digest[16:], "big") | 1
    return Stream(generators, state, increment)


class Stream:
    """One member's random numbers, drawn with the run's generator in blocks, from the
    member's own PCG64 state."""

    __slots__ = ("_gammas", "_generators", "_i", "_normals", "_state", "_u")

    def __init__(self, generators: Generators, state: int, increment: int) -> None:
        self._generators = generators
        self._state = (state, increment)  # PCG64's, between draws (its dict would weigh more)
        self._u: list[float] = []
        self._i = 0
        self._normals: list[float] | None = None
        self._gammas: dict[float, list[float]] | None = None

    def _draw(self, draw: Callable[[np.random.Generator], Any]) -> Any:
        """``draw`` with the run's generator set to this member's state, which moves on."""
        generators = self._generators
        bits: Any = generators.bits  # its state is a plain dict (numpy types it narrowly)
        state, increment = self._state
        bits.state = {
            "bit_generator": "PCG64",
            "state": {"state": state, "inc": increment},
            "has_uint32": 0,
            "uinteger": 0,
        }
        values = draw(generators.generator)
        after = bits.state
        if after["has_uint32"]:  # not after the draws a Stream makes (all doubles)
            raise AssertionError("a stream's draw left half a number behind")
        self._state = (after["state"]["state"], after["state"]["inc"])
        return values

    def uniform(self) -> float:
        """A uniform number in [0, 1)."""
        i = self._i
        if i == len(self._u):
            self._u = self._draw(lambda g: g.random(_BLOCK).tolist())
            i = 0
        self._i = i + 1
        return self._u[i]

    def exponential(self, mean: float) -> float:
        """An exponential wait with this mean (by inversion of one uniform)."""
        return -mean * math.log1p(-self.uniform())

    def normal(self) -> float:
        """A standard normal draw, from a block."""
        block = self._normals
        if not block:
            block = self._normals = self._draw(lambda g: g.standard_normal(_GAMMA_BLOCK).tolist())
        return block.pop()

    def gamma(self, shape: float) -> float:
        """A standard Gamma(shape) draw (scale 1), from a block kept per shape."""
        blocks = self._gammas
        if blocks is None:
            blocks = self._gammas = {}
        block = blocks.get(shape)
        if not block:
            block = blocks[shape] = self._draw(
                lambda g: g.standard_gamma(shape, _GAMMA_BLOCK).tolist()
            )
        return block.pop()

    def beta(self, a: float, b: float) -> float:
        return float(self._draw(lambda g: g.beta(a, b)))


_BLOCK = 32
_GAMMA_BLOCK = 8


def draw_duration(distribution: Distribution | None, stream: Stream) -> float:
    """A delay in seconds: ``{exponential: D}`` (mean D), ``{value: D}`` (exactly D), none: 0."""
    if distribution is None:
        return 0.0
    if distribution.exponential is not None:
        return stream.exponential(distribution.exponential.total_seconds())
    value = distribution.value
    if isinstance(value, str):
        return parse_duration(value).total_seconds()
    raise ValueError(f"a delay is {{exponential: D}} or {{value: D}}, not {distribution.kind}")


def value_drawer(distribution: Distribution, declared: EventField | Attribute) -> Draw:
    """A function that draws values of ``declared``'s type from ``distribution``: numbers clipped
    to the declaration's ``min``/``max`` and rounded for an ``int``."""
    kind = declared.type
    raw = _raw_drawer(distribution)
    if kind not in ("int", "float"):
        return raw
    low = getattr(declared, "min", None)
    high = getattr(declared, "max", None)

    def number(stream: Stream, memo: dict[int, Any]) -> Any:
        value = raw(stream, memo)
        if type(value) is bool or not isinstance(value, int | float):
            return value
        if low is not None and value < low:
            value = low
        if high is not None and value > high:
            value = high
        return round(value) if kind == "int" else float(value)

    return number


def _raw_drawer(distribution: Distribution) -> Draw:
    d = distribution
    if d.value is not None:
        fixed = d.value
        return lambda s, memo: fixed
    if d.choice is not None:
        values = list(d.choice)
        total = sum(d.choice.values()) or 1.0
        edges = [c / total for c in accumulate(d.choice.values())]
        last = len(values) - 1
        return lambda s, memo: values[min(bisect_right(edges, s.uniform()), last)]
    if d.uniform is not None:
        low, high = d.uniform
        return lambda s, memo: low + (high - low) * s.uniform()
    if d.normal is not None:
        mean, sd = d.normal.mean, d.normal.sd
        return lambda s, memo: mean + sd * s.normal()
    if d.lognormal is not None:
        mu, sigma = math.log(d.lognormal.median), d.lognormal.sigma
        return lambda s, memo: math.exp(mu + sigma * s.normal())
    if d.exponential is not None:
        mean_days = d.exponential.total_seconds() / _SECONDS_PER_DAY
        return lambda s, memo: s.exponential(mean_days)
    gg = d.gamma_gamma
    assert gg is not None
    return _GammaGamma(gg.p, gg.q, gg.gamma)


class _GammaGamma:
    """Fader & Hardie's spend: the member's rate nu ~ Gamma(q, rate gamma), drawn at its first
    amount and kept in the member's memo; each amount ~ Gamma(p, rate nu)."""

    __slots__ = ("gamma", "p", "q")

    def __init__(self, p: float, q: float, gamma: float) -> None:
        self.p, self.q, self.gamma = p, q, gamma

    def __call__(self, stream: Stream, memo: dict[int, Any]) -> float:
        key = id(self)
        nu = memo.get(key)
        if nu is None:
            nu = memo[key] = stream.gamma(self.q) / self.gamma
        return stream.gamma(self.p) / nu


def synthetic(declared: Attribute, stream: Stream, start: datetime) -> Any:
    """A made-up value of a pii attribute's type: never a real-looking phone or e-mail."""
    kind = declared.type
    u = stream.uniform()
    if kind == "str":
        return f"synthetic-{int(u * 2**32):08x}"
    if kind == "int":
        return int(u * 1000)
    if kind == "float":
        return u
    if kind == "bool":
        return u < 0.5
    if kind == "date":
        return (start.date() - timedelta(days=int(u * 3650))).isoformat()
    return (start - timedelta(days=u * 3650)).replace(microsecond=0).isoformat()
