"""Values as strict JSON can hold them, for the files topo writes (triggers, states, rejects)."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

__all__ = ["json_ready"]

_PLAIN = (str, int, bool, type(None))


def json_ready(value: Any) -> Any:
    """``value`` as strict JSON can hold it, whatever it is: times and dates as RFC 3339 text,
    tuples and sets as lists, mapping keys as text, the floats JSON has no number for (NaN
    and the infinities, which a rejected event may carry) as ``"nan"``, ``"inf"`` or
    ``"-inf"``, and anything else a reader can bring (a Parquet decimal, time of day, duration
    or bytes) as its text. A rejected event is written whatever it holds."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {_key(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(json_ready(key))
