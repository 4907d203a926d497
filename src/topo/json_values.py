"""Values as strict JSON can hold them, for the files topo writes (triggers, states, rejects)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

__all__ = ["json_ready"]


def json_ready(value: Any) -> Any:
    """``value`` with times and dates as RFC 3339 text, tuples as lists, and the floats JSON
    has no number for (NaN and the infinities, which a rejected event may carry) as the text
    ``"nan"``, ``"inf"`` or ``"-inf"``."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
