"""Random small journeys and event streams, and what a runner makes of them.

Shared by the tests that run two implementations on the same input: the engine against the
reference machine (tests/rehearsal/test_reference.py) and a member's state written and read back
mid-stream (tests/engine/test_member_codec.py).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from hypothesis import strategies as st

import topo
from topo.journey.loader import load_text
from topo.validation import check_document

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GUARDS = [
    None,
    "spend >= 100",
    "spend >= 300",
    "orders >= 2",
    "spend < 200",
    "spend_30d >= 150",
    "orders >= 1 and spend < 500",
]


@st.composite
def journeys(draw: st.DrawFn) -> topo.Journey:
    """A small random journey: a start, checkpoints, a peak, an exit; moves, timers, caps."""
    middle = [f"n{i}" for i in range(draw(st.integers(1, 3)))]
    nodes: dict[str, Any] = {
        "s": {"kind": "start", "owner": "crm"},
        "p": {"kind": "peak", "owner": "crm"},
    }
    nodes |= {n: {"kind": "checkpoint", "owner": "crm"} for n in middle}
    nodes["x"] = {"kind": "exit", "owner": "crm"}
    incentives = {
        f"i{k}": {
            "kind": "gift",
            "channel": "email",
            "once": draw(st.booleans()),
            **({"cooldown": f"{draw(st.integers(1, 20))}d"} if draw(st.booleans()) else {}),
            **({"holdout": "50%"} if draw(st.integers(0, 4)) == 0 else {}),
            "message": "{node} {spend}",
        }
        for k in range(3)
    }
    names = list(incentives)
    path = ["s", *middle, "p"]
    for node in path:  # grants on entering a node, the start's on joining
        chosen = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
        if chosen:
            nodes[node]["on_enter"] = chosen
    moves: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(path):
        moves.append(
            {
                "from": a,
                "to": b,
                "on": draw(st.sampled_from(["tap", "buy", ["tap", "buy"]])),
                **_guard(draw),
                **grants(draw, names),
            }
        )
    for _ in range(draw(st.integers(0, 4))):
        source = draw(st.sampled_from(path))
        target = draw(st.sampled_from([n for n in path[1:] if n != source] or ["p"]))
        if target != source:
            moves.append(
                {
                    "from": source,
                    "to": target,
                    "on": draw(st.sampled_from(["tap", "buy"])),
                    **_guard(draw),
                    **grants(draw, names),
                }
            )
    timers = []
    for k in range(draw(st.integers(0, 2))):
        source = draw(st.sampled_from(path[1:]))
        target = draw(st.sampled_from([n for n in path[1:] if n != source] or ["x"]))
        timer = {
            "id": f"t{k}",
            "from": source,
            "to": target,
            "after": f"{draw(st.integers(2, 40))}d",
            "since": draw(st.sampled_from(["entered", "activity", "buy"])),
            **_guard(draw),
        }
        timers.append(timer)
    moves += timers
    moves.append({"from": path, "to": "x", "on": "quit"})
    reminders: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.sampled_from(path[1:-1] or ["p"]))
        reminders.append(
            {
                "at": at,
                "toward": "p",
                "incentive": draw(st.sampled_from(names)),
                **({"cooldown": "5d"} if draw(st.booleans()) else {}),
                **_guard(draw),
            }
        )
    reminders += ahead_of(draw, timers, names, _guard(draw))
    used = used_incentives(nodes, moves, reminders)
    document = {
        "topo": 1,
        "journey": "generated",
        "version": 1,
        "owners": {"crm": {}},
        "events": {
            "tap": {},
            "buy": {"fields": {"amount": {"type": "float", "min": 0}}},
            "quit": {},
        },
        "metrics": {
            "spend": {"sum": "buy.amount"},
            "orders": {"count": "buy"},
            "spend_30d": {"sum": "buy.amount", "window": "30d"},
        },
        "nodes": nodes,
        "moves": moves,
        "reminders": reminders,
        "incentives": {k: v for k, v in incentives.items() if k in used}
        or {"i0": incentives["i0"]},
        "settings": {
            **({"pressure": {"max": 2, "per": "7d"}} if draw(st.booleans()) else {}),
            **({"max_cascade": draw(st.integers(1, 3))} if draw(st.booleans()) else {}),
        },
    }
    text = yaml.safe_dump(document, sort_keys=False)
    loaded = load_text(text)
    assert loaded.document is not None, loaded.diagnostics
    journey, problems = check_document(loaded.document, analysis=False)
    assert journey is not None, [d.render() for d in problems]
    return journey


def ahead_of(
    draw: st.DrawFn, timers: list[dict[str, Any]], names: list[str], guard: dict[str, str]
) -> list[dict[str, Any]]:
    """An ``ahead_of`` reminder for the first timer, if any, halfway before it."""
    return [
        {
            "at": timer["from"],
            "ahead_of": timer["id"],
            "by": f"{max(1, int(timer['after'][:-1]) // 2)}d",
            "incentive": draw(st.sampled_from(names)),
            **guard,
        }
        for timer in timers[:1]
    ]


def used_incentives(
    nodes: dict[str, Any], moves: list[dict[str, Any]], reminders: list[dict[str, Any]]
) -> set[str]:
    """The incentives a journey's moves, reminders and nodes grant."""
    used = {i for m in moves for i in m.get("incentives", [])} | {r["incentive"] for r in reminders}
    return used | {i for node in nodes.values() for i in node.get("on_enter", [])}


def _guard(draw: st.DrawFn) -> dict[str, str]:
    guard = draw(st.sampled_from(GUARDS))
    return {} if guard is None else {"when": guard}


def grants(draw: st.DrawFn, names: list[str]) -> dict[str, list[str]]:
    """Up to two of the incentives, as a move's ``incentives``."""
    chosen = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    return {"incentives": chosen} if chosen else {}


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any] | datetime]:
    """Events of three members (some late, some repeated) and ticks."""
    items: list[dict[str, Any] | datetime] = []
    clock = 0
    for n in range(draw(st.integers(1, 30))):
        clock += draw(st.integers(0, 15 * 24))  # hours
        if draw(st.integers(0, 7)) == 0:
            items.append(T0 + timedelta(hours=clock))
            continue
        kind = draw(st.sampled_from(["tap", "buy", "buy", "buy", "quit"]))
        event: dict[str, Any] = {
            "id": f"e-{draw(st.integers(0, n))}",
            "member": draw(st.sampled_from(["a", "b", "c"])),
            "type": kind,
            "at": (T0 + timedelta(hours=clock - draw(st.sampled_from([0, 0, 0, 30])))).isoformat(),
        }
        if kind == "buy":
            event["amount"] = float(draw(st.integers(0, 400)))
        items.append(event)
    return items


def outcomes(runner: Any, items: list[dict[str, Any] | datetime]) -> list[Any]:
    found: list[Any] = []
    for item in items:
        if isinstance(item, datetime):
            found += [t.to_dict() for t in runner.tick(item)]
            continue
        try:
            found += [t.to_dict() for t in runner.process(item)]
        except topo.InvalidEvent as error:
            found.append(type(error).__name__)
    return found
