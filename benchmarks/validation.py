"""Benchmark: validating worst-case journey files of up to 1 MiB, the loader's limit.

    python benchmarks/validation.py [--size 1048576] [--repeat 3] [--case NAME ...]

Each case is a generated file built to make validation slow: thousands of diagnostics in long
expressions (unknown names, calls with the wrong arguments), one huge ``min(...)``, many long
guards that the analysis reads, nesting as deep as allowed, thousands of small shape errors,
and suppression comments. Each is timed with ``topo.validate`` (the file on disk, as CI reads
it), alternating with a baseline in the same run: PyYAML's C loader reading the same text,
which is the least any validator of the file has to do. The table gives the medians of
``--repeat`` runs of each and their ratio. The target of the hardening issue: any file up to
the limit validates in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import yaml

import topo
from topo.analysis.conditions import _terms
from topo.journey.expressions import parsed
from topo.journey.loader import MAX_BYTES, MAX_DEPTH

HEAD = """\
topo: 1
journey: worst
version: 1
owners:
  crm: {title: CRM}
events:
  purchase:
    fields:
      amount: {type: float, min: 0}
metrics:
  spend: {sum: purchase.amount}
  purchases: {count: purchase}
"""
NODES = """\
nodes:
  start: {kind: start, owner: crm}
  peak: {kind: peak, owner: crm}
"""


def _fill(head: str, units: Iterator[str], tail: str, size: int) -> str:
    """``head``, then as many ``units`` as fit in ``size`` bytes with ``tail``, then ``tail``."""
    parts, used = [head], len(head.encode()) + len(tail.encode())
    for unit in units:
        used += len(unit.encode())
        if used > size:
            break
        parts.append(unit)
    return "".join(parts) + tail


def _count() -> Iterator[int]:
    n = 0
    while True:
        yield n
        n += 1


def unknown_names(size: int) -> str:
    """Metrics to suggest from (2,000 in 1 MiB), then moves whose guards name 60 unknown names
    each."""
    metrics = "".join(f"  metric_{i}: {{count: purchase}}\n" for i in range(size // 512))
    head = HEAD + metrics + NODES + "moves:\n"
    units = (
        '  - {from: start, to: peak, on: purchase, when: "'
        + " and ".join(f"mtric_{i}_{k} > 0" for k in range(60))
        + '"}\n'
        for i in _count()
    )
    return _fill(head, units, "", size)


def bad_arguments(size: int) -> str:
    """Guards full of calls with the wrong number of arguments, of unknown functions and of
    values that are not functions."""
    calls = ["abs(spend, 1)", "round()", "min(spend)", "days_since()", "lenn(spend)", "abs(1)(2)"]
    head = HEAD + NODES + "moves:\n"
    units = (
        '  - {from: start, to: peak, on: purchase, when: "'
        + " and ".join(f"{calls[(i + k) % len(calls)]} > {k}" for k in range(40))
        + '"}\n'
        for i in _count()
    )
    return _fill(head, units, "", size)


def one_huge_min(size: int) -> str:
    """A single guard: ``min(...)`` of unknown names, as long as the file allows."""
    head = HEAD + NODES + 'moves:\n  - {from: start, to: peak, on: purchase, when: "min(spend'
    units = (f", u{i}" for i in _count())
    return _fill(head, units, ') > 1"}\n', size)


def long_guards(size: int) -> str:
    """A valid journey: many moves out of one node on one event, with long disjoint guards,
    so that the analysis compares every pair (overlaps, thresholds, guards that never hold)."""
    head = HEAD + NODES.replace("  peak:", "  mid: {kind: checkpoint, owner: crm}\n  peak:")
    head += "moves:\n  - {from: mid, to: peak, on: purchase}\n"

    def guard(i: int) -> str:
        low = 10 * i
        extra = " and ".join(f"purchases >= {k}" for k in range(8))
        return f"spend >= {low} and spend < {low + 10} and {extra}"

    units = (
        f'  - {{from: start, to: {"mid" if i % 2 else "peak"}, on: purchase, when: "{guard(i)}"}}\n'
        for i in _count()
    )
    return _fill(head, units, "", size)


def many_metrics(size: int) -> str:
    """A valid journey with thousands of metrics (2,000 in 1 MiB) and moves whose guards each
    bound two of them: every metric is asked for by several moves, so the thresholds check
    has a question for each metric over the whole graph."""
    count = size // 512
    metrics = "".join(f"  metric_{i}: {{count: purchase}}\n" for i in range(count))
    head = HEAD + metrics
    head += NODES.replace("  peak:", "  mid: {kind: checkpoint, owner: crm}\n  peak:")
    head += "moves:\n  - {from: mid, to: peak, on: purchase}\n"
    units = (
        f"  - {{from: start, to: {'mid' if i % 2 else 'peak'}, on: purchase, "
        f'when: "metric_{i % count} >= {i} and metric_{(i * 7) % count} < {i + 5}"}}\n'
        for i in _count()
    )
    return _fill(head, units, "", size)


def deep_nesting(size: int) -> str:
    """Values nested as deep as allowed (wrong types: each is reported) and guards nested as
    deep as expressions allow."""
    depth = MAX_DEPTH - 3  # the document, nodes and the node take three levels
    deep = "[" * depth + "x" + "]" * depth
    guard = "not " * 60 + "spend > 1"
    head = HEAD + "nodes:\n  start: {kind: start, owner: crm}\n  peak: {kind: peak, owner: crm}\n"
    units = (
        f"  n{i}: {{kind: checkpoint, owner: crm, on_enter: {deep}}}\n"
        if i % 2
        else f"  m{i}: {{kind: checkpoint, owner: crm}}\n"
        for i in _count()
    )
    text = _fill(head, units, "", size * 3 // 4)
    moves = (f'  - {{from: start, to: peak, on: purchase, when: "{guard}"}}\n' for _ in _count())
    return _fill(text + "moves:\n", moves, "", size)


def small_errors(size: int) -> str:
    """Thousands of nodes, each with a few small mistakes: a misspelt kind, a misspelt key, an
    unknown owner, a reference to a missing node."""
    head = HEAD + NODES
    units = (
        f"  n{i}: {{kind: chekpoint, ownr: crm}}\n"
        if i % 3 == 0
        else f"  n{i}: {{kind: checkpoint, owner: cmr{i}}}\n"
        if i % 3 == 1
        else f"  n{i}: {{kind: checkpoint, owner: crm, on_enter: [gift{i}]}}\n"
        for i in _count()
    )
    text = _fill(head, units, "", size * 3 // 4)
    moves = (f"  - {{from: n{i}, to: nowhere{i}, on: purchase}}\n" for i in _count())
    return _fill(text + "moves:\n", moves, "", size)


def suppressions(size: int) -> str:
    """Suppression comments everywhere: unknown codes on lines of their own, and comments
    after values (which suppress nothing) on thousands of lines."""
    head = HEAD + NODES
    units = (
        f"# topo: disable=T9{i % 100:02d}, not-a-code-{i}\n"
        if i % 2
        else f"  n{i}: {{kind: checkpoint, owner: crm}}  # topo: disable=T514\n"
        for i in _count()
    )
    return _fill(head, units, "", size)


CASES: dict[str, Callable[[int], str]] = {
    "unknown names": unknown_names,
    "bad arguments": bad_arguments,
    "one huge min()": one_huge_min,
    "long guards (analysed)": long_guards,
    "many metrics (analysed)": many_metrics,
    "deep nesting": deep_nesting,
    "small errors": small_errors,
    "suppressions": suppressions,
}


def _cold() -> None:
    """Empty the parse caches, so that every run parses its guards again."""
    parsed.cache_clear()
    _terms.cache_clear()


def alternating(
    action: Callable[[], object], baseline: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """The median wall times of ``action`` and ``baseline``, run alternately ``repeat`` times."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for kept, run in zip(times, (action, baseline), strict=True):
            _cold()
            started = time.perf_counter()
            run()
            kept.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=MAX_BYTES, help="bytes per file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="default: all")
    args = parser.parse_args(argv)
    if args.repeat < 3:
        parser.error("--repeat must be at least 3, for a median")
    loader = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
    print(f"median of {args.repeat} runs; baseline: yaml.load with {loader.__name__}")
    print(f"{'case':<24}{'bytes':>11}{'diagnostics':>13}{'topo s':>9}{'yaml s':>9}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.case or list(CASES):
            text = CASES[name](args.size)
            path = Path(folder) / "worst.yaml"
            path.write_text(text, encoding="utf-8")
            found = topo.validate(path)
            assert len(text.encode()) <= MAX_BYTES or "T103" in {d.code for d in found}
            mine, base = alternating(
                partial(topo.validate, path),
                partial(yaml.load, text, Loader=loader),  # the C safe loader
                args.repeat,
            )
            size = path.stat().st_size
            print(f"{name:<24}{size:>11,}{len(found):>13,}{mine:>9.2f}{base:>9.3f}"
                  f"{mine / base:>8.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
