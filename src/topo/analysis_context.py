"""What the analysis checks share: the journey, where its parts stand, its graph, and the
domains of the names its guards compare (computed once per run)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from topo.conditions import Values
from topo.diagnostics import Diagnostic
from topo.domains import domains_for
from topo.journey_graph import JourneyGraph
from topo.model import Journey
from topo.site import Site

__all__ = ["Analysis"]


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
