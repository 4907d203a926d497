"""The text each loaded journey was read from, for stores that keep it beside their members.

A durable store keeps the text of the journey its members were written under, so that
``topo export`` can show their metrics without being given the journey again. The model itself
stays plain data (two journeys read from different spellings of one file are equal), so the
text is kept here, beside it, for as long as the journey object lives.
"""

from __future__ import annotations

import weakref

from topo.model import Journey

__all__ = ["remember", "text_of"]

_TEXTS: dict[int, str] = {}


def remember(journey: Journey, text: str) -> None:
    """Note that ``journey`` was read from ``text``."""
    key = id(journey)
    if key not in _TEXTS:
        weakref.finalize(journey, _TEXTS.pop, key, None)
    _TEXTS[key] = text


def text_of(journey: Journey) -> str | None:
    """The text ``journey`` was read from, or None for a journey built in Python."""
    return _TEXTS.get(id(journey))
