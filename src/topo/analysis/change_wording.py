"""The wording of a journey diff: values as the file writes them, and changes as sentences.

A changed field is said as raised, lowered, lengthened, shortened, set, removed or changed
(:func:`wording`); a whole added or removed item by the fields the file wrote for it
(:func:`summary`). Values are made JSON-ready as the file writes them (:func:`as_written`,
:func:`plain`) and put into words with :func:`show`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from topo.journey.durations import format_duration
from topo.journey.model import METRIC_KINDS, EventType, Metric

__all__ = [
    "Rename",
    "as_written",
    "describe_mapping",
    "plain",
    "same",
    "show",
    "summary",
    "view",
    "wording",
]

Rename = Callable[[str], str]
"""A node of the old version as the new version calls it."""

_NOTHING = "no fields set"


def same(node: str) -> str:
    """A node as it is: the renaming of a version that renames nothing."""
    return node


def view(model: BaseModel) -> dict[str, Any]:
    """The fields of a model by their names in the file; a metric's kind is one field."""
    fields = type(model).model_fields
    named = {(info.alias or name): getattr(model, name) for name, info in fields.items()}
    if isinstance(model, Metric):
        named = {key: value for key, value in named.items() if key not in METRIC_KINDS}
        named = {"measure": f"{model.kind}: {model.source}", **named}
    return named


# --- changes -----------------------------------------------------------------------------


def wording(key: str, was: Any, now: Any, rename: Rename = same) -> str:
    """A sentence for one changed field: raised, lowered, set, removed, or changed."""
    before, after = show(as_written(key, was)), show(as_written(key, now))
    if was is None:
        return f"{key} set to {after}"
    if now is None:
        return f"{key} {before} removed"
    if isinstance(was, timedelta) and isinstance(now, timedelta):
        return f"{key} {'lengthened' if now > was else 'shortened'} from {before} to {after}"
    if _is_number(was) and _is_number(now):
        return f"{key} {'raised' if now > was else 'lowered'} from {before} to {after}"
    if isinstance(was, list) and isinstance(now, list):
        return _list_wording(key, was, now, rename)
    return f"{key} changed from {before} to {after}"


def _list_wording(key: str, was: list[Any], now: list[Any], rename: Rename) -> str:
    """``from: vip added; regular renamed loyal``: what a list gained and lost."""
    renamed = {value: rename(value) for value in was if value not in now and rename(value) in now}
    added = [show(value) for value in now if value not in was and value not in renamed.values()]
    removed = [show(value) for value in was if value not in now and value not in renamed]
    parts = [f"{', '.join(added)} added"] if added else []
    parts += [f"{', '.join(removed)} removed"] if removed else []
    parts += [f"{old} renamed {new}" for old, new in renamed.items()]
    return f"{key}: {'; '.join(parts)}" if parts else f"{key} reordered to {show(now)}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def summary(model: BaseModel, skip: frozenset[str] = frozenset(), nothing: str = _NOTHING) -> str:
    """What a whole added or removed item says, as the file wrote it (``nothing``: no field)."""
    if isinstance(model, EventType):
        return f"fields {', '.join(model.fields)}" if model.fields else "no fields"
    fields = type(model).model_fields
    written = {fields[name].alias or name for name in model.model_fields_set}
    if isinstance(model, Metric):
        written.add("measure")
    shown = [
        f"{key} {show(as_written(key, item))}"
        for key, item in view(model).items()
        if key in written and key not in skip and item is not None
    ]
    return ", ".join(shown) or nothing


def describe_mapping(nodes: Mapping[str, str]) -> str:
    """The nodes a migration maps, as ``old -> new`` pairs."""
    return ", ".join(f"{old} -> {new}" for old, new in nodes.items()) or "maps no nodes"


# --- values ------------------------------------------------------------------------------


def as_written(key: str, value: Any) -> Any:
    """A field's value as JSON-ready data, written as the file would write it."""
    if key == "holdout" and isinstance(value, float):
        return f"{round(value * 100, 6):g}%"
    return plain(value)


def plain(value: Any) -> Any:
    """JSON-ready data: durations as ``90d``, models as mappings without their unset fields."""
    if isinstance(value, BaseModel):
        return {key: as_written(key, item) for key, item in view(value).items() if item is not None}
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def show(value: Any) -> str:
    """JSON-ready data in words: text with spaces in double quotes, lists in brackets."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if not value or any(c.isspace() for c in value) else value
    if isinstance(value, list | tuple):
        return f"[{', '.join(show(item) for item in value)}]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    return show(plain(value)) if isinstance(value, BaseModel | timedelta) else str(value)
