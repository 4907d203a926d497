"""Benchmark: the engine, compiled and interpreted, against a hand-written loop and a shared
``transitions`` Machine.

    python benchmarks/engine.py [--events 1000000] [--members 100000] [--repeat 3]
                                [--cdnow data/cdnow/events.jsonl.gz]

Every contender runs the journey of ``benchmarks/engine-journey.yaml`` (windows, caps,
reminders) on the same synthetic stream (with duplicate and late events): the hand-written
loop, topo at its defaults (the journey compiled to Python, no explanations), topo
interpreted, both with ``explain=True`` (each member's last 20 steps kept), and a shared
``transitions`` Machine; topo also runs the CDNOW purchases through ``journeys/cdnow.yaml``.
Before timing, every contender is checked to give the same triggers on 50,000 events, and
compiled and interpreted topo the same states and explanations.

Timing alternates: each round runs every contender once, each run in a process of its own
(so that peak memory is its own), timed in CPU seconds (the machine is shared); the table
gives the median events/s over ``--repeat`` rounds, the ratio to the hand-written loop and to
the interpreter with the same explanations setting, and peak RSS. Then the bytes each keeps
per member (tracemalloc) after 4 and after 16 events a member, with and without window
buffers and recent event ids.

The hand-written loop is what a user would write without topo, with the same guarantees: event
checks, duplicate ids within 30 days, late events, an exact 30-day window, once, cooldowns,
once-per-stay reminders, and the pressure cap.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from math import fsum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JOURNEY = ROOT / "benchmarks" / "engine-journey.yaml"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
DAY = 86_400_000_000


def stream(events: int, members: int, seed: int = 1) -> list[dict[str, Any]]:
    """Events in global time order; each member's in its own order, but for a few late ones."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    last: dict[int, tuple[str, datetime]] = {}
    clock = T0
    for n in range(events):
        clock += timedelta(seconds=rng.randrange(1, 120))
        member = rng.randrange(members)
        roll = rng.random()
        if roll < 0.01 and member in last:  # a resend of the member's last event
            event_id, at = last[member]
        elif roll < 0.015 and member in last:  # a late event
            event_id, at = f"e{n}", last[member][1] - timedelta(hours=1)
        else:
            event_id, at = f"e{n}", clock
            last[member] = (event_id, at)
        event: dict[str, Any] = {"id": event_id, "member": f"m{member}", "at": at.isoformat()}
        if rng.random() < 0.8:
            event |= {"type": "purchase", "amount": round(rng.uniform(5, 400), 2)}
        else:
            event["type"] = "visit"
        out.append(event)
    return out


def cdnow(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as text:
        return [json.loads(line) for line in text]


# -- topo ------------------------------------------------------------------------------------


def run_topo(
    events: list[dict[str, Any]],
    journey: Path = JOURNEY,
    *,
    interpret: bool = False,
    explain: bool | int = False,
) -> tuple[list[dict[str, Any]], Any]:
    """topo at its defaults (the compiled event path, no explanations), or as asked."""
    import topo

    engine = topo.Engine(topo.load_journey(journey), explain=explain, interpret=interpret)
    out = engine.process_many(events, on_reject=lambda event, error: None)
    return [t.to_dict() for t in out], engine


# -- the hand-written loop -------------------------------------------------------------------


class Member:
    """A member as the hand-written loop keeps one."""

    __slots__ = (
        "clock",
        "entered",
        "granted",
        "grants",
        "node",
        "nudged",
        "orders",
        "seen",
        "visits",
        "window",
    )

    def __init__(self, at: int, at_text: str) -> None:
        self.node, self.entered, self.clock = "visitor", at_text, at
        self.seen: dict[str, int] = {}
        self.window: deque[tuple[int, float]] = deque()
        self.orders = self.visits = 0
        self.granted: dict[str, int] = {}
        self.grants: deque[int] = deque()
        self.nudged = False


COOLDOWN = {"vip_gift": 30 * DAY, "nudge": 7 * DAY}
CHANNEL = {"welcome": "email", "vip_gift": "mail", "nudge": "push"}
COST = {"welcome": 5.0, "vip_gift": 50.0, "nudge": 0.0}


def spend(m: Member, at: int) -> float:
    while m.window and m.window[0][0] <= at - 30 * DAY:
        m.window.popleft()
    return fsum(a for _, a in m.window) if m.window else 0


def grant(
    m: Member, member: str, incentive: str, at: int, at_text: str, reason: str, src: str | None,
    dst: str, cause: str, place: list[int], out: list[dict[str, Any]], reminder: bool = False,
) -> None:  # fmt: skip
    last = m.granted.get(incentive)
    if incentive == "welcome" and last is not None:
        return
    if incentive in COOLDOWN and last is not None and at - last < COOLDOWN[incentive]:
        return
    if reminder and m.nudged:
        return
    while m.grants and m.grants[0] <= at - 7 * DAY:
        m.grants.popleft()
    if len(m.grants) >= 3:
        return
    m.granted[incentive] = at
    m.grants.append(at)
    if reminder:
        m.nudged = True
    number = place[0]
    place[0] += 1
    key = "\x1f".join(("bench", "1", member, cause, at_text, incentive, reason, str(number)))
    out.append({
        "id": hashlib.sha256(key.encode()).hexdigest()[:32], "member": member,
        "incentive": incentive,
        "channel": CHANNEL[incentive], "reason": reason, "from": src, "to": dst, "node": m.node,
        "at": at_text, "cause": cause, "message": "", "cost": COST[incentive],
    })  # fmt: skip


def checked(e: dict[str, Any]) -> tuple[str, str, str, str, int, Any] | None:
    """The event's type, id, member, time (text and microseconds) and amount, or None if invalid
    (the same event checks for both hand-made contenders)."""
    kind, event_id, member, at_text = e.get("type"), e.get("id"), e.get("member"), e.get("at")
    if (
        kind not in ("purchase", "visit")
        or not isinstance(event_id, str)
        or not isinstance(member, str)
        or not isinstance(at_text, str)
    ):
        return None
    try:
        when = datetime.fromisoformat(at_text)
    except ValueError:
        return None
    amount = e.get("amount")
    if when.tzinfo is None or (
        kind == "purchase" and (type(amount) not in (int, float) or amount < 0 or amount != amount)
    ):
        return None
    return kind, event_id, member, at_text, (when - EPOCH) // US, amount


def accept(seen: dict[str, int], clock: int, event_id: str, at: int) -> bool:
    """False for a duplicate (the id within 30 days of the member's clock) or a late event;
    otherwise keep the id, newest last, and let go of the ids older than 30 days."""
    earlier = seen.get(event_id)
    if (earlier is not None and earlier >= clock - 30 * DAY) or at < clock:
        return False
    seen.pop(event_id, None)
    seen[event_id] = at
    while True:
        first = next(iter(seen))
        if seen[first] >= at - 30 * DAY:
            return True
        del seen[first]


def handwritten(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Member]]:
    members: dict[str, Member] = {}
    out: list[dict[str, Any]] = []
    for e in events:
        valid = checked(e)
        if valid is None:
            continue
        kind, event_id, member, at_text, at, amount = valid
        m = members.get(member)
        if m is None:
            m = members[member] = Member(at, at_text)
        if not accept(m.seen, m.clock, event_id, at):
            continue
        if kind == "purchase":
            m.orders += 1
            m.window.append((at, float(amount)))  # type: ignore[arg-type]
        else:
            m.visits += 1
        place = [0]
        if kind == "purchase":
            visited = {m.node}
            while True:
                if m.node == "visitor":
                    target, gifts = "buyer", ["welcome"]
                elif m.node == "buyer" and m.orders >= 3:
                    target, gifts = "regular", []
                elif m.node == "regular" and spend(m, at) >= 1000:
                    target, gifts = "vip", []
                else:
                    break
                if target in visited:
                    break
                source, m.node, m.entered, m.nudged = m.node, target, at_text, False
                visited.add(target)
                for incentive in gifts:
                    grant(
                        m,
                        member,
                        incentive,
                        at,
                        at_text,
                        "move",
                        source,
                        target,
                        event_id,
                        place,
                        out,
                    )  # type: ignore[arg-type]
                if target == "vip":
                    grant(
                        m,
                        member,
                        "vip_gift",
                        at,
                        at_text,
                        "enter",
                        source,
                        target,
                        event_id,
                        place,
                        out,
                    )  # type: ignore[arg-type]
        if m.node == "regular" and spend(m, at) >= 600 and m.visits >= 1:
            grant(
                m,
                member,
                "nudge",
                at,
                at_text,
                "reminder",
                "regular",
                "vip",
                event_id,
                place,
                out,
                True,
            )  # type: ignore[arg-type]
        m.clock = at
    return out, members


# -- a shared transitions Machine --------------------------------------------------------------


def run_transitions(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Any]:
    """The hand-written logic, with the moves run by one transitions Machine for all members."""
    from transitions import Machine

    class Model(Member):
        __slots__ = ("__dict__",)

    machine = Machine(model=None, states=["visitor", "buyer", "regular", "vip"],
                      initial="visitor", auto_transitions=False, send_event=True,
                      ignore_invalid_triggers=True)  # fmt: skip
    context: dict[str, Any] = {}

    def moved(target: str, gifts: list[str]) -> Callable[[Any], None]:
        def after(data: Any) -> None:
            m = data.model
            source = data.transition.source
            m.node, m.entered, m.nudged = target, context["at_text"], False
            context["visited"].add(target)
            for incentive in gifts:
                grant(
                    m,
                    context["member"],
                    incentive,
                    context["at"],
                    context["at_text"],
                    "move",
                    source,
                    target,
                    context["id"],
                    context["place"],
                    context["out"],
                )
            if target == "vip":
                grant(
                    m,
                    context["member"],
                    "vip_gift",
                    context["at"],
                    context["at_text"],
                    "enter",
                    source,
                    target,
                    context["id"],
                    context["place"],
                    context["out"],
                )

        return after

    def fresh(data: Any) -> bool:
        return data.transition.dest not in context["visited"]

    machine.add_transition(
        "purchase", "visitor", "buyer", conditions=[fresh], after=[moved("buyer", ["welcome"])]
    )
    machine.add_transition(
        "purchase",
        "buyer",
        "regular",
        conditions=[lambda d: d.model.orders >= 3, fresh],
        after=[moved("regular", [])],
    )
    machine.add_transition(
        "purchase",
        "regular",
        "vip",
        conditions=[lambda d: spend(d.model, context["at"]) >= 1000, fresh],
        after=[moved("vip", [])],
    )
    members: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for e in events:
        valid = checked(e)
        if valid is None:
            continue
        kind, event_id, member, at_text, at, amount = valid
        m = members.get(member)
        if m is None:
            m = members[member] = Model(at, at_text)
            machine.add_model(m, initial="visitor")
        if not accept(m.seen, m.clock, event_id, at):
            continue
        if kind == "purchase":
            m.orders += 1
            m.window.append((at, float(amount)))  # type: ignore[arg-type]
        else:
            m.visits += 1
        context.update(
            member=member,
            at=at,
            at_text=at_text,
            id=event_id,
            place=[0],
            out=out,
            visited={m.state},
        )
        if kind == "purchase":
            while m.trigger("purchase"):
                pass
        if m.state == "regular" and spend(m, at) >= 600 and m.visits >= 1:
            grant(
                m,
                member,
                "nudge",
                at,
                at_text,
                "reminder",
                "regular",
                "vip",
                event_id,
                context["place"],
                out,
                True,
            )  # type: ignore[arg-type]
        m.clock = at
    return out, (members, machine)


CONTENDERS: dict[str, Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], Any]]] = {
    "hand-written loop": handwritten,
    "topo": run_topo,
    "topo interpreted": lambda events: run_topo(events, interpret=True),
    "topo explain=True": lambda events: run_topo(events, explain=True),
    "topo interp. explain": lambda events: run_topo(events, interpret=True, explain=True),
    "transitions Machine": run_transitions,
}
"""Each contender, by name; ``topo`` is the engine at its defaults (compiled, no
explanations), ``explain=True`` keeps each member's last 20 steps."""


def drop_buffers(name: str, kept: Any) -> None:
    """Let go of what a contender keeps in window buffers and recent event ids, so that what
    is left is its memory per member beyond them (the issue's 300-byte target)."""
    if name.startswith("topo"):
        for member in list(kept.store.members()):
            state = kept.store.get(member)
            state.seen = {}
            state.metrics = [None if isinstance(s, list) else s for s in state.metrics]
        return
    members = kept if isinstance(kept, dict) else kept[0]
    for m in members.values():
        m.seen, m.window = {}, None


def measure(name: str, events: int, members: int, source: str, memory: bool) -> dict[str, Any]:
    """One run of one contender in this process: its time, or (``memory``) the bytes it keeps
    per member after ``events`` events (tracemalloc), window buffers and recent ids included
    and without them."""
    data = cdnow(Path(source)) if source else stream(events, members)
    run = (
        (lambda evs: run_topo(evs, ROOT / "journeys" / "cdnow.yaml"))
        if source
        else CONTENDERS[name]
    )
    if not memory:
        gc.collect()
        started = time.process_time()
        run(data)
        seconds = time.process_time() - started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"name": name, "events": len(data), "seconds": seconds, "peak_mb": peak_kb / 1024}
    run(stream(1_000, 100))  # modules imported and journeys compiled before counting
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = run(data)[1]  # the triggers are let go: only what is kept of members counts
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    drop_buffers(name, kept)
    gc.collect()
    beyond = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    touched = len({e["member"] for e in data})
    del kept
    return {"name": name, "bytes_per_member": retained / touched, "beyond": beyond / touched}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cdnow", default=str(ROOT / "data" / "cdnow" / "events.jsonl.gz"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--source", default="", help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        found = measure(args.one, args.events, args.members, args.source, args.memory)
        print(json.dumps(found))
        return 0
    check(stream(50_000, 5_000))
    times: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
    times["topo on CDNOW"] = []
    for n in range(args.repeat):  # alternating: each round runs every contender once
        print(f"round {n + 1} of {args.repeat}", file=sys.stderr)
        for name in CONTENDERS:
            times[name].append(_child(name, args.events, args.members, ""))
        times["topo on CDNOW"].append(_child("topo", 0, 0, args.cdnow))
    print(
        f"\n{'contender':<22}{'events':>11}{'events/s':>12}{'vs loop':>9}{'vs interp.':>11}"
        f"{'peak MB':>9}"
    )
    rate = {name: statistics.median(r["events"] / r["seconds"] for r in runs)
            for name, runs in times.items()}  # fmt: skip
    for name, runs in times.items():
        same = name != "topo on CDNOW"
        loop = rate[name] / rate["hand-written loop"] if same else float("nan")
        interpreted = "topo interp. explain" if "explain" in name else "topo interpreted"
        versus = rate[name] / rate[interpreted] if same and name.startswith("topo") else nan
        print(
            f"{name:<22}{runs[0]['events']:>11,}{rate[name]:>12,.0f}{loop:>9.2f}{versus:>11.2f}"
            f"{max(r['peak_mb'] for r in runs):>9.0f}"
        )
    print(
        f"\nmedians of {args.repeat} alternated runs, each in a process of its own (CPU time); "
        "vs interp.: against the interpreter with the same explanations setting."
    )
    _memory(args.members)
    return 0


nan = float("nan")


def check(events: list[dict[str, Any]]) -> None:
    """Every contender gives topo's triggers; compiled and interpreted topo also the same
    states and explanations."""
    reference, engine = run_topo(events, explain=True)
    for name, run in CONTENDERS.items():
        assert run(events)[0] == reference, f"{name} does not give topo's triggers"
    interpreted = run_topo(events, interpret=True, explain=True)[1]
    for member in engine.store.members():
        assert engine.state(member) == interpreted.state(member), member
        assert engine.explain(member) == interpreted.explain(member), member
    print(f"same triggers on {len(events):,} events: {len(reference):,} from each contender")


def _memory(members: int) -> None:
    """Bytes kept per member after 8 and after 40 events a member: with explanations bounded
    (20 steps), topo keeps little more per event (its history grows only with moves and
    grants, its windows and recent ids with the events inside them)."""
    print(f"\n{'bytes per member':<22}{'8 events':>10}{'40 events':>11}{'beyond windows, ids':>21}")
    for name in ("hand-written loop", "topo", "topo explain=True", "topo interp. explain"):
        few = _child(name, 8 * members // 4, members // 4, "", memory=True)
        many = _child(name, 40 * members // 4, members // 4, "", memory=True)
        print(
            f"{name:<22}{few['bytes_per_member']:>10,.0f}{many['bytes_per_member']:>11,.0f}"
            f"{few['beyond']:>10,.0f} /{many['beyond']:>8,.0f}"
        )


def _child(
    name: str, events: int, members: int, source: str, memory: bool = False
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--one", name, "--events", str(events), "--members",
               str(members), "--source", source, *(["--memory"] if memory else [])]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


if __name__ == "__main__":
    sys.exit(main())
