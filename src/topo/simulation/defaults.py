"""The default population: what ``topo simulate`` uses for a journey without a personas file.

One persona, ``members``, joining uniformly over the first 90 days, that sends every declared
event type at a moderate rate and draws every field within its declaration (docs/personas.md,
"The default population"):

- an event type that only moves members out of the start node (a sign-up, a verified phone) is
  sent once, by 90% of the members, after an exponential delay of mean 1 day;
- an event type that only moves members into exit nodes (an opt-out) is sent once, by 5% of the
  members, after an exponential delay of mean 180 days;
- an event type no move is taken on (a sign-up or a registration, which the journey only
  counts) is sent once, by every member, at joining;
- any other event type (purchases, visits) repeats as a Poisson process, one event every 30
  days on average, from joining.

Fields and attributes: ``one_of`` is a choice with equal shares; a number with both ``min`` and
``max`` is uniform between them; otherwise a lognormal (median 50 for a float, 3 for an int,
sigma 1, clipped to ``min``/``max`` by the simulator; when ``min`` is more than half that
median, the median is ``min`` plus it); text is one of three synthetic values ``NAME-1`` (50%),
``NAME-2`` (30%), ``NAME-3`` (20%); a boolean is true or false, 50% each; a date is the first
day of one of the four quarters of 2025 and a datetime is noon UTC of those days. A pii
attribute is left to the simulator's synthetic values. There are no responses to incentives.
"""

from __future__ import annotations

from typing import Any

from topo.journey.model import Attribute, EventField, Journey
from topo.simulation.model import Personas

__all__ = ["default_personas"]

_QUARTERS = ("2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01")
_MEDIANS = {"float": 50.0, "int": 3.0}


def default_personas(journey: Journey) -> Personas:
    """The default population of ``journey``: one persona, every event type, every field."""
    events = {
        event_type: {**_behaviour(journey, event_type), "fields": _fields(declared.fields)}
        for event_type, declared in journey.events.items()
    }
    attributes = {
        name: _draw(attribute, name)
        for name, attribute in journey.attributes.items()
        if not attribute.pii
    }
    persona = {
        "id": "members",
        "share": "100%",
        "join": {"spread": "90d"},
        "attributes": attributes,
        "events": events,
    }
    return Personas.model_validate({"personas": 1, "population": [persona]})


def _behaviour(journey: Journey, event_type: str) -> dict[str, Any]:
    kinds = {node_id: node.kind for node_id, node in journey.nodes.items()}
    moves = [move for move in journey.moves if move.on is not None and event_type in move.on]
    if not moves:
        return {"once": {"probability": "100%"}}
    if all(kinds.get(move.to) == "exit" for move in moves):
        return {"once": {"probability": "5%", "after": {"exponential": "180d"}}}
    if all(kinds.get(node) == "start" for move in moves for node in move.from_):
        return {"once": {"probability": "90%", "after": {"exponential": "1d"}}}
    return {"repeat": {"poisson": {"every": "30d"}}}


def _fields(fields: dict[str, EventField]) -> dict[str, dict[str, Any]]:
    return {name: _draw(field, name) for name, field in fields.items()}


def _draw(declared: EventField | Attribute, name: str) -> dict[str, Any]:
    """A distribution within the declaration of a field or attribute."""
    one_of = getattr(declared, "one_of", None)
    if one_of is not None:
        return {"choice": _even(one_of)}
    kind = declared.type
    if kind in _MEDIANS:
        return _number(kind, getattr(declared, "min", None), getattr(declared, "max", None))
    if kind == "bool":
        return {"choice": {True: "50%", False: "50%"}}
    if kind == "date":
        return {"choice": _even(list(_QUARTERS))}
    if kind == "datetime":
        return {"choice": _even([f"{day}T12:00:00+00:00" for day in _QUARTERS])}
    return {"choice": {f"{name}-1": "50%", f"{name}-2": "30%", f"{name}-3": "20%"}}


def _number(kind: str, low: float | None, high: float | None) -> dict[str, Any]:
    if low is not None and high is not None:
        return {"uniform": [low, high]}
    median = _MEDIANS[kind]
    if low is not None and low > median / 2:
        median = float(low) + median  # the bulk of the draws above min
    if high is not None and high < median:
        median = high / 2 if high > 0 else 1.0  # the draws are clipped to max
    return {"lognormal": {"median": median, "sigma": 1.0}}


def _even(values: list[Any]) -> dict[Any, str]:
    """Equal shares of ``values``, written so that they add up to 100% within 1e-9."""
    distinct = dict.fromkeys(values, "")
    share = f"{100 / len(distinct):.12f}%"
    return dict.fromkeys(distinct, share)
