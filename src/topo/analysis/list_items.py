"""The items of a journey's list sections, moves and reminders, which have no names of their own.

Between two versions they are paired by keys from the strictest to the loosest
(:func:`pair_moves`, :func:`pair_reminders`), so that an edited move is one changed move
rather than one removed and one added; for people they are labelled by what they do, with a
guard or a position to tell alike ones apart (:func:`move_labels`, :func:`reminder_labels`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from topo.analysis.change_wording import Rename, same, show
from topo.analysis.guard_changes import guard_shape
from topo.journey.durations import format_duration
from topo.journey.model import Move, Reminder

__all__ = ["move_labels", "pair_moves", "pair_reminders", "reminder_labels"]

T = TypeVar("T", Move, Reminder)
Key = Callable[[T, Rename], Hashable]


# --- pairing -----------------------------------------------------------------------------


def pair_moves(old: Sequence[Move], new: Sequence[Move], rename: Rename) -> dict[int, int]:
    """Old position -> new position of the moves that are one move in both versions."""
    # Loosest last: a move keeps its identity when its id is kept, or when only its sources,
    # only its trigger, or only its other fields changed; so a new guard is a changed move.
    keys: list[Key[Move]] = [
        lambda m, _: m.id,
        lambda m, rename: (_sources(m, rename), rename(m.to), _trigger(m)),
        lambda m, rename: (rename(m.to), _trigger(m)),
        lambda m, rename: (_sources(m, rename), rename(m.to)),
    ]
    return _pair(old, new, keys, rename)


def _trigger(move: Move) -> Hashable:
    return ("on", frozenset(move.on)) if move.on is not None else ("after", move.after)


def _sources(move: Move, rename: Rename) -> frozenset[str]:
    return frozenset(map(rename, move.from_))


def pair_reminders(
    old: Sequence[Reminder], new: Sequence[Reminder], rename: Rename
) -> dict[int, int]:
    """Old position -> new position of the reminders that are one reminder in both versions."""
    keys: list[Key[Reminder]] = [
        lambda r, rename: (_places(r, rename), _target(r, rename), r.incentive),
        lambda r, rename: (_places(r, rename), _target(r, rename)),
        lambda r, rename: (_target(r, rename), r.incentive),
    ]
    return _pair(old, new, keys, rename)


def _target(reminder: Reminder, rename: Rename) -> Hashable:
    toward = rename(reminder.toward) if reminder.toward is not None else None
    return (toward, reminder.ahead_of)


def _places(reminder: Reminder, rename: Rename) -> frozenset[str]:
    return frozenset(map(rename, reminder.at))


def _pair(
    old: Sequence[T], new: Sequence[T], keys: Sequence[Key[T]], rename: Rename
) -> dict[int, int]:
    """Old position -> new position of the items that are one item in both versions.

    Each key is tried in turn on the items still unpaired (old items see their nodes renamed
    as the new version calls them). Among the items with equal keys an identical one is
    preferred, then one whose guard differs at most in its numbers, then the first in file
    order. A key of None pairs nothing.
    """
    pairs: dict[int, int] = {}
    for key in keys:
        taken = set(pairs.values())
        waiting: dict[Hashable, list[int]] = {}
        for j, item in enumerate(new):
            if j not in taken and (value := key(item, same)) is not None:
                waiting.setdefault(value, []).append(j)
        for i, item in enumerate(old):
            if i in pairs or (value := key(item, rename)) is None or not waiting.get(value):
                continue
            candidates = waiting[value]
            j = min(candidates, key=lambda j: (new[j] != item, _shape(new[j]) != _shape(item)))
            candidates.remove(j)
            pairs[i] = j
    return pairs


def _shape(item: Move | Reminder) -> str | None:
    """An item's guard with the numbers of its comparisons taken out."""
    return guard_shape(item.when)


# --- labels ------------------------------------------------------------------------------


def move_labels(moves: Sequence[Move]) -> list[str]:
    """A label for each move: its id, or its sources, target and trigger (``a -> b on e``)."""
    return _labels(moves, _describe_move)


def reminder_labels(reminders: Sequence[Reminder]) -> list[str]:
    """A label for each reminder: where it is sent, what it points to, and its incentive."""
    return _labels(reminders, _describe_reminder)


def _labels(items: Sequence[T], describe: Callable[[T], str]) -> list[str]:
    """Names of the items of a list for people: a guard or a position tells alike ones apart."""
    labels = [describe(item) for item in items]
    alike = Counter(labels)
    labels = [
        f"{label} when {show(item.when)}" if alike[label] > 1 and item.when else label
        for label, item in zip(labels, items, strict=True)
    ]
    alike = Counter(labels)
    return [
        f"{label} (number {i + 1})" if alike[label] > 1 else label for i, label in enumerate(labels)
    ]


def _describe_move(move: Move) -> str:
    trigger = ""
    if move.on is not None:
        trigger = f" on {_ids(move.on)}"
    elif move.after is not None:
        trigger = f" after {format_duration(move.after)}"
    text = f"{_ids(move.from_)} -> {move.to}{trigger}"
    return f"{move.id} ({text})" if move.id else text


def _describe_reminder(reminder: Reminder) -> str:
    target = f"toward {reminder.toward}" if reminder.toward else f"ahead of {reminder.ahead_of}"
    return f"at {_ids(reminder.at)} {target} ({reminder.incentive})"


def _ids(ids: Sequence[str]) -> str:
    return ids[0] if len(ids) == 1 else f"[{', '.join(ids)}]"
