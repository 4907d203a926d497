"""Whether a persona's distribution fits what it draws: a field's or attribute's type, its
``one_of``, and for ``after`` a duration.

A field of type ``str`` takes ``value`` and ``choice`` of text; ``int`` and ``float`` take every
kind that draws numbers (``uniform``, ``normal``, ``lognormal``, ``gamma_gamma``) and numbers as
``value`` or ``choice``; ``bool`` takes ``true``/``false``; ``date`` takes ISO dates
(``2026-01-31``) and ``datetime`` RFC 3339 timestamps with an offset, as text. ``exponential``
draws durations: it is for ``after`` only, which takes ``{exponential: MEAN}`` or
``{value: DURATION}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from topo.diagnostics import Diagnostic
from topo.engine.field_values import Refusal, field_check
from topo.journey.durations import parse_duration, parse_percentage
from topo.journey.model import EventField
from topo.journey.source import Path
from topo.journey.suggestions import did_you_mean, number_text_hint
from topo.simulation.model import Distribution

__all__ = [
    "NUMBER_KINDS",
    "SHARE_TOLERANCE",
    "Places",
    "Target",
    "check_after",
    "check_distribution",
    "fits",
]

NUMBER_KINDS = frozenset({"uniform", "normal", "lognormal", "gamma_gamma"})
"""Distributions that draw numbers, for ``int`` and ``float`` fields and attributes only."""

SHARE_TOLERANCE = 1e-9
"""How far from 100% shares may add up to (rounding of ``33.3333%`` written three times)."""


class Places(Protocol):
    """Makes a diagnostic at a key or at a value of the file being checked."""

    def at_key(self, name: str, message: str, path: Path) -> Diagnostic: ...

    def at_value(self, name: str, message: str, path: Path) -> Diagnostic: ...


@dataclass(frozen=True, slots=True)
class Target:
    """What a distribution draws: its name in messages, type, ``one_of`` and whether pii (a
    pii value is never quoted)."""

    what: str
    type: str
    one_of: Sequence[object] | None = None
    pii: bool = False


def parsed(raw: Any) -> Distribution | None:
    """The distribution as the model reads it, or None when the shape stage refuses it."""
    try:
        return Distribution.model_validate(raw)
    except ValidationError:
        return None


def check_distribution(
    places: Places, raw: Any, path: Path, target: Target
) -> Iterator[Diagnostic]:
    """The problems of the distribution ``raw`` (at ``path``) drawing ``target``."""
    distribution = parsed(raw)
    if distribution is None:
        return
    kind = distribution.kind
    if kind in NUMBER_KINDS and target.type not in ("int", "float"):
        message = (
            f"{kind} draws numbers, and {target.what} is of type {target.type}; use value or choice"
        )
        yield places.at_key("distribution-type", message, (*path, kind))
    elif kind in NUMBER_KINDS and target.one_of is not None:
        message = (
            f"{kind} draws any number, and {target.what} allows only its one_of values; "
            "use choice among them"
        )
        yield places.at_key("outside-one-of", message, (*path, kind))
    elif kind == "exponential":
        message = (
            f"exponential draws durations (for `after`), and {target.what} is of type "
            f"{target.type}"
            + (
                "; for numbers use lognormal or gamma_gamma"
                if target.type in ("int", "float")
                else ""
            )
        )
        yield places.at_key("distribution-type", message, (*path, kind))
    elif kind == "value":
        yield from _check_value(places, distribution.value, (*path, "value"), target, False)
    elif kind == "choice":
        choice = raw["choice"]
        for value in choice:
            yield from _check_value(places, value, (*path, "choice", value), target, True)
        total = sum(parse_percentage(share) for share in choice.values())
        if abs(total - 1) > SHARE_TOLERANCE:
            message = f"the choice's shares add up to {total * 100:.10g}%; they must add up to 100%"
            yield places.at_key("shares-total", message, (*path, "choice"))


def _check_value(
    places: Places, value: object, path: Path, target: Target, at_key: bool
) -> Iterator[Diagnostic]:
    at = places.at_key if at_key else places.at_value
    problem = fits(value, target.type)
    shown = "this value" if target.pii else _shown(value)
    if problem is not None:
        yield at("distribution-type", f"{shown} {problem}; {target.what} is of type "
                 f"{target.type}", path)  # fmt: skip
    elif target.one_of is not None and not _among(value, target.one_of):
        allowed = ", ".join(str(v).lower() if type(v) is bool else str(v) for v in target.one_of)
        hint = (
            did_you_mean(value, [str(v) for v in target.one_of]) if isinstance(value, str) else ""
        )
        message = f"{shown} is not a value {target.what} allows (one_of: {allowed}){hint}"
        yield at("outside-one-of", message, path)


def _among(value: object, allowed: Sequence[object]) -> bool:
    # 1 == True in Python: compare booleans only with booleans
    return any((type(v) is bool) == (type(value) is bool) and value == v for v in allowed)


def fits(value: object, value_type: str) -> str | None:
    """Why ``value`` is not a value of ``value_type`` (``"is not text"``), or None."""
    if value_type == "str":
        return None if isinstance(value, str) else "is not text"
    if value_type == "bool":
        return None if isinstance(value, bool) else "is not true or false"
    if value_type == "int":
        return None if type(value) is int else "is not a whole number" + number_text_hint(value)
    if value_type == "float":
        return None if type(value) in (int, float) else "is not a number" + number_text_hint(value)
    if not isinstance(value, str):
        return "is not text"
    if value_type == "date":
        return None if _accepted(value, "date") else "is not a date written as YYYY-MM-DD"
    if _accepted(value, "datetime"):
        return None
    return "is not an RFC 3339 timestamp with an offset, such as 2026-01-31T09:00:00+00:00"


def _accepted(text: str, value_type: str) -> bool:
    """Whether the engine takes ``text`` as a value of a field of ``value_type``: the personas
    check asks the engine's own field check, so what it accepts is never rejected later."""
    try:
        field_check(EventField(type=value_type), secret=True)(text)  # type: ignore[arg-type]
    except Refusal:
        return False
    return True


def check_after(places: Places, raw: Any, path: Path) -> Iterator[Diagnostic]:
    """The problems of ``after`` (at ``path``): a duration distribution."""
    distribution = parsed(raw)
    if distribution is None:
        return
    if distribution.kind == "exponential":
        return
    value = distribution.value
    if distribution.kind == "value" and isinstance(value, str):
        try:
            parse_duration(value)
        except ValueError as exc:
            yield places.at_value("distribution-type", f"`after`: {exc}", (*path, "value"))
        return
    message = (
        f"`after` is a delay: {{exponential: MEAN}} or {{value: DURATION}}, such as "
        f"{{exponential: 2d}}; {distribution.kind} does not draw durations"
    )
    if distribution.kind == "value":
        message = (
            "`after` is a delay: {value: DURATION} takes a duration such as 2d, "
            f"not {_shown(value)}"
        )
        yield places.at_value("distribution-type", message, (*path, "value"))
        return
    yield places.at_key("distribution-type", message, (*path, distribution.kind))


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"[:60]
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return "nothing (null)" if value is None else "a mapping or list"
