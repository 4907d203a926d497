"""The shape stage: a loaded document into the :class:`topo.journey.model.Journey` model.

Every pydantic validation error becomes a diagnostic at its place in the file: unknown keys at
the key (with the nearest known key suggested), missing keys at the mapping that lacks them,
wrong values at the value.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from topo.diagnostics import Diagnostic
from topo.journey.codes import CODES, make
from topo.journey.model import Journey
from topo.journey.site import Site
from topo.journey.source import Document, Path
from topo.journey.suggestions import did_you_mean, number_text_hint

__all__ = ["Shaped", "build_journey", "shape_problems"]

_DICT_SECTIONS = frozenset(
    {"owners", "offerings", "attributes", "events", "metrics", "nodes", "incentives"}
)
_LIST_SECTIONS = frozenset({"moves", "reminders", "migrations"})
_PLACEHOLDERS: dict[str, object] = {"topo": 1, "journey": "journey", "version": 1}

_CUSTOM = frozenset(code.name for code in CODES)
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


@dataclass(frozen=True, slots=True)
class Shaped:
    """The shape stage's result: the model, its problems, and what was left out of it.

    When entries have shape errors, ``journey`` is a *partial* model without them, so that the
    later stages can still report every other problem of the file; ``ghosts``, ``broken`` and
    ``indices`` say what was left out (see :class:`~topo.journey.site.Site`). ``complete`` is False.
    """

    journey: Journey | None
    diagnostics: list[Diagnostic]
    ghosts: dict[str, frozenset[str]] = field(default_factory=dict)
    broken: frozenset[str] = frozenset()
    indices: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether the model holds the whole file."""
        return not self.diagnostics

    def site(self, document: Document) -> Site | None:
        """The site the later stages check, or None when no model could be made."""
        if self.journey is None:
            return None
        return Site(self.journey, document, self.ghosts, self.broken, self.indices)


def build_journey(document: Document) -> Shaped:
    """The journey model of ``document`` and the problems of its shape."""
    try:
        return Shaped(Journey.model_validate(document.data), [])
    except ValidationError as exc:
        errors = exc.errors()
    keys = _Keys()
    diagnostics = _problems(errors, document, keys, _Root(Journey, "the journey"))
    return _partial(document.data, errors, diagnostics, keys)


def shape_problems(
    errors: list[ErrorDetails], document: Document, model: type[BaseModel], whole: str
) -> list[Diagnostic]:
    """The validation ``errors`` of ``model`` (the root of the format the document is read
    into, such as the personas file's) as diagnostics at their places in ``document``, as a
    journey's are; ``whole`` is how messages call the document as a whole."""
    return _problems(errors, document, _Keys(), _Root(model, whole))


@dataclass(frozen=True, slots=True)
class _Root:
    """The model a document is read into, and how messages call the document as a whole."""

    model: type[BaseModel]
    whole: str


def _problems(
    errors: list[ErrorDetails], document: Document, keys: _Keys, root: _Root
) -> list[Diagnostic]:
    seen: set[tuple[Path, str]] = set()
    diagnostics = []
    for error in errors:
        diagnostic = _diagnostic(error, document, keys, root)
        key = (diagnostic.path, diagnostic.code)
        if key not in seen:  # a union reports one problem once per member type
            seen.add(key)
            diagnostics.append(diagnostic)
    return diagnostics


def _partial(
    data: dict[str, Any], errors: list[ErrorDetails], diagnostics: list[Diagnostic], keys: _Keys
) -> Shaped:
    """A model of what is left once every entry with a shape error is taken out.

    Every error is placed in the file as written before anything is taken out: placed in what
    is left, the second error of an entry would find its entry gone and take out the whole
    section. Each section is then rebuilt once, not once per error.
    """
    left_out = _LeftOut()
    for error in errors:
        path, _ = _data_path(error["loc"], data, keys)
        if error["type"] == "missing" and len(path) < len(error["loc"]):
            path = (*path, error["loc"][len(path)])
        left_out.add(data, path)
    partial, indices = left_out.apply(data)
    try:
        journey = Journey.model_validate(partial)
    except ValidationError:  # pragma: no cover - what is left is valid by construction
        journey = None
    frozen = {section: frozenset(ids) for section, ids in left_out.ghosts.items()}
    return Shaped(journey, diagnostics, frozen, frozenset(left_out.broken), indices)


@dataclass
class _LeftOut:
    """The smallest whole entries around the errors' paths, to be taken out of the data."""

    ghosts: dict[str, set[str]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    dropped: dict[str, set[int]] = field(default_factory=dict)
    entries: dict[str, set[Any]] = field(default_factory=dict)  # keys, per mapping section
    placeholders: set[str] = field(default_factory=set)
    removed: set[Any] = field(default_factory=set)  # top-level keys

    def add(self, data: dict[Any, Any], path: Path) -> None:
        """Take out the smallest whole entry around ``path`` (in the data as written)."""
        if not path:
            return
        head = str(path[0])
        value = data.get(path[0])
        if head in _DICT_SECTIONS or head in _LIST_SECTIONS:
            is_list = head in _LIST_SECTIONS
            if len(path) == 1 or (is_list and not isinstance(path[1], int)):
                self.broken.add(head)
            elif isinstance(value, list) and isinstance(path[1], int):
                self.dropped.setdefault(head, set()).add(path[1])
            elif isinstance(value, dict):
                self.entries.setdefault(head, set()).add(path[1])
                self.ghosts.setdefault(head, set()).add(str(path[1]))
        elif head == "settings" and len(path) >= 2 and isinstance(value, dict):
            self.entries.setdefault(head, set()).add(path[1])
        elif head in _PLACEHOLDERS:
            self.placeholders.add(head)
        else:
            self.removed.add(path[0])

    def apply(self, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
        """A shallow copy of ``data`` without the entries, and the file index of each kept
        entry of the list sections that lost some."""
        data = {key: value for key, value in data.items() if key not in self.removed}
        data.update({head: _PLACEHOLDERS[head] for head in self.placeholders})
        for head, gone in self.entries.items():
            data[head] = {k: v for k, v in data[head].items() if k not in gone}
        for head in self.broken:
            data[head] = [] if head in _LIST_SECTIONS else {}
        indices: dict[str, tuple[int, ...]] = {}
        for section, gone in self.dropped.items():
            kept = [i for i in range(len(data[section])) if i not in gone]
            indices[section] = tuple(kept)
            data[section] = [data[section][i] for i in kept]
        return data, indices


def _diagnostic(error: ErrorDetails, document: Document, keys: _Keys, root: _Root) -> Diagnostic:
    path, at_key = _data_path(error["loc"], document.data, keys)
    kind = error["type"]
    source = document.source
    where = _describe_path(path, document.data, root.whole)
    if ((at_key and kind in _EXPECTED) or kind == "invalid_key") and path:
        key = path[-1]
        owner = _describe_path(path[:-1], document.data, root.whole)
        message = f"{owner}: the key {_key_text(key)!r} is not text; keys and ids are words"
        return make("wrong-type", message, document.file, source.key(path), path)
    if kind in _CUSTOM:
        if at_key:
            return make(kind, error["msg"], document.file, source.key(path), path)
        return make(kind, f"{where}: {error['msg']}", document.file, source.value(path), path)
    if kind == "extra_forbidden":
        key = str(path[-1])
        hint = did_you_mean(key, _known_keys(path[:-1], root.model))
        owner = _describe_path(path[:-1], document.data, root.whole)
        message = f"unknown key {key!r} in {owner}{hint}"
        return make("unknown-key", message, document.file, source.key(path), path)
    if kind == "missing":
        missing = str(error["loc"][-1])
        message = f"{where} is missing the required key {missing!r}"
        return make("missing-key", message, document.file, source.value(path), path)
    span = source.key(path) if at_key else source.value(path)
    value = error.get("input")
    if kind in _EXPECTED:
        message = f"{where}: expected {_EXPECTED[kind]}, got {_describe_value(value)}" + (
            number_text_hint(value) if kind in ("int_type", "float_type") else ""
        )
        if path and path[-1] == "when" and isinstance(value, bool):
            message += "; to move without a condition, leave `when` out"
        return make("wrong-type", message, document.file, span, path)
    return make("invalid-value", f"{where}: {_value_message(error)}", document.file, span, path)


def _data_path(loc: tuple[int | str, ...], data: Any, keys: _Keys) -> tuple[Path, bool]:
    """The part of a pydantic location that exists in the data, and whether it ends at a key.

    Locations also hold union member tags (``str``, ``list[str]``) and, for missing keys, the
    key that is not there; neither is a place in the file.
    """
    path: list[str | int] = []
    for i, part in enumerate(loc):
        if part == "[key]":
            return tuple(path), True
        key = keys.find(data, part) if isinstance(data, dict) else _NO_KEY
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if key is not _NO_KEY:
            part = key  # type: ignore[assignment]  # as written: true or 1.5, not 1 or "1.5"
            data = data[part]
        elif in_list:
            data = data[part]
        elif i == len(loc) - 1 or not isinstance(part, str):
            break
        else:
            continue
        path.append(part)
    return tuple(path), False


_NO_KEY = object()


class _Keys:
    """Finds the key of a mapping that a location part stands for, in constant time.

    pydantic writes keys that are not text as it likes: ``true`` as 1, null as 'None', 1.5 as
    '1.5'; the key as the file wrote it is found by value, then by its text. The mappings are
    indexed once each (by identity: they live as long as the document), not scanned per error.
    """

    def __init__(self) -> None:
        self._by_value: dict[int, dict[Any, Any]] = {}
        self._by_text: dict[int, dict[str, Any]] = {}

    def find(self, data: dict[Any, Any], part: object) -> Any:
        """The key of ``data`` that ``part`` stands for, or ``_NO_KEY``."""
        if type(part) is str and part in data:  # text equals only text: the key itself
            return part
        by_value = self._by_value.get(id(data))
        if by_value is None:
            by_value = self._by_value[id(data)] = {key: key for key in data}
        if part in by_value:
            return by_value[part]
        by_text = self._by_text.get(id(data))
        if by_text is None:
            by_text = self._by_text[id(data)] = {}
            for key in data:
                by_text.setdefault(str(key), key)  # the first key of that text, as before
        return by_text.get(str(part), _NO_KEY)


def _value_message(error: ErrorDetails) -> str:
    ctx = error.get("ctx") or {}
    value = error.get("input")
    kind = error["type"]
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        allowed = re.findall(r"'([^']*)'", expected) or [
            part.strip() for part in re.split(r",| or ", expected) if part.strip()
        ]
        hint = did_you_mean(str(value), allowed) if isinstance(value, str) else ""
        return f"{value!r} is not allowed; expected one of {', '.join(allowed)}{hint}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{_shortened(repr(value))} is not a finite number"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        bound = next(iter(ctx.values()))
        size = "small" if "greater" in kind else "large"
        return f"{_describe_value(value)} is too {size}; it must be {words} {bound}"
    if kind == "too_short":
        return "the list is empty; give at least one value"
    if kind == "finite_number":
        return f"{value!r} is not a finite number"
    return str(error["msg"])


def _shortened(text: str, most: int = 60) -> str:
    return text if len(text) <= most else f"{text[: most - 1]}…"


def _describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, int | float):
        return f"the number {_shortened(repr(value))}"
    if isinstance(value, str):
        return f"the text {_shortened(repr(value))}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _describe_path(path: Path, data: Any = None, whole: str = "the journey") -> str:
    """``moves[2].when``: a path as a person reads it (list positions in brackets).

    With the document's ``data``, a number is a list position only where the data has a list.
    """
    text = ""
    for part in path:
        known = data is not None
        in_list = isinstance(data, list) if known else type(part) is int
        text += f"[{part}]" if in_list else (f".{_key_text(part)}" if text else _key_text(part))
        data = _child(data, part)
    return text or whole


def _child(data: Any, part: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and type(part) is int and 0 <= part < len(data):
        return data[part]
    return None


def _key_text(key: object) -> str:
    if key is None:
        return "null"
    return str(key).lower() if isinstance(key, bool) else str(key)


def _known_keys(path: Path, root: type[BaseModel] = Journey) -> list[str]:
    """The keys the model allows at ``path`` (a mapping), to suggest one for a typo."""
    model = _model_at(root, path)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(annotation: Any, path: Path) -> type[BaseModel] | None:
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    return next(_models_in(annotation), None)


def _step(annotation: Any, part: str | int) -> Any:
    for candidate in _unwrap(annotation):
        if (
            isinstance(candidate, type)
            and issubclass(candidate, BaseModel)
            and isinstance(part, str)
        ):
            for name, info in candidate.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = typing.get_origin(candidate)
        if origin is dict and isinstance(part, str):
            return typing.get_args(candidate)[1]
        if origin is list and isinstance(part, int):
            return typing.get_args(candidate)[0]
    return None


def _unwrap(annotation: Any) -> Iterator[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _unwrap(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _unwrap(arg)
    else:
        yield annotation


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            yield candidate
