"""The load stage: a journey file's text into plain data and a source map.

PyYAML's safe parser reads the file (libyaml's when available); topo builds the data itself
from the parser's events (``document_builder``), so that it can record the span of every
key and value, report every duplicate key, bound alias expansion ("billion laughs") and nesting,
and keep YAML 1.1's ``on/off/yes/no`` as strings. This module guards the size and the encoding,
and turns the parser's errors into sentences.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path as FilePath

import yaml

from topo.diagnostics import Diagnostic
from topo.journey.codes import make
from topo.journey.document_builder import DocumentBuilder, Refused
from topo.journey.source import Document, Span

__all__ = ["MAX_ALIAS_NODES", "MAX_BYTES", "MAX_DEPTH", "Loaded", "load_file", "load_text"]

MAX_BYTES = 1024 * 1024
"""Journey files larger than this (1 MiB) are refused; real journeys are a few kilobytes."""

MAX_ALIAS_NODES = 10_000
"""How many nodes aliases may repeat in all, beyond the nodes written in the file."""

MAX_DEPTH = 64
"""How deeply mappings and lists may nest; journeys need about six levels."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the load stage hands on: the document, if one could be built, and its problems."""

    document: Document | None
    diagnostics: tuple[Diagnostic, ...] = field(default=())


def load_file(
    path: str | FilePath, *, name: str | None = None, max_bytes: int = MAX_BYTES
) -> Loaded:
    """Load a journey file. ``name`` is how diagnostics call the file (default: ``path``).

    Only a regular file is read (after following links): a named pipe, a device or a folder is
    refused (T100) without waiting on it, and at most ``max_bytes`` + 1 bytes are ever read,
    whatever size the file system reports. Raises :class:`OSError` when the file cannot be
    read; the caller decides how to say so.
    """
    shown = str(path) if name is None else name
    raw = _read_regular(path, max_bytes)
    if isinstance(raw, tuple):
        return Loaded(None, (make(*raw, shown, Span(1, 1, 1, 1)),))
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


def _read_regular(path: str | FilePath, max_bytes: int) -> bytes | tuple[str, str]:
    """The bytes of a regular file, or the refusal (diagnostic name, message).

    The file is opened without blocking (a named pipe with no writer would wait forever) and
    checked again once open, in case it was swapped after the first look; a file whose size
    the file system does not know (``/proc``) or that grows is cut off at the limit.
    """
    kind = _not_regular(os.stat(path).st_mode)  # look first: a device is never even opened
    if kind is not None:
        return "unreadable", _NOT_REGULAR.format(kind)
    descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY)
    try:
        status = os.fstat(descriptor)
        kind = _not_regular(status.st_mode)
        if kind is not None:
            return "unreadable", _NOT_REGULAR.format(kind)
        if status.st_size > max_bytes:
            return "file-too-large", _too_large(
                f"the file has {status.st_size:,} bytes, more than the limit of {max_bytes:,}"
            )
        chunks, size = [], 0
        while size <= max_bytes and (chunk := os.read(descriptor, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(descriptor)
    if size > max_bytes:
        return "file-too-large", _too_large(
            f"the file is larger than the limit of {max_bytes:,} bytes"
        )
    return b"".join(chunks)


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_NOT_REGULAR = "this is {}, not a regular file; a journey is read from a regular file only"


def _not_regular(mode: int) -> str | None:
    """What a file of this mode is, in words, when it is not a regular file."""
    if stat.S_ISREG(mode):
        return None
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((words for test, words in kinds if test(mode)), "a special file")


def _too_large(what: str) -> str:
    return f"{what}; split the journey or check that this is the right file"


def load_text(text: str, file: str = "<string>", *, max_bytes: int = MAX_BYTES) -> Loaded:
    """Load a journey from its text; ``file`` is how diagnostics call it."""
    if len(text.encode("utf-8")) > max_bytes:
        message = f"the text is larger than the limit of {max_bytes:,} bytes"
        return Loaded(None, (make("file-too-large", message, file, Span(1, 1, 1, 1)),))
    builder = DocumentBuilder(text, file, max_depth=MAX_DEPTH, max_repeated=MAX_ALIAS_NODES)
    try:
        data = builder.build()
    except Refused as refused:
        return Loaded(None, (refused.diagnostic,))
    except yaml.MarkedYAMLError as exc:
        return Loaded(None, (_syntax_diagnostic(exc, file, text),))
    except yaml.reader.ReaderError as exc:
        line, column = builder.source.position(exc.position)
        message = f"character {chr(exc.character)!r} is not allowed in YAML"
        span = Span(line, column, line, column + 1)
        return Loaded(None, (make("yaml-syntax", message, file, span),))
    except yaml.YAMLError as exc:
        message = f"not valid YAML: {exc}"
        return Loaded(None, (make("yaml-syntax", message, file, Span(1, 1, 1, 1)),))
    problems = tuple(builder.diagnostics)
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {_kind(data)}"
        message = f"the file is {what}; a journey is a mapping that starts with `topo: 1`"
        span = builder.source.value(())
        return Loaded(None, (*problems, make("not-a-mapping", message, file, span)))
    return Loaded(Document(file, data, builder.source), problems)


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    """The parser's error in words a journey author can act on, at the place that causes it.

    libyaml and PyYAML's own parser word their errors differently; both are recognised.
    """
    problem = exc.problem or "the text cannot be read"
    context = exc.context or ""
    known = [
        (message, at_start)
        for (context_word, problem_word), (message, at_start) in _SYNTAX_MESSAGES.items()
        if context_word in context and problem_word in problem
    ]
    if known:
        message, at_start = known[0]
        mark = exc.context_mark if at_start and exc.context_mark else exc.problem_mark
    else:
        message = f"not valid YAML: {problem}"
        mark = exc.problem_mark or exc.context_mark
    braces = _unquoted_braces(text, exc.problem_mark)
    if braces is not None:
        return make("yaml-syntax", braces[0], file, braces[1])
    if "cannot start any token" in problem and mark is not None:
        character = text[mark.index : mark.index + 1]
        message = (
            "a tab character; YAML indents with spaces only"
            if character == "\t"
            else f"the character {character!r} cannot start a value; put the value in quotes"
        )
    span = _mark_span(mark) if mark is not None else Span(1, 1, 1, 1)
    return make("yaml-syntax", message, file, span)


def _unquoted_braces(text: str, mark: yaml.Mark | None) -> tuple[str, Span] | None:
    """A value like ``{offering} VIP: 10% off``: YAML reads ``{offering}`` as a mapping and
    stumbles on the text after it. Say to quote it, pointing at the ``{``."""
    if mark is None:
        return None
    line = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
    found = _BRACED_VALUE.search(line[: mark.column])
    if found is None:
        return None
    message = (
        "a value that starts with '{' is read as a mapping; put the whole text in quotes, "
        'as in message: "{offering} ..."'
    )
    column = found.start(1) + 1
    return message, Span(mark.line + 1, column, mark.line + 1, column + 1)


_BRACED_VALUE = re.compile(r":\s+(\{[^{}]*\})\s*$")
_INDENTATION = "this line's indentation does not line up with the lines above it"

# (words of the parser's context, words of its problem) -> (message, point at the context's start)
_SYNTAX_MESSAGES: dict[tuple[str, str], tuple[str, bool]] = {
    ("flow mapping", ""): ("a '{' opened here is never closed with '}'", True),
    ("flow sequence", ""): ("a '[' opened here is never closed with ']'", True),
    ("quoted scalar", "end of stream"): ("a quoted text starts here and is never closed", True),
    ("", "mapping values are not allowed"): (
        "a ':' where no key can start; check the indentation, or quote a value that holds ': '",
        False,
    ),
    ("", "expected <block end>"): (_INDENTATION, False),
    ("block collection", "expected '-'"): (_INDENTATION, False),
    ("block mapping", "expected key"): (_INDENTATION, False),
    ("", "could not find expected ':'"): ("a key without ':' (write key: value)", False),
}


def _mark_span(mark: yaml.Mark) -> Span:
    return Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2)


def _kind(value: object) -> str:
    return {list: "list", str: "text", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )
