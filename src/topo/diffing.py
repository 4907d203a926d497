"""Comparing two versions of a journey: what changed, and what would strand stored members.

:func:`diff_journeys` takes two loaded journeys and returns a :class:`JourneyDiff`: the changes,
section by section in file order (each a frozen :class:`Change`: a sentence for people and
JSON-ready values), and the problems that make the new version unsafe to publish over the old:

- a node of the old version that the new one lacks and that no migration maps;
- a migration of the new version that sends members to a node it does not have;
- a changed journey whose version number is not higher than the old one's.

Guards are compared as syntax trees (parsed with :mod:`ast`, never evaluated), so re-spacing a
guard is no change, and a guard in which only the number of a comparison changed is reported
as a threshold that was raised or lowered.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from topo.durations import format_duration
from topo.expressions import parse
from topo.model import METRIC_KINDS, EventType, Journey, Metric, Move, Reminder
from topo.suggestions import did_you_mean

__all__ = ["FORMATS", "Change", "JourneyDiff", "Revision", "diff_journeys"]

FORMATS = ("text", "json")
SHAPE_VERSION = 1
"""Version of the JSON shape that ``render("json")`` writes; it changes only incompatibly."""

Kind = Literal["added", "removed", "changed"]
Number = int | float
T = TypeVar("T")
Rename = Callable[[str], str]
Key = Callable[[T, Rename], Hashable]

_EXPRESSIONS = {"when": "guard", "where": "filter"}
_NOTHING = "no fields set"
_PLACEHOLDER = "_number_"  # not a valid name of the language, so it cannot clash


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
    problems = (
        *_version_problems(old, new, changes),
        *_unmapped_nodes(old, new),
        *_broken_migrations(new),
    )
    return JourneyDiff(
        Revision(old.journey, old.version), Revision(new.journey, new.version), changes, problems
    )


def _changes(old: Journey, new: Journey) -> Iterator[Change]:
    for key in ("journey", "version", "title", "description"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            detail = _wording(key, before, after)
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
            detail = _summary(before) + fate(key)
            yield Change("removed", section, prefix + key, None, detail, _plain(before))
    for key, after in new.items():
        if key not in old:
            yield Change("added", section, prefix + key, None, _summary(after), None, _plain(after))


def _events(old: Mapping[str, EventType], new: Mapping[str, EventType]) -> Iterator[Change]:
    for key, before in old.items():
        if key in new:
            yield from _records("events", before.fields, new[key].fields, prefix=f"{key}.")
        else:
            yield Change("removed", "events", key, None, _summary(before), _plain(before))
    for key, after in new.items():
        if key not in old:
            yield Change("added", "events", key, None, _summary(after), None, _plain(after))


def _nodes(old: Journey, new: Journey) -> Iterator[Change]:
    def fate(node: str) -> str:
        target, steps = _destination(node, old.version, new)
        if not steps:
            return "; no migration says where its members go"
        if target not in new.nodes:
            return (
                f"; its members would go to {target}, which is not a node of version {new.version}"
            )
        return f"; its members go to {target} ({_via(steps)})"

    yield from _records("nodes", old.nodes, new.nodes, fate=fate)
    for node in old.nodes:
        target, steps = _destination(node, old.version, new)
        if node in new.nodes and target != node:
            detail = f"members of version {old.version} here go to {target} ({_via(steps)})"
            yield Change("changed", "nodes", node, "members", detail, node, target)


def _moves(old: Journey, new: Journey) -> Iterator[Change]:
    def trigger(move: Move) -> Hashable:
        return ("on", frozenset(move.on)) if move.on is not None else ("after", move.after)

    def sources(move: Move, rename: Rename) -> frozenset[str]:
        return frozenset(map(rename, move.from_))

    # Loosest last: a move keeps its identity when its id is kept, or when only its sources,
    # only its trigger, or only its other fields changed; so a new guard is a changed move.
    keys: list[Key[Move]] = [
        lambda m, _: m.id,
        lambda m, rename: (sources(m, rename), rename(m.to), trigger(m)),
        lambda m, rename: (rename(m.to), trigger(m)),
        lambda m, rename: (sources(m, rename), rename(m.to)),
    ]
    rename = _renaming(old, new)
    pairs = _pair(old.moves, new.moves, keys, rename)
    skip = frozenset({"id", "from", "to", "on", "after"})
    labels = _labels(old.moves, _describe_move), _labels(new.moves, _describe_move)
    yield from _listed("moves", old.moves, new.moves, pairs, labels, skip, rename)
    yield from _order(
        ("moves", "moves out of"), old.moves, new.moves, pairs, lambda m: m.from_, rename, labels[0]
    )


def _reminders(old: Journey, new: Journey) -> Iterator[Change]:
    def target(reminder: Reminder, rename: Rename) -> Hashable:
        toward = rename(reminder.toward) if reminder.toward is not None else None
        return (toward, reminder.ahead_of)

    def places(reminder: Reminder, rename: Rename) -> frozenset[str]:
        return frozenset(map(rename, reminder.at))

    keys: list[Key[Reminder]] = [
        lambda r, rename: (places(r, rename), target(r, rename), r.incentive),
        lambda r, rename: (places(r, rename), target(r, rename)),
        lambda r, rename: (target(r, rename), r.incentive),
    ]
    rename = _renaming(old, new)
    pairs = _pair(old.reminders, new.reminders, keys, rename)
    skip = frozenset({"at", "toward", "ahead_of", "incentive"})
    labels = _labels(old.reminders, _describe_reminder), _labels(new.reminders, _describe_reminder)
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
        return node if node in new.nodes else _destination(node, old.version, new)[0]

    return rename


def _migrations(old: Journey, new: Journey) -> Iterator[Change]:
    before = {m.from_version: m.nodes for m in old.migrations}
    after = {m.from_version: m.nodes for m in new.migrations}
    for version, nodes in before.items():
        item = f"from version {version}"
        if version not in after:
            yield Change("removed", "migrations", item, None, _mapping(nodes), dict(nodes))
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
            yield Change("added", "migrations", item, None, _mapping(nodes), None, dict(nodes))


# --- matching items of lists -------------------------------------------------------------


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
            if j not in taken and (value := key(item, _same)) is not None:
                waiting.setdefault(value, []).append(j)
        for i, item in enumerate(old):
            if i in pairs or (value := key(item, rename)) is None or not waiting.get(value):
                continue
            candidates = waiting[value]
            j = min(candidates, key=lambda j: (new[j] != item, _shape(new[j]) != _shape(item)))
            candidates.remove(j)
            pairs[i] = j
    return pairs


def _same(node: str) -> str:
    return node


def _shape(item: object) -> str | None:
    """An item's guard with the numbers of its comparisons taken out."""
    when = getattr(item, "when", None)
    if when is None:
        return None
    tree = parse(when)
    return ast.dump(_Thresholds().visit(tree)) if isinstance(tree, ast.Expression) else when


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

    def summary(item: BaseModel) -> str:
        shown = _summary(item, skip)
        return "no guard" if shown == _NOTHING else shown

    for i, before in enumerate(old):
        if i in pairs:
            yield from _fields(section, labels[0][i], before, new[pairs[i]], rename=rename)
        else:
            detail = summary(before)
            yield Change("removed", section, labels[0][i], None, detail, _plain(before))
    paired = set(pairs.values())
    for j, after in enumerate(new):
        if j not in paired:
            detail = summary(after)
            yield Change("added", section, labels[1][j], None, detail, None, _plain(after))


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


def _labels(items: Sequence[Move | Reminder], describe: Callable[[Any], str]) -> list[str]:
    """Names of the items of a list for people: a guard or a position tells alike ones apart."""
    labels = [describe(item) for item in items]
    alike = Counter(labels)
    labels = [
        f"{label} when {_show(item.when)}" if alike[label] > 1 and item.when else label
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


# --- fields and their wording ------------------------------------------------------------


def _fields(
    section: str,
    item: str,
    old: BaseModel,
    new: BaseModel,
    prefix: str = "",
    rename: Rename = _same,
) -> Iterator[Change]:
    """The changed fields of one item that both versions have (``pressure.max``: nested)."""
    before, after = _view(old), _view(new)
    for name in dict.fromkeys([*before, *after]):
        was, now = before.get(name), after.get(name)
        key = prefix + name
        if was == now:
            continue
        if isinstance(was, BaseModel) and isinstance(now, BaseModel):
            yield from _fields(section, item, was, now, prefix=f"{key}.")
        elif key in _EXPRESSIONS:
            yield from _expression(section, item, key, was, now)
        else:
            detail = _wording(key, was, now, rename)
            yield Change("changed", section, item, key, detail, _value(key, was), _value(key, now))


def _view(model: BaseModel) -> dict[str, Any]:
    """The fields of a model by their names in the file; a metric's kind is one field."""
    fields = type(model).model_fields
    view = {(info.alias or name): getattr(model, name) for name, info in fields.items()}
    if isinstance(model, Metric):
        view = {key: value for key, value in view.items() if key not in METRIC_KINDS}
        view = {"measure": f"{model.kind}: {model.source}", **view}
    return view


def _expression(
    section: str, item: str, key: str, was: str | None, now: str | None
) -> Iterator[Change]:
    label = _EXPRESSIONS[key]
    if was is None or now is None:
        detail = f"{label} {_show(now)} added" if was is None else f"{label} {_show(was)} removed"
        yield Change("changed", section, item, key, detail, was, now)
        return
    thresholds = _thresholds(was, now)
    if thresholds is None:
        detail = f"{label} changed from {_show(was)} to {_show(now)}"
        yield Change("changed", section, item, key, detail, was, now)
        return
    for subject, before, after in thresholds:
        direction = "raised" if after > before else "lowered"
        detail = f"threshold of {subject} {direction} from {before} to {after}"
        yield Change("changed", section, item, key, detail, before, after)


def _thresholds(was: str, now: str) -> list[tuple[str, Number, Number]] | None:
    """The comparisons whose number changed, when nothing else did; None when more changed.

    An empty list means the two texts are the same expression (only spacing or quotes differ).
    """
    old_tree, new_tree = parse(was), parse(now)
    if not isinstance(old_tree, ast.Expression) or not isinstance(new_tree, ast.Expression):
        return None
    old_numbers, new_numbers = _Thresholds(), _Thresholds()
    if ast.dump(old_numbers.visit(old_tree)) != ast.dump(new_numbers.visit(new_tree)):
        return None
    return [
        (subject, before, after)
        for (subject, before), (_, after) in zip(old_numbers.found, new_numbers.found, strict=True)
        if before != after
    ]


class _Thresholds(ast.NodeTransformer):
    """Takes the numbers out of comparisons, noting what each number was compared with."""

    def __init__(self) -> None:
        self.found: list[tuple[str, Number]] = []

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        operands = [node.left, *node.comparators]
        for i, operand in enumerate(operands):
            number = _number(operand)
            neighbours = [operands[k] for k in (i - 1, i + 1) if 0 <= k < len(operands)]
            subjects = [n for n in neighbours if not isinstance(_strip(n), ast.Constant)]
            if number is not None and subjects:
                self.found.append((ast.unparse(subjects[0]), number))
                operands[i] = ast.Name(id=_PLACEHOLDER, ctx=ast.Load())
        node.left, node.comparators = operands[0], operands[1:]
        self.generic_visit(node)
        return node


def _strip(node: ast.expr) -> ast.expr:
    """``-5`` as the constant 5, anything else as it is."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    return node


def _number(node: ast.expr) -> Number | None:
    inner = _strip(node)
    if not isinstance(inner, ast.Constant) or isinstance(inner.value, bool):
        return None
    if not isinstance(inner.value, int | float):
        return None
    return -inner.value if inner is not node else inner.value


def _wording(key: str, was: Any, now: Any, rename: Rename = _same) -> str:
    """A sentence for one changed field: raised, lowered, set, removed, or changed."""
    before, after = _show(_value(key, was)), _show(_value(key, now))
    if was is None:
        return f"{key} set to {after}"
    if now is None:
        return f"{key} {before} removed"
    if isinstance(was, timedelta) and isinstance(now, timedelta):
        return f"{key} {'lengthened' if now > was else 'shortened'} from {before} to {after}"
    if _is_number(was) and _is_number(now):
        return f"{key} {'raised' if now > was else 'lowered'} from {before} to {after}"
    if isinstance(was, list) and isinstance(now, list):
        return _list_wording(key, was, now, rename)
    return f"{key} changed from {before} to {after}"


def _list_wording(key: str, was: list[Any], now: list[Any], rename: Rename) -> str:
    """``from: vip added; regular renamed loyal``: what a list gained and lost."""
    renamed = {value: rename(value) for value in was if value not in now and rename(value) in now}
    added = [_show(value) for value in now if value not in was and value not in renamed.values()]
    removed = [_show(value) for value in was if value not in now and value not in renamed]
    parts = [f"{', '.join(added)} added"] if added else []
    parts += [f"{', '.join(removed)} removed"] if removed else []
    parts += [f"{old} renamed {new}" for old, new in renamed.items()]
    return f"{key}: {'; '.join(parts)}" if parts else f"{key} reordered to {_show(now)}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value(key: str, value: Any) -> Any:
    """A field's value as JSON-ready data, written as the file would write it."""
    if key == "holdout" and isinstance(value, float):
        return f"{round(value * 100, 6):g}%"
    return _plain(value)


def _plain(value: Any) -> Any:
    """JSON-ready data: durations as ``90d``, models as mappings without their unset fields."""
    if isinstance(value, BaseModel):
        view = _view(value)
        return {key: _value(key, item) for key, item in view.items() if item is not None}
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _show(value: Any) -> str:
    """JSON-ready data in words: text with spaces in double quotes, lists in brackets."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if not value or any(c.isspace() for c in value) else value
    if isinstance(value, list | tuple):
        return f"[{', '.join(_show(item) for item in value)}]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_show(item)}" for key, item in value.items()) + "}"
    return _show(_plain(value)) if isinstance(value, BaseModel | timedelta) else str(value)


def _summary(model: BaseModel, skip: frozenset[str] = frozenset()) -> str:
    """What a whole added or removed item says, as the file wrote it."""
    if isinstance(model, EventType):
        return f"fields {', '.join(model.fields)}" if model.fields else "no fields"
    fields = type(model).model_fields
    written = {fields[name].alias or name for name in model.model_fields_set}
    if isinstance(model, Metric):
        written.add("measure")
    shown = [
        f"{key} {_show(_value(key, value))}"
        for key, value in _view(model).items()
        if key in written and key not in skip and value is not None
    ]
    return ", ".join(shown) or _NOTHING


def _mapping(nodes: Mapping[str, str]) -> str:
    return ", ".join(f"{old} -> {new}" for old, new in nodes.items()) or "maps no nodes"


# --- migrations and problems -------------------------------------------------------------


def _destination(node: str, version: int, new: Journey) -> tuple[str, tuple[int, ...]]:
    """Where a member stored at ``node`` under ``version`` goes in ``new``, and through which
    migrations (their ``from_version``).

    The member passes through every migration from its version onward, in the order the file
    lists them; each moves it when it maps the node the member is at by then.
    """
    steps: list[int] = []
    for migration in new.migrations:
        if version <= migration.from_version < new.version and node in migration.nodes:
            node = migration.nodes[node]
            steps.append(migration.from_version)
    return node, tuple(steps)


def _via(steps: Sequence[int]) -> str:
    if len(steps) == 1:
        return f"migration from version {steps[0]}"
    return f"migrations from versions {', '.join(map(str, steps[:-1]))} and {steps[-1]}"


def _version_problems(old: Journey, new: Journey, changes: Sequence[Change]) -> Iterator[str]:
    changed = any((c.section, c.field) != ("journey", "version") for c in changes)
    if new.version < old.version:
        yield (
            f"the new version number {new.version} is lower than the old {old.version}: members "
            f"stored under version {old.version} would be read by an older journey; raise "
            f"`version` to {old.version + 1} (or were OLD and NEW given the other way round?)"
        )
    elif new.version == old.version and changed:
        yield (
            f"the journey changed but its version is still {new.version}: stored members record "
            "only the version number, so they could not tell the two apart and no migration could "
            f"apply to them; raise `version` to {old.version + 1}"
        )


def _unmapped_nodes(old: Journey, new: Journey) -> Iterator[str]:
    fresh = [node for node in new.nodes if node not in old.nodes]
    for node in old.nodes:
        if node in new.nodes or _destination(node, old.version, new)[1]:
            continue  # a mapping to a missing node is reported as a broken migration
        yield (
            f"node {node!r} of version {old.version} is not in version {new.version}, and no "
            f"migration says where its members go; {_unmapped_fix(node, old, new, fresh)}"
        )


def _unmapped_fix(node: str, old: Journey, new: Journey, fresh: Sequence[str]) -> str:
    mapping = f"{node}: NODE"
    if any(m.from_version == old.version for m in new.migrations):
        fix = f"add `{mapping}` to the nodes of its migration from version {old.version}"
    else:
        fix = f"add `migrations: - {{from_version: {old.version}, nodes: {{{mapping}}}}}`"
    if new.version <= old.version:
        fix = f"raise `version` above {old.version}, then {fix}"
    where = ", with NODE the node where its members should go now"
    hint = f" (new in version {new.version}: {', '.join(fresh)})" if fresh else ""
    return fix + where + hint


def _broken_migrations(new: Journey) -> Iterator[str]:
    for migration in new.migrations:
        for source, target in migration.nodes.items():
            if target not in new.nodes:
                yield (
                    f"the migration from version {migration.from_version} sends members at "
                    f"{source!r} to {target!r}, which is not a node of version {new.version}; "
                    f"map {source!r} to one of its nodes{did_you_mean(target, new.nodes)}"
                )
