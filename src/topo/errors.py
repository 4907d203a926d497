"""The one exception tree of topo.

Every error topo raises on purpose derives from :class:`TopoError`::

    TopoError
    ├── InvalidJourney   a journey file that cannot be used; ``.diagnostics`` says why and where
    ├── InvalidEvent     an event that breaks its declaration (``.event_id``, ``.field``,
    │                    ``.reason``)
    └── UsageError       a request that cannot run: no such file, a folder without journeys

Messages are sentences for people; the structured details are attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from topo.diagnostics import Diagnostic

__all__ = ["InvalidEvent", "InvalidJourney", "TopoError", "UsageError"]


class TopoError(Exception):
    """Base class of every error topo raises on purpose."""


class InvalidJourney(TopoError):
    """A journey file has errors; :attr:`diagnostics` lists all of them, in file order."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        shown = errors or list(self.diagnostics)
        first = shown[0].render() if shown else "no diagnostics"
        more = len(shown) - 1
        tail = f" (and {more} more error{'s' if more != 1 else ''})" if more > 0 else ""
        super().__init__(f"{first}{tail}")


class InvalidEvent(TopoError):
    """An event breaks its declaration; nothing was changed by it."""

    def __init__(self, reason: str, *, event_id: str | None = None, field: str | None = None):
        self.reason = reason
        self.event_id = event_id
        self.field = field
        where = f"event {event_id!r}" if event_id is not None else "event without an id"
        what = f", field {field!r}" if field is not None else ""
        super().__init__(f"{where}{what}: {reason}")


class UsageError(TopoError):
    """A request that cannot run at all (no such file, a folder with no journeys)."""
