"""What the Spark tests compare with: ``topo replay`` run here, as the command line writes it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from topo.engine.engine import Engine
from topo.journey.model import Journey
from topo.lines import json_line, reject_line, withheld_line
from topo.replay.readers import read_events
from topo.replay.runner import replay, state_line

OUTPUTS = ("triggers", "states", "rejects", "withheld")


def replayed_here(journey: Journey, path: Path, until: datetime | None) -> dict[str, list[str]]:
    """Every output of a local replay of the file ``path``, line by line."""
    found: dict[str, list[str]] = {name: [] for name in OUTPUTS}
    engine = Engine(journey, explain=False, withheld=True)
    replay(
        engine,
        read_events(path, journey),
        until=until,
        on_trigger=lambda t: found["triggers"].append(json_line(t.to_dict())),
        on_reject=lambda e, reason, line: found["rejects"].append(reject_line(e, reason, line)),
        on_withheld=lambda t, cap: found["withheld"].append(withheld_line(t.to_dict(), cap)),
    )
    found["states"] = [
        json_line(state_line(engine, m, until)) for m in sorted(engine.store.members())
    ]
    return found


def replayed_on_spark(result: object) -> dict[str, list[str]]:
    """Every output of a :class:`topo.spark.Result`, line by line."""
    return {name: list(result.lines(name)) for name in OUTPUTS}  # type: ignore[attr-defined]
