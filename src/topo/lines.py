"""JSON lines as topo writes them: one value a line, the same bytes from any process.

The command line's outputs (triggers, states, rejects, withheld grants, events) are written
with :func:`json_line`; worker processes (:mod:`topo.workers`) render their lines with it too,
so what they send back is written as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from topo.engine.json_values import json_ready

__all__ = ["WITHHELD", "json_line", "reject_line", "withheld_line"]

WITHHELD = {"reminder-cooldown": "reminder", "once-per-stay": "reminder"}
"""``--withheld``'s ``withheld`` as the contract names the caps; ``cap`` keeps the precise one."""


def json_line(value: object) -> str:
    """One line of JSON; a lone surrogate (as a JSON escape can bring) stays escaped."""
    ready = json_ready(value)
    text = json.dumps(ready, ensure_ascii=False, allow_nan=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(ready, allow_nan=False)  # escaped: still the same JSON
    return text + "\n"


def withheld_line(trigger: Mapping[str, Any], cap: str) -> str:
    """A line of ``--withheld``: the would-be trigger, what withheld it as the contract names
    it, and the precise cap."""
    return json_line({**trigger, "withheld": WITHHELD.get(cap, cap), "cap": cap})


def reject_line(event: object, reason: str, line: int) -> str:
    """A line of ``--rejects``: the event (pii masked; None for a line that is no event), why,
    and the line or row it came from."""
    return json_line({"event": event, "reason": reason, "line": line})
