"""The personas file, version 1, as a pydantic model: who the simulated members are.

A personas file describes a population as personas, each a share of the members with the same
behaviour: when they join, their attributes, the events they send (at most once, or repeatedly
as a Poisson or a BG/NBD process, with field values drawn from distributions), and how a
granted incentive changes what they do next. See ``../shared/spec/simulation.md`` and
docs/personas.md. This module holds the shape only; :mod:`topo.simulation.personas` loads a
file into it and checks it against the journey.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from topo.journey.model import Duration, Id, Share, _check_range, _error, _Model, number_problem

__all__ = [
    "DISTRIBUTION_KINDS",
    "Behaviour",
    "BgNbd",
    "Distribution",
    "GammaGamma",
    "Join",
    "LogNormal",
    "Normal",
    "Once",
    "Persona",
    "Personas",
    "Poisson",
    "Repeat",
    "Response",
]

DISTRIBUTION_KINDS = (
    "value",
    "choice",
    "uniform",
    "normal",
    "lognormal",
    "exponential",
    "gamma_gamma",
)


def _to_float(value: Any) -> Any:
    """An int as a float; an int too large for a float is refused as the journey refuses it."""
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise _error("invalid-value", number_problem(value) or "out of range") from None
    return value


Number = Annotated[float, BeforeValidator(_to_float), AfterValidator(_check_range)]
"""A number as YAML writes it: ``2`` and ``2.0`` alike, in the journey's range of numbers."""
Positive = Annotated[Number, Field(gt=0)]
Scalar = Annotated[str | bool | int | float, AfterValidator(_check_range)]
"""A value of a field or attribute as YAML writes it (a date is text: ``2026-01-31``)."""


class Normal(_Model):
    mean: Number
    sd: Annotated[Number, Field(ge=0)]


class LogNormal(_Model):
    median: Positive
    sigma: Annotated[Number, Field(ge=0)]


class GammaGamma(_Model):
    """Fader & Hardie's spend model: a member's spend rate nu ~ Gamma(q, rate gamma), each
    amount ~ Gamma(p, rate nu), so amounts average p / nu."""

    p: Positive
    q: Positive
    gamma: Positive


class Distribution(_Model):
    """Where a value comes from: exactly one kind."""

    value: Scalar | None = None
    choice: dict[Scalar, Share] | None = None
    uniform: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None
    normal: Normal | None = None
    lognormal: LogNormal | None = None
    exponential: Duration | None = None
    gamma_gamma: GammaGamma | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Distribution:
        kinds = [kind for kind in DISTRIBUTION_KINDS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            found = "none" if not kinds else " and ".join(kinds)
            raise _error(
                "distribution-kind",
                f"a distribution has exactly one kind ({', '.join(DISTRIBUTION_KINDS)}); "
                f"found {found}",
            )
        if self.uniform is not None and self.uniform[0] > self.uniform[1]:
            raise _error("distribution-kind", "uniform is [LOW, HIGH] with LOW <= HIGH")
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in DISTRIBUTION_KINDS if getattr(self, kind) is not None)


class Join(_Model):
    """When members join: uniformly over the first ``spread`` of the run, or all at its start."""

    spread: Duration | None = None
    at: Literal["start"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Join:
        if (self.spread is None) == (self.at is None):
            raise _error("behaviour-kind", "join is {spread: DURATION} or {at: start}")
        return self


class Once(_Model):
    """Whether (``probability``) and when (``after`` joining) a member sends an event."""

    probability: Share = 1.0
    after: Distribution | None = None


class Poisson(_Model):
    every: Duration


class BgNbd(_Model):
    """BG/NBD (Fader, Hardie & Lee 2005) in time units of ``unit``: lambda ~ Gamma(r, rate
    alpha), p ~ Beta(a, b)."""

    r: Positive
    alpha: Positive
    a: Positive
    b: Positive
    unit: Duration = timedelta(days=1)


class Repeat(_Model):
    poisson: Poisson | None = None
    bgnbd: BgNbd | None = None
    first: Once | None = None

    @model_validator(mode="after")
    def _one(self) -> Repeat:
        if (self.poisson is None) == (self.bgnbd is None):
            raise _error("behaviour-kind", "repeat is {poisson: ...} or {bgnbd: ...}, one of them")
        return self


class Behaviour(_Model):
    """How one persona sends one event type."""

    once: Once | None = None
    repeat: Repeat | None = None
    fields: dict[str, Distribution] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one(self) -> Behaviour:
        if (self.once is None) == (self.repeat is None):
            raise _error(
                "behaviour-kind", "an event's behaviour is `once` or `repeat`, one of them"
            )
        return self


class Response(_Model):
    """What a granted incentive does: multiply a rate for a while, or send one event now."""

    rate: Annotated[Number, Field(ge=0)] | None = None
    for_: Duration | None = Field(default=None, alias="for")
    probability: Share | None = None

    @model_validator(mode="after")
    def _one(self) -> Response:
        rate = self.rate is not None or self.for_ is not None
        if rate == (self.probability is not None):
            raise _error(
                "behaviour-kind", "a response is {rate: M, for: DURATION} or {probability: P}"
            )
        if rate and (self.rate is None or self.for_ is None):
            raise _error("behaviour-kind", "a rate response needs both `rate` and `for`")
        return self


class Persona(_Model):
    id: Id
    share: Share
    join: Join = Join(at="start")
    attributes: dict[str, Distribution] = Field(default_factory=dict)
    events: dict[str, Behaviour] = Field(default_factory=dict)
    respond: dict[str, dict[str, Response]] = Field(default_factory=dict)
    """Per incentive id (or ``any``), per event type, the response to a grant."""


class Personas(_Model):
    personas: Literal[1]
    population: Annotated[list[Persona], Field(min_length=1)]


def json_schema() -> dict[str, Any]:
    """The personas file's JSON Schema, by alias (``for``, not ``for_``)."""
    return Personas.model_json_schema(by_alias=True)
