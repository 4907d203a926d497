"""Plain data and a source map, built in one pass over a YAML event stream.

The events come from libyaml when PyYAML has it (about twenty times faster) and from PyYAML's
own parser otherwise; both give character positions. Building from events rather than from a
composed node graph keeps the work iterative (deep nesting cannot exhaust the stack), lets
every duplicate key be reported, and bounds alias expansion as it happens.

Tags are resolved like PyYAML's safe loader with one change: only ``true``/``false`` (any case)
are booleans, and dates stay text.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from topo.diagnostics import Diagnostic
from topo.journey.codes import make
from topo.journey.source import Path, ScalarSource, SourceMap, Span

__all__ = ["DocumentBuilder", "Refused"]

_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS = frozenset(
    {_STR, _BOOL, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:null"}
)
_PARSER = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
_PARSER_DEPTH = re.compile(r"nesting|depth", re.IGNORECASE)
"""How a parser words its own refusal to nest deeper (libyaml: "exceeded maximum nesting
depth"); such a refusal is reported as topo's own (T107), not as a syntax error."""


class _Resolver(yaml.resolver.Resolver):
    """PyYAML's implicit tags, without YAML 1.1's yes/no/on/off booleans and without dates."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class-level table
        first: [(tag, rx) for tag, rx in found if tag not in (_BOOL, "tag:yaml.org,2002:timestamp")]
        for first, found in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    }


_Resolver.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"), list("tTfF")
)
_RESOLVER = _Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class Refused(Exception):
    """The document cannot be built at all; carries the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


Entry = tuple[str, Path, Any]
"""A write to the source map: (kind, path, payload), kept so that aliases and merges can
replay the spans of what they repeat under their own paths."""

_KEY = object()  # a mapping frame waits for a key
_SKIP = object()  # the value that follows is not kept (duplicate or complex key)
_MERGING = object()  # the value that follows is merged (``<<``)


@dataclass
class _Frame:
    """An open mapping or list, or a skipped subtree (``path`` is None)."""

    path: Path | None
    start: Span
    value: Any
    mark: int  # where this frame's entries start in the log
    anchor: str | None = None
    pending: Any = _KEY
    first_seen: dict[Any, Span] = field(default_factory=dict)
    merges: list[tuple[Any, list[Entry], Path, Span]] = field(default_factory=list)


class DocumentBuilder:
    """Builds one document's data and source map; fatal problems raise :class:`Refused`."""

    def __init__(self, text: str, file: str, *, max_depth: int, max_repeated: int) -> None:
        self.file = file
        self.source = SourceMap(text)
        self.text = text
        self.diagnostics: list[Diagnostic] = []
        self.max_depth = max_depth
        self.max_repeated = max_repeated
        self._frames: list[_Frame] = []
        self._depth = 0  # how many of the frames are kept (a path): counted, not summed each time
        self._log: list[Entry] = []
        self._anchors: dict[str, tuple[Any, list[Entry], Path]] = {}
        self._open: set[str] = set()
        self._repeated = 0
        self._documents = 0
        self.root: Any = None

    def build(self) -> Any:
        """The document's data (None for an empty document)."""
        handlers: dict[type[yaml.Event], Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar,
            yaml.AliasEvent: self._alias,
            yaml.MappingStartEvent: self._start,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingEndEvent: self._end,
            yaml.SequenceEndEvent: self._end,
            yaml.DocumentStartEvent: self._document,
        }
        try:
            for event in yaml.parse(self.text, Loader=_PARSER):
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)
        except yaml.MarkedYAMLError as exc:
            if _PARSER_DEPTH.search(exc.problem or "") is None:
                raise
            self._refuse_nesting(exc)
        return self.root

    def _refuse_nesting(self, exc: yaml.MarkedYAMLError) -> None:
        """The parser refused to nest deeper on its own: refuse the file as too deep (T107).

        libyaml (0.2.5 and later) stops at 1,000 levels, and its scanner reads up to a line
        (1,024 characters) ahead of the events this builder counts, so ``[[[[...`` can reach
        its limit before the builder sees level 65. The text up to where the parser stopped
        nests no deeper than the parser allows, so building it again finds where topo's own
        limit is crossed; if it is not (a parser whose limit is below topo's), the file is
        refused where the parser stopped.
        """
        mark = exc.problem_mark or exc.context_mark
        end = mark.index if mark is not None else len(self.text)
        if end < len(self.text):
            again = DocumentBuilder(
                self.text[:end], self.file, max_depth=self.max_depth, max_repeated=self.max_repeated
            )
            with contextlib.suppress(yaml.YAMLError):  # the cut text ends inside open lists
                again.build()
        message = (
            "mappings and lists are nested deeper than the YAML parser reads; "
            f"journeys need a few levels, topo allows {self.max_depth}"
        )
        self._refuse("nesting-too-deep", message, _mark_span(mark))

    # -- events ------------------------------------------------------------------------------

    def _document(self, event: yaml.Event) -> None:
        self._documents += 1
        if self._documents > 1:
            message = "the file holds more than one YAML document ('---'); a journey is one"
            self._refuse("yaml-syntax", message, _span(event))

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        span = _span(event)
        frame = self._frames[-1] if self._frames else None
        if (
            frame is not None
            and frame.path is not None
            and isinstance(frame.value, dict)
            and frame.pending is _KEY
        ):
            self._key(frame, self._construct(event, frame.path, span, key=True), span)
            return
        path = self._child_path(span, collection=False)
        if path is None:
            return
        value = self._construct(event, path, span, key=False)
        mark = len(self._log)
        self._record("value", path, span)
        if isinstance(value, str):
            start, end = _offsets(event)
            self._record("string", path, (ScalarSource(start, end, event.style), value))
        if event.anchor:
            self._anchors[event.anchor] = (value, self._log[mark:], path)
        self._place(value, path, mark, span)

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        span = _span(event)
        if self._depth + 1 > self.max_depth:
            message = f"mappings and lists are nested more than {self.max_depth} levels deep"
            self._refuse("nesting-too-deep", message, span)
        path = self._child_path(span, collection=True)
        mapping = isinstance(event, yaml.MappingStartEvent)
        plain = _MAP if mapping else _SEQ
        if path is not None and event.tag not in (None, "!", plain):
            self._unsupported(
                f"the tag {event.tag!r} is not supported; journeys use plain values", span, path
            )
        anchor = event.anchor if path is not None else None
        if anchor:
            self._open.add(anchor)
        self._frames.append(_Frame(path, span, {} if mapping else [], len(self._log), anchor))
        self._depth += path is not None

    def _end(self, event: yaml.CollectionEndEvent) -> None:
        frame = self._frames.pop()
        if frame.path is None:
            return
        self._depth -= 1
        end = _span(event)
        span = Span(frame.start.line, frame.start.column, end.end_line, end.end_column)
        if isinstance(frame.value, dict):
            self._apply_merges(frame)
        self._record("value", frame.path, span)
        if frame.anchor:
            self._anchors[frame.anchor] = (frame.value, self._log[frame.mark :], frame.path)
            self._open.discard(frame.anchor)
        self._place(frame.value, frame.path, frame.mark, span)

    def _alias(self, event: yaml.AliasEvent) -> None:
        span = _span(event)
        path = self._child_path(span, collection=False, alias=True)
        if path is None:
            return
        name = event.anchor or ""
        if name in self._open:
            self._refuse(
                "alias-expansion",
                "an alias refers to a node that contains it; expansion never ends",
                span,
            )
        if name not in self._anchors:
            self._refuse("yaml-syntax", f"the alias *{name} has no anchor &{name} before it", span)
        value, entries, prefix = self._anchors[name]
        mark = len(self._log)
        self._replay(entries, prefix, path, span)
        self._place(value, path, mark, span)

    # -- placing values ----------------------------------------------------------------------

    def _child_path(self, span: Span, *, collection: bool, alias: bool = False) -> Path | None:
        """The path of the node that starts here, or None when it is not kept."""
        if not self._frames:
            return ()
        frame = self._frames[-1]
        if frame.path is None:
            return None
        if isinstance(frame.value, list):
            return (*frame.path, len(frame.value))
        if frame.pending is _KEY:  # a list, mapping or alias where a key should be
            what = "a list or mapping" if collection else "an alias"
            self._unsupported(f"a key must be a plain value, not {what}", span, frame.path)
            frame.pending = _SKIP  # and its value is not kept either
            return None
        if frame.pending is _SKIP:
            frame.pending = _KEY
            return None
        if frame.pending is _MERGING:
            return (*frame.path, "<<")
        return (*frame.path, frame.pending)

    def _place(self, value: Any, path: Path, mark: int, span: Span) -> None:
        if not self._frames:
            self.root = value
            return
        frame = self._frames[-1]
        if isinstance(frame.value, list):
            frame.value.append(value)
        elif frame.pending is _MERGING:
            frame.merges.append((value, self._log[mark:], path, span))
            frame.pending = _KEY
        else:
            frame.value[frame.pending] = value
            frame.pending = _KEY

    def _key(self, frame: _Frame, key: Any, span: Span) -> None:
        assert frame.path is not None
        if key is _MERGING:
            frame.pending = _MERGING
            return
        if key in frame.first_seen:
            first = frame.first_seen[key]
            message = (
                f"duplicate key {key!r} (first at line {first.line}, column {first.column}); "
                "keep one of them"
            )
            self.diagnostics.append(
                make("duplicate-key", message, self.file, span, (*frame.path, key))
            )
            frame.pending = _SKIP
            return
        frame.first_seen[key] = span
        self._record("key", (*frame.path, key), span)
        frame.pending = key

    def _apply_merges(self, frame: _Frame) -> None:
        """``<<`` merges: keys the mapping lacks come from the merged mappings, earlier first."""
        assert frame.path is not None
        for value, entries, prefix, span in frame.merges:
            sources = value if isinstance(value, list) else [value]
            if any(not isinstance(s, dict) for s in sources):
                self._unsupported("`<<` merges mappings only", span, frame.path)
                continue
            for index, source in enumerate(sources):
                base = (*prefix, index) if isinstance(value, list) else prefix
                by_key = _entries_by_key(entries, base)
                for key, item in source.items():
                    if key not in frame.value:
                        frame.value[key] = item
                        # the merge's span: where a refused expansion is pointed at
                        self._replay(by_key.get(key, []), base, frame.path, span)

    # -- helpers -----------------------------------------------------------------------------

    def _construct(self, event: yaml.ScalarEvent, path: Path, span: Span, *, key: bool) -> Any:
        tag = event.tag
        if tag in (None, "!"):
            tag = _resolve(event.value, event.implicit)
        if tag == _MERGE and key:
            return _MERGING
        if tag not in _SCALARS:
            if tag != _MERGE:
                self._unsupported(
                    f"the tag {tag!r} is not supported; journeys use plain values", span, path
                )
            tag = _resolve(event.value, (True, False))
            tag = _STR if tag == _MERGE else tag
        node = ScalarNode(tag, event.value, style=event.style)
        try:
            return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
        except (ValueError, KeyError, OverflowError):  # !!int abc, a 5,000-digit number
            kind = tag.rsplit(":", 1)[-1]
            message = f"{event.value[:40]!r} cannot be read as {kind}; it is kept as text"
            self._unsupported(message, span, path)
            return event.value

    def _record(self, kind: str, path: Path, payload: Any) -> None:
        self._log.append((kind, path, payload))
        if kind == "value":
            self.source.values[path] = payload
        elif kind == "key":
            self.source.keys[path] = payload
        else:
            self.source.scalars[path], self.source.strings[path] = payload

    def _replay(self, entries: list[Entry], prefix: Path, path: Path, alias: Span | None) -> None:
        """Write the spans of a repeated subtree again, under ``path``; bound the repetition."""
        self._repeated += sum(1 for kind, _, _ in entries if kind == "value")
        if self._repeated > self.max_repeated:
            self._refuse(
                "alias-expansion",
                f"aliases expand to more than {self.max_repeated:,} repeated values "
                "(a 'billion laughs' file); write the values out or use fewer aliases",
                alias or self.source.value(path),
            )
        size = len(prefix)
        for kind, old, payload in entries:
            new = (*path, *old[size:])
            self._record(
                kind,
                new,
                alias if (alias is not None and new == path and kind == "value") else payload,
            )

    def _unsupported(self, message: str, span: Span, path: Path) -> None:
        self.diagnostics.append(make("unsupported-yaml", message, self.file, span, path))

    def _refuse(self, name: str, message: str, span: Span) -> None:
        raise Refused(make(name, message, self.file, span))


def _entries_by_key(entries: list[Entry], base: Path) -> dict[Any, list[Entry]]:
    """The entries below ``base``, grouped by the key right under it (one pass, not one a key)."""
    grouped: dict[Any, list[Entry]] = {}
    size = len(base)
    for entry in entries:
        path = entry[1]
        if len(path) > size and path[:size] == base:
            grouped.setdefault(path[size], []).append(entry)
    return grouped


def _resolve(value: str, implicit: tuple[bool, bool]) -> str:
    tag: str = _RESOLVER.resolve(ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
    return tag


def _span(event: yaml.Event) -> Span:
    start, end = event.start_mark, event.end_mark
    if start is None or end is None:  # pragma: no cover - parsers always set marks
        return Span(1, 1, 1, 1)
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _mark_span(mark: yaml.Mark | None) -> Span:
    if mark is None:
        return Span(1, 1, 1, 1)
    return Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2)


def _offsets(event: yaml.Event) -> tuple[int, int]:
    """The character offsets of an event's start and end."""
    start, end = event.start_mark, event.end_mark
    return (start.index if start else 0, end.index if end else 0)
