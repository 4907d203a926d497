"""Benchmark: validating and analysing a generated journey of 1,000 nodes and 5,000 moves.

    python benchmarks/analysis.py [--nodes 1000] [--moves 5000] [--repeat 5]

Prints a table with the median time of each stage (load, shape, reference and guard checks,
analysis) and of the whole `topo.validate`, over ``--repeat`` runs. The target of the analysis
issue is under 2 seconds for the whole run on this size.

The journey is a layered membership ladder: a start, checkpoints in layers, peaks at the end,
an exit; moves go forward (on purchases, with spend and count thresholds that grow with the
layer), some back (timer downgrades after 365d), and to the exit on unsubscribe. It is valid
and exercises every check: guards for the interval logic, timers, reminders and a pressure cap.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import topo
from topo.analysis.checks import analyse
from topo.analysis.conditions import _terms
from topo.journey.expressions import parsed
from topo.journey.guards import check_guards
from topo.journey.loader import load_file
from topo.journey.references import check_references
from topo.journey.shape import build_journey


def generate(nodes: int, moves: int, seed: int = 7) -> str:
    """A valid journey text with about ``nodes`` nodes and ``moves`` moves."""
    rng = random.Random(seed)
    layers = max(nodes // 20, 2)
    width = max((nodes - 3) // layers, 1)
    names = [[f"n{layer}_{k}" for k in range(width)] for layer in range(layers)]
    lines = [
        "topo: 1", "journey: generated", "version: 1",
        "owners:", "  crm: {title: CRM}", "  sales: {title: Sales}",
        "events:", "  purchase:", "    fields:", "      amount: {type: float, min: 0}",
        "      channel: {type: str, one_of: [web, app, store]}", "  unsubscribe: {}",
        "metrics:", "  spend: {sum: purchase.amount, window: 365d}",
        "  purchases: {count: purchase}", "  last_seen: {last_at: any}",
        "nodes:", "  start: {kind: start, owner: crm}", "  gone: {kind: exit, owner: crm}",
        "  peak: {kind: peak, owner: sales, on_enter: [gift]}",
    ]  # fmt: skip
    for layer in names:
        lines += [f"  {name}: {{kind: checkpoint, owner: sales}}" for name in layer]
    lines.append("moves:")
    lines += [f"  - {{from: start, to: {name}, on: purchase, when: \"event.channel == '{ch}'\"}}"
              for name, ch in zip(names[0], ["web", "app", "store"] * width,
                                  strict=False)]  # fmt: skip
    count = len(names[0])
    for layer in range(layers - 1):
        for k, name in enumerate(names[layer]):
            for step in range(3):
                target = names[layer + 1][(k + step) % width]
                low = 100 * (layer + 1) + 10 * step
                lines.append(
                    f"  - {{from: {name}, to: {target}, on: purchase, "
                    f'when: "spend >= {low} and purchases >= {layer + 1} and event.channel == '
                    f"'{['web', 'app', 'store'][step]}'\"}}"
                )
                count += 1
    for name in names[-1]:
        lines.append(
            f'  - {{from: {name}, to: peak, on: purchase, when: "spend >= {100 * layers}"}}'
        )
        count += 1
    flat = [name for layer in names for name in layer]
    while count < moves - 2:
        layer = rng.randrange(1, layers)
        source, target = rng.choice(names[layer]), rng.choice(names[layer - 1])
        lines.append(
            f'  - {{from: {source}, to: {target}, after: 365d, when: "spend < {100 * layer}"}}'
        )
        count += 1
    lines.append(f"  - {{from: [{', '.join(['peak', *flat])}], to: gone, on: unsubscribe}}")
    lines.append("  - {id: requalify, from: peak, to: " + names[-1][0] + ", after: 365d, "
                 "when: \"spend < " + str(100 * layers) + "\"}")  # fmt: skip
    lines += [
        "incentives:", "  gift: {kind: gift, channel: mail, cost: 20, once: true}",
        "  nudge: {kind: content, channel: email, cooldown: 30d}",
        "reminders:",
        f"  - {{at: {names[-1][0]}, toward: peak, incentive: nudge, "
        f"when: \"spend >= {90 * layers}\"}}",
        "  - {at: peak, ahead_of: requalify, by: 30d, incentive: nudge}",
        "settings:", "  pressure: {max: 3, per: 7d}",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def median_time(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``action``, each run cold: parse caches are emptied first."""
    times = []
    for _ in range(repeat):
        parsed.cache_clear()
        _terms.cache_clear()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--moves", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.yaml"
        path.write_text(generate(args.nodes, args.moves), encoding="utf-8")
        loaded = load_file(path)
        assert loaded.document is not None
        document = loaded.document
        shaped = build_journey(document)
        site = shaped.site(document)
        assert site is not None and shaped.journey is not None
        journey = shaped.journey
        findings = topo.validate(path)
        errors = [d for d in findings if d.severity == "error"]
        if errors:
            print("\n".join(d.render() for d in errors[:5]), file=sys.stderr)
            return 1
        stages = [
            ("load (YAML + source map)", lambda: load_file(path)),
            ("shape (pydantic model)", lambda: build_journey(document)),
            (
                "references and guards",
                lambda: (list(check_references(site)), list(check_guards(site))),
            ),
            ("analysis (graph and guards)", lambda: list(analyse(site))),
            ("topo.validate, whole", lambda: topo.validate(path)),
        ]
        print(f"journey: {len(journey.nodes)} nodes, {len(journey.moves)} moves, "
              f"{path.stat().st_size:,} bytes; {len(findings)} warnings; "
              f"median of {args.repeat} runs")  # fmt: skip
        print(f"{'stage':<32}{'median s':>10}")
        for name, action in stages:
            print(f"{name:<32}{median_time(action, args.repeat):>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
