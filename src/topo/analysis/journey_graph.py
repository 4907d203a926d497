"""A journey as a networkx graph: nodes, and one edge per (source node, move).

The analysis checks ask it who reaches whom; it is built once per journey.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from topo.journey.model import Journey, Move

__all__ = ["JourneyGraph"]


@dataclass
class JourneyGraph:
    """The moves of a journey as a directed multigraph (edge key: the move's index)."""

    journey: Journey
    graph: nx.MultiDiGraph[str] = field(init=False)

    def __post_init__(self) -> None:
        graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        graph.add_nodes_from(self.journey.nodes)
        for index, move in enumerate(self.journey.moves):
            for source in move.from_:
                if source in self.journey.nodes and move.to in self.journey.nodes:
                    graph.add_edge(source, move.to, key=index)
        self.graph = graph

    @cached_property
    def start(self) -> str | None:
        """The start node (None if the journey has none)."""
        return next((n for n, node in self.journey.nodes.items() if node.kind == "start"), None)

    def of_kind(self, kind: str) -> list[str]:
        """The nodes of one kind, in file order."""
        return [n for n, node in self.journey.nodes.items() if node.kind == kind]

    @cached_property
    def reachable(self) -> set[str]:
        """The nodes the start reaches (the start included)."""
        if self.start is None:
            return set()
        return {self.start} | nx.descendants(self.graph, self.start)

    @cached_property
    def reach_a_peak(self) -> set[str]:
        """The nodes from which some peak can be reached (the peaks included)."""
        peaks = set(self.of_kind("peak"))
        found = set(peaks)
        for peak in peaks:
            found |= nx.ancestors(self.graph, peak)
        return found

    def reaches(self, source: str, target: str) -> bool:
        """Whether ``target`` can be reached from ``source`` by one or more moves."""
        return target in self.descendants(source)

    def descendants(self, source: str) -> set[str]:
        """The nodes reachable from ``source`` by one or more moves."""
        cache = self.__dict__.setdefault("_descendants", {})
        if source not in cache:
            cache[source] = nx.descendants(self.graph, source) | (
                {source} if self._on_cycle(source) else set()
            )
        result: set[str] = cache[source]
        return result

    def _on_cycle(self, node: str) -> bool:
        return any(nx.has_path(self.graph, succ, node) for succ in self.graph.successors(node))

    def moves_out(self, node: str) -> list[tuple[int, Move]]:
        """The moves out of ``node`` with their index, in file order."""
        return self._moves_by_source.get(node, [])

    @cached_property
    def _moves_by_source(self) -> dict[str, list[tuple[int, Move]]]:
        by_source: dict[str, list[tuple[int, Move]]] = {}
        for index, move in enumerate(self.journey.moves):
            for source in dict.fromkeys(move.from_):  # a node named twice is one source
                by_source.setdefault(source, []).append((index, move))
        return by_source
