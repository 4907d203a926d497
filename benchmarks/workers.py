"""Benchmark: ``topo replay`` and ``topo simulate`` with --workers N against --workers 1.

    python benchmarks/workers.py [--members 100000] [--workers 2] [--repeat 3] [--summary]

Each contender is the command line itself (``python -m topo`` of this checkout, in a
subprocess, timed with ``time.perf_counter``):

- **simulate**: ``topo simulate journeys/cdnow.yaml --personas journeys/cdnow.personas.yaml
  --members M --triggers T --states S`` (``--summary`` adds ``--summary J``);
- **replay**: ``topo replay journeys/cdnow.yaml EVENTS --until END --triggers T --states S``
  of the events such a simulation sent (written once beforehand, not timed).

First one run of each with 1 and with N workers: their output files must be the same bytes,
or the benchmark stops. Then the two contenders alternate, ``--repeat`` times each; the table
gives the medians and the ratio (workers 1) / (workers N): 1.8 means N workers took 1.8 times
less time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOURNEY = ROOT / "journeys" / "cdnow.yaml"
PERSONAS = ROOT / "journeys" / "cdnow.personas.yaml"
END = "2027-01-01T00:00:00+00:00"  # the simulation's 365 days from its default start


def topo(args: list[str]) -> tuple[float, float]:
    """Run ``topo ARGS`` of this checkout: the seconds it took, and the CPU seconds it and its
    worker processes used."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "topo", *args], env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"topo {' '.join(args)} failed:\n{done.stderr}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def command(kind: str, events: Path, members: int) -> list[str]:
    if kind == "simulate":
        return ["simulate", str(JOURNEY), "--personas", str(PERSONAS), "--members", str(members)]
    return ["replay", str(JOURNEY), str(events), "--until", END]


def outputs(folder: Path, summary: bool) -> list[str]:
    names = ["triggers", "states", *(["summary"] if summary else [])]
    return [a for name in names for a in (f"--{name}", str(folder / name))]


def same_bytes(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / name).read_bytes() == (b / name).read_bytes() for name in names
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--summary", action="store_true", help="write --summary too")
    parser.add_argument("--only", choices=["simulate", "replay"], help="one of the two")
    args = parser.parse_args()
    n = args.workers
    with tempfile.TemporaryDirectory(prefix="topo-workers-") as tmp:
        folder = Path(tmp)
        events = folder / "events.jsonl"
        topo([*command("simulate", events, args.members), "--events", str(events)])
        lines = sum(1 for _ in events.open(encoding="utf-8"))
        print(f"cdnow, {args.members:,} members: {lines:,} events; {os.cpu_count()} cores")
        print(f"{'command':<10}{'workers 1':>12}{f'workers {n}':>12}{'ratio':>8}   CPU seconds")
        for kind in ("simulate", "replay"):
            if args.only not in (None, kind):
                continue
            base = command(kind, events, args.members)
            runs: dict[int, list[float]] = {1: [], n: []}
            cpu: dict[int, list[float]] = {1: [], n: []}
            for k in (1, n):  # the check, untimed
                (folder / f"{kind}{k}").mkdir()
                topo([*base, *outputs(folder / f"{kind}{k}", args.summary), "--workers", str(k)])
            if not same_bytes(folder / f"{kind}1", folder / f"{kind}{n}"):
                sys.exit(f"{kind}: the outputs of 1 and {n} workers differ")
            for _ in range(args.repeat):  # alternate, so that a busy spell hits both
                for k in (1, n):
                    out = folder / f"{kind}{k}"
                    took, used = topo([*base, *outputs(out, args.summary), "--workers", str(k)])
                    runs[k].append(took)
                    cpu[k].append(used)
            one, many = statistics.median(runs[1]), statistics.median(runs[n])
            used = f"{statistics.median(cpu[1]):.1f} / {statistics.median(cpu[n]):.1f}"
            print(f"{kind:<10}{one:>11.1f}s{many:>11.1f}s{one / many:>7.2f}x   {used}", flush=True)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average at the end (1, 5, 15 minutes): {load}; other work on the machine "
              "takes cores from the workers")  # fmt: skip


if __name__ == "__main__":
    main()
