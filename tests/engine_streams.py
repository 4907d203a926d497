"""Random journeys that use every part of the format the engine runs, and streams to match.

For the differential tests of the journey compiler (tests/engine/test_journey_compiler.py):
attributes (one pii) set by ``profile`` events, metrics of every kind (windows, ``where``
filters), guards over metrics, attributes, event fields, times and functions, timers of every
``since``, reminders, caps, holdouts, messages, the ``late_events`` and ``extra_fields``
settings; and streams with invalid, duplicate and late events, profile events and ticks.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml
from hypothesis import strategies as st

import topo
from random_journeys import T0, ahead_of, grants, used_incentives
from topo.journey.loader import load_text
from topo.validation import check_document

MEMBERS = ("a", "b", "c", "d")
GUARDS = [
    None,
    "spend >= 100",
    "orders >= 2",
    "spend_30d >= 150",
    "orders >= 1 and spend < 500",
    "orders >= 3 or taps_7d >= 2",
    "not (spend < 50)",
    "member.tier == 'gold'",
    "member.tier in ['gold', 'silver'] and orders >= 1",
    "member.age >= 30",
    "event.amount > 120",
    "event.sku != null and event.sku == last_sku",
    "days_since(first_buy) >= 3",
    "days_since(entered_at) > 2",
    "days_between(first_buy, now) < 20",
    "1 <= orders < 4",
    "spend / orders >= 80",
    "orders % 2 == 0",
    "max(spend, 10) > min(biggest, 300)",
    "abs(spend - 200) < 100",
    "round(spend_30d) >= 100",
    "-spend < -30",
    "distinct_skus >= 2",
    "big_orders >= 1",
    "node == 'n0'",
    "orders",
    "last_sku",
    "spend * 2 + 1 >= 3000",
    "now > first_buy",
    "member.vip == true",
]


@st.composite
def engine_journeys(draw: st.DrawFn) -> topo.Journey:
    """A small journey using the parts of the format listed in the module's docstring."""
    middle = [f"n{i}" for i in range(draw(st.integers(1, 3)))]
    nodes: dict[str, Any] = {
        "s": {"kind": "start", "owner": "crm"},
        "p": {"kind": "peak", "owner": "crm"},
    }
    nodes |= {n: {"kind": "checkpoint", "owner": "crm"} for n in middle}
    nodes["x"] = {"kind": "exit", "owner": "crm"}
    messages = [None, "{node} {spend}", "hi {tier}, {incentive} at {node}: {spend_30d:.2f}"]
    incentives = {
        f"i{k}": {
            "kind": "gift",
            "channel": draw(st.sampled_from(["email", "push"])),
            "cost": draw(st.sampled_from([0, 2.5, 10])),
            "once": draw(st.booleans()),
            **({"cooldown": f"{draw(st.integers(1, 20))}d"} if draw(st.booleans()) else {}),
            **({"holdout": "50%"} if draw(st.integers(0, 4)) == 0 else {}),
            **({"message": m} if (m := draw(st.sampled_from(messages))) else {}),
        }
        for k in range(3)
    }
    names = list(incentives)
    path = ["s", *middle, "p"]
    for node in path:
        chosen = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
        if chosen:
            nodes[node]["on_enter"] = chosen
    moves: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(path):
        on = _on(draw)
        moves.append(
            {"from": a, "to": b, "on": on, **_guard(draw, on == "buy"), **grants(draw, names)}
        )
    for k in range(draw(st.integers(0, 5))):
        on = _on(draw)
        source = draw(st.sampled_from(path))
        target = draw(st.sampled_from([n for n in path[1:] if n != source]))
        moves.append(
            {
                **({"id": f"m{k}"} if draw(st.booleans()) else {}),
                "from": source,
                "to": target,
                "on": on,
                **_guard(draw, on == "buy"),
                **grants(draw, names),
            }
        )
    timers = []
    for k in range(draw(st.integers(0, 2))):
        source = draw(st.sampled_from(path[1:]))
        target = draw(st.sampled_from([n for n in [*path[1:], "x"] if n != source]))
        timers.append(
            {
                "id": f"t{k}",
                "from": source,
                "to": target,
                "after": f"{draw(st.integers(2, 40))}d",
                "since": draw(st.sampled_from(["entered", "activity", "buy"])),
                **_guard(draw),
                **(grants(draw, names) if target != "x" else {}),
            }
        )
    moves += timers
    moves.append({"from": path, "to": "x", "on": "quit"})
    reminders: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.lists(st.sampled_from(path), min_size=1, max_size=2, unique=True))
        reminders.append(
            {
                "at": at,
                "toward": draw(st.sampled_from(["p", *middle])),
                "incentive": draw(st.sampled_from(names)),
                **({"cooldown": "5d"} if draw(st.booleans()) else {}),
                **_guard(draw),
            }
        )
    reminders += ahead_of(draw, timers, names, _guard(draw))
    used = used_incentives(nodes, moves, reminders)
    settings: dict[str, Any] = {}
    if draw(st.booleans()):
        settings["pressure"] = {"max": draw(st.integers(1, 3)), "per": "7d"}
    if draw(st.booleans()):
        settings["max_cascade"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        settings["late_events"] = "ignore"
    if draw(st.booleans()):
        settings["extra_fields"] = "ignore"
    if draw(st.booleans()):
        settings["dedup_window"] = draw(st.sampled_from(["1d", "10d"]))
    document = {
        "topo": 1,
        "journey": "generated",
        "version": 1,
        "owners": {"crm": {}},
        "attributes": {
            "tier": {"type": "str"},
            "age": {"type": "int"},
            "vip": {"type": "bool"},
            "email": {"type": "str", "pii": True},
        },
        "events": {
            "tap": {},
            "buy": {
                "fields": {
                    "amount": {"type": "float", "min": 0},
                    "sku": {"type": "str", "required": False},
                    "qty": {"type": "int", "min": 1, "max": 99, "required": False},
                }
            },
            "quit": {"fields": {"reason": {"type": "str", "required": False}}},
        },
        "metrics": {
            "spend": {"sum": "buy.amount"},
            "orders": {"count": "buy"},
            "spend_30d": {"sum": "buy.amount", "window": "30d"},
            "taps_7d": {"count": "tap", "window": "7d"},
            "last_sku": {"last": "buy.sku"},
            "biggest": {"max": "buy.amount"},
            "smallest_30d": {"min": "buy.amount", "window": "30d"},
            "distinct_skus": {"distinct": "buy.sku"},
            "first_buy": {"first_at": "buy"},
            "last_seen": {"last_at": "any"},
            "big_orders": {"count": "buy", "where": "event.amount >= 100"},
            "gold_spend": {"sum": "buy.amount", "where": "member.tier == 'gold'"},
        },
        "nodes": nodes,
        "moves": moves,
        "reminders": reminders,
        "incentives": {k: v for k, v in incentives.items() if k in used}
        or {"i0": incentives["i0"]},
        "settings": settings,
    }
    text = yaml.safe_dump(document, sort_keys=False)
    loaded = load_text(text)
    assert loaded.document is not None, loaded.diagnostics
    journey, problems = check_document(loaded.document, analysis=False)
    assert journey is not None, [d.render() for d in problems]
    return journey


def _on(draw: st.DrawFn) -> str | list[str]:
    return draw(st.sampled_from(["tap", "buy", ["tap", "buy"], "buy"]))


def _guard(draw: st.DrawFn, event: bool = False) -> dict[str, str]:
    """A guard; one that reads the event's fields only for a move on an event."""
    guard = draw(
        st.sampled_from(GUARDS if event else [g for g in GUARDS if "event." not in (g or "")])
    )
    return {} if guard is None else {"when": guard}


_ODD_EVENTS: list[Any] = [
    {"id": "odd-1", "member": "a", "type": "buy", "at": "2026-01-02T00:00:00"},  # naive
    {"id": "odd-2", "member": "a", "type": "buy", "at": "2026-01-02T00:00:00+00:00"},  # no amount
    {"id": "odd-3", "member": "b", "type": "buy", "at": "2026-01-02T00:00:00Z", "amount": -1.0},
    {"id": "odd-4", "member": "b", "type": "nope", "at": "2026-01-02T00:00:00Z"},
    {"id": "odd-5", "member": "c", "type": "tap", "at": "2026-01-02T00:00:00Z", "extra": 1},
    {"id": "", "member": "c", "type": "tap", "at": "2026-01-02T00:00:00Z"},
    {"id": "odd-7", "member": 7, "type": "tap", "at": "2026-01-02T00:00:00Z"},
    {"id": "odd-8", "member": "d", "type": "buy", "at": "2026-01-02T00:00:00Z", "amount": True},
    {"id": "odd-9", "member": "d", "type": "buy", "at": "2026-01-02T00:00:00Z", "amount": "3"},
    {"id": "odd-10", "member": "a", "type": "profile", "at": "2026-01-02T00:00:00Z", "age": "x"},
    {"id": "odd-11", "member": "a", "type": "buy", "at": "2026-13-02T00:00:00Z", "amount": 1.0},
    {"id": "odd-12", "member": "a", "type": "buy", "at": "0001-01-01T00:00:00Z", "amount": 1.0},
    {"id": "odd-13", "member": "é", "type": "tap", "at": "2026-01-02T00:00:00Z"},
    {"id": "odd-14", "member": "b", "type": "buy", "at": "2026-01-02T00:00:00Z", "amount": None},
    {"id": "odd-15", "member": "b", "type": "buy", "at": "2026-01-02t00:00:00z", "amount": 5},
    {"id": "odd-16", "member": "b", "type": "quit", "at": "2026-01-02T00:00:00Z", "reason": None},
    {
        "id": "odd-17",
        "member": "c",
        "type": "buy",
        "at": "2026-01-02T00:00:00Z",
        "amount": float("nan"),
    },
    {"id": "odd-18", "member": "c", "type": "buy", "at": "2026-01-02T00:00:00Z", "amount": 1e300},
    "not an event",
    ["a", "list"],
]


@st.composite
def engine_streams(draw: st.DrawFn) -> list[dict[str, Any] | datetime]:
    """Events of four members (late, repeated, invalid ones among them), profile events that
    set and clear attributes (the pii one too), and ticks; times with various offsets."""
    items: list[Any] = []
    clock = 0
    for n in range(draw(st.integers(1, 40))):
        clock += draw(st.integers(0, 10 * 24))  # hours
        roll = draw(st.integers(0, 19))
        if roll == 0:
            items.append(T0 + timedelta(hours=clock))
            continue
        if roll == 1:
            odd = draw(st.sampled_from(_ODD_EVENTS))
            items.append(dict(odd) if isinstance(odd, dict) else odd)
            continue
        kind = draw(st.sampled_from(["tap", "buy", "buy", "buy", "quit", "profile"]))
        offset = draw(st.sampled_from([0, 0, 8, -5]))
        at = T0 + timedelta(hours=clock - draw(st.sampled_from([0, 0, 0, 0, 30])))
        event: dict[str, Any] = {
            "id": f"e-{draw(st.integers(0, n))}",
            "member": draw(st.sampled_from(MEMBERS)),
            "type": kind,
            "at": _written(
                at.astimezone(timezone(timedelta(hours=offset))), draw(st.integers(0, 5))
            ),
        }
        if kind == "buy":
            event["amount"] = draw(st.sampled_from([0, 5.5, 40.0, 99.99, 120, 250.0, 400.0]))
            if draw(st.booleans()):
                event["sku"] = draw(st.sampled_from(["x", "y", "z"]))
            if draw(st.booleans()):
                event["qty"] = draw(st.sampled_from([1, 3, 99, 0, 100, True, 2.0, None, -(2**70)]))
        elif kind == "quit" and draw(st.booleans()):
            event["reason"] = "bored"
        elif kind == "profile":
            for name, values in (
                ("tier", ["gold", "silver", "bronze", None]),
                ("age", [25, 40, None]),
                ("vip", [True, False, None]),
                ("email", ["someone@example.com", None]),
            ):
                if draw(st.booleans()):
                    event[name] = draw(st.sampled_from(values))
        items.append(event)
    return items


def _written(at: datetime, style: int) -> str:
    """``at`` as RFC 3339 text, in one of the ways a source may write it: as ``isoformat``
    does, with ``Z``, with ``-00:00``, with milliseconds, with six digits of zeros, with
    microseconds."""
    text = at.isoformat()
    if style == 1 and text.endswith("+00:00"):
        return text[:-6] + "Z"
    if style == 2 and text.endswith("+00:00"):
        return text[:-6] + "-00:00"
    if style == 3:
        return text[:19] + ".250" + text[19:]
    if style == 4:
        return text[:19] + ".000000" + text[19:]
    if style == 5:
        return text[:19] + ".000017" + text[19:]
    return text
