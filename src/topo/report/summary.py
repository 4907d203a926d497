"""The report's figures: what a population did on a journey, as JSON-ready data.

:func:`summarise` reads each member's history once (:mod:`topo.report.walks`) and counts. Every
figure comes from the journey, the members' histories, ``joined_at``, node and ``entered_at``,
and the time the run ended; no member id and no attribute is read, so the summary holds no pii.
Lists are in the journey's file order (nodes, moves, incentives, owners) or sorted (weeks,
reasons, channels), so the same states give the same JSON byte for byte. docs/report.md
describes every figure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from topo._version import __version__
from topo.engine.member_state import MemberState
from topo.journey.model import Journey
from topo.report.control_groups import control_groups
from topo.report.survival import kaplan_meier
from topo.report.walks import Walk, walk

__all__ = ["FORMAT", "summarise", "summarise_walks"]

FORMAT = 1
"""The summary's format version (``schema/summary-1.schema.json``)."""

_DAY = 86400.0
_DEFAULT_PER = timedelta(days=7)


def summarise(
    journey: Journey,
    states: Iterable[MemberState],
    *,
    end: datetime,
    window: timedelta = timedelta(days=30),
    source: str = "replay",
) -> dict[str, Any]:
    """The summary of ``states`` (every member of a run) on ``journey``, as of ``end`` (the
    time the run ended: members still on the way are counted up to then)."""
    return summarise_walks(
        journey, [walk(state) for state in states], end=end, window=window, source=source
    )


def summarise_walks(
    journey: Journey,
    walks: Iterable[Walk],
    *,
    end: datetime,
    window: timedelta = timedelta(days=30),
    source: str = "replay",
) -> dict[str, Any]:
    """:func:`summarise` of the members' walks (:func:`topo.report.walks.walk`) in the order
    of their states: what processes that each hold some of the members send back."""
    if end.tzinfo is None:
        raise ValueError("end must be an aware datetime (with an offset)")
    if window <= timedelta(0):
        raise ValueError("the control groups' window must be positive")
    ordered = sorted(walks, key=_order)
    return {
        "format": FORMAT,
        "header": _header(journey, ordered, end, window, source),
        "funnel": _funnel(journey, ordered),
        "moves": _moves(journey, ordered),
        "time": _time(journey, ordered, end),
        "stuck": _stuck(journey, ordered, end),
        "incentives": _incentives(journey, ordered, end),
        "pressure": _pressure(journey, ordered),
        "control_groups": control_groups(journey, ordered, window),
        "owners": _owners(journey, ordered),
    }


def _order(member: Walk) -> tuple[Any, ...]:
    # Members are counted, never named: any fixed order would do; this one needs no id.
    return (member.joined, member.node, member.entered, len(member.steps), len(member.grants))


def _days(span: timedelta) -> float:
    return round(max(span.total_seconds(), 0.0) / _DAY, 6)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _header(
    journey: Journey, walks: Sequence[Walk], end: datetime, window: timedelta, source: str
) -> dict[str, Any]:
    start = min((w.joined for w in walks), default=None)
    return {
        "journey": journey.journey,
        "version": journey.version,
        "title": journey.title,
        "source": source,
        "start": None if start is None else start.isoformat(),
        "end": end.isoformat(),
        "members": len(walks),
        "window_days": _days(window),
        "runs": 1,
        "topo": __version__,
    }


def _funnel(journey: Journey, walks: Sequence[Walk]) -> dict[str, Any]:
    reached: Counter[str] = Counter()
    for member in walks:
        reached.update(member.reached())
    at_end = Counter(member.node for member in walks)
    nodes = [
        {
            "node": node,
            "kind": spec.kind,
            "owner": spec.owner,
            "reached": reached[node],
            "share": _share(reached[node], len(walks)),
            "at_end": at_end[node],
        }
        for node, spec in journey.nodes.items()
    ]
    return {"joined": len(walks), "nodes": nodes}


def _edges(journey: Journey) -> list[tuple[str, str]]:
    """Every (from, to) of the journey's moves, in file order, once."""
    found: dict[tuple[str, str], None] = {}
    for move in journey.moves:
        for source in move.from_:
            found[(source, move.to)] = None
    return list(found)


def _moves(journey: Journey, walks: Sequence[Walk]) -> dict[str, Any]:
    edges: dict[tuple[str, str], list[int]] = {edge: [0, 0] for edge in _edges(journey)}
    labels: dict[str, list[Any]] = {
        move.id or f"moves[{i}]": [move.to, 0, 0] for i, move in enumerate(journey.moves)
    }
    extra_edges, extra_labels = [], []
    for member in walks:
        taken_edges = Counter((s.source, s.target) for s in member.steps)
        taken_labels = Counter(s.label for s in member.steps)
        for edge, count in taken_edges.items():
            if edge not in edges:
                edges[edge] = [0, 0]
                extra_edges.append(edge)
            edges[edge][0] += count
            edges[edge][1] += 1
        for label, count in taken_labels.items():
            if label not in labels:
                to = next(s.target for s in member.steps if s.label == label)
                labels[label] = [to, 0, 0]
                extra_labels.append(label)
            labels[label][1] += count
            labels[label][2] += 1
    # Moves the journey does not have (a migration's) come last, sorted.
    edge_order = [e for e in edges if e not in extra_edges] + sorted(extra_edges)
    label_order = [m for m in labels if m not in extra_labels] + sorted(extra_labels)
    return {
        "edges": [
            {"from": a, "to": b, "moves": edges[(a, b)][0], "members": edges[(a, b)][1]}
            for a, b in edge_order
        ],
        "labels": [
            {"move": m, "to": labels[m][0], "moves": labels[m][1], "members": labels[m][2]}
            for m in label_order
        ],
    }


def _quartiles(durations: list[float], arrived: list[bool]) -> dict[str, Any]:
    curve = kaplan_meier(durations, arrived)
    q1, median, q3 = curve.quartiles()
    return {
        "arrived": curve.arrived,
        "censored": curve.censored,
        "q1": q1,
        "median": median,
        "q3": q3,
    }


def _time(journey: Journey, walks: Sequence[Walk], end: datetime) -> dict[str, Any]:
    to_node = []
    for node, spec in journey.nodes.items():
        if spec.kind == "start":
            continue
        durations, arrived = [], []
        for member in walks:
            first = next((s.at for s in member.steps if s.target == node), None)
            durations.append(_days((first or end) - member.joined))
            arrived.append(first is not None)
        to_node.append({"node": node, **_quartiles(durations, arrived)})
    edges = []
    for source, target in _edges(journey):
        durations, arrived = [], []
        for member in walks:
            for stay in member.stays:
                if stay.node != source:
                    continue
                left = end if stay.step is None else stay.step.at
                durations.append(_days(left - stay.entered))
                arrived.append(stay.step is not None and stay.step.target == target)
        edges.append(
            {
                "from": source,
                "to": target,
                "stays": len(durations),
                **_quartiles(durations, arrived),
            }
        )
    return {"to_node": to_node, "edges": edges}


def _stuck(journey: Journey, walks: Sequence[Walk], end: datetime) -> list[dict[str, Any]]:
    rows = []
    for node, spec in journey.nodes.items():
        if spec.kind not in ("start", "checkpoint"):
            continue
        days = np.array([_days(end - m.entered) for m in walks if m.node == node], dtype=float)
        row: dict[str, Any] = {"node": node, "kind": spec.kind, "members": int(days.size)}
        if days.size:
            q1, median, q3 = (round(float(q), 6) for q in np.percentile(days, [25, 50, 75]))
            row.update(q1=q1, median=median, q3=q3, max=float(days.max()))
        else:
            row.update(q1=None, median=None, q3=None, max=None)
        rows.append(row)
    return rows


def _week(at: datetime) -> date:
    day = at.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _incentives(journey: Journey, walks: Sequence[Walk], end: datetime) -> dict[str, Any]:
    grants: Counter[str] = Counter()
    members: Counter[str] = Counter()
    by_owner: Counter[tuple[str, str]] = Counter()
    weeks: Counter[date] = Counter()
    week_cost: defaultdict[date, float] = defaultdict(float)
    withheld: Counter[tuple[str, str]] = Counter()
    for member in walks:
        got = set()
        for grant in member.grants:
            if not grant.granted:
                withheld[(grant.incentive, grant.why)] += 1
                continue
            grants[grant.incentive] += 1
            got.add(grant.incentive)
            by_owner[(grant.incentive, _owner(journey, grant.node))] += 1
            weeks[_week(grant.at)] += 1
            week_cost[_week(grant.at)] += _cost(journey, grant.incentive)
        members.update(got)
    rows: list[dict[str, Any]] = [
        {
            "incentive": name,
            "kind": spec.kind,
            "channel": spec.channel,
            "cost_each": float(spec.cost),
            "grants": grants[name],
            "members": members[name],
            "cost": round(float(spec.cost) * grants[name], 6),
            "withheld": sum(n for (i, _), n in withheld.items() if i == name),
        }
        for name, spec in journey.incentives.items()
    ]
    total = round(sum(float(row["cost"]) for row in rows), 6)
    return {
        "grants": sum(grants.values()),
        "total_cost": total,
        "cost_per_member": _share_cost(total, len(walks)),
        "by_incentive": rows,
        "by_owner": _grouped(journey, by_owner, "owner", lambda key: key[1]),
        "by_channel": _grouped(journey, by_owner, "channel", lambda key: _channel(journey, key[0])),
        "by_incentive_owner": [
            {"incentive": i, "owner": o, "grants": n, "cost": round(_cost(journey, i) * n, 6)}
            for (i, o), n in sorted(by_owner.items(), key=lambda kv: _rank(journey, kv[0]))
        ],
        "weeks": _weeks(walks, end, weeks, week_cost),
        "withheld": [
            {"incentive": i, "reason": r, "withheld": n} for (i, r), n in sorted(withheld.items())
        ],
        "withheld_by_reason": [
            {"reason": r, "withheld": n}
            for r, n in sorted(Counter(r for (_, r) in withheld.elements()).items())
        ],
    }


def _owner(journey: Journey, node: str) -> str:
    spec = journey.nodes.get(node)
    return spec.owner if spec is not None else "(unknown)"


def _channel(journey: Journey, incentive: str) -> str:
    spec = journey.incentives.get(incentive)  # one a later version of the journey dropped
    return spec.channel if spec is not None else "(unknown)"


def _cost(journey: Journey, incentive: str) -> float:
    spec = journey.incentives.get(incentive)
    return float(spec.cost) if spec is not None else 0.0


def _share_cost(total: float, members: int) -> float | None:
    return round(total / members, 6) if members else None


def _rank(journey: Journey, key: tuple[str, str]) -> tuple[int, str, str]:
    incentives = list(journey.incentives)
    where = incentives.index(key[0]) if key[0] in incentives else len(incentives)
    return where, key[0], key[1]


def _grouped(
    journey: Journey, counts: Counter[tuple[str, str]], name: str, group: Any
) -> list[dict[str, Any]]:
    grants: Counter[str] = Counter()
    cost: defaultdict[str, float] = defaultdict(float)
    for key, n in counts.items():
        grants[group(key)] += n
        cost[group(key)] += _cost(journey, key[0]) * n
    return [{name: g, "grants": grants[g], "cost": round(cost[g], 6)} for g in sorted(grants)]


def _weeks(
    walks: Sequence[Walk], end: datetime, grants: Counter[date], cost: dict[date, float]
) -> list[dict[str, Any]]:
    """Every ISO week (Monday, UTC) from the first member's joining to the end, with none
    left out, so that a quiet week shows as a zero."""
    if not walks:
        return []
    first = min([_week(min(w.joined for w in walks)), *grants])
    last = max([_week(end), *grants])
    count = (last - first).days // 7 + 1  # (counted, not stepped past: the calendar ends)
    weeks = (first + timedelta(days=7 * k) for k in range(count))
    return [
        {"week": week.isoformat(), "grants": grants[week], "cost": round(cost.get(week, 0.0), 6)}
        for week in weeks
    ]


def _pressure(journey: Journey, walks: Sequence[Walk]) -> dict[str, Any]:
    setting = journey.settings.pressure
    per = setting.per if setting is not None else _DEFAULT_PER
    highest = [_most_in_window(member, per) for member in walks]
    counts = Counter(highest)
    top = max(highest, default=0)
    return {
        "per_days": _days(per),
        "limit": setting.max if setting is not None else None,
        "maximum": top,
        "histogram": [{"grants_in_window": k, "members": counts[k]} for k in range(top + 1)],
    }


def _most_in_window(member: Walk, per: timedelta) -> int:
    """The most grants the member got in any window ``(t - per, t]``."""
    times = sorted(g.at for g in member.grants if g.granted)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - per:
            first += 1
        most = max(most, last - first + 1)
    return most


def _owners(journey: Journey, walks: Sequence[Walk]) -> list[dict[str, Any]]:
    at_end = Counter(_owner(journey, member.node) for member in walks)
    grants: Counter[str] = Counter()
    cost: defaultdict[str, float] = defaultdict(float)
    for member in walks:
        for grant in member.grants:
            if grant.granted:
                owner = _owner(journey, grant.node)
                grants[owner] += 1
                cost[owner] += _cost(journey, grant.incentive)
    return [
        {
            "owner": owner,
            "title": spec.title,
            "nodes": [n for n, node in journey.nodes.items() if node.owner == owner],
            "members": at_end[owner],
            "grants": grants[owner],
            "cost": round(cost[owner], 6),
        }
        for owner, spec in journey.owners.items()
    ]
