"""The control-group check at full size: does a simulated incentive show the uplift it was given?

    python benchmarks/uplift.py [--members 50000] [--seeds 10] [--days 120]

A shop journey grants ``thanks`` (with a 20% holdout) on a member's first purchase; its goal is
the next stage on the way to the peak (three orders). Two personas files differ in one number:
``thanks`` multiplies the purchase rate by 1.5 for 30 days, or by 1.0 (no effect). The script
prints the report's control-group line for the first (its interval must exclude zero) and, over
``--seeds`` seeds, how often the second's 95% interval covers zero (at least 8 of 10 expected).
The same journey and personas, at smaller sizes, are the tests of
``tests/simulation/test_simulated_uplift.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "simulation"))
sys.path.insert(0, str(ROOT / "tests"))

from test_runner import PERSONAS, SHOP  # noqa: E402

import topo  # noqa: E402
from topo.simulation.model import Personas  # noqa: E402


def replaced(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` made ``new``: the test's text must still say ``old``, or both
    groups would run the same assumption and the benchmark would measure nothing."""
    if old not in text:
        raise SystemExit(f"benchmarks/uplift.py: the test's text no longer says {old!r}")
    return text.replace(old, new)


def group(journey: Any, rate: float, members: int, days: int, seed: int) -> dict[str, Any]:
    text = replaced(
        textwrap.dedent(PERSONAS),
        "thanks: {purchase: {rate: 3, for: 30d}}",
        f"thanks: {{purchase: {{rate: {rate}, for: 30d}}}}",
    )
    personas = Personas.model_validate(yaml.safe_load(text))
    summary = topo.simulate(journey, personas, members=members, days=days, seed=seed).summary
    [found] = [g for g in summary["control_groups"] if g["incentive"] == "thanks"]
    return found


def line(g: dict[str, Any]) -> str:
    return (
        f"granted {g['granted']['share']:.3f} of {g['granted']['members']:,}, held out "
        f"{g['held_out']['share']:.3f} of {g['held_out']['members']:,}: difference "
        f"{g['difference']:+.4f} [{g['low']:+.4f}, {g['high']:+.4f}], p {g['p_value']:.2g}, "
        f"detectable {g['detectable']:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shop.yaml"
        path.write_text(replaced(textwrap.dedent(SHOP), "holdout: 50%", "holdout: 20%"), "utf-8")
        journey = topo.load_journey(path)
    began = time.perf_counter()
    works = group(journey, 1.5, args.members, args.days, 0)
    print(f"rate 1.5, {args.members:,} members: {line(works)}")
    covered = 0
    for seed in range(args.seeds):
        g = group(journey, 1.0, args.members, args.days, seed)
        covered += g["low"] <= 0 <= g["high"]
        print(f"rate 1.0, seed {seed}: {line(g)}")
    print(f"rate 1.0: the interval covers zero in {covered} of {args.seeds} seeds")
    print(f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
