"""Benchmark: how long ``topo calibrate`` takes to fit a population's histories, against a
replay of the same events through the engine, in the same run.

    python benchmarks/calibrate.py [--members 100000] [--repeat 3] [--holdout]

The events are those of ``--members`` CDNOW-like members over 78 weeks (the calibrated CDNOW
personas, simulated once beforehand and kept in memory). Two contenders alternate, medians of
``--repeat`` runs:

- **calibrate**: ``topo.calibrate`` on the events before week 40 (with ``--holdout``: the fit
  on them, then the hold-out's continuation and comparison to the end);
- **replay**: the same events (all of them) through a fresh engine, ticked to the end: what
  reading them as ``topo replay`` does costs.

It prints both times and their ratio. The acceptance of the calibration work: 100,000 members'
histories fitted in under a minute on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import topo  # noqa: E402
from topo.replay.runner import replay  # noqa: E402

START = datetime(1997, 1, 1, tzinfo=UTC)
HOLDOUT = datetime(1997, 10, 1, tzinfo=UTC)
END = datetime(1998, 7, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--holdout", action="store_true")
    args = parser.parse_args()
    journey = topo.load_journey(ROOT / "journeys" / "cdnow.yaml")
    personas = ROOT / "journeys" / "cdnow.calibrated.personas.yaml"
    made = topo.simulate(journey, personas, members=args.members, days=(END - START).days,
                         start=START)  # fmt: skip
    events = made.events
    del made
    fits, replays = [], []
    for _ in range(args.repeat):
        began = time.perf_counter()
        if args.holdout:
            topo.calibrate(events, journey, holdout_from=HOLDOUT, until=END)
        else:
            topo.calibrate(events, journey, until=HOLDOUT)
        fits.append(time.perf_counter() - began)
        began = time.perf_counter()
        replay(topo.Engine(journey, explain=False), iter(enumerate(events)), until=END)
        replays.append(time.perf_counter() - began)
    fit, read = statistics.median(fits), statistics.median(replays)
    what = "calibrate --holdout-from" if args.holdout else "calibrate"
    print(f"{args.members:,} members, {len(events):,} events")
    print(f"{what:<26}{fit:>8.1f} s")
    print(f"{'replay of the events':<26}{read:>8.1f} s")
    print(f"{'ratio':<26}{fit / read:>8.2f}")
    print(f"\nmedians of {args.repeat} runs, contenders alternating")


if __name__ == "__main__":
    main()
