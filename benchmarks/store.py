"""Benchmark: the durable SQLite store against the in-memory engine, in the same run.

    python benchmarks/store.py [--events 1000000] [--members 100000] [--repeat 3]
                               [--batches 1000,5000,20000]
                               [--cdnow data/cdnow/events.jsonl.gz]

Two measurements, each contender alternating with the others in one process, medians of
``--repeat`` runs:

- **engine**: ``Engine.process_many`` over the synthetic stream of ``benchmarks/engine.py``
  (``benchmarks/engine-journey.yaml``), in memory and with a fresh ``SqliteStore`` (the default
  batch size, then each of ``--batches``), the final commit included;
- **replay**: ``topo replay JOURNEY EVENTS`` (reading the gzipped JSON lines, writing triggers
  to a file) of the CDNOW purchases through ``journeys/cdnow.yaml``, with ``--store memory``
  and with ``--store sqlite:PATH``.

The durable runs are checked to give the in-memory run's triggers before anything is timed,
and the store's text of every member of the stream to be ``json.dumps``'s, byte for byte.
The store files go to a temporary folder on the same disk as the system's temporary files.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

import topo  # noqa: E402
from engine import JOURNEY, stream  # noqa: E402
from topo.cli.commands import main as topo_main  # noqa: E402
from topo.engine.member_codec import encode, json_text  # noqa: E402
from topo.replay.readers import read_events  # noqa: E402
from topo.store.sqlite import SqliteStore  # noqa: E402

DEFAULT_BATCH: int = inspect.signature(SqliteStore).parameters["batch_size"].default
"""The store's own default batch size."""


def engine_run(events: list[dict[str, Any]], folder: Path, batch: int | None) -> list[Any]:
    """One engine run: in memory (``batch`` None) or into a new store; its triggers."""
    journey = topo.load_journey(JOURNEY)
    if batch is None:
        engine = topo.Engine(journey, explain=False)
        return engine.process_many(events, on_reject=lambda event, error: None)
    path = folder / f"engine-{time.monotonic_ns()}.db"
    with SqliteStore(path, batch_size=batch) as store:
        engine = topo.Engine(journey, store, explain=False)
        return engine.process_many(events, on_reject=lambda event, error: None)


def same_text(events: list[dict[str, Any]]) -> int:
    """Check that the store writes every member's state (with and without its history) byte
    for byte as ``json.dumps`` does; how many members."""
    engine = topo.Engine(topo.load_journey(JOURNEY), explain=False)
    engine.process_many(events, on_reject=lambda event, error: None)
    count = 0
    for member in engine.store.members():
        state = engine.store.get(member)
        assert state is not None
        for data in (encode(state), encode(state, history=False)):
            standard = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            assert json_text(data) == standard, f"member {member}: not json.dumps's text"
        count += 1
    return count


def replay_run(source: str, folder: Path, store: str) -> Path:
    """One ``topo replay`` of the CDNOW purchases; the triggers file it wrote."""
    out = folder / f"triggers-{time.monotonic_ns()}.jsonl"
    if store != "memory":
        store = f"sqlite:{folder / f'replay-{time.monotonic_ns()}.db'}"
    argv = ["replay", str(ROOT / "journeys" / "cdnow.yaml"), source, "--triggers", str(out)]
    with contextlib.redirect_stderr(io.StringIO()):
        assert topo_main([*argv, "--store", store]) == 0
    return out


def _label(batch: int) -> str:
    return f"engine, sqlite batch {batch:,}" + (" (default)" if batch == DEFAULT_BATCH else "")


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", default="5000,50000", help="batch sizes beside the default")
    parser.add_argument("--cdnow", default=str(ROOT / "data" / "cdnow" / "events.jsonl.gz"))
    args = parser.parse_args()
    batches = [DEFAULT_BATCH, *(int(b) for b in args.batches.split(",") if b)]
    events = stream(args.events, args.members)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        check = events[:50_000]
        expected = [t.to_dict() for t in engine_run(check, folder, None)]
        for batch in batches:
            found = [t.to_dict() for t in engine_run(check, folder, batch)]
            assert found == expected, f"batch {batch}: not the in-memory triggers"
        memory_file = replay_run(args.cdnow, folder, "memory").read_text()
        assert replay_run(args.cdnow, folder, "sqlite").read_text() == memory_file
        print(f"same triggers: {len(expected):,} on 50,000 events; CDNOW replay files equal")
        print(f"same state text as json.dumps: {same_text(events):,} members")

        contenders: dict[str, Callable[[], object]] = {
            "engine, memory": lambda: engine_run(events, folder, None),
            **{
                _label(batch): (lambda batch=batch: engine_run(events, folder, batch))  # type: ignore[misc]
                for batch in batches
            },
            "replay CDNOW, memory": lambda: replay_run(args.cdnow, folder, "memory"),
            "replay CDNOW, sqlite (default)": lambda: replay_run(args.cdnow, folder, "sqlite"),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeat):
            for contender, run in contenders.items():
                times[contender].append(timed(run))
    cdnow = topo.load_journey(ROOT / "journeys" / "cdnow.yaml")
    cdnow_events = sum(1 for _ in read_events(args.cdnow, cdnow))
    print(f"\n{'contender':<36}{'events':>11}{'events/s':>12}{'vs memory':>11}")
    base: dict[str, float] = {}
    for contender, found in times.items():
        count = cdnow_events if contender.startswith("replay") else len(events)
        rate = count / statistics.median(found)
        kind = contender.split(",")[0]
        base.setdefault(kind, rate)
        print(f"{contender:<36}{count:>11,}{rate:>12,.0f}{rate / base[kind]:>11.2f}")
    print(f"\nmedian of {args.repeat} runs, in one process, contenders alternating")
    return 0


if __name__ == "__main__":
    sys.exit(main())
