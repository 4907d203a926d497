"""The load stage: a journey file's text into plain data and a source map.

PyYAML's safe loader reads the file; topo then builds the data itself from the composed node
graph, so that it can record the span of every key and value, report every duplicate key, bound
alias expansion ("billion laughs") and nesting, and keep YAML 1.1's ``on/off/yes/no`` as strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from topo.codes import make
from topo.diagnostics import Diagnostic
from topo.source import Document, Path, ScalarSource, SourceMap, Span

__all__ = ["MAX_ALIAS_NODES", "MAX_BYTES", "MAX_DEPTH", "Loaded", "load_file", "load_text"]

MAX_BYTES = 1024 * 1024
"""Journey files larger than this (1 MiB) are refused; real journeys are a few kilobytes."""

MAX_ALIAS_NODES = 10_000
"""How many nodes aliases may repeat in all, beyond the nodes written in the file."""

MAX_DEPTH = 64
"""How deeply mappings and lists may nest; journeys need about six levels."""

_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_ALLOWED_SCALARS = frozenset(
    {_STR, _BOOL, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:null"}
)
_ALLOWED_TAGS = {
    MappingNode: frozenset({"tag:yaml.org,2002:map"}),
    SequenceNode: frozenset({"tag:yaml.org,2002:seq"}),
    ScalarNode: _ALLOWED_SCALARS,
}
_DROPPED_RESOLVERS = frozenset({_BOOL, "tag:yaml.org,2002:timestamp"})


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _Refused(Exception):
    """The document cannot be built at all; carries the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


class _JourneyLoader(yaml.SafeLoader):
    """The safe loader, with only ``true``/``false`` as booleans and a bound on nesting."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class-level table
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_RESOLVERS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self.aliases: dict[tuple[int, object], Span] = {}
        """Where each alias is written, by (id of its parent node, its index or key node)."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            self.aliases[(id(parent), _index_key(index))] = _marks_span(event)
            return super().compose_node(parent, index)
        # Only mappings and lists nest; a plain value at the bottom is not a level.
        collection = int(self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent))
        self._depth += collection
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= collection


def _index_key(index: object) -> object:
    """Mapping values are indexed by their key node, list items by their position."""
    return id(index) if isinstance(index, Node) else index


def _marks_span(event: yaml.Event) -> Span:
    start, end = event.start_mark, event.end_mark
    if start is None or end is None:  # pragma: no cover - the composer always sets marks
        return Span(1, 1, 1, 1)
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


_JourneyLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the load stage hands on: the document, if one could be built, and its problems."""

    document: Document | None
    diagnostics: tuple[Diagnostic, ...] = field(default=())


def load_file(
    path: str | FilePath, *, name: str | None = None, max_bytes: int = MAX_BYTES
) -> Loaded:
    """Load a journey file. ``name`` is how diagnostics call the file (default: ``path``).

    Raises :class:`OSError` when the file cannot be read; the caller decides how to say so.
    """
    shown = str(path) if name is None else name
    size = FilePath(path).stat().st_size
    if size > max_bytes:
        message = (
            f"the file has {size:,} bytes, more than the limit of {max_bytes:,}; "
            "split the journey or check that this is the right file"
        )
        return Loaded(None, (make("file-too-large", message, shown, Span(1, 1, 1, 1)),))
    raw = FilePath(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        message = f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8"
        span = Span(line, column, line, column + 1)
        return Loaded(None, (make("not-utf8", message, shown, span),))
    return load_text(text, shown, max_bytes=max_bytes)


def load_text(text: str, file: str = "<string>", *, max_bytes: int = MAX_BYTES) -> Loaded:
    """Load a journey from its text; ``file`` is how diagnostics call it."""
    if len(text.encode("utf-8")) > max_bytes:
        message = f"the text is larger than the limit of {max_bytes:,} bytes"
        return Loaded(None, (make("file-too-large", message, file, Span(1, 1, 1, 1)),))
    try:
        root, aliases = _compose(text, file)
        builder = _Builder(file, SourceMap(text), aliases)
        data = builder.build(root, ()) if root is not None else None
    except _Refused as refused:
        return Loaded(None, (refused.diagnostic,))
    problems = tuple(builder.diagnostics)
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {_kind(data)}"
        message = f"the file is {what}; a journey is a mapping that starts with `topo: 1`"
        span = builder.source.value(())
        return Loaded(None, (*problems, make("not-a-mapping", message, file, span)))
    return Loaded(Document(file, data, builder.source), problems)


def _compose(text: str, file: str) -> tuple[Node | None, dict[tuple[int, object], Span]]:
    """The document's node graph, and where each of its aliases is written."""
    loader: _JourneyLoader | None = None
    try:
        loader = _JourneyLoader(text)  # the reader already checks characters here
        return loader.get_single_node(), loader.aliases
    except _TooDeep as deep:
        span = _mark_span(deep.mark)
        message = f"mappings and lists are nested more than {MAX_DEPTH} levels deep"
        raise _Refused(make("nesting-too-deep", message, file, span)) from None
    except yaml.MarkedYAMLError as exc:
        raise _Refused(_syntax_diagnostic(exc, file)) from None
    except yaml.reader.ReaderError as exc:
        source = SourceMap(text)
        line, column = source.position(exc.position)
        message = f"character {exc.character!r} is not allowed in YAML"
        span = Span(line, column, line, column + 1)
        raise _Refused(make("yaml-syntax", message, file, span)) from None
    except yaml.YAMLError as exc:
        span = Span(1, 1, 1, 1)
        raise _Refused(make("yaml-syntax", f"not valid YAML: {exc}", file, span)) from None
    finally:
        if loader is not None:
            loader.dispose()


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    """PyYAML's error in words a journey author can act on, at the place that causes it."""
    problem = exc.problem or "the text cannot be read"
    context = exc.context or ""
    known = [
        (text, at_start)
        for (context_word, problem_word), (text, at_start) in _SYNTAX_MESSAGES.items()
        if context_word in context and problem_word in problem
    ]
    if known:
        message, at_start = known[0]
        mark = exc.context_mark if at_start and exc.context_mark else exc.problem_mark
    else:
        message = f"not valid YAML: {problem}"
        mark = exc.problem_mark or exc.context_mark
    if "{alias}" in message:
        message = message.format(alias=problem.rsplit(" ", 1)[-1].strip("'"))
    span = _mark_span(mark) if mark is not None else Span(1, 1, 1, 1)
    return make("yaml-syntax", message, file, span)


# (words of PyYAML's context, words of its problem) -> (message, point at the context's start)
_SYNTAX_MESSAGES: dict[tuple[str, str], tuple[str, bool]] = {
    ("flow mapping", ""): ("a '{' opened here is never closed with '}'", True),
    ("flow sequence", ""): ("a '[' opened here is never closed with ']'", True),
    ("quoted scalar", "end of stream"): ("a quoted text starts here and is never closed", True),
    ("", "mapping values are not allowed"): (
        "a ':' where no key can start; check the indentation, or quote a value that holds ': '",
        False,
    ),
    ("", "expected <block end>"): (
        "this line's indentation does not line up with the lines above it",
        False,
    ),
    ("", "could not find expected ':'"): ("a key without ':' (write key: value)", False),
    ("", "found character '\\t'"): ("a tab character; YAML indents with spaces only", False),
    ("", "undefined alias"): ("the alias *{alias} has no anchor &{alias} before it", False),
}


def _mark_span(mark: yaml.Mark) -> Span:
    return Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2)


def _node_span(node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _kind(value: object) -> str:
    return {list: "list", str: "text", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


class _Builder:
    """Builds plain data from composed nodes, recording spans and bounding alias expansion."""

    def __init__(
        self, file: str, source: SourceMap, aliases: dict[tuple[int, object], Span]
    ) -> None:
        self.file = file
        self.source = source
        self.aliases = aliases
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[int] = set()
        self._active: set[int] = set()
        self._repeated = 0
        self._constructor = _JourneyLoader("")

    def build(
        self, node: Node, path: Path, via: Span | None = None, alias: Span | None = None
    ) -> Any:
        """The data of ``node`` at ``path``.

        ``alias`` is where the node is written as an alias, if it is; ``via`` is the outermost
        alias on the way to it (the one in the document's own flow), to point at when the
        expansion is refused.
        """
        key = id(node)
        if key in self._active:
            message = "an alias refers to a node that contains it; expansion never ends"
            self._refuse(via or _node_span(node), message)
        if key in self._seen:
            self._repeated += 1
            if self._repeated > MAX_ALIAS_NODES:
                self._refuse(
                    via or _node_span(node),
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} repeated values "
                    "(a 'billion laughs' file); write the values out or use fewer aliases",
                )
        self._seen.add(key)
        self.source.values[path] = alias if alias is not None else _node_span(node)
        if node.tag not in _ALLOWED_TAGS[type(node)]:
            # Report the tag, then read the content as the plain value it is written as, so
            # that the later stages do not report the same place a second time.
            message = f"the tag {node.tag!r} is not supported; journeys use plain values"
            span = _node_span(node)
            self.diagnostics.append(make("unsupported-yaml", message, self.file, span, path))
            node = self._plain(node)
        self._active.add(key)
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path, via)
            if isinstance(node, SequenceNode):
                return [
                    self._child(node, i, item, (*path, i), via) for i, item in enumerate(node.value)
                ]
            return self._scalar(node, path)
        finally:
            self._active.discard(key)

    def _child(self, parent: Node, index: object, child: Node, path: Path, via: Span | None) -> Any:
        alias = self.aliases.get((id(parent), _index_key(index)))
        return self.build(child, path, via or alias, alias)

    def _refuse(self, span: Span, message: str) -> None:
        raise _Refused(make("alias-expansion", message, self.file, span))

    def _plain(self, node: Node) -> Node:
        """The node as if it had no tag: the type its text resolves to without one."""
        tag: str = self._constructor.resolve(  # type: ignore[no-untyped-call]
            type(node), node.value, (True, False)
        )
        if isinstance(node, ScalarNode):
            return ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)
        return type(node)(tag, node.value, node.start_mark, node.end_mark)

    def _scalar(self, node: Node, path: Path) -> Any:
        if node.tag not in _ALLOWED_SCALARS:  # a tagged key; values are checked in build()
            message = f"the tag {node.tag!r} is not supported; journeys use plain values"
            span = _node_span(node)
            self.diagnostics.append(make("unsupported-yaml", message, self.file, span, path))
            node = self._plain(node)
        assert isinstance(node, ScalarNode)
        value = self._constructor.yaml_constructors[node.tag](self._constructor, node)
        if isinstance(value, str):
            scalar = ScalarSource(node.start_mark.index, node.end_mark.index, node.style)
            self.source.scalars[path] = scalar
            self.source.strings[path] = value
        return value

    def _mapping(self, node: MappingNode, path: Path, via: Span | None) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        own_span = self.source.values[path]
        for merged in self._merged_mappings(node, path, via):
            for key, value in merged.items():
                result.setdefault(key, value)
        self.source.values[path] = own_span  # a merged mapping is not where this one stands
        first_seen: dict[Any, Span] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, ScalarNode):
                message = "a key must be a plain value, not a list or mapping"
                span = _node_span(key_node)
                self.diagnostics.append(make("unsupported-yaml", message, self.file, span, path))
                continue
            key = self._scalar(key_node, (*path, "<key>"))
            span = _node_span(key_node)
            if key in first_seen:
                first = first_seen[key]
                message = (
                    f"duplicate key {key!r} (first at line {first.line}, column {first.column}); "
                    "keep one of them"
                )
                self.diagnostics.append(
                    make("duplicate-key", message, self.file, span, (*path, key))
                )
                continue
            first_seen[key] = span
            self.source.keys[(*path, key)] = span
            result[key] = self._child(node, key_node, value_node, (*path, key), via)
        return result

    def _merged_mappings(
        self, node: MappingNode, path: Path, via: Span | None
    ) -> Iterator[dict[Any, Any]]:
        """The mappings that ``<<`` merge keys bring in, earlier ones first (they win)."""
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            via = via or self.aliases.get((id(node), id(key_node)))
            for source in sources:
                if not isinstance(source, MappingNode):
                    message = "`<<` merges mappings only"
                    span = _node_span(source)
                    self.diagnostics.append(
                        make("unsupported-yaml", message, self.file, span, path)
                    )
                    continue
                yield self.build(source, path, via)
