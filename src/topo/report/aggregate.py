"""Several runs of one simulation (``--runs K``) as one summary with intervals.

Every number of the summaries becomes ``{"mean": m, "low": q05, "high": q95}``: the mean over
the runs and a 90% interval (numpy's linear percentiles 5 and 95). Everything else (names,
dates, kinds) is kept from the first run, and so are the numbers that are settings rather than
figures (:data:`KEPT`: the format, the journey's version, the window, a cost per grant, ...).
Rows of a list are matched across runs by the values that name them (``node``, ``from`` and
``to``, ``incentive``, ``week``, ...); a row one run lacks counts as zero in that run (a week
without grants, a reason nothing was withheld for). A figure that is None in some runs (a
median the curve never reached) is averaged over the runs that have it, and stays None when
none has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["KEPT", "ROW_KEYS", "combine"]

ROW_KEYS = (
    "node",
    "from",
    "to",
    "move",
    "incentive",
    "owner",
    "channel",
    "reason",
    "week",
    "grants_in_window",
)
"""The fields that name a row of a list; rows with the same values are the same row."""

KEPT = frozenset(
    {"format", "version", "runs", "window_days", "per_days", "limit", "cost_each", "holdout"}
)
"""Numbers that are settings of the journey or the run, not figures: kept from the first run."""

_MISSING = object()


def combine(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary from several runs' summaries (same journey, same options)."""
    if not summaries:
        raise ValueError("combine needs at least one summary")
    combined: dict[str, Any] = _merge(summaries)
    header = combined.get("header")
    if isinstance(header, dict):
        header["runs"] = len(summaries)
    return combined


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _merge(values: Sequence[Any]) -> Any:
    present = [v for v in values if v is not _MISSING]
    first = present[0]
    if _is_number(first) or (first is None and any(_is_number(v) for v in present)):
        return _interval([0 if v is _MISSING else v for v in values])
    if isinstance(first, dict):
        keys = list(first)
        for value in present[1:]:
            keys += [k for k in value if k not in keys]
        return {
            key: first.get(key)
            if key in KEPT
            else _merge([v.get(key, _MISSING) if isinstance(v, dict) else _MISSING for v in values])
            for key in keys
        }
    if isinstance(first, list) and any(isinstance(item, dict) for item in first):
        return _merge_rows(values)
    if isinstance(first, list) and not first:
        rows = next((v for v in present if isinstance(v, list) and v), None)
        if rows is not None and isinstance(rows[0], dict):
            return _merge_rows(values)
    return first


def _interval(values: Sequence[Any]) -> dict[str, float] | None:
    numbers = np.array([float(v) for v in values if v is not None], dtype=float)
    if numbers.size == 0:
        return None
    low, high = np.percentile(numbers, [5, 95])
    return {"mean": float(numbers.mean()), "low": float(low), "high": float(high)}


def _row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple((key, row[key]) for key in ROW_KEYS if key in row)


def _merge_rows(values: Sequence[Any]) -> list[Any]:
    """Rows matched by :data:`ROW_KEYS`; the first run's order, then rows new in later runs
    (sorted into place when the first run's rows are sorted by their key)."""
    runs = [v if isinstance(v, list) else [] for v in values]
    order: list[tuple[Any, ...]] = []
    tables: list[dict[tuple[Any, ...], dict[str, Any]]] = []
    for rows in runs:
        table = {_row_key(row): row for row in rows}
        tables.append(table)
        order += [key for key in table if key not in order]
    first_keys = list(tables[0])
    if first_keys == sorted(first_keys, key=_sortable) and len(order) > len(first_keys):
        order.sort(key=_sortable)
    merged = []
    for key in order:
        rows = [table.get(key, _MISSING) for table in tables]
        template = next(r for r in rows if r is not _MISSING)
        filled = [_zeros(template) if r is _MISSING else r for r in rows]
        row = _merge(filled)
        for name, value in key:
            row[name] = value  # a row's names are kept as they are, numbers too
        merged.append(row)
    return merged


def _sortable(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row key that sorts numbers as numbers and text as text, None first."""
    return tuple(
        (name, 0, 0.0, "")
        if value is None
        else (name, 1, float(value), "")
        if _is_number(value)
        else (name, 2, 0.0, str(value))
        for name, value in key
    )


def _zeros(template: Any) -> Any:
    """The row a run lacks: its counts are zero, its other figures unknown."""
    if isinstance(template, dict):
        return {k: _zeros(v) for k, v in template.items()}
    if _is_number(template):
        return 0
    if isinstance(template, list):
        return []
    return template
