"""Benchmark: what a tick costs per due timer when timers restart on every event.

    python benchmarks/ticks.py [--members 100000] [--events 8] [--repeat 3]

``journeys/cdnow.yaml`` lapses a member 180 days after its last purchase (``since: activity``):
each purchase moves the member's due time. The same journey with ``since: entered`` (the
clock starts when the member enters the node) is the baseline. Each member makes ``--events``
purchases a week apart; then one tick fires every lapse. The timed part is the tick alone;
the table gives its median seconds per due timer over ``--repeat`` rounds (the two variants
alternate, each in a process of its own, CPU time), the ratio, and the entries of the
engine's timer index before the tick (one per member: an update replaces the entry).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(1997, 1, 1, tzinfo=UTC)


def measure(since: str, members: int, events: int) -> dict[str, Any]:
    """One run: the events, then the timed tick."""
    import topo
    from topo.journey.loader import load_text
    from topo.validation import check_document

    text = (ROOT / "journeys" / "cdnow.yaml").read_text(encoding="utf-8")
    text = text.replace("since: activity", f"since: {since}")
    loaded = load_text(text)
    journey, problems = check_document(loaded.document, analysis=False)  # type: ignore[arg-type]
    assert journey is not None, problems
    engine = topo.Engine(journey)
    stream = (
        {"id": f"{m}-{n}", "member": f"m{m}", "type": "purchase", "amount": 10.0, "cds": 1,
         "at": (T0 + timedelta(days=7 * n, seconds=m)).isoformat()}
        for n in range(events)
        for m in range(members)
    )  # fmt: skip
    engine.process_many(stream)
    entries = len(engine._index)
    started = time.process_time()
    fired = engine.tick(T0 + timedelta(days=7 * events + 400))
    seconds = time.process_time() - started
    lapsed = sum(1 for t in fired if t.incentive == "winback_coupon")
    return {"since": since, "seconds": seconds, "due": lapsed, "entries": entries}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.members, args.events)))
        return 0
    runs: dict[str, list[dict[str, Any]]] = {"entered": [], "activity": []}
    for _ in range(args.repeat):
        for since in runs:
            command = [sys.executable, __file__, "--one", since, "--members", str(args.members),
                       "--events", str(args.events)]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, check=True)
            runs[since].append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(f"{'since':<10}{'due timers':>12}{'index entries':>15}{'µs per due timer':>18}")
    per = {}
    for since, found in runs.items():
        per[since] = statistics.median(r["seconds"] / r["due"] for r in found) * 1e6
        print(f"{since:<10}{found[0]['due']:>12,}{found[0]['entries']:>15,}{per[since]:>18.2f}")
    print(f"\nactivity / entered: {per['activity'] / per['entered']:.2f} "
          f"(medians of {args.repeat} alternated runs, CPU time)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
