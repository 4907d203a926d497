"""Where member states live: the :class:`Store` protocol and the in-memory :class:`MemoryStore`.

A store keeps each member's :class:`topo.member_state.MemberState` for one journey. The engine
reads a member's state, works on it, and puts it back; a durable store (SQLite) implements the
same protocol later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from topo.member_state import MemberState

__all__ = ["MemoryStore", "Store"]


class Store(Protocol):
    """What the engine needs of a store."""

    def get(self, member: str) -> MemberState | None:
        """The member's state, or None for a member the store has never seen."""
        ...

    def put(self, state: MemberState) -> None:
        """Keep the member's state (replacing what was kept)."""
        ...

    def members(self) -> Iterator[str]:
        """Every member the store keeps, in no particular order."""
        ...


class MemoryStore:
    """Member states in a dictionary: fast, and gone when the process ends."""

    def __init__(self) -> None:
        self._states: dict[str, MemberState] = {}
        # The dictionary's own lookup: the engine calls it for every event.
        self.get: Callable[[str], MemberState | None] = self._states.get

    def put(self, state: MemberState) -> None:
        self._states[state.member] = state

    def members(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)
