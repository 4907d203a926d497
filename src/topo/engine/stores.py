"""Where member states live: the :class:`Store` protocol and the in-memory :class:`MemoryStore`.

A store keeps each member's :class:`~topo.engine.member_state.MemberState` for one journey. The
engine binds itself to the store when it is made (:meth:`Store.bind`), reads a member's state,
works on it, and puts it back together with the triggers that work produced (:meth:`Store.put`).
:class:`topo.SqliteStore` implements the same protocol durably; a server database can too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from topo.engine.compiled import CompiledJourney
from topo.engine.member_codec import decode, encode
from topo.engine.member_state import MemberState
from topo.engine.migrations import Layout, layout
from topo.engine.triggers import Trigger
from topo.errors import StoreError

__all__ = ["MemoryStore", "Migrate", "Outbox", "Store", "check_binding"]

Migrate = Callable[[MemberState, int, Layout], MemberState]
"""The engine's migration of one member: (state, the version it was stored under, that
version's layout) -> the state under the engine's version. Raises
:class:`topo.errors.MigrationError` for a member no migration can place."""


class Store(Protocol):
    """What the engine needs of a store.

    Two methods are optional. ``forget(member)`` removes a member (the engine's undo of a
    failed call that created one). ``savepoint()`` and ``rollback(point) -> bool`` are for a
    store that holds changes of its own between commits (:class:`topo.SqliteStore`): the
    engine takes a savepoint when a call begins and, if the call fails, rolls back to it and
    restores the members it changed in place; a store without them gets each restored member
    put back instead, so a store that keeps copies works too.
    """

    def get(self, member: str) -> MemberState | None:
        """The member's state, or None for a member the store has never seen."""
        ...

    def put(self, state: MemberState, triggers: Sequence[Trigger] = ()) -> None:
        """Keep the member's state (replacing what was kept) and the triggers it produced:
        a durable store keeps both or neither."""
        ...

    def members(self) -> Iterator[str]:
        """Every member the store keeps, in no particular order."""
        ...

    def timers(self) -> Iterator[tuple[int, str]]:
        """``(due, member)`` for every member with a timer due (``MemberState.due``)."""
        ...

    def bind(self, journey: CompiledJourney, migrate: Migrate) -> None:
        """Hold the members of ``journey`` from now on.

        A store holding members of another journey, or of a newer version, raises
        :class:`topo.errors.StoreError`; members of an older version go through ``migrate``,
        all of them or (when one cannot be placed) none."""
        ...


class Outbox(Protocol):
    """A durable store's triggers, kept until the sender says they were sent."""

    def pending(self, limit: int | None = None) -> list[Trigger]:
        """The triggers not yet acknowledged, oldest first (at most ``limit``)."""
        ...

    def ack(self, ids: Iterable[str]) -> int:
        """Mark the triggers with these ids sent; how many were pending."""
        ...


class MemoryStore:
    """Member states in a dictionary: fast, and gone when the process ends."""

    def __init__(self) -> None:
        self._states: dict[str, MemberState] = {}
        # The dictionary's own lookup: the engine calls it for every event.
        self.get: Callable[[str], MemberState | None] = self._states.get
        self._held: CompiledJourney | None = None  # the journey its members were kept for

    def put(self, state: MemberState, triggers: Sequence[Trigger] = ()) -> None:
        self._states[state.member] = state

    def forget(self, member: str) -> None:
        """Remove a member (the engine's undo of a failed call that created it)."""
        self._states.pop(member, None)

    def members(self) -> Iterator[str]:
        return iter(self._states)

    def timers(self) -> Iterator[tuple[int, str]]:
        return ((s.due, m) for m, s in self._states.items() if s.due is not None)

    def bind(self, journey: CompiledJourney, migrate: Migrate) -> None:
        held = self._held
        if held is not None and held is not journey:
            held_layout = layout(held)
            if check_binding("the memory store", held.id, held.version, held_layout, journey):
                # Migrate copies, and keep them only when every member could be placed.
                moved = {
                    member: migrate(decode(encode(state)), held.version, held_layout)
                    for member, state in self._states.items()
                }
                self._states.update(moved)
        self._held = journey

    def __len__(self) -> int:
        return len(self._states)


def check_binding(
    where: str, held_id: str, held_version: int, held_layout: Layout, journey: CompiledJourney
) -> bool:
    """Whether a store holding members of ``held_id`` at ``held_version`` (laid out as
    ``held_layout``) may be bound to ``journey``: True when its members need migrating, False
    when they are ready; a :class:`StoreError` saying what to do when it may not."""
    if held_id != journey.id:
        raise StoreError(
            f"{where} holds members of journey {held_id!r}, not {journey.id!r}: "
            "each journey needs a store of its own"
        )
    if held_version > journey.version:
        raise StoreError(
            f"{where} holds members of version {held_version} of journey {held_id!r}, "
            f"newer than the version {journey.version} loaded: load version {held_version} "
            "or later of the journey"
        )
    if held_version == journey.version and held_layout != layout(journey):
        raise StoreError(
            f"{where} holds members of version {held_version} of journey {held_id!r}, but its "
            "metrics, incentives or reminders have changed since, under the same version: "
            f"raise `version` to {held_version + 1} (with `migrations` for renamed or removed "
            "nodes), so that stored members are carried over to the new definitions"
        )
    return held_version < journey.version
