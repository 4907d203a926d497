"""Benchmark: `topo paths` on every shipped journey and on a generated journey of 200 nodes.

    python benchmarks/paths.py [--nodes 200] [--repeat 3]

The generated journey is a ladder of checkpoints: each step up needs a purchase that takes a
windowed spend over a higher threshold, or, every fifth step, a visit at least a day after the
last purchase; every tenth node has a timer move back down after 30 days; a visit event feeds
a metric no guard needs, and an opt-out leads to an exit from everywhere. The issue's target:
a path to every node in under 10 seconds. Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from topo.rehearsal.paths import find_paths  # noqa: E402
from topo.validation import find_journeys, load_journey  # noqa: E402


def ladder(nodes: int) -> str:
    """A valid journey of ``nodes`` nodes (start, checkpoints, a peak, an exit)."""
    names = ["start", *(f"c{i}" for i in range(1, nodes - 2)), "peak"]
    lines = [
        "topo: 1", "journey: ladder", "version: 1",
        "owners: {crm: {title: CRM}}",
        "events:",
        "  purchase: {fields: {amount: {type: float, min: 0}}}",
        "  visit: {}",
        "  opt_out: {}",
        "metrics:",
        "  spend_90d: {sum: purchase.amount, window: 90d}",
        "  last_purchase: {last_at: purchase}",
        "  visits: {count: visit}",
        "nodes:",
        "  start: {kind: start, owner: crm}",
        *(f"  {n}: {{kind: checkpoint, owner: crm}}" for n in names[1:-1]),
        "  peak: {kind: peak, owner: crm}",
        "  gone: {kind: exit, owner: crm}",
        "moves:",
    ]  # fmt: skip
    for i, (source, target) in enumerate(itertools.pairwise(names)):
        on, guard = (
            ("visit", "days_since(last_purchase) >= 1")
            if i % 5 == 4
            else ("purchase", f"spend_90d >= {10 * (i + 1)}")
        )
        lines.append(f'  - {{from: {source}, to: {target}, on: {on}, when: "{guard}"}}')
        if i % 10 == 9:
            lines.append(f"  - {{from: {target}, to: {source}, after: 30d}}")
    lines.append(f"  - {{from: [{', '.join(names)}], to: gone, on: opt_out}}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        generated = Path(folder) / "ladder.yaml"
        generated.write_text(ladder(args.nodes))
        journeys = [*find_journeys([ROOT / "journeys"]), generated]  # personas files left out
        print(f"{'journey':<20}{'nodes':>7}{'found':>7}{'moves':>7}{'found':>7}{'seconds':>9}")
        for path in journeys:
            journey = load_journey(path, analysis=False)
            times, found = [], None
            for _ in range(args.repeat):
                started = time.perf_counter()
                found = find_paths(journey)
                times.append(time.perf_counter() - started)
            assert found is not None
            nodes, moves = found.missing()
            print(
                f"{path.stem:<20}{len(journey.nodes):>7}{len(journey.nodes) - len(nodes):>7}"
                f"{len(journey.moves):>7}{len(journey.moves) - len(moves):>7}"
                f"{statistics.median(times):>9.2f}"
            )
    print(
        f"\nmedian of {args.repeat} runs; default limits (2 x nodes + 10 steps, 20,000 situations)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
