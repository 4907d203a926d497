"""Every member of a store as JSON lines, and back: ``topo export`` and ``topo import``.

An export is a backup, and the way to move members between stores (or store formats). Its
first line says what it holds::

    {"format": "topo-export/1", "journey": "club", "version": 3, "layout": {...},
     "journey_text": "topo: 1\\n..."}

then one line per member, by member id: the fields of ``topo replay --states`` (``member``,
``node``, ``entered_at``, ``metrics`` as of the member's clock, ``attributes`` without pii),
``version``, and ``state``: the member's whole state (:mod:`topo.engine.member_codec`), all it takes
to continue exactly. ``state`` holds pii attributes too, as the store does: keep an export as
safe as the store it came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from topo.engine.compiled import CompiledJourney, compile_journey
from topo.engine.json_values import json_ready
from topo.engine.member_codec import decode, encode
from topo.engine.member_state import MemberState, clock_time
from topo.errors import StoreError
from topo.journey.loader import load_text
from topo.store.member_checks import check_member
from topo.store.sqlite import SqliteStore
from topo.validation import check_document

__all__ = ["FORMAT", "export_lines", "import_lines"]

FORMAT = "topo-export/1"


def export_lines(store: SqliteStore) -> Iterator[str]:
    """The export of ``store``: its header line, then one line per member (by member id)."""
    meta = store.meta()
    if "journey" not in meta:
        raise StoreError(f"the store {store.path} holds no journey yet: nothing to export")
    text = meta.get("journey_text")
    header = {
        "format": FORMAT,
        "journey": meta["journey"],
        "version": int(meta["version"]),
        "layout": json.loads(meta["layout"]),
        "journey_text": text,
    }
    yield _line(header)
    compiled = _compiled(text)
    for member, version, state in store.rows():
        line: dict[str, Any] = {"member": member, "node": state.node}
        line["entered_at"] = state.entered_at.isoformat()
        if compiled is not None:
            clock = clock_time(state)
            line["metrics"] = json_ready(compiled.metrics.values(state.metrics, clock))
            attributes = state.attributes or {}
            line["attributes"] = json_ready(
                {k: v for k, v in attributes.items() if k not in compiled.pii}
            )
        line["version"] = version
        line["state"] = encode(state)
        yield _line(line)


def import_lines(store: SqliteStore, lines: Iterable[str], name: str) -> int:
    """Load an export (``lines``, from the file called ``name``) into the empty ``store``, in
    one transaction; how many members. A line that is not what an export writes is a
    :class:`StoreError` naming the line, and nothing is imported."""
    numbered = enumerate(lines, start=1)
    first = next(numbered, None)
    if first is None:
        raise StoreError(f"{name} is empty: an export starts with its header line")
    header = _object(first[1], name, 1)
    if header.get("format") != FORMAT:
        raise StoreError(
            f'{name}:1: not a topo export (its first line should have "format": '
            f'"{FORMAT}"); write one with topo export'
        )
    for key in ("journey", "version", "layout"):
        if key not in header:
            raise StoreError(f"{name}:1: the header lacks {key!r}")
    version, held = header["version"], header["layout"]
    if type(version) is not int or version < 1 or type(header["journey"]) is not str:
        raise StoreError(f"{name}:1: the journey is text and its version a whole number >= 1")
    if not isinstance(held, dict) or not all(
        isinstance(held.get(k), list) for k in ("metrics", "shapes", "ledger", "reminders")
    ):
        raise StoreError(f"{name}:1: the header's layout is not one topo export writes")
    text = header.setdefault("journey_text", None)
    if text is not None and type(text) is not str:
        raise StoreError(f"{name}:1: journey_text must be text or null")
    compiled = _compiled(text)
    nodes = None if compiled is None else compiled.journey.nodes

    def states() -> Iterator[MemberState]:
        for number, text in numbered:
            if not text.strip():
                continue
            data = _object(text, name, number)
            if data.get("version") != version:
                raise StoreError(
                    f"{name}:{number}: member of version {data.get('version')!r}, but the "
                    f"header says version {version}"
                )
            try:
                state = decode(data.get("state"))  # type: ignore[arg-type]  # it checks
                check_member(state, compiled)
            except ValueError as exc:
                raise StoreError(f"{name}:{number}: the member's state: {exc}") from None
            for key, kept in (("member", state.member), ("node", state.node)):
                if data.get(key, kept) != kept:
                    raise StoreError(
                        f"{name}:{number}: the line says {key} {data.get(key)!r}, its state "
                        f"{kept!r}: an import reads `state`; the other fields are for people"
                    )
            if len(state.metrics) != len(held["metrics"]):
                raise StoreError(
                    f"{name}:{number}: member {state.member!r} has {len(state.metrics)} metrics, "
                    f"the journey {len(held['metrics'])}"
                )
            if nodes is not None and state.node not in nodes:
                raise StoreError(
                    f"{name}:{number}: member {state.member!r} is at node {state.node!r}, which "
                    f"version {version} of the journey does not have"
                )
            yield state

    return store.load(header, states())


def _object(text: str, name: str, number: int) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise StoreError(f"{name}:{number}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise StoreError(f"{name}:{number}: a line of an export is a JSON object")
    return data


def _compiled(text: str | None) -> CompiledJourney | None:
    """The journey a store keeps the text of (None without one)."""
    if text is None:
        return None
    loaded = load_text(text, "<stored journey>")
    journey = (
        None if loaded.document is None else check_document(loaded.document, analysis=False)[0]
    )
    return None if journey is None else compile_journey(journey)


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
