"""Benchmark: what the simulator adds to the engine's own work, in the same run.

    python benchmarks/simulate.py [--members 10000,100000] [--days 365] [--repeat 3]
                                  [--journeys knowledge-club,retail-tiers,cdnow,grocery]

For each shipped journey (with its shipped personas file) and each population size, two
contenders alternate, medians of ``--repeat`` runs:

- **simulate**: ``topo.simulate`` end to end (members, behaviours, the engine, responses,
  midnight ticks), keeping no events;
- **engine only**: the same events (written by one simulation beforehand) fed to a fresh
  ``Engine`` with the same midnight ticks: what the engine costs for those events alone.

The table gives members and events per second of the simulation and the ratio
simulate / engine only (1.25 means the simulator adds 25% to the engine's time). The events of
the engine-only run are checked to give the simulation's triggers first. Large populations
need memory: a million members hold about 1.5 GB of engine states and generators.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import topo  # noqa: E402
from topo.simulation.simulation import simulate  # noqa: E402

DAY = timedelta(days=1)


def simulation(journey: Any, personas: Path, members: int, days: int) -> Any:
    return simulate(journey, personas, members=members, days=days, keep_events=False)


def engine_only(journey: Any, events: list[tuple[datetime, dict[str, Any]]], start: Any,
                days: int) -> int:  # fmt: skip
    """The events (each with its time, read beforehand) through a fresh engine with a tick at
    each midnight; the triggers' count."""
    engine = topo.Engine(journey, explain=False)
    triggers = 0
    midnight = start + DAY
    end = start + days * DAY
    for at, event in events:
        while midnight <= end and midnight <= at:
            triggers += len(engine.tick(midnight))
            midnight += DAY
        triggers += len(engine.process(event))
    while midnight <= end:
        triggers += len(engine.tick(midnight))
        midnight += DAY
    return triggers + len(engine.tick(end))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", default="10000,100000")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--journeys", default="knowledge-club,retail-tiers,cdnow,grocery")
    args = parser.parse_args()
    print(f"{'journey':<16}{'members':>10}{'events':>12}{'members/s':>12}{'events/s':>12}"
          f"{'sim / engine':>14}")  # fmt: skip
    for name in args.journeys.split(","):
        journey = topo.load_journey(ROOT / "journeys" / f"{name}.yaml")
        personas = ROOT / "journeys" / f"{name}.personas.yaml"
        for members in (int(n) for n in args.members.split(",")):
            reference = simulate(journey, personas, members=members, days=args.days)
            events = [(datetime.fromisoformat(e["at"]), e) for e in reference.events]
            start = reference.first.start
            assert engine_only(journey, events, start, args.days) == len(reference.triggers)
            del reference
            sim_times, engine_times = [], []
            for _ in range(args.repeat):
                began = time.perf_counter()
                simulation(journey, personas, members, args.days)
                sim_times.append(time.perf_counter() - began)
                began = time.perf_counter()
                engine_only(journey, events, start, args.days)
                engine_times.append(time.perf_counter() - began)
            sim, engine = statistics.median(sim_times), statistics.median(engine_times)
            print(f"{name:<16}{members:>10,}{len(events):>12,}{members / sim:>12,.0f}"
                  f"{len(events) / sim:>12,.0f}{sim / engine:>14.2f}")  # fmt: skip
            sys.stdout.flush()
    print(f"\nmedians of {args.repeat} runs of {args.days} days, contenders alternating")


if __name__ == "__main__":
    main()
