"""The one exception tree of topo.

Every error topo raises on purpose derives from :class:`TopoError`::

    TopoError
    ├── InvalidJourney   a journey file that cannot be used; ``.diagnostics`` says why and where
    ├── InvalidPersonas  a personas file that does not fit its journey; ``.diagnostics`` too
    ├── InvalidEvent     an event that breaks its declaration (``.event_id``, ``.field``,
    │                    ``.reason``)
    ├── UsageError       a request that cannot run: no such file, a folder without journeys
    └── StoreError       a store that cannot be used: damaged, in use, another journey's, or
        │                holding members no migration says where to put
        └── MigrationError  a stored member at a node the journey no longer has, unmapped

Messages are sentences for people; the structured details are attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from topo.diagnostics import Diagnostic

__all__ = [
    "InvalidEvent",
    "InvalidJourney",
    "InvalidPersonas",
    "MigrationError",
    "StoreError",
    "TopoError",
    "UsageError",
]


class TopoError(Exception):
    """Base class of every error topo raises on purpose."""


class InvalidJourney(TopoError):
    """A journey file has errors; :attr:`diagnostics` lists all of them, in file order."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(_first_of(self.diagnostics))


class InvalidPersonas(TopoError):
    """A personas file has errors, or does not fit its journey; :attr:`diagnostics` lists all
    of them, in file order."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(_first_of(self.diagnostics))


def _first_of(diagnostics: tuple[Diagnostic, ...]) -> str:
    """The first error as a line, and how many more there are."""
    errors = [d for d in diagnostics if d.severity == "error"]
    shown = errors or list(diagnostics)
    first = shown[0].render() if shown else "no diagnostics"
    more = len(shown) - 1
    tail = f" (and {more} more error{'s' if more != 1 else ''})" if more > 0 else ""
    return f"{first}{tail}"


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


class StoreError(TopoError):
    """A store that cannot be used as asked: not a topo store, damaged, in use by another
    engine, written for another journey or by an incompatible topo. Nothing was changed."""


class MigrationError(StoreError):
    """A stored member is at a node the journey no longer has, and no migration maps it;
    nothing was changed. :attr:`member`, :attr:`node`, :attr:`stored` and :attr:`version`
    say who, where, and between which versions."""

    def __init__(self, member: str, node: str, stored: int, version: int) -> None:
        self.member, self.node, self.stored, self.version = member, node, stored, version
        super().__init__(
            f"member {member!r} is at node {node!r} of version {stored}, which version "
            f"{version} does not have, and no migration says where its members go; add "
            f"`{node}: NODE` to a migration of version {version} (from_version {stored} or "
            "later) and load it again: no member was changed"
        )
