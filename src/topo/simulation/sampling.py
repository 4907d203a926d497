"""Random values for simulated members: one counter-based generator per member, and the
distributions of the personas file as functions of its uniform numbers.

Every member has its own SplitMix64 generator, its state derived from the run's seed and the
member's number (:func:`member_keys`). SplitMix64 (Steele, Lea & Flood 2014; Java's
``SplittableRandom``) makes its i-th number by mixing ``state + i * golden``, so any number of any
member can be made on its own, in any order, and a whole population's at once with numpy's
integer arithmetic. Each purpose a member draws for (its persona, when it joins, each field of
each event type, its waits, ...) reads its own range of the member's sequence (a *stream*), by
a counter: the fields of a member's 5th purchase are the same numbers whether they were drawn
alone, ahead with the next 7, or with the rest of the population. So a member's behaviour does
not depend on the other members, on the order they are simulated in, or on how the work is split.

Every distribution is drawn by inversion: one uniform number per value, through the quantile
function (``scipy.special``: ``gammaincinv`` for Gamma, ``betaincinv`` for Beta, ``ndtri`` for
the normal). Only exact integer and IEEE arithmetic and scipy's scalar special functions touch
the numbers (never numpy's vectorised ``exp``/``log``, whose last bit may depend on the
processor's vector instructions), so the same topo, numpy and scipy versions give the same
values on every machine.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import special

from topo.journey.durations import parse_duration
from topo.journey.model import Attribute, EventField
from topo.simulation.model import Distribution

__all__ = [
    "Array",
    "Delay",
    "Values",
    "beta_variates",
    "choice",
    "delay_drawer",
    "exponential_variates",
    "gamma_variates",
    "member_keys",
    "synthetic",
    "uniform",
    "uniforms",
    "value_drawer",
]

Array = np.ndarray[Any, Any]

Delay = Callable[[Array, Array], Array]
"""Delays in seconds for members' ``keys`` from a ``stream`` (counter 0)."""

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_HALF_ULP = 2.0**-53
_FINITE = 2.0**62
"""The largest magnitude a drawn number is clipped to: within what an event may carry, as an
``int`` too (FLOAT_LIMIT itself rounds to 2**63, one past the largest int)."""


def _mix(z: Array) -> Array:
    """SplitMix64's output function, on uint64 arrays (their products wrap, as they should)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))  # type: ignore[no-any-return]


def member_keys(seed: int, numbers: Array) -> Array:
    """The generator states (uint64) of the members with these ``numbers`` (0, 1, ... in the
    order of their ids) in a run with ``seed``: SplitMix64 itself, seeded from SHA-256 of the
    seed, gives one state per member number."""
    base = int.from_bytes(hashlib.sha256(f"topo-simulate:{seed}".encode()).digest()[:8], "big")
    with np.errstate(over="ignore"):
        steps = (numbers.astype(np.uint64) + np.uint64(1)) * np.uint64(_GOLDEN)
        return _mix(steps + np.uint64(base))


def uniforms(keys: Array, stream: int | Array, counters: Array | int) -> Array:
    """Uniform numbers in (0, 1), one per key: number ``counter`` of ``stream`` (one for all,
    or one per key) of each member's sequence (2**32 numbers a stream). Multiples of 2**-52
    plus half of it: never 0 or 1, so every quantile function is finite."""
    with np.errstate(over="ignore"):
        streams = np.asarray(stream, dtype=np.uint64) << np.uint64(32)
        position = np.asarray(counters, dtype=np.uint64) + streams + np.uint64(1)
        z = _mix(keys + position * np.uint64(_GOLDEN))
    return (z >> np.uint64(12)).astype(np.float64) * (2 * _HALF_ULP) + _HALF_ULP


def uniform(key: int, stream: int, counter: int) -> float:
    """:func:`uniforms` for one member and counter, in plain Python (the same number)."""
    z = (key + (((stream << 32) + counter + 1) * _GOLDEN)) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    z ^= z >> 31
    return (z >> 12) * (2 * _HALF_ULP) + _HALF_ULP


class Values:
    """Values of one field or attribute of members, one per member's ``key`` at a
    ``counter`` of a ``stream``: :meth:`many` for arrays of keys and counters with numpy,
    :meth:`one` for a single one in plain Python, the same value either way."""

    def many(self, keys: Array, counters: Array, stream: int) -> list[Any]:
        raise NotImplementedError

    def one(self, key: int, counter: int, stream: int) -> Any:
        raise NotImplementedError

    def clip(self, value: Any) -> Any:
        """A number drawn elsewhere as this field would write it (clipped, rounded)."""
        return value


class _Fixed(Values):
    def __init__(self, value: Any) -> None:
        self.value = value

    def many(self, keys: Array, counters: Array, stream: int) -> list[Any]:
        return [self.value] * len(keys)

    def one(self, key: int, counter: int, stream: int) -> Any:
        return self.value


class _Choice(Values):
    """One of the keys of ``choice``, each with its share (the shares need not add up to 1)."""

    def __init__(self, choice: dict[Any, float]) -> None:
        self.values = list(choice)
        total = sum(choice.values()) or 1.0
        self.edges = np.cumsum(np.array(list(choice.values()), dtype=float)) / total
        self.bounds = self.edges.tolist()
        self.last = len(self.values) - 1

    def many(self, keys: Array, counters: Array, stream: int) -> list[Any]:
        found = np.searchsorted(self.edges, uniforms(keys, stream, counters), side="right")
        values, last = self.values, self.last
        return [values[min(i, last)] for i in found.tolist()]

    def one(self, key: int, counter: int, stream: int) -> Any:
        found = bisect_right(self.bounds, uniform(key, stream, counter))
        return self.values[min(found, self.last)]


class _Quantile(Values):
    """A continuous distribution by its quantile function ``of`` uniform numbers (numpy
    arithmetic and scipy's special functions, which give the same on an array as on a
    number), clipped to ``low``/``high`` and to the numbers an event may carry (a far tail
    drawn as infinity becomes the largest one), and rounded for an ``int``."""

    def __init__(
        self, of: Callable[[Any, Any], Any], low: float | None, high: float | None, whole: bool
    ) -> None:
        self.of, self.whole = of, whole
        self.low = -_FINITE if low is None else max(float(low), -_FINITE)
        self.high = _FINITE if high is None else min(float(high), _FINITE)

    def many(self, keys: Array, counters: Array, stream: int) -> list[Any]:
        values = self.of(uniforms(keys, stream, counters), _Rate(keys, stream))
        values = np.clip(values, self.low, self.high)
        if self.whole:
            return [round(value) for value in values.tolist()]
        return values.tolist()  # type: ignore[no-any-return]

    def one(self, key: int, counter: int, stream: int) -> Any:
        return self.clip(float(self.of(uniform(key, stream, counter), _Rate(key, stream))))

    def clip(self, value: Any) -> Any:
        value = min(max(value, self.low), self.high)
        return round(value) if self.whole else value


class _Rate:
    """What a distribution draws once per member (a Gamma-Gamma spend rate): the first number
    of the stream after the values' stream."""

    __slots__ = ("keys", "stream")

    def __init__(self, keys: Any, stream: int) -> None:
        self.keys, self.stream = keys, stream

    def __call__(self) -> Any:
        if isinstance(self.keys, int):
            return uniform(self.keys, self.stream + 1, 0)
        return uniforms(self.keys, self.stream + 1, 0)


class _Written(Values):
    """Values as the personas file writes them, for a number field: each clipped and rounded."""

    def __init__(self, inner: Values, low: float | None, high: float | None, kind: str) -> None:
        self.inner, self.low, self.high, self.kind = inner, low, high, kind

    def many(self, keys: Array, counters: Array, stream: int) -> list[Any]:
        drawn = self.inner.many(keys, counters, stream)
        return [_number(value, self.low, self.high, self.kind) for value in drawn]

    def one(self, key: int, counter: int, stream: int) -> Any:
        return _number(self.inner.one(key, counter, stream), self.low, self.high, self.kind)


def choice(shares: dict[Any, float]) -> Values:
    """Draws one of the keys of ``shares`` with its share (of their total)."""
    return _Choice(shares)


def value_drawer(distribution: Distribution, declared: EventField | Attribute) -> Values:
    """How to draw values of ``declared``'s type from ``distribution``: numbers clipped to the
    declaration's ``min``/``max`` and rounded for an ``int``."""
    kind = declared.type
    numeric = kind in ("int", "float")
    low = getattr(declared, "min", None) if numeric else None
    high = getattr(declared, "max", None) if numeric else None
    d = distribution
    if d.value is not None or d.choice is not None:
        written: Values = _Fixed(d.value) if d.choice is None else _Choice(d.choice)
        return _Written(written, low, high, kind) if numeric else written
    return _Quantile(_quantile(d), low, high, kind == "int")


def _quantile(d: Distribution) -> Callable[[Any, Any], Any]:
    """The quantile function of a continuous distribution, of a uniform number (or array) and
    the member's once-drawn number (called only by the distributions that need one)."""
    if d.uniform is not None:
        low, high = d.uniform
        return lambda u, once: low + (high - low) * u
    if d.normal is not None:
        mean, sd = d.normal.mean, d.normal.sd
        return lambda u, once: mean + sd * special.ndtri(u)
    if d.lognormal is not None:
        median, sigma = d.lognormal.median, d.lognormal.sigma
        # exp(x) as expm1(x) + 1: scipy's scalar function, the same on every processor
        return lambda u, once: median * (special.expm1(sigma * special.ndtri(u)) + 1.0)
    gg = d.gamma_gamma
    assert gg is not None
    p, q, gamma = gg.p, gg.q, gg.gamma

    def spend(u: Any, once: Any) -> Any:
        # Fader & Hardie: the member's rate nu ~ Gamma(q, rate gamma), each amount ~
        # Gamma(p, rate nu)
        nu = special.gammaincinv(q, once()) / gamma
        return special.gammaincinv(p, u) / nu

    return spend


def delay_drawer(distribution: Distribution | None, stream: int) -> Delay:
    """Delays in seconds: ``{exponential: D}`` (mean D), ``{value: D}`` (exactly D), none: 0."""
    if distribution is None:
        return lambda keys, zero: np.zeros(len(keys))
    if distribution.exponential is not None:
        mean = distribution.exponential.total_seconds()
        return lambda keys, zero: -mean * special.log1p(-uniforms(keys, stream, zero))
    value = distribution.value
    if isinstance(value, str):
        seconds = parse_duration(value).total_seconds()
        return lambda keys, zero: np.full(len(keys), seconds)
    raise ValueError(f"a delay is {{exponential: D}} or {{value: D}}, not {distribution.kind}")


def _number(value: Any, low: float | None, high: float | None, kind: str) -> Any:
    if type(value) is bool or not isinstance(value, int | float):
        return value
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return round(value) if kind == "int" else float(value)


def exponential_variates(u: Any) -> Any:
    """Exponential values of mean 1 of uniform numbers ``u`` (an array or a number)."""
    return -special.log1p(-u)


def gamma_variates(shape: float, u: Array) -> Array:
    """Standard Gamma(shape) values (scale 1) of uniform numbers ``u``."""
    return special.gammaincinv(shape, u)  # type: ignore[no-any-return]


def beta_variates(a: float, b: float, u: Array) -> Array:
    """Beta(a, b) values of uniform numbers ``u``."""
    return special.betaincinv(a, b, u)  # type: ignore[no-any-return]


def synthetic(declared: Attribute, u: float, start: datetime) -> Any:
    """A made-up value of a pii attribute's type from a uniform number ``u``: never a
    real-looking phone or e-mail."""
    kind = declared.type
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
