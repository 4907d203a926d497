"""The SQLite store keeps each member's history apart from the rest of its state: a commit
appends the entries new since the last one, and a member read back is the member that was
kept, history included, through commits, rollbacks, crashes, migrations and imports."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topo
from conftest import MINIMAL, dedent, fail_at
from random_journeys import journeys, outcomes, streams
from topo.engine.member_codec import encode
from topo.store.exports import export_lines, import_lines

T0 = datetime(2026, 3, 1, tzinfo=UTC)
# Purchases of 60 move the member: to buyer, to vip at 100, back to buyer at 200.
BACK_AND_FORTH = MINIMAL[: MINIMAL.index("nodes:")] + dedent("""
    nodes:
      visitor: {kind: start, owner: crm}
      buyer: {kind: checkpoint, owner: crm}
      vip: {kind: checkpoint, owner: crm}
      top: {kind: peak, owner: crm}
    moves:
      - {from: visitor, to: buyer, on: purchase}
      - {from: buyer, to: vip, on: purchase, when: "spend >= 100 and spend < 200"}
      - {from: vip, to: buyer, on: purchase, when: "spend >= 200"}
      - {from: buyer, to: top, on: purchase, when: "spend >= 1000"}
    """)


def buy(n: int, member: str = "m") -> dict[str, Any]:
    at = (T0 + timedelta(days=n)).isoformat()
    return {"id": f"e-{n}", "type": "purchase", "member": member, "at": at, "amount": 60.0}


def journey(tmp_path: Path, text: str = BACK_AND_FORTH) -> topo.Journey:
    path = tmp_path / "j.yaml"
    path.write_text(text)
    return topo.load_journey(path)


def runs(path: Path, member: str) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT start, entries FROM history WHERE member = ? ORDER BY start", (member,)
        ).fetchall()


def kept(engine: topo.Engine) -> dict[str, Any]:
    """Every member's whole state, history included, by member id."""
    return {m: encode(engine.store.get(m)) for m in sorted(engine.store.members())}  # type: ignore[arg-type]


class TestOnlyNewEntriesAreWritten:
    """A commit appends the entries new since the last commit; what was written stays as it
    was, and the state's own row holds no history."""

    def test_entries_are_appended(self, tmp_path: Path) -> None:
        path = tmp_path / "s.db"
        with topo.SqliteStore(path, batch_size=1000) as store:
            engine = topo.Engine(journey(tmp_path), store)
            engine.process(buy(1))  # 60: to buyer
            engine.process(buy(2))  # 120: to vip
            store.commit()
            first = runs(path, "m")
            engine.process(buy(3))  # 180: nothing new
            store.commit()
            assert runs(path, "m") == first
            engine.process(buy(4))  # 240: back to buyer
            store.commit()
            found = runs(path, "m")
            assert found[: len(first)] == first
            assert [start for start, _ in found] == [0, 2]
            assert len(json.loads(found[1][1])) == 1
            whole = engine.state("m")["history"]  # type: ignore[index]
            assert [h.get("to") for h in whole] == ["buyer", "vip", "buyer"]
        with sqlite3.connect(path) as db:
            (state,) = db.execute("SELECT state FROM members").fetchone()
        assert json.loads(state)["history"] == []
        with topo.SqliteStore(path) as store:
            assert topo.Engine(journey(tmp_path), store).state("m")["history"] == whole  # type: ignore[index]

    def test_a_state_put_anew_is_written_whole(self, tmp_path: Path) -> None:
        """A state object the store did not hand out (a copy, a user's own) may hold any
        history: it replaces what the file held, entries included."""
        path = tmp_path / "s.db"
        with topo.SqliteStore(path) as store:
            engine = topo.Engine(journey(tmp_path), store)
            for n in range(1, 5):
                engine.process(buy(n))
            store.commit()
            copy = topo.engine.member_codec.decode(encode(store.get("m")))  # type: ignore[arg-type]
            del copy.history[1:]
            store.put(copy)
        with topo.SqliteStore(path) as store:
            topo.Engine(journey(tmp_path), store)
            assert store.get("m") == copy
        assert [start for start, _ in runs(path, "m")] == [0]


class TestSameAsMemoryThroughFailures:
    """Calls cut off halfway (and undone), commits at any batch size, closing and opening
    again: the members read back from the file, histories included, and the outbox are the
    memory store's."""

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        journeys(),
        streams(),
        st.integers(1, 4),
        st.integers(1, 3),
        st.lists(st.tuples(st.sampled_from(["_keep", "_grant", "_cascade"]), st.integers(1, 3))),
        st.lists(st.sampled_from(["commit", "reopen", None, None, None])),
    )
    def test_round_trip(
        self,
        journey: topo.Journey,
        items: list[Any],
        batch: int,
        cache: int,
        failures: list[tuple[str, int]],
        between: list[str | None],
    ) -> None:
        memory = topo.Engine(journey)
        expected = [t for t in outcomes(memory, items) if isinstance(t, dict)]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "s.db"
            store = topo.SqliteStore(path, batch_size=batch, cache_size=cache)
            engine = topo.Engine(journey, store)
            for number, item in enumerate(items):
                if number < len(failures):  # cut this call off, then run it again
                    method, call = failures[number]
                    fail_at(engine, method, call)
                    with suppress(KeyboardInterrupt):  # undone, whether it came or not
                        outcomes(engine, [item])
                    delattr(engine, method)
                outcomes(engine, [item])
                step = between[number] if number < len(between) else None
                if step == "commit":
                    store.commit()
                elif step == "reopen":
                    store.close()
                    store = topo.SqliteStore(path, batch_size=batch, cache_size=cache)
                    engine = topo.Engine(journey, store)
            store.close()
            with topo.SqliteStore(path) as store:
                again = topo.Engine(journey, store)
                assert kept(again) == kept(memory)
                assert [t.to_dict() for t in store.outbox.pending()] == expected
                assert {m: s for m, _, s in store.rows()} == {
                    m: memory.store.get(m) for m in memory.store.members()
                }


class TestFormat:
    """The file's format is ``topo-sqlite/2``; a store of the first format is refused with what
    to do, and nothing is changed."""

    def test_a_store_of_the_first_format(self, tmp_path: Path) -> None:
        path = tmp_path / "s.db"
        topo.SqliteStore(path).close()
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = 'topo-sqlite/1' WHERE key = 'format'")
        before = path.read_bytes()
        with pytest.raises(
            topo.StoreError, match=r"an earlier topo .*topo-sqlite/1.*topo export.*topo import"
        ):
            topo.SqliteStore(path)
        assert path.read_bytes() == before
        assert topo.store.sqlite.FORMAT == "topo-sqlite/2"

    @pytest.mark.parametrize("damage", ["gap", "not-json", "not-entries", "not-text"])
    def test_a_damaged_history(self, tmp_path: Path, damage: str) -> None:
        """A history whose runs leave a gap, or that cannot be read: damaged, naming no
        entry (an entry may hold pii)."""
        path = tmp_path / "s.db"
        with topo.SqliteStore(path, batch_size=1) as store:
            engine = topo.Engine(journey(tmp_path), store)
            for n in range(1, 5):
                engine.process(buy(n))
        with sqlite3.connect(path) as db:
            if damage == "gap":
                db.execute("DELETE FROM history WHERE start = 0")
            elif damage == "not-json":
                db.execute("UPDATE history SET entries = '[{\"secret\"'")
            elif damage == "not-entries":
                db.execute("""UPDATE history SET entries = '[{"secret": 1}]'""")
            else:
                db.execute("UPDATE members SET state = 7")
        with (
            pytest.raises(topo.StoreError, match="damaged: member 'm' cannot be read") as raised,
            topo.SqliteStore(path) as store,
        ):
            topo.Engine(journey(tmp_path), store).state("m")
        assert "secret" not in str(raised.value)


class TestWholeHistories:
    """Migrations, exports and imports carry every member's history, once."""

    def test_a_migration_appends_its_move(self, tmp_path: Path) -> None:
        path = tmp_path / "s.db"
        with topo.SqliteStore(path) as store:
            engine = topo.Engine(journey(tmp_path), store)
            for n in range(1, 3):
                engine.process(buy(n))
            before = engine.state("m")["history"]  # type: ignore[index]
        renamed = (
            BACK_AND_FORTH.replace("version: 1", "version: 2")
            .replace("vip", "gold")
            .replace("moves:", "migrations:\n  - {from_version: 1, nodes: {vip: gold}}\nmoves:")
        )
        with topo.SqliteStore(path) as store:
            after = topo.Engine(journey(tmp_path, renamed), store).state("m")["history"]  # type: ignore[index]
        assert after[:-1] == before and after[-1]["move"] == "migration"
        with topo.SqliteStore(path) as store:
            assert topo.Engine(journey(tmp_path, renamed), store).state("m")["history"] == after  # type: ignore[index]

    def test_export_and_import(self, tmp_path: Path) -> None:
        with topo.SqliteStore(tmp_path / "a.db", batch_size=2) as store:
            engine = topo.Engine(journey(tmp_path), store)
            for n in range(1, 8):
                engine.process(buy(n, f"m{n % 2}"))
            lines = list(export_lines(store))
            states = kept(engine)
        with topo.SqliteStore(tmp_path / "b.db") as store:
            assert import_lines(store, lines, "x.jsonl") == 2
            assert kept(topo.Engine(journey(tmp_path), store)) == states
            assert list(export_lines(store)) == lines
        assert [start for start, _ in runs(tmp_path / "b.db", "m1")] == [0]
