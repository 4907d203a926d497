"""What replays elsewhere (worker processes, Spark) are compared with: ``topo replay`` run here, as
the command line writes it, and the events the Spark tests replay."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import ROOT
from topo.engine.engine import Engine
from topo.journey.model import Journey
from topo.lines import json_line, reject_line, withheld_line
from topo.replay.readers import read_events
from topo.replay.runner import replay, state_line

OUTPUTS = ("triggers", "states", "rejects", "withheld")
UNTIL = "1998-07-01T00:00:00+00:00"


def cdnow_events(last_member: str = "00250") -> list[Any]:
    """The shipped CDNOW purchases of the first members, with a duplicate, a late and an
    invalid event, lines that are no event, and an event without a member."""
    with gzip.open(ROOT / "data" / "cdnow" / "events.jsonl.gz", "rt", encoding="utf-8") as file:
        events: list[Any] = [json.loads(line) for line in file]
    items = [e for e in events if e["member"] <= last_member]
    middle = len(items) // 2
    items[middle:middle] = [
        dict(items[middle - 1]),  # a duplicate
        {**items[0], "id": "late"},  # late: its member has bought since
        {**items[1], "id": "bad", "amount": -5},  # invalid
        "not json",
        "",
        ["a list"],
        {"id": "x", "type": "purchase", "at": "1997-01-02T00:00:00+00:00"},  # no member
    ]
    return items


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
