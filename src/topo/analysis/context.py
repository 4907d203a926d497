"""What the analysis checks share: the journey, where its parts stand, its graph, and the
domains of the names its guards compare (computed once per run); and which parts of a journey
with errors are still sound to read.

A journey with errors is analysed as far as that is sound: each error makes some *parts* of the
journey unsound (an unknown node in a move: the moves; a broken message: the messages), and so
does every entry the shape stage left out of the partial model (see
:class:`topo.journey.site.Site`).
A check that reads an unsound part does not run; the others do (see :mod:`topo.analysis.checks`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from topo.analysis.conditions import Values
from topo.analysis.domains import domains_for
from topo.analysis.journey_graph import JourneyGraph
from topo.diagnostics import Diagnostic
from topo.journey.model import Journey
from topo.journey.site import Site

__all__ = ["PARTS", "Analysis", "broken_parts"]


@dataclass
class Analysis:
    """What the checks share: the site (journey and positions) and the journey's graph."""

    site: Site

    @property
    def journey(self) -> Journey:
        return self.site.journey

    @cached_property
    def graph(self) -> JourneyGraph:
        return JourneyGraph(self.journey)

    def domains(self, event_types: Iterable[str], nodes: Iterable[str]) -> dict[str, Values]:
        """The names' domains for a guard on ``event_types`` at ``nodes`` (cached per run)."""
        key = (tuple(event_types), tuple(nodes))
        cache = self.__dict__.setdefault("_domains", {})
        if key not in cache:
            cache[key] = domains_for(self.journey, *key)
        found: dict[str, Values] = cache[key]
        return found

    def at_node(self, name: str, message: str, node: str) -> Diagnostic:
        """A diagnostic pointing at a node's id in ``nodes:``."""
        return self.site.at(name, message, ("nodes", node), key=True)


PARTS: Mapping[str, str] = {
    "journey": "the whole file",
    "nodes": "the nodes",
    "moves": "the moves",
    "move-ids": "the moves' ids",
    "guards": "the guards",
    "events": "the event types",
    "since": "the moves' `since`",
    "metrics": "the metrics",
    "attributes": "the attributes",
    "reminders": "the reminders",
    "grants": "the grants",
    "incentives": "the incentives",
    "messages": "the messages",
    "owners": "the owners",
    "offerings": "the offerings",
    "pressure": "the settings",
}
"""The parts of a journey the analysis checks read, in the words a message uses for them.

``journey`` stands for everything: every check reads it. ``moves`` are the moves' nodes, event
or timer, and shape; their guards (``when``) are ``guards``, their ``on`` belongs to ``events``
(the fields a guard sees come from it), and what a move, a node or a reminder grants is
``grants``."""

_SECTIONS: Mapping[str, tuple[str, ...]] = {
    "topo": ("journey",),  # a format version topo does not read: nothing is certain
    "owners": ("owners",),
    "offerings": ("offerings",),
    "attributes": ("attributes",),
    "events": ("events",),
    "metrics": ("metrics",),
    "nodes": ("nodes",),
    "moves": ("moves",),
    "incentives": ("incentives",),
    "reminders": ("reminders",),
    "settings": ("pressure",),
}
"""The parts an error in a section makes unsound (sections not named here: none)."""

_FIELDS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("nodes", "owner"): ("owners",),
    ("nodes", "on_enter"): ("grants",),
    ("moves", "id"): ("move-ids",),
    ("moves", "on"): ("events",),
    ("moves", "since"): ("since",),
    ("moves", "when"): ("guards",),
    ("moves", "incentives"): ("grants",),
    ("metrics", "where"): (),  # a `where` names no metric and no node: no check reads it
    ("reminders", "when"): ("guards",),
    ("reminders", "incentive"): ("grants",),
    ("incentives", "offering"): ("offerings",),
    ("incentives", "message"): ("messages",),
}
"""The parts an error in one key of a section's entry makes unsound (other keys: the section's)."""

_LEFT_OUT: Mapping[str, tuple[str, ...]] = {
    "owners": ("owners",),
    "offerings": ("offerings",),
    "attributes": ("attributes",),
    "events": ("events",),
    "metrics": ("metrics",),
    "nodes": ("nodes", "owners", "grants"),
    "moves": ("moves", "move-ids", "events", "since", "guards", "grants"),
    "incentives": ("incentives", "offerings", "messages"),
    "reminders": ("reminders", "guards", "grants"),
}
"""The parts a section misses when some of its entries were left out of the partial model:
everything those entries held (a left-out node's owner and ``on_enter``, a move's guard ...)."""

_MEANING_KEPT = frozenset({"T423"})
"""Errors that refuse a journey by a policy while its meaning stays whole (a metric that would
carry a pii value is still a well-defined metric): they make no part unsound."""

_PRESSURE_FREE = frozenset({"late_events", "extra_fields", "max_cascade", "dedup_window"})


def broken_parts(site: Site, errors: Iterable[Diagnostic]) -> dict[str, list[Diagnostic]]:
    """The parts of the site's journey that ``errors`` make unsound to read, each with the
    errors that make it so, in the order of :data:`PARTS`."""
    errors = list(errors)
    broken: dict[str, list[Diagnostic]] = {}
    for error in errors:
        for part in _parts_at(error):
            broken.setdefault(part, []).append(error)
    for section, parts in _LEFT_OUT.items():
        if not site.complete(section):
            causes = [e for e in errors if not e.path or str(e.path[0]) == section]
            for part in parts:
                broken.setdefault(part, []).extend(causes)
    return {part: broken[part] for part in PARTS if part in broken}


def _parts_at(error: Diagnostic) -> tuple[str, ...]:
    """The parts an error makes unsound by where it stands (entries left out: see above)."""
    if error.code in _MEANING_KEPT:
        return ()
    path = error.path
    if not path:  # a shape error of the whole file is a section left out; anything else: all
        return () if error.code.startswith("T2") else ("journey",)
    section = str(path[0])
    if section == "settings":
        pressure_free = len(path) >= 2 and str(path[1]) in _PRESSURE_FREE
        return () if pressure_free else ("pressure",)  # an unknown key may be `pressure`
    if section not in _SECTIONS and section not in _KNOWN_TOP:
        return _misspelt_section(section)
    if len(path) >= 3 and (section, str(path[2])) in _FIELDS:
        return _FIELDS[(section, str(path[2]))]
    return _SECTIONS.get(section, ())


_KNOWN_TOP = frozenset(
    {"topo", "journey", "version", "title", "description", "settings", "migrations"}
)


def _misspelt_section(key: str) -> tuple[str, ...]:
    """An unknown top-level key may be a misspelt section (``remindrs``), which is then missing
    from the model as if left out."""
    near = difflib.get_close_matches(key, sorted({*_SECTIONS, *_KNOWN_TOP}), n=1, cutoff=0.6)
    if not near:
        return ()
    return _LEFT_OUT.get(near[0], _SECTIONS.get(near[0], ()))
