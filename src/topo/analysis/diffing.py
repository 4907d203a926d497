"""Comparing two versions of a journey: what changed, and what would strand stored members.

:func:`diff_journeys` takes two loaded journeys and returns a :class:`JourneyDiff`: the changes,
section by section in file order (each a frozen :class:`Change`: a sentence for people and
JSON-ready values), and the problems that make the new version unsafe to publish over the old
(found by :mod:`topo.journey.migration_problems`).

This module holds the comparison of each section. Named entries (nodes, metrics, ...) are
matched by name, moves and reminders as ``list_items`` pairs them; the words are those of
``change_wording``, and guards are compared by ``guard_changes`` (all in this package).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel

from topo.analysis.change_wording import (
    Rename,
    as_written,
    describe_mapping,
    plain,
    same,
    summary,
    view,
    wording,
)
from topo.analysis.guard_changes import guard_changes
from topo.analysis.list_items import move_labels, pair_moves, pair_reminders, reminder_labels
from topo.journey.migration_problems import (
    broken_migrations,
    destination,
    unmapped_nodes,
    version_problems,
    via,
)
from topo.journey.model import EventType, Journey

__all__ = ["FORMATS", "Change", "JourneyDiff", "Revision", "diff_journeys"]

FORMATS = ("text", "json")
SHAPE_VERSION = 1
"""Version of the JSON shape that ``render("json")`` writes; it changes only incompatibly."""

Kind = Literal["added", "removed", "changed"]

_EXPRESSIONS = {"when": "guard", "where": "filter"}


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a journey.

    ``kind`` is ``added`` or ``removed`` for a whole item (a node, a move, an event field, ...)
    and ``changed`` for a part of an item that both versions have; ``field`` names that part
    (None for a whole item). ``before`` and ``after`` are JSON-ready values, None when absent.
    """

    kind: Kind
    section: str
    item: str
    field: str | None
    detail: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class Revision:
    """A journey id at one version."""

    journey: str
    version: int


@dataclass(frozen=True)
class JourneyDiff:
    """The changes from one version of a journey to another, and the problems of the change."""

    old: Revision
    new: Revision
    changes: tuple[Change, ...]
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The difference as a JSON-ready mapping (the shape of ``render("json")``)."""
        return {
            "version": SHAPE_VERSION,
            "old": asdict(self.old),
            "new": asdict(self.new),
            "changes": [asdict(change) for change in self.changes],
            "problems": list(self.problems),
        }

    def render(self, fmt: str = "text") -> str:
        """The difference as ``text`` (one line a change, by section) or ``json``."""
        if fmt == "json":
            return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"
        if fmt == "text":
            return self._text()
        raise ValueError(f"{fmt!r} is not a format of topo diff; use one of: text, json")

    def _text(self) -> str:
        name = self.new.journey
        if self.old.journey != self.new.journey:
            name = f"{self.old.journey} -> {self.new.journey}"
        count = len(self.changes)
        counted = f"{count} change{'' if count == 1 else 's'}" if count else "no changes"
        lines = [f"{name}: version {self.old.version} -> {self.new.version}, {counted}"]
        sections: dict[str, list[Change]] = {}
        for change in self.changes:
            sections.setdefault(change.section, []).append(change)
        for section, changes in sections.items():
            lines += ["", section]
            lines += [f"  {c.kind:<7}  {c.item}: {c.detail}" for c in changes]
        return "\n".join(lines) + "\n"


def diff_journeys(old: Journey, new: Journey) -> JourneyDiff:
    """Every change from ``old`` to ``new``, and the problems that the change would cause."""
    changes = tuple(_changes(old, new))
    changed = any((c.section, c.field) != ("journey", "version") for c in changes)
    problems = (
        *version_problems(old, new, changed),
        *unmapped_nodes(old, new),
        *broken_migrations(new),
    )
    return JourneyDiff(
        Revision(old.journey, old.version), Revision(new.journey, new.version), changes, problems
    )


def _changes(old: Journey, new: Journey) -> Iterator[Change]:
    for key in ("journey", "version", "title", "description"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            detail = wording(key, before, after)
            yield Change("changed", "journey", new.journey, key, detail, before, after)
    yield from _records("owners", old.owners, new.owners)
    yield from _records("offerings", old.offerings, new.offerings)
    yield from _records("attributes", old.attributes, new.attributes)
    yield from _events(old.events, new.events)
    yield from _records("metrics", old.metrics, new.metrics)
    yield from _nodes(old, new)
    yield from _moves(old, new)
    yield from _records("incentives", old.incentives, new.incentives)
    yield from _reminders(old, new)
    yield from _fields("settings", "settings", old.settings, new.settings)
    yield from _migrations(old, new)


# --- sections ----------------------------------------------------------------------------


def _records(
    section: str,
    old: Mapping[str, BaseModel],
    new: Mapping[str, BaseModel],
    prefix: str = "",
    fate: Callable[[str], str] = lambda _: "",
) -> Iterator[Change]:
    """Changes of a section of named entries; ``fate`` adds to the detail of a removed one."""
    for key, before in old.items():
        if key in new:
            yield from _fields(section, prefix + key, before, new[key])
        else:
            detail = summary(before) + fate(key)
            yield Change("removed", section, prefix + key, None, detail, plain(before))
    for key, after in new.items():
        if key not in old:
            yield Change("added", section, prefix + key, None, summary(after), None, plain(after))


def _events(old: Mapping[str, EventType], new: Mapping[str, EventType]) -> Iterator[Change]:
    for key, before in old.items():
        if key in new:
            yield from _records("events", before.fields, new[key].fields, prefix=f"{key}.")
        else:
            yield Change("removed", "events", key, None, summary(before), plain(before))
    for key, after in new.items():
        if key not in old:
            yield Change("added", "events", key, None, summary(after), None, plain(after))


def _nodes(old: Journey, new: Journey) -> Iterator[Change]:
    def fate(node: str) -> str:
        target, steps = destination(node, old.version, new)
        if not steps:
            return "; no migration says where its members go"
        if target not in new.nodes:
            return (
                f"; its members would go to {target}, which is not a node of version {new.version}"
            )
        return f"; its members go to {target} ({via(steps)})"

    yield from _records("nodes", old.nodes, new.nodes, fate=fate)
    for node in old.nodes:
        target, steps = destination(node, old.version, new)
        if node in new.nodes and target != node:
            detail = f"members of version {old.version} here go to {target} ({via(steps)})"
            yield Change("changed", "nodes", node, "members", detail, node, target)


def _moves(old: Journey, new: Journey) -> Iterator[Change]:
    rename = _renaming(old, new)
    pairs = pair_moves(old.moves, new.moves, rename)
    skip = frozenset({"id", "from", "to", "on", "after"})
    labels = move_labels(old.moves), move_labels(new.moves)
    yield from _listed("moves", old.moves, new.moves, pairs, labels, skip, rename)
    yield from _order(
        ("moves", "moves out of"), old.moves, new.moves, pairs, lambda m: m.from_, rename, labels[0]
    )


def _reminders(old: Journey, new: Journey) -> Iterator[Change]:
    rename = _renaming(old, new)
    pairs = pair_reminders(old.reminders, new.reminders, rename)
    skip = frozenset({"at", "toward", "ahead_of", "incentive"})
    labels = reminder_labels(old.reminders), reminder_labels(new.reminders)
    yield from _listed("reminders", old.reminders, new.reminders, pairs, labels, skip, rename)
    yield from _order(
        ("reminders", "reminders at"),
        old.reminders,
        new.reminders,
        pairs,
        lambda r: r.at,
        rename,
        labels[0],
    )


def _renaming(old: Journey, new: Journey) -> Rename:
    """A node of ``old`` as ``new`` calls it: where a migration sends the members of a node
    that ``new`` no longer has (so a move into a renamed node is the same move)."""

    def rename(node: str) -> str:
        return node if node in new.nodes else destination(node, old.version, new)[0]

    return rename


def _migrations(old: Journey, new: Journey) -> Iterator[Change]:
    before = {m.from_version: m.nodes for m in old.migrations}
    after = {m.from_version: m.nodes for m in new.migrations}
    for version, nodes in before.items():
        item = f"from version {version}"
        if version not in after:
            yield Change("removed", "migrations", item, None, describe_mapping(nodes), dict(nodes))
            continue
        for node in {**nodes, **after[version]}:
            was, now = nodes.get(node), after[version].get(node)
            if was != now:
                detail = f"members at {node} now go to {now} (was {was})"
                if was is None or now is None:
                    detail = f"{node} -> {was or now} {'removed' if now is None else 'added'}"
                yield Change("changed", "migrations", item, f"nodes.{node}", detail, was, now)
    for version, nodes in after.items():
        if version not in before:
            item = f"from version {version}"
            yield Change(
                "added", "migrations", item, None, describe_mapping(nodes), None, dict(nodes)
            )


# --- list sections -----------------------------------------------------------------------


def _listed(
    section: str,
    old: Sequence[BaseModel],
    new: Sequence[BaseModel],
    pairs: Mapping[int, int],
    labels: tuple[Sequence[str], Sequence[str]],
    skip: frozenset[str],
    rename: Rename,
) -> Iterator[Change]:
    """Changes of a list section (moves, reminders); its label names each item."""
    for i, before in enumerate(old):
        if i in pairs:
            yield from _fields(section, labels[0][i], before, new[pairs[i]], rename=rename)
        else:
            detail = summary(before, skip, nothing="no guard")
            yield Change("removed", section, labels[0][i], None, detail, plain(before))
    paired = set(pairs.values())
    for j, after in enumerate(new):
        if j not in paired:
            detail = summary(after, skip, nothing="no guard")
            yield Change("added", section, labels[1][j], None, detail, None, plain(after))


def _order(
    where: tuple[str, str],
    old: Sequence[Any],
    new: Sequence[Any],
    pairs: Mapping[int, int],
    nodes_of: Callable[[Any], Sequence[str]],
    rename: Rename,
    labels: Sequence[str],
) -> Iterator[Change]:
    """The nodes whose moves (or reminders), kept in both versions, are now in another order."""
    section, what = where
    for node in dict.fromkeys(node for item in new for node in nodes_of(item)):
        kept = sorted(
            (i, j)
            for i, j in pairs.items()
            if node in map(rename, nodes_of(old[i])) and node in nodes_of(new[j])
        )
        now = sorted(kept, key=lambda pair: pair[1])
        if now != kept:
            before = [labels[i] for i, _ in kept]
            after = [labels[i] for i, _ in now]
            detail = f"now in the order {'; '.join(after)} (the first that applies is taken)"
            yield Change("changed", section, f"{what} {node}", "order", detail, before, after)


# --- fields ------------------------------------------------------------------------------


def _fields(
    section: str,
    item: str,
    old: BaseModel,
    new: BaseModel,
    prefix: str = "",
    rename: Rename = same,
) -> Iterator[Change]:
    """The changed fields of one item that both versions have (``pressure.max``: nested)."""
    before, after = view(old), view(new)
    for name in dict.fromkeys([*before, *after]):
        was, now = before.get(name), after.get(name)
        key = prefix + name
        if was == now:
            continue
        if isinstance(was, BaseModel) and isinstance(now, BaseModel):
            yield from _fields(section, item, was, now, prefix=f"{key}.")
        elif key in _EXPRESSIONS:
            for detail, guard_was, guard_now in guard_changes(_EXPRESSIONS[key], was, now):
                yield Change("changed", section, item, key, detail, guard_was, guard_now)
        else:
            detail = wording(key, was, now, rename)
            yield Change(
                "changed", section, item, key, detail, as_written(key, was), as_written(key, now)
            )
