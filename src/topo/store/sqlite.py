"""A durable store in one SQLite file: members, their timers, an outbox of triggers.

:class:`SqliteStore` implements :class:`topo.engine.stores.Store`. What the engine puts (a member's
state and the triggers that change produced) is kept in memory and written in one transaction
every ``batch_size`` changes, or on :meth:`SqliteStore.commit` and :meth:`SqliteStore.close`:
a commit holds whole changes only, so a state is never kept without its triggers, or the other
way round. A process killed between commits loses the changes since the last one, states and
triggers alike; the caller (``topo replay`` does) notes how far its input had come with
:meth:`SqliteStore.mark`, in the same transaction, and starts again from there.

The file holds, in WAL mode:

- ``meta``: the store format, and the journey, version and layout its members were written under
  (and the journey's text, so that ``topo export`` can show metrics);
- ``members``: one row per member: its version, node, next timer's due time (indexed, so that an
  engine finds the timers without reading every member) and its state but its history
  (``topo.engine.member_codec``: metrics, windows, recent event ids, the incentive ledger);
- ``history``: each member's history, in runs of entries: a commit appends the entries new since
  the last one (a history only grows), rather than writing the whole history again;
- ``outbox``: every trigger, in the order granted, until a sender acknowledges it
  (:class:`SqliteOutbox`);
- ``marks``: the caller's notes, written with the changes (``topo replay``'s input position).

One engine writes to a store at a time: :meth:`SqliteStore.bind` takes a lock beside the file
(``PATH.lock``, beside the file a symbolic link leads to) that the operating system releases
when the process ends, however it ends; a second engine gets a
:class:`topo.errors.StoreError` naming the process that holds it. Readers (``topo outbox``,
``topo export``) need no lock and may run beside the engine.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from topo.engine.compiled import CompiledJourney
from topo.engine.member_codec import (
    decode,
    decode_entries,
    encode,
    encode_entries,
    json_text,
    loads,
)
from topo.engine.member_state import MemberState
from topo.engine.migrations import Layout, layout
from topo.engine.stores import Migrate, check_binding
from topo.engine.triggers import Trigger, trigger_from_dict
from topo.errors import StoreError
from topo.journey.journey_texts import text_of

__all__ = ["FORMAT", "Savepoint", "SqliteOutbox", "SqliteStore"]

FORMAT = "topo-sqlite/2"
"""The layout of the file; a store of another format is refused with what to do."""

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE members (
    member TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    node TEXT NOT NULL,
    due INTEGER,
    state TEXT NOT NULL
);
CREATE INDEX members_due ON members (due) WHERE due IS NOT NULL;
CREATE TABLE history (
    member TEXT NOT NULL,
    start INTEGER NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (member, start)
) WITHOUT ROWID;
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    member TEXT NOT NULL,
    trigger TEXT NOT NULL,
    source TEXT,
    sent TEXT
);
CREATE INDEX outbox_id ON outbox (id);
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent IS NULL;
CREATE TABLE marks (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Savepoint:
    """Where a store's uncommitted changes stood: its commits so far, and how many triggers,
    changed members and changes it held, with its marks."""

    commits: int
    triggers: int
    dirtied: int
    changes: int
    marks: dict[str, Any]


def _link(new: str, path: str) -> None:
    """``new`` at ``path`` too, unless a file is there already. Where the file system has no
    hard links, ``new`` is renamed to ``path`` if nothing is there (a moment's race with another
    process making the same store, which such file systems leave open)."""
    try:
        os.link(new, path)
    except FileExistsError:
        return
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if not os.path.exists(path):
            os.rename(new, path)


class SqliteStore:
    """Members' states, timers and triggers in the SQLite file at ``path``.

    ``batch_size``: how many member changes are written per transaction (more is faster; a
    crash loses at most one batch, which the caller replays). ``cache_size``: how many states
    are kept in memory between commits; a batch also ends when that many members changed in
    it, so that the changed states, which wait in memory for the commit, stay within it.
    ``create=False`` refuses a file that does not exist (for readers). ``timeout``: seconds to
    wait for another process's transaction.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        batch_size: int = 200_000,
        cache_size: int = 100_000,
        create: bool = True,
        timeout: float = 10.0,
    ) -> None:
        if batch_size < 1 or cache_size < 1:
            raise ValueError("batch_size and cache_size must be at least 1")
        self.path = os.fspath(path)
        self.batch_size, self.cache_size, self.timeout = batch_size, cache_size, timeout
        self._where = f"the store {self.path}"
        if os.path.isdir(self.path):
            raise StoreError(f"{self._where} is a folder; a store is one file")
        existed = os.path.exists(self.path)
        if not create and not existed:
            raise StoreError(f"{self._where} does not exist")
        self._cache: dict[str, MemberState] = {}
        self._dirty: dict[str, MemberState] = {}
        # How many history entries the file holds of each member whose state object the store
        # holds (cached or changed), entries that object's history begins with: a commit
        # appends the rest. A member without a count has its history written whole.
        self._saved: dict[str, int] = {}
        self._triggers: list[Trigger] = []
        self._marks: dict[str, Any] = {}
        self._changes = 0
        self._dirtied: list[str] = []  # members in _dirty, in the order they first came
        self._commits = 0
        self._lock: int | None = None
        self._version: int | None = None
        self._engine: weakref.ref[Any] | None = None  # the engine bound to this store
        # Whether every member the file holds is in memory too, so that one not in memory need
        # not be looked for there: the file held none when the engine bound the store, and no
        # state has been let go of since. (A replay into a new store looks up every new member.)
        self._complete = False
        if create and not existed:  # a new store only where no file is
            self._make()
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._failed(exc, "opening it") from None
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise
        self.outbox = SqliteOutbox(self)
        """The triggers kept until a sender acknowledges them."""
        self.source: str | None = None
        """A name written with each trigger committed from now on, so that whoever feeds the
        engine can find its triggers again (``outbox.triggers(source=...)``): ``topo replay``
        names its input."""

    # -- the Store protocol ------------------------------------------------------------------

    def get(self, member: str) -> MemberState | None:
        found = self._cache.get(member)
        if found is not None:
            return found
        found = self._dirty.get(member)  # put, then let go of by the cache
        if found is not None or self._complete:  # (complete: not in the file either)
            return found
        try:
            row = self._db.execute(
                "SELECT state FROM members WHERE member = ?", (member,)
            ).fetchone()
            if row is None:
                return None
            runs = self._db.execute(
                "SELECT start, entries FROM history WHERE member = ? ORDER BY start", (member,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._failed(exc, f"reading member {member!r}") from None
        state = self._decode(member, row[0], runs)
        self._saved[member] = len(state.history)
        cache = self._cache
        cache[member] = state
        if len(cache) > self.cache_size:  # the longest kept goes (changes stay in _dirty)
            gone = next(iter(cache))
            del cache[gone]
            self._complete = False
            if gone not in self._dirty:
                self._saved.pop(gone, None)
        return state

    def put(self, state: MemberState, triggers: Sequence[Trigger] = ()) -> None:
        member = state.member
        cache = self._cache
        held = cache.get(member)
        if held is not state:
            if held is not None or self._dirty.get(member) is not state:
                self._saved.pop(member, None)  # another object: its history is written whole
            cache[member] = state
        if member not in self._dirty:
            self._dirtied.append(member)
        self._dirty[member] = state
        if triggers:
            self._triggers += triggers
        self._changes += 1
        if self._changes >= self.batch_size or len(self._dirty) >= self.cache_size:
            self.commit()

    def members(self) -> Iterator[str]:
        self.commit()
        return (member for (member,) in self._query("SELECT member FROM members", ()))

    def timers(self) -> Iterator[tuple[int, str]]:
        self.commit()
        found = self._query("SELECT due, member FROM members WHERE due IS NOT NULL", ())
        return iter([(due, member) for due, member in found])

    def bind(self, journey: CompiledJourney, migrate: Migrate) -> None:
        """Hold ``journey``'s members, as one engine's (see :meth:`topo.engine.stores.Store.bind`):
        takes the writer lock, checks the journey, and migrates older members in one
        transaction. A second engine over this store object, while the first lives, is
        refused."""
        engine = getattr(migrate, "__self__", None)
        held = None if self._engine is None else self._engine()
        if held is not None and held is not engine:
            raise StoreError(
                f"{self._where} is in use by another engine of this process: one engine "
                "writes to a store at a time; use that engine, or close the store and open it "
                "again for the new one"
            )
        self._engine = None if engine is None else weakref.ref(engine)
        self.commit()
        self._take_lock()
        meta = self.meta()
        held_id = meta.get("journey")
        if held_id is not None:
            held_version, held_layout = self._held(meta)
            if check_binding(self._where, held_id, held_version, held_layout, journey):
                self._cache.clear()
                self._saved.clear()
                self._migrate(held_version, held_layout, journey.version, migrate, journey)
        self._write_meta(journey)
        self._version = journey.version
        self._complete = not self._cache and not self._query("SELECT 1 FROM members LIMIT 1", ())

    # -- durability --------------------------------------------------------------------------

    def commit(self) -> None:
        """Write every change since the last commit, with its triggers and marks, in one
        transaction (nothing if there is none)."""
        if not (self._dirty or self._triggers or self._marks):
            return
        if self._version is None:
            raise StoreError(
                f"{self._where} has changes but no journey: make an Engine over the store "
                "before putting members into it"
            )
        version, saved = self._version, self._saved
        members = []
        rewritten: list[tuple[str]] = []  # members whose history is written whole
        runs = []
        for member, state in self._dirty.items():
            members.append((member, version, state.node, state.due, _state_text(state)))
            history = state.history
            kept = saved.get(member)
            if kept is None or len(history) < kept:
                rewritten.append((member,))
                kept = 0
            if len(history) > kept:
                runs.append((member, kept, json_text(encode_entries(history[kept:]))))
        source = self.source
        outbox = [(t.id, t.member, json_text(t.to_dict()), source) for t in self._triggers]
        marks = [
            (name, json.dumps(value() if callable(value) else value))
            for name, value in self._marks.items()
        ]
        with self._transaction("writing changes") as db:
            db.executemany(_PUT_MEMBER, members)
            db.executemany("DELETE FROM history WHERE member = ?", rewritten)
            db.executemany("INSERT INTO history VALUES (?, ?, ?)", runs)
            db.executemany(
                "INSERT INTO outbox (id, member, trigger, source) VALUES (?, ?, ?, ?)", outbox
            )
            db.executemany("INSERT OR REPLACE INTO marks VALUES (?, ?)", marks)
        cache = self._cache
        for member, state in self._dirty.items():
            if member in cache:
                saved[member] = len(state.history)
            else:
                saved.pop(member, None)
        self._dirty.clear()
        self._dirtied.clear()
        self._triggers.clear()
        self._marks.clear()
        self._changes = 0
        self._commits += 1
        while len(cache) > self.cache_size:  # all written now: the longest kept go
            gone = next(iter(cache))
            del cache[gone]
            saved.pop(gone, None)
            self._complete = False

    def mark(self, name: str, value: Any | Callable[[], Any]) -> None:
        """Write ``value`` (JSON data, or a function giving it) under ``name`` with the next
        commit: it is kept exactly when the changes made before it are."""
        self._marks[name] = value

    def marked(self, name: str) -> Any:
        """The value last committed under ``name``, or None."""
        rows = self._query("SELECT value FROM marks WHERE name = ?", (name,))
        return json.loads(rows[0][0]) if rows else None

    def close(self, *, commit: bool = True) -> None:
        """Commit (or, with ``commit=False``, :meth:`discard`), release the writer lock and
        close the file."""
        try:
            if commit:
                self.commit()
            else:
                self.discard()
        finally:
            self._release_lock()
            self._db.close()

    def discard(self) -> None:
        """Forget every change since the last commit, as a crash would: the members' states
        are read again from the file. An engine does this itself when a change fails halfway
        (an exception, Ctrl-C), and then reads its timers again from the store."""
        self._complete = False
        self._cache.clear()
        self._saved.clear()
        self._dirty.clear()
        self._dirtied.clear()
        self._triggers.clear()
        self._marks.clear()
        self._changes = 0

    def savepoint(self) -> Savepoint:
        """Where the uncommitted changes stand now, for :meth:`rollback`. An engine takes one
        at the start of each call (``process``, ``process_many``, ``tick``)."""
        return Savepoint(
            self._commits, len(self._triggers), len(self._dirtied), self._changes, {**self._marks}
        )

    def rollback(self, point: Savepoint) -> bool:
        """Go back to ``point``: forget the triggers, marks and member changes put since (the
        members changed since are read again from the file, or from the changes before
        ``point``, which stay). True when that was done; False when a commit came in between:
        what it committed stays (its triggers wait in the outbox), and the changes since it
        are discarded, as a crash would."""
        if point.commits != self._commits:
            self.discard()
            return False
        for member in self._dirtied[point.dirtied :]:
            del self._dirty[member]
            self._cache.pop(member, None)  # read again from the file, where it may be
            self._saved.pop(member, None)
            self._complete = False
        del self._dirtied[point.dirtied :]
        del self._triggers[point.triggers :]
        self._changes, self._marks = point.changes, point.marks
        return True

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        """Commit when the block ends normally; when it ends by an exception, a change may
        have been cut off halfway, so the changes since the last commit are discarded."""
        self.close(commit=kind is None)

    # -- reading the file as it is -------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """The store's own notes: ``format``, and ``journey``, ``version``, ``layout`` and
        ``journey_text`` once an engine has used it."""
        return dict(self._query("SELECT key, value FROM meta", ()))

    def rows(self) -> Iterator[tuple[str, int, MemberState]]:
        """``(member, version, state)`` of every committed member, by member id."""
        self.commit()
        last = ""
        while True:
            try:
                found = self._read_members(self._db, last)
            except sqlite3.Error as exc:
                raise self._failed(exc, "reading it") from None
            yield from found
            if len(found) < _READ:
                return
            last = found[-1][0]

    def load(self, header: dict[str, Any], states: Iterable[MemberState]) -> int:
        """Fill an empty store with ``states`` written under the journey ``header`` names
        (``journey``, ``version``, ``layout``, ``journey_text``), in one transaction; how
        many. The import behind ``topo import``."""
        self._take_lock()
        if self.meta().get("journey") is not None or self._query(
            "SELECT 1 FROM members LIMIT 1", ()
        ):
            raise StoreError(f"{self._where} is not empty: import into a new store")
        version = header["version"]
        count = 0
        with self._transaction("importing") as db:
            for state in states:
                _write_whole(db, state, version, new=True)
                count += 1
            self._complete = False
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [
                    ("journey", header["journey"]),
                    ("version", str(version)),
                    ("layout", json.dumps(header["layout"])),
                    *([("journey_text", header["journey_text"])] if header["journey_text"] else []),
                ],
            )
        return count

    # -- inside --------------------------------------------------------------------------------

    def _open(self) -> None:
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            tables = self._tables()
            if not tables:  # a new store is whole when it appears: see _make
                raise StoreError(
                    f"{self._where} is an empty file, not a topo store (a store cut to nothing "
                    "would replay every trigger again): a new store is made only where no file "
                    "is, so give a new path, or delete the file if it is yours to start over"
                )
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA cache_size = -65536")  # KiB: 64 MiB of pages
            # Copy the log back into the file every 64 MiB rather than every 4 MiB: a page
            # changed by several commits in between is copied once.
            self._db.execute("PRAGMA wal_autocheckpoint = 16384")
        except sqlite3.Error as exc:
            raise self._failed(exc, "opening it") from None
        if "meta" not in tables:
            raise StoreError(
                f"{self._where} is an SQLite database but not a topo store: give the path of a "
                "new file, or of a store topo made"
            )
        found = self.meta().get("format")
        if found == "topo-sqlite/1":  # its states hold their histories: see docs/store.md
            raise StoreError(
                f"{self._where} was made by an earlier topo (store format 'topo-sqlite/1'; "
                f"this topo reads {FORMAT!r}, which keeps histories apart): export it with the "
                "topo that made it (topo export) and import the export here (topo import)"
            )
        if found != FORMAT:
            raise StoreError(
                f"{self._where} is in store format {found!r}, and this topo reads {FORMAT!r}: "
                "export it with the topo that made it (topo export) and import that here "
                "(topo import)"
            )
        missing = {"members", "outbox", "marks"} - self._tables()
        if missing:
            raise StoreError(
                f"{self._where} is damaged: it lacks the table(s) {', '.join(sorted(missing))}; "
                "restore it from a backup (topo export), or start a new store"
            )

    def _tables(self) -> set[str]:
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}

    def _write_meta(self, journey: CompiledJourney) -> None:
        text = text_of(journey.journey)
        values = [
            ("journey", journey.id),
            ("version", str(journey.version)),
            ("layout", json.dumps(layout(journey))),
            *([("journey_text", text)] if text is not None else []),
        ]
        with self._transaction("noting the journey") as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values)

    def _migrate(
        self,
        held: int,
        held_layout: Layout,
        version: int,
        migrate: Migrate,
        journey: CompiledJourney,
    ) -> None:
        """Every member of version ``held`` through ``migrate``, in one transaction: all or,
        when one cannot be placed, none."""
        with self._transaction("migrating members") as db:
            last = ""
            while True:
                found = self._read_members(db, last)
                for _, _, state in found:  # each history is written whole again: a rare pass
                    _write_whole(db, migrate(state, held, held_layout), version)
                if len(found) < _READ:
                    break
                last = found[-1][0]
            text = text_of(journey.journey)
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [
                    ("version", str(version)),
                    ("layout", json.dumps(layout(journey))),
                    *([("journey_text", text)] if text is not None else []),
                ],
            )

    def _held(self, meta: dict[str, str]) -> tuple[int, Layout]:
        """The version and layout the store's members were written under."""
        try:
            version, held = int(meta["version"]), json.loads(meta["layout"])
            if not isinstance(held, dict) or not all(
                isinstance(held.get(k), list) for k in ("metrics", "ledger", "reminders")
            ):
                raise ValueError("not a layout")
        except (KeyError, ValueError):
            raise StoreError(
                f"{self._where} is damaged: its note of the journey's version and layout cannot "
                "be read; restore it from a backup (topo export), or start a new store"
            ) from None
        return version, held

    def _read_members(
        self, db: sqlite3.Connection, after: str
    ) -> list[tuple[str, int, MemberState]]:
        """``(member, version, state)`` of the next members after ``after`` by member id (as
        many as :data:`_READ`), their histories included."""
        found = db.execute(
            "SELECT member, version, state FROM members WHERE member > ? ORDER BY member "
            f"LIMIT {_READ}",
            (after,),
        ).fetchall()
        if not found:
            return []
        runs = db.execute(
            "SELECT member, start, entries FROM history WHERE member > ? AND member <= ? "
            "ORDER BY member, start",
            (after, found[-1][0]),
        ).fetchall()
        by_member = {
            member: [(start, entries) for _, start, entries in group]
            for member, group in itertools.groupby(runs, key=lambda run: run[0])
        }
        return [
            (member, version, self._decode(member, text, by_member.get(member, ())))
            for member, version, text in found
        ]

    def _decode(self, member: str, text: str, runs: Iterable[tuple[int, str]]) -> MemberState:
        """The member's state from its row and its history's runs (by start)."""
        try:
            state = decode(loads(text))
            history: list[Any] = []
            for start, entries in runs:
                if start != len(history):
                    raise ValueError(f"its history lacks entries {len(history)} to {start - 1}")
                history += decode_entries(loads(entries))
            state.history = history
            return state
        except (ValueError, TypeError, RecursionError) as exc:  # TypeError: not text
            raise StoreError(
                f"{self._where} is damaged: member {member!r} cannot be read ({exc}); restore "
                "it from a backup (topo export), or start a new store"
            ) from None

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise self._failed(exc, "reading it") from None

    def _transaction(self, doing: str) -> _Transaction:
        return _Transaction(self, doing)

    def _make(self) -> None:
        """A new, empty store at :attr:`path`, made whole or not at all: its tables are made in
        a file of its own beside it, which is then linked to the path. A process killed while
        making it leaves no file at the path (an empty one would be refused as a store cut to
        nothing), only, at worst, a ``.new`` file to delete. Where another process made the
        store meanwhile, that one is used."""
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            handle, new = tempfile.mkstemp(
                prefix=os.path.basename(self.path) + ".", suffix=".new", dir=folder
            )
            os.close(handle)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StoreError(f"{self._where} cannot be made: {reason}") from None
        try:
            db = sqlite3.connect(new, isolation_level=None)
            try:
                db.execute("BEGIN")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
                db.execute("COMMIT")
            finally:
                db.close()
            _link(new, self.path)
        except sqlite3.Error as exc:
            raise self._failed(exc, "making it") from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StoreError(f"{self._where} cannot be made: {reason}") from None
        finally:
            with suppress(OSError):
                os.unlink(new)

    def _failed(self, exc: sqlite3.Error, doing: str) -> StoreError:
        """A :class:`StoreError` for people, from what SQLite said."""
        said = str(exc)
        if "Could not decode" in said:  # SQLite's message quotes the text: it may hold pii
            return StoreError(
                f"{self._where} is damaged: a value is not UTF-8 text; restore it from a "
                "backup (topo export), or start a new store"
            )
        if "locked" in said or "busy" in said:
            return StoreError(
                f"{self._where} is busy: another process held it for more than "
                f"{self.timeout:g} s while {doing}; try again when it is done"
            )
        if "not a database" in said or "malformed" in said or "corrupt" in said:
            return StoreError(
                f"{self._where} is damaged or not a topo store (SQLite: {said}); restore it "
                "from a backup (topo export), or start a new store"
            )
        if "unable to open" in said:
            return StoreError(
                f"{self._where} cannot be opened (SQLite: {said}): does its folder exist, "
                "and may you write there?"
            )
        return StoreError(f"{self._where}: {doing} failed (SQLite: {said})")

    def _take_lock(self) -> None:
        if self._lock is not None or self.path == ":memory:" or self.path == "":
            return
        lock = os.path.realpath(self.path) + ".lock"  # one lock, whatever link names the file
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"{self._where}: cannot make its lock {lock}: {exc.strerror}"
            ) from None
        if not _lock_file(fd):
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"{self._where} is in use by another engine (process {holder}): one engine "
                "writes to a store at a time; wait for it to finish, or stop it"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._lock = fd

    def _release_lock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the file releases the lock
            self._lock = None


_READ = 1000
"""Members read at a time when reading them all (``rows``, migrations)."""

# A member's row, new or changed in place: INSERT OR REPLACE would delete the row and insert it
# again, at the table's end and in both indexes, which costs a third more at each commit.
_PUT_MEMBER = (
    "INSERT INTO members VALUES (?, ?, ?, ?, ?) ON CONFLICT (member) DO UPDATE SET "
    "version = excluded.version, node = excluded.node, due = excluded.due, state = excluded.state"
)


def _state_text(state: MemberState) -> str:
    """The member's state as its row keeps it: without its history, which is kept apart."""
    return json_text(encode(state, history=False))


def _write_whole(
    db: sqlite3.Connection, state: MemberState, version: int, *, new: bool = False
) -> None:
    """Write ``state`` (of ``version``) over what the file holds of its member, its history
    whole, in the transaction under way; ``new``: the file holds nothing of it (a member
    that it holds already is then an error)."""
    member = state.member
    row = (member, version, state.node, state.due, _state_text(state))
    if new:
        db.execute("INSERT INTO members VALUES (?, ?, ?, ?, ?)", row)
    else:
        db.execute(_PUT_MEMBER, row)
        db.execute("DELETE FROM history WHERE member = ?", (member,))
    if state.history:
        db.execute(
            "INSERT INTO history VALUES (?, 0, ?)",
            (member, json_text(encode_entries(state.history))),
        )


class _Transaction:
    """``with store._transaction(doing) as db:`` one write transaction, rolled back on any
    error; SQLite's errors become :class:`StoreError`."""

    def __init__(self, store: SqliteStore, doing: str) -> None:
        self.store, self.doing = store, doing

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.store._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.store._failed(exc, self.doing) from None
        return self.store._db

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        db = self.store._db
        if kind is None:
            try:
                db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        with suppress(sqlite3.Error):  # SQLite may have rolled back already
            db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise self.store._failed(exc, self.doing) from None


def _lock_file(fd: int) -> bool:
    """Take an exclusive lock on the open file ``fd`` without waiting; whether it was free."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class SqliteOutbox:
    """A store's triggers, each kept until a sender acknowledges it.

    A sender reads :meth:`pending`, sends, then calls :meth:`ack` with the ids it sent; a sender
    that crashes before acknowledging reads the same triggers again (trigger ids are
    deterministic, so the channel may de-duplicate what it did send)."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def pending(self, limit: int | None = None) -> list[Trigger]:
        """The triggers not yet acknowledged, in the order granted (at most ``limit``).
        Changes not yet committed are committed first."""
        self._store.commit()
        sql = "SELECT trigger FROM outbox WHERE sent IS NULL ORDER BY seq"
        rows = (
            self._store._query(sql + " LIMIT ?", (limit,)) if limit else self._store._query(sql, ())
        )
        return [self._trigger(text) for (text,) in rows]

    def ack(self, ids: Iterable[str]) -> int:
        """Mark the triggers with these ids sent (unknown or already sent ids are ignored);
        how many were pending."""
        wanted = list(dict.fromkeys(ids))
        sent = datetime.now(UTC).isoformat()
        count = 0
        with self._store._transaction("acknowledging triggers") as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                cursor = db.execute(
                    f"UPDATE outbox SET sent = ? WHERE sent IS NULL AND id IN ({marks})",
                    (sent, *chunk),
                )
                count += cursor.rowcount
        return count

    def triggers(self, source: str | None = None) -> Iterator[Trigger]:
        """Every trigger the store has kept, sent or not, in the order granted; with
        ``source``, only those committed under that name (:attr:`SqliteStore.source`)."""
        self._store.commit()
        last = 0
        where = "" if source is None else " AND source = ?"
        while True:
            found = self._store._query(
                f"SELECT seq, trigger FROM outbox WHERE seq > ?{where} ORDER BY seq LIMIT 1000",
                (last,) if source is None else (last, source),
            )
            for _, text in found:
                yield self._trigger(text)
            if len(found) < 1000:
                return
            last = found[-1][0]

    def _trigger(self, text: str) -> Trigger:
        try:
            return trigger_from_dict(loads(text))
        except (KeyError, TypeError, ValueError, RecursionError):
            raise StoreError(
                f"{self._store._where} is damaged: a trigger of its outbox cannot be read; "
                "restore it from a backup, or start a new store"
            ) from None

    def __len__(self) -> int:
        """How many triggers are pending."""
        self._store.commit()
        return int(self._store._query("SELECT count(*) FROM outbox WHERE sent IS NULL", ())[0][0])
