"""Reference and structure checks: every id a section names exists, and the graph is well formed.

Each check is a small generator over a :class:`Site` (the journey and where its parts stand)
that yields diagnostics; :func:`check_references` runs them all. Graph analysis (reachability,
traps, overlapping guards) is a later stage; these are the rules one can see without it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from topo.diagnostics import Diagnostic
from topo.journey.model import FIELD_KINDS, NUMBER_TYPES, PLACEHOLDER_WORDS, Metric
from topo.journey.site import Site
from topo.journey.source import Path
from topo.journey.suggestions import did_you_mean

__all__ = ["CHECKS", "check_references"]

_NUMBER_KINDS = frozenset({"sum", "min", "max"})
_VALUE_KINDS = frozenset({"sum", "min", "max", "last"})
"""Metric kinds whose value is (or is made of) the values they read."""
_SINCE_WORDS = frozenset({"entered", "activity"})


def check_references(site: Site) -> Iterator[Diagnostic]:
    """Every reference and structure problem of the site's journey."""
    for check in CHECKS:
        yield from check(site)


def _references(
    site: Site, section: str, name: str, what: str, places: Sequence[tuple[str, Path]]
) -> Iterator[Diagnostic]:
    """An ``unknown-*`` diagnostic for each place that names an id ``section`` lacks."""
    known = getattr(site.journey, section)  # read only for a suggestion, and only if any
    for value, path in places:
        if not site.declares(section, value):
            yield site.at(name, f"unknown {what} {value!r}{did_you_mean(value, known)}", path)


def owners_exist(site: Site) -> Iterator[Diagnostic]:
    """Every node's owner is a declared owner."""
    places = [
        (node.owner, ("nodes", node_id, "owner")) for node_id, node in site.journey.nodes.items()
    ]
    yield from _references(site, "owners", "unknown-owner", "owner", places)


def offerings_exist(site: Site) -> Iterator[Diagnostic]:
    """Every incentive's offering is a declared offering."""
    places = [
        (incentive.offering, ("incentives", incentive_id, "offering"))
        for incentive_id, incentive in site.journey.incentives.items()
        if incentive.offering is not None
    ]
    yield from _references(site, "offerings", "unknown-offering", "offering", places)


def nodes_exist(site: Site) -> Iterator[Diagnostic]:
    """Moves, reminders and migrations name declared nodes."""
    j = site.journey
    places: list[tuple[str, Path]] = []
    for i, move in enumerate(j.moves):
        places += [(node, ("moves", i, "from", k)) for k, node in enumerate(move.from_)]
        places.append((move.to, ("moves", i, "to")))
    for i, reminder in enumerate(j.reminders):
        places += [(node, ("reminders", i, "at", k)) for k, node in enumerate(reminder.at)]
        if reminder.toward is not None:
            places.append((reminder.toward, ("reminders", i, "toward")))
    for i, migration in enumerate(j.migrations):
        places += [(new, ("migrations", i, "nodes", old)) for old, new in migration.nodes.items()]
    yield from _references(site, "nodes", "unknown-node", "node", places)


def events_exist(site: Site) -> Iterator[Diagnostic]:
    """Moves are ``on`` declared event types; ``since`` names one (or entered/activity)."""
    types = site.event_types()
    places: list[tuple[str, Path]] = []
    for i, move in enumerate(site.journey.moves):
        places += [
            (t, ("moves", i, "on", k)) for k, t in enumerate(move.on or []) if t != "profile"
        ]
        if move.since is not None and not (
            move.since in _SINCE_WORDS | types or site.declares("events", move.since)
        ):
            message = (
                f"since: {move.since!r} is neither 'entered', 'activity' nor an event type"
                f"{did_you_mean(move.since, _SINCE_WORDS | types)}"
            )
            yield site.at("unknown-event", message, ("moves", i, "since"))
    yield from _references(site, "events", "unknown-event", "event type", places)


def incentives_exist(site: Site) -> Iterator[Diagnostic]:
    """Moves, nodes and reminders grant declared incentives."""
    j = site.journey
    places: list[tuple[str, Path]] = []
    for i, move in enumerate(j.moves):
        places += [(inc, ("moves", i, "incentives", k)) for k, inc in enumerate(move.incentives)]
    for node_id, node in j.nodes.items():
        places += [(inc, ("nodes", node_id, "on_enter", k)) for k, inc in enumerate(node.on_enter)]
    for i, reminder in enumerate(j.reminders):
        places.append((reminder.incentive, ("reminders", i, "incentive")))
    yield from _references(site, "incentives", "unknown-incentive", "incentive", places)


def metric_sources(site: Site) -> Iterator[Diagnostic]:
    """A metric reads a declared event type, and a declared field of a suitable type."""
    for metric_id, metric in site.journey.metrics.items():
        yield from _metric_source(site, metric_id, metric)


def _metric_source(site: Site, metric_id: str, metric: Metric) -> Iterator[Diagnostic]:
    path = ("metrics", metric_id, metric.kind)
    kind, event_type, field = metric.kind, metric.event_type, metric.field
    if kind in FIELD_KINDS and field is None:
        yield site.at(
            "metric-source",
            f"{kind}: {metric.source!r} needs a field: write TYPE.FIELD, as in purchase.amount",
            path,
        )
        return
    if kind not in FIELD_KINDS and field is not None:
        yield site.at(
            "metric-source",
            f"{kind}: {metric.source!r} counts events, not a field: write only the event type",
            path,
        )
        return
    if event_type == "any":
        if kind in FIELD_KINDS:
            yield site.at(
                "metric-any",
                f"{kind} reads one event type's field; "
                "'any' works only for count, first_at and last_at",
                path,
            )
        return
    if event_type != "profile" and not site.declares("events", event_type):
        yield from _references(site, "events", "unknown-event", "event type", [(event_type, path)])
        return
    fields = site.fields_of(event_type)
    if field is None or fields is None:
        return
    if field not in fields:
        hint = did_you_mean(field, fields)
        message = f"the event type {event_type!r} declares no field {field!r}{hint}"
        yield site.at("unknown-field", message, path)
    elif kind in _NUMBER_KINDS and fields[field] not in NUMBER_TYPES:
        message = f"{kind} needs a number, but {event_type}.{field} is of type {fields[field]}"
        yield site.at("metric-field-type", message, path)
    elif kind in _VALUE_KINDS and _pii(site, field):
        # A field named like a pii attribute holds its value in any event (rejects mask it
        # in every event type for that reason): one rule for both.
        whose = "" if event_type == "profile" else "a field named like "
        message = (
            f"{kind} carries the value of {whose}the pii attribute {field!r}, and a metric's value "
            "is shown in states, explanations and messages; count or distinct (numbers that "
            f"do not show it) may read it, or compare it in a guard as member.{field}"
        )
        yield site.at("pii-metric", message, path)


def _pii(site: Site, attribute: str) -> bool:
    declared = site.journey.attributes.get(attribute)
    return declared is not None and declared.pii


def field_declarations(site: Site) -> Iterator[Diagnostic]:
    """``min``/``max`` only on numbers and in order; ``one_of`` values of the field's type."""
    for event_id, event in site.journey.events.items():
        for field_id, field in event.fields.items():
            path = ("events", event_id, "fields", field_id)
            numeric = field.type in NUMBER_TYPES
            for bound in ("min", "max"):
                if getattr(field, bound) is not None and not numeric:
                    yield site.at(
                        "invalid-field",
                        f"{bound} applies to numbers, and {field_id!r} is of type {field.type}",
                        (*path, bound),
                        key=True,
                    )
            if (
                numeric
                and field.min is not None
                and field.max is not None
                and field.min > field.max
            ):
                yield site.at(
                    "invalid-field",
                    f"min {field.min} is larger than max {field.max}; no value can pass",
                    (*path, "min"),
                )
            for k, value in enumerate(field.one_of or []):
                if not _fits(value, field.type):
                    yield site.at(
                        "invalid-field",
                        f"one_of value {value!r} is not of the field's type {field.type}",
                        (*path, "one_of", k),
                    )


def _fits(value: object, value_type: str) -> bool:
    if isinstance(value, bool):
        return value_type == "bool"
    if isinstance(value, int):
        return value_type in ("int", "float")
    if isinstance(value, float):
        return value_type == "float"
    return value_type in ("str", "date", "datetime")


def node_kinds(site: Site) -> Iterator[Diagnostic]:
    """Exactly one start node and at least one peak."""
    nodes = site.journey.nodes
    starts = [node_id for node_id, node in nodes.items() if node.kind == "start"]
    if not site.complete("nodes"):
        return  # a broken node may be the start or the peak; its own error says enough
    if not starts:
        yield site.at(
            "start-count",
            "no node has kind: start; a journey has exactly one start",
            ("nodes",),
            key=True,
        )
    for extra in starts[1:]:
        message = (
            f"a second start node {extra!r}; the start is {starts[0]!r}, and there is exactly one"
        )
        yield site.at("start-count", message, ("nodes", extra, "kind"))
    if not any(node.kind == "peak" for node in nodes.values()):
        yield site.at(
            "no-peak",
            "no node has kind: peak; a journey needs at least one peak (its goal)",
            ("nodes",),
            key=True,
        )


def move_shapes(site: Site) -> Iterator[Diagnostic]:
    """Each move has ``on`` xor ``after``, ``since`` only with ``after``, and no self-loop."""
    nodes = site.journey.nodes
    for i, move in enumerate(site.journey.moves):
        path: Path = ("moves", i)
        if move.on is not None and move.after is not None:
            yield site.at(
                "on-or-after",
                "a move has either `on` (an event) or `after` (a timer), not both",
                (*path, "after"),
                key=True,
            )
        elif move.on is None and move.after is None:
            yield site.at(
                "on-or-after", "a move needs `on` (an event type) or `after` (a duration)", path
            )
        if move.since is not None and move.after is None:
            yield site.at(
                "since-without-after",
                "`since` says when a timer starts; it needs `after`",
                (*path, "since"),
                key=True,
            )
        for k, source in enumerate(move.from_):
            if source == move.to:
                yield site.at(
                    "self-move",
                    f"a move from {source!r} to itself; a member already there cannot move there",
                    (*path, "from", k),
                )
            elif source in nodes and nodes[source].kind == "exit":
                yield site.at(
                    "move-from-exit",
                    f"{source!r} is an exit node; members there never move again",
                    (*path, "from", k),
                )
        if move.to in nodes and nodes[move.to].kind == "start":
            yield site.at(
                "move-into-start",
                f"{move.to!r} is the start node; members enter it only by their first event",
                (*path, "to"),
            )


def exit_grants(site: Site) -> Iterator[Diagnostic]:
    """Exit nodes grant nothing: no on_enter, no incentives on moves into them, no reminders."""
    j = site.journey
    exits = {node_id for node_id, node in j.nodes.items() if node.kind == "exit"}
    for node_id in exits:
        if j.nodes[node_id].on_enter:
            yield site.at(
                "exit-incentive",
                f"{node_id!r} is an exit node; members there get no incentives",
                ("nodes", node_id, "on_enter"),
                key=True,
            )
    for i, move in enumerate(j.moves):
        if move.to in exits and move.incentives:
            yield site.at(
                "exit-incentive",
                f"this move enters the exit node {move.to!r}, which grants nothing",
                ("moves", i, "incentives"),
                key=True,
            )
    for i, reminder in enumerate(j.reminders):
        for k, node_id in enumerate(reminder.at):
            if node_id in exits:
                yield site.at(
                    "exit-incentive",
                    f"{node_id!r} is an exit node; members there get no reminders",
                    ("reminders", i, "at", k),
                )


def move_ids(site: Site) -> Iterator[Diagnostic]:
    """Move ids are unique, and reminders' ``ahead_of`` name one."""
    j = site.journey
    counts = Counter(move.id for move in j.moves if move.id is not None)
    first: dict[str, int] = {}
    for i, move in enumerate(j.moves):
        if move.id is None:
            continue
        if move.id in first:
            line = site.at("duplicate-move-id", "", ("moves", first[move.id], "id")).line
            message = f"another move already has the id {move.id!r} (at line {line})"
            yield site.at("duplicate-move-id", message, ("moves", i, "id"))
        else:
            first[move.id] = i
    if not site.complete("moves"):
        return  # a broken move may carry the id
    for i, reminder in enumerate(j.reminders):
        if reminder.ahead_of is not None and reminder.ahead_of not in counts:
            message = (
                f"unknown move id {reminder.ahead_of!r}{did_you_mean(reminder.ahead_of, counts)}"
            )
            yield site.at("unknown-move", message, ("reminders", i, "ahead_of"))


def reminder_shapes(site: Site) -> Iterator[Diagnostic]:
    """A reminder has ``toward`` or ``ahead_of``; ``by`` goes with ``ahead_of`` and only with it."""
    for i, reminder in enumerate(site.journey.reminders):
        path: Path = ("reminders", i)
        if reminder.toward is None and reminder.ahead_of is None:
            yield site.at(
                "reminder-shape",
                "a reminder needs `toward` (a node) or `ahead_of` (a timer move id)",
                path,
            )
        elif reminder.toward is not None and reminder.ahead_of is not None:
            yield site.at(
                "reminder-shape",
                "a reminder has `toward` or `ahead_of`, not both",
                (*path, "ahead_of"),
                key=True,
            )
        if reminder.ahead_of is not None and reminder.by is None:
            yield site.at(
                "reminder-shape",
                "an `ahead_of` reminder needs `by`: how long before the move it fires",
                (*path, "ahead_of"),
                key=True,
            )
        if reminder.by is not None and reminder.ahead_of is None:
            yield site.at(
                "reminder-shape", "`by` belongs to an `ahead_of` reminder", (*path, "by"), key=True
            )


def migrations(site: Site) -> Iterator[Diagnostic]:
    """Each migration comes from an older version, and each version has at most one."""
    j = site.journey
    seen: set[int] = set()
    for i, migration in enumerate(j.migrations):
        path = ("migrations", i, "from_version")
        if migration.from_version >= j.version:
            yield site.at(
                "invalid-migration",
                f"from_version {migration.from_version} is not older than "
                f"this journey's version {j.version}",
                path,
            )
        elif migration.from_version in seen:
            yield site.at(
                "invalid-migration",
                f"a second migration from version {migration.from_version}",
                path,
            )
        seen.add(migration.from_version)


def names_distinct(site: Site) -> Iterator[Diagnostic]:
    """Metrics and attributes have distinct names, none of them a message's own placeholder.

    A message placeholder ``{x}`` names a metric or an attribute; if both were called ``x``,
    or either were called ``offering`` or ``incentive``, the message could not say which.
    """
    j = site.journey
    for name in j.metrics:
        if name in j.attributes:
            message = f"{name!r} is both a metric and an attribute; a message could not tell which"
            yield site.at("name-clash", message, ("metrics", name), key=True)
    for section in ("metrics", "attributes"):
        for name in getattr(j, section):
            if name in PLACEHOLDER_WORDS:
                message = f"{name!r} is a message placeholder of its own; choose another name"
                yield site.at("name-clash", message, (section, name), key=True)


CHECKS: tuple[Callable[[Site], Iterator[Diagnostic]], ...] = (
    owners_exist,
    offerings_exist,
    nodes_exist,
    events_exist,
    incentives_exist,
    metric_sources,
    field_declarations,
    node_kinds,
    move_shapes,
    exit_grants,
    move_ids,
    reminder_shapes,
    migrations,
    names_distinct,
)
