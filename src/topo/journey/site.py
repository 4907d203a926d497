"""A :class:`Site`: a journey model together with the document it was read from.

Checks read the model and point at the document through the site. When some entries of the
file were too broken to enter the model, the site remembers them as *ghosts*: their ids still
count as declared (so a reference to a broken node is not reported a second time), and list
entries keep the index they have in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from topo.diagnostics import Diagnostic
from topo.journey.codes import make
from topo.journey.model import Journey
from topo.journey.source import Document, Path

__all__ = ["Site"]


@dataclass(frozen=True, slots=True)
class Site:
    """A journey and its document: what a check reads, and where it points."""

    journey: Journey
    document: Document
    ghosts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per section, the ids of entries left out of the model because of shape errors."""
    broken: frozenset[str] = frozenset()
    """Sections left out whole (missing, or not a mapping or list as they should be)."""
    indices: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Per list section, the index in the file of each entry that is in the model."""

    def at(self, name: str, message: str, path: Path, *, key: bool = False) -> Diagnostic:
        """A diagnostic pointing at the value (or, with ``key``, the key) at ``path``."""
        path = self.file_path(path)
        source = self.document.source
        span = source.key(path) if key else source.value(path)
        return make(name, message, self.document.file, span, path)

    def inside(self, name: str, message: str, path: Path, start: int, end: int) -> Diagnostic:
        """A diagnostic pointing at characters ``start:end`` of the string at ``path``."""
        path = self.file_path(path)
        span = self.document.source.inside(path, start, end)
        return make(name, message, self.document.file, span, path)

    def line(self, path: Path) -> int:
        """The line where the value at ``path`` starts."""
        return self.document.source.value(self.file_path(path)).line

    def file_path(self, path: Path) -> Path:
        """``path`` in the model as a path in the file (list entries keep their file index)."""
        if len(path) >= 2 and isinstance(path[1], int) and str(path[0]) in self.indices:
            return (path[0], self.indices[str(path[0])][path[1]], *path[2:])
        return path

    def declares(self, section: str, item: str) -> bool:
        """Whether ``item`` counts as declared in ``section`` (ghosts and broken sections do)."""
        if section in self.broken or item in self.ghosts.get(section, frozenset()):
            return True
        return item in getattr(self.journey, section)

    def complete(self, section: str) -> bool:
        """Whether every entry the file gives in ``section`` made it into the model."""
        dropped = section in self.indices  # list entries left out keep their index map here
        return section not in self.broken and not self.ghosts.get(section) and not dropped

    def event_types(self) -> set[str]:
        """Event types a move may be ``on``: the declared ones and the built-in ``profile``."""
        return {*self.journey.events, "profile"}

    def fields_of(self, event_type: str) -> dict[str, str] | None:
        """The fields of an event type with their types; None when they are not known."""
        j = self.journey
        if event_type == "profile":
            return (
                None
                if not self.complete("attributes")
                else {name: a.type for name, a in j.attributes.items()}
            )
        declared = j.events.get(event_type)
        if declared is None:
            return None
        return {name: f.type for name, f in declared.fields.items()}
