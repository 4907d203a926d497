"""Benchmark: ``topo.spark.replay`` on ``local[1]`` and ``local[2]`` against the local engine.

    python benchmarks/spark.py [--repeat 3] [--events data/cdnow/events.jsonl.gz]

Public tools only. The events (by default the shipped CDNOW purchases, 69,659 events of 23,570
members) are replayed through ``journeys/cdnow.yaml`` with ``--until 1998-07-01``:

- **local**: :func:`topo.replay.runner.replay` with one :class:`topo.Engine`, as ``topo
  replay`` runs (triggers, rejects, withheld grants and states made as JSON lines);
- **start local[N]**: ``import topo.spark``, a session on ``local[N]`` and its first job, in a
  fresh Python (a new JVM: the fixed cost every run pays; Python's own start not counted);
- **spark local[N]**: then, in this process, the same file is replayed with ``topo.spark``
  (N * 2 partitions) twice:
  *fold* (the records made and counted in Spark: the engine's work, spread over N cores) and
  *outputs* (every output's lines streamed to the driver in order, as ``--engine spark``
  writes them). The session is stopped after each round.

The contenders alternate within each round; each figure is the median of ``--repeat`` rounds,
and the ratios (events/s against the local engine's) are of medians of the same run. Before
timing, one round checks that Spark's triggers and states are the local run's bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from topo import Engine, load_journey  # noqa: E402
from topo.lines import json_line, reject_line, withheld_line  # noqa: E402
from topo.replay.readers import read_events  # noqa: E402
from topo.replay.runner import replay, state_line  # noqa: E402

JOURNEY = ROOT / "journeys" / "cdnow.yaml"
UNTIL = "1998-07-01T00:00:00+00:00"
OUTPUTS = ("triggers", "states", "rejects", "withheld")


def local(events: Path) -> tuple[float, int, dict[str, list[str]]]:
    """The local engine: seconds, events read, and the outputs."""
    from datetime import datetime

    journey = load_journey(JOURNEY)
    until = datetime.fromisoformat(UNTIL)
    found: dict[str, list[str]] = {name: [] for name in OUTPUTS}
    started = time.perf_counter()
    engine = Engine(journey, withheld=True)
    report = replay(
        engine,
        read_events(events, journey),
        until=until,
        on_trigger=lambda t: found["triggers"].append(json_line(t.to_dict())),
        on_reject=lambda e, r, n: found["rejects"].append(reject_line(e, r, n)),
        on_withheld=lambda t, c: found["withheld"].append(withheld_line(t.to_dict(), c)),
    )
    found["states"] = [
        json_line(state_line(engine, m, until)) for m in sorted(engine.store.members())
    ]
    return time.perf_counter() - started, report.read, found


def session_start(master: str) -> float:
    """Seconds to start a session on ``master`` and run its first job, in a fresh Python (a
    new JVM: the fixed cost every run pays), less that Python's own start with topo."""
    code = (
        "import time; t = time.perf_counter(); import topo.spark; "
        f"topo.spark.session({master!r}).range(1).count(); print(time.perf_counter() - t)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"a Spark session on {master} would not start:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def on_spark(master: str, events: Path, cores: int) -> tuple[float, float, dict[str, list[str]]]:
    """A session on ``master`` (its JVM kept from the last one): seconds to fold, and to
    stream the outputs to the driver."""
    from topo.spark import session
    from topo.spark.replaying import replay_text

    spark = session(master, partitions=2 * cores)
    spark.range(1).count()  # the session and its first job ready
    journey = load_journey(JOURNEY)
    lines = spark.read.text(str(events))
    began = time.perf_counter()
    replay_text(lines, journey, until=UNTIL, partitions=2 * cores).records.count()
    fold = time.perf_counter() - began
    began = time.perf_counter()
    result = replay_text(lines, journey, until=UNTIL, partitions=2 * cores).persist()
    found = {name: list(result.lines(name)) for name in OUTPUTS}
    outputs = time.perf_counter() - began
    result.unpersist()
    spark.stop()
    return fold, outputs, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--events", type=Path, default=ROOT / "data" / "cdnow" / "events.jsonl.gz")
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    _, count, expected = local(args.events)
    _, _, found = on_spark("local[2]", args.events, 2)
    if found != expected:
        sys.exit("spark's outputs differ from the local engine's: not timing a wrong answer")
    times: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        times.setdefault("local", []).append(local(args.events)[0])
        for cores in (1, 2):
            times.setdefault(f"start local[{cores}]", []).append(session_start(f"local[{cores}]"))
            fold, outputs, _ = on_spark(f"local[{cores}]", args.events, cores)
            times.setdefault(f"fold local[{cores}]", []).append(fold)
            times.setdefault(f"outputs local[{cores}]", []).append(outputs)
    base = statistics.median(times["local"])
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{count:,} events, journeys/cdnow.yaml, --until {UNTIL}; medians of {args.repeat}")
    print(f"load average at the end: {load} (on {os.cpu_count()} cores)")
    print(f"{'contender':<22} {'seconds':>8} {'events/s':>10} {'vs local':>9}")
    for name, values in times.items():
        took = statistics.median(values)
        if name.startswith("start"):
            print(f"{name:<22} {took:>8.2f} {'':>10} {'':>9}  (fixed cost of a session)")
            continue
        print(f"{name:<22} {took:>8.2f} {count / took:>10,.0f} {base / took:>8.2f}x")


if __name__ == "__main__":
    main()
