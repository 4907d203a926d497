"""What topo keeps beside each loaded journey, for as long as the journey object lives.

The model itself stays plain data (two journeys read from different spellings of one file are
equal), so what belongs to one loaded object rather than to its value is kept here, beside it:
the text it was read from (a durable store keeps it beside its members, so that ``topo export``
can show their metrics without being given the journey again), and the findings of its
analysis (:func:`topo.findings_of`).
"""

from __future__ import annotations

import weakref
from typing import Generic, TypeVar

from topo.journey.model import Journey

__all__ = ["Beside", "remember", "text_of"]

T = TypeVar("T")


class Beside(Generic[T]):
    """A value kept beside each journey object, dropped when the object goes."""

    def __init__(self) -> None:
        self._kept: dict[int, T] = {}

    def put(self, journey: Journey, value: T) -> None:
        key = id(journey)
        if key not in self._kept:
            weakref.finalize(journey, self._kept.pop, key, None)
        self._kept[key] = value

    def get(self, journey: Journey) -> T | None:
        return self._kept.get(id(journey))


_TEXTS: Beside[str] = Beside()


def remember(journey: Journey, text: str) -> None:
    """Note that ``journey`` was read from ``text``."""
    _TEXTS.put(journey, text)


def text_of(journey: Journey) -> str | None:
    """The text ``journey`` was read from, or None for a journey built in Python."""
    return _TEXTS.get(journey)
