"""The SQLite store: the same outcomes as the memory store, kept across processes, an outbox
that keeps triggers until acknowledged, one engine at a time, refusals that say what to do."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topo
from conftest import MINIMAL
from random_journeys import journeys, outcomes, streams
from topo.engine.member_codec import encode
from topo.store.exports import export_lines, import_lines

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def buy(n: int, member: str = "m", amount: float = 60.0, days: float = 0) -> dict[str, Any]:
    at = (T0 + timedelta(days=days + n / 1000)).isoformat()
    return {"id": f"e-{n}", "type": "purchase", "member": member, "at": at,
            "amount": amount}  # fmt: skip


def journey_text(version: int = 1, *, extra: str = "") -> str:
    return MINIMAL.replace("version: 1", f"version: {version}") + textwrap.dedent(extra)


def load(tmp_path: Path, text: str, name: str = "j.yaml") -> topo.Journey:
    path = tmp_path / name
    path.write_text(text)
    return topo.load_journey(path)


def states(engine: topo.Engine) -> dict[str, Any]:
    return {m: encode(engine.store.get(m)) for m in sorted(engine.store.members())}  # type: ignore[arg-type]


class TestSameAsMemory:
    """Whatever the batch and cache sizes, and across a close and reopen, a durable store gives
    the memory store's outcomes."""

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(journeys(), streams(), st.integers(1, 4), st.integers(1, 3), st.integers(0, 30))
    def test_same_outcomes(
        self,
        journey: topo.Journey,
        items: list[Any],
        batch: int,
        cache: int,
        cut: int,
    ) -> None:
        import tempfile

        memory = topo.Engine(journey)
        expected = outcomes(memory, items)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "s.db"
            with topo.SqliteStore(path, batch_size=batch, cache_size=cache) as store:
                found = outcomes(topo.Engine(journey, store), items[:cut])
            with topo.SqliteStore(path, batch_size=batch, cache_size=cache) as store:
                engine = topo.Engine(journey, store)
                found += outcomes(engine, items[cut:])
                assert found == expected
                assert states(engine) == states(memory)
                kept = [t.to_dict() for t in store.outbox.pending()]
                assert kept == [t for t in expected if isinstance(t, dict)]


class TestOutbox:
    def test_pending_until_acknowledged(self, tmp_path: Path) -> None:
        """Triggers stay pending (in another process too) until acknowledged, then are gone
        from pending but kept in the log."""
        journey = load(tmp_path, granting())
        with topo.SqliteStore(tmp_path / "s.db") as store:
            engine = topo.Engine(journey, store)
            granted = engine.process(buy(1, amount=150)) + engine.process(buy(2, "n", 150))
            assert [t.id for t in engine.outbox.pending()] == [t.id for t in granted]
            assert engine.outbox.ack([granted[0].id, "no-such-id"]) == 1
            assert engine.outbox.ack([granted[0].id]) == 0
        with topo.SqliteStore(tmp_path / "s.db", create=False) as reader:
            assert [t.to_dict() for t in reader.outbox.pending()] == [granted[1].to_dict()]
            assert len(reader.outbox) == 1
            assert [t.id for t in reader.outbox.triggers()] == [t.id for t in granted]

    def test_uncommitted_triggers_are_not_pending_elsewhere(self, tmp_path: Path) -> None:
        """Another process sees a trigger only once the state that made it is committed."""
        journey = load(tmp_path, granting())
        store = topo.SqliteStore(tmp_path / "s.db", batch_size=100)
        engine = topo.Engine(journey, store)
        engine.process(buy(1, amount=150))
        with topo.SqliteStore(tmp_path / "s.db", create=False) as reader:
            assert reader.outbox.pending() == []
            store.commit()
            assert len(reader.outbox.pending()) == 1
        store.close()

    def test_the_memory_store_has_none(self, tmp_path: Path) -> None:
        with pytest.raises(TypeError, match="keeps no outbox"):
            _ = topo.Engine(load(tmp_path, MINIMAL)).outbox


PAY = """\
incentives:
  welcome: {kind: gift, channel: email, cost: 5}
"""


def granting() -> str:
    """The minimal journey, whose move grants ``welcome``."""
    return journey_text(extra=PAY).replace(
        'when: "spend >= 100"}', 'when: "spend >= 100", incentives: [welcome]}'
    )


class TestOneEngineAtATime:
    def test_a_second_engine_on_the_same_store_object(self, tmp_path: Path) -> None:
        journey = load(tmp_path, MINIMAL)
        with topo.SqliteStore(tmp_path / "s.db") as store:
            first = topo.Engine(journey, store)
            with pytest.raises(topo.StoreError, match="another engine of this process"):
                topo.Engine(journey, store)
            del first  # once the first is gone, a new engine may use the store
            topo.Engine(journey, store)

    def test_a_second_engine_is_refused(self, tmp_path: Path) -> None:
        journey = load(tmp_path, MINIMAL)
        with topo.SqliteStore(tmp_path / "s.db") as store:
            topo.Engine(journey, store)
            with (
                topo.SqliteStore(tmp_path / "s.db") as other,
                pytest.raises(topo.StoreError, match=r"in use by another engine \(process \d+\)"),
            ):
                topo.Engine(journey, other)
        with topo.SqliteStore(tmp_path / "s.db") as store:  # released on close
            topo.Engine(journey, store)

    def test_a_killed_holder_releases_it(self, tmp_path: Path) -> None:
        """The lock belongs to the process: once it is killed, the store is free."""
        (tmp_path / "j.yaml").write_text(MINIMAL)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(tmp_path / "j.yaml"), str(tmp_path / "s.db")],
            stdout=subprocess.PIPE,
        )
        assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
        journey = topo.load_journey(tmp_path / "j.yaml")
        with (
            topo.SqliteStore(tmp_path / "s.db") as store,
            pytest.raises(topo.StoreError, match=f"process {holder.pid}"),
        ):
            topo.Engine(journey, store)
        holder.kill()
        holder.wait()
        with topo.SqliteStore(tmp_path / "s.db") as store:
            assert topo.Engine(journey, store).state("m")["node"] == "visitor"  # type: ignore[index]

    def test_readers_run_beside_the_engine(self, tmp_path: Path) -> None:
        journey = load(tmp_path, granting())
        with topo.SqliteStore(tmp_path / "s.db", batch_size=1) as store:
            engine = topo.Engine(journey, store)
            engine.process(buy(1, amount=150))
            with topo.SqliteStore(tmp_path / "s.db", create=False) as reader:
                [trigger] = reader.outbox.pending()
                assert reader.outbox.ack([trigger.id]) == 1
            engine.process(buy(2, "n", amount=150))
            assert len(engine.outbox.pending()) == 1


HOLD = """
import sys, time, topo
store = topo.SqliteStore(sys.argv[2])
engine = topo.Engine(topo.load_journey(sys.argv[1]), store)
engine.process({"id": "e", "type": "purchase", "member": "m", "at": "2026-03-01T00:00:00Z",
                "amount": 1.0})
store.commit()
print("ready", flush=True)
time.sleep(60)
"""


class TestRefusals:
    """A store that cannot be used says why and what to do; nothing is changed."""

    def test_another_journey(self, tmp_path: Path) -> None:
        with topo.SqliteStore(tmp_path / "s.db") as store:
            topo.Engine(load(tmp_path, MINIMAL), store)
        other = load(tmp_path, MINIMAL.replace("journey: demo", "journey: other"), "o.yaml")
        with (
            topo.SqliteStore(tmp_path / "s.db") as store,
            pytest.raises(topo.StoreError, match="holds members of journey 'demo', not 'other'"),
        ):
            topo.Engine(other, store)

    def test_an_older_version_of_the_journey(self, tmp_path: Path) -> None:
        with topo.SqliteStore(tmp_path / "s.db") as store:
            topo.Engine(load(tmp_path, journey_text(2)), store)
        with (
            topo.SqliteStore(tmp_path / "s.db") as store,
            pytest.raises(topo.StoreError, match=r"version 2 .* newer than the version 1"),
        ):
            topo.Engine(load(tmp_path, journey_text(1), "old.yaml"), store)

    def test_a_changed_journey_under_the_same_version(self, tmp_path: Path) -> None:
        with topo.SqliteStore(tmp_path / "s.db") as store:
            topo.Engine(load(tmp_path, MINIMAL), store)
        changed = MINIMAL.replace("spend: {sum: purchase.amount}", "spend: {max: purchase.amount}")
        with (
            topo.SqliteStore(tmp_path / "s.db") as store,
            pytest.raises(topo.StoreError, match="raise `version` to 2"),
        ):
            topo.Engine(load(tmp_path, changed, "new.yaml"), store)

    def test_an_sqlite_file_that_is_not_a_store(self, tmp_path: Path) -> None:
        with sqlite3.connect(tmp_path / "other.db") as db:
            db.execute("CREATE TABLE t (x)")
        with pytest.raises(topo.StoreError, match="an SQLite database but not a topo store"):
            topo.SqliteStore(tmp_path / "other.db")

    def test_another_store_format(self, tmp_path: Path) -> None:
        topo.SqliteStore(tmp_path / "s.db").close()
        with sqlite3.connect(tmp_path / "s.db") as db:
            db.execute("UPDATE meta SET value = 'topo-sqlite/9' WHERE key = 'format'")
        with pytest.raises(topo.StoreError, match=r"format 'topo-sqlite/9'.*topo export"):
            topo.SqliteStore(tmp_path / "s.db")

    @pytest.mark.parametrize("damage", ["garbage", "truncated", "state"])
    def test_a_damaged_file(self, tmp_path: Path, damage: str) -> None:
        """Not a database, cut short, or a member's state mangled: a StoreError, no traceback
        of SQLite or JSON."""
        path = tmp_path / "s.db"
        journey = load(tmp_path, MINIMAL)
        with topo.SqliteStore(path) as store:
            engine = topo.Engine(journey, store)
            for n in range(3000):
                engine.process(buy(n, f"m{n}"))
        if damage == "garbage":
            path.write_bytes(b"this is not a database at all" * 100)
        elif damage == "truncated":
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        else:
            with sqlite3.connect(path) as db:
                db.execute("UPDATE members SET state = '{\"format\": 1' WHERE member = 'm7'")
        with pytest.raises(topo.StoreError, match="damaged"), topo.SqliteStore(path) as store:
            engine = topo.Engine(journey, store)
            for member in sorted(store.members()):
                engine.state(member)

    def test_a_missing_store_for_readers(self, tmp_path: Path) -> None:
        with pytest.raises(topo.StoreError, match="does not exist"):
            topo.SqliteStore(tmp_path / "nope.db", create=False)
        assert not (tmp_path / "nope.db").exists()


MIGRATED = """\
nodes:
  visitor: {kind: start, owner: crm}
  gold: {kind: peak, owner: crm}
  lapsed: {kind: exit, owner: crm}
moves:
  - {from: visitor, to: gold, on: purchase, when: "spend >= 100"}
  - {from: gold, to: lapsed, after: 10d}
migrations:
  - from_version: 1
    nodes: {vip: gold}
"""


def renamed(version: int = 2, mapping: str = "{vip: gold}") -> str:
    base = MINIMAL.replace("version: 1", f"version: {version}")
    base = base[: base.index("nodes:")]
    return base + MIGRATED.replace("{vip: gold}", mapping)


class TestMigrations:
    """A newer version moves stored members as its migrations say, all or none."""

    @pytest.mark.parametrize("kind", ["sqlite", "memory"])
    def test_members_are_moved(self, tmp_path: Path, kind: str) -> None:
        store: Any = topo.SqliteStore(tmp_path / "s.db") if kind == "sqlite" else topo.MemoryStore()
        old = topo.Engine(load(tmp_path, MINIMAL), store, explain=True)
        old.process(buy(1, "a", 150, days=1))  # vip
        old.process(buy(2, "b", 50, days=2))  # visitor
        if kind == "sqlite":
            store.close()
            store = topo.SqliteStore(tmp_path / "s.db")
        new = topo.Engine(load(tmp_path, renamed(), "v2.yaml"), store, explain=True)
        a = new.state("a")
        assert a is not None and a["node"] == "gold"
        assert a["entered_at"] == (T0 + timedelta(days=1.001)).isoformat()  # its own clock
        assert a["metrics"]["spend"] == 150  # kept
        assert a["history"][-1] == {
            "move": "migration", "from": "vip", "to": "gold",
            "at": (T0 + timedelta(days=1.001)).isoformat(), "cause": "journey version 1 -> 2",
        }  # fmt: skip
        assert new.explain("a")[-1]["step"] == "migrated"
        assert new.state("b")["node"] == "visitor"  # type: ignore[index]
        # the new node's timer started at the member's clock, and fires, granting nothing
        assert new.tick(T0 + timedelta(days=11.002)) == []
        assert new.state("a")["node"] == "lapsed"  # type: ignore[index]

    def test_an_unmapped_node_changes_nothing(self, tmp_path: Path) -> None:
        with topo.SqliteStore(tmp_path / "s.db") as store:
            topo.Engine(load(tmp_path, MINIMAL), store).process(buy(1, "a", 150))
        with (
            topo.SqliteStore(tmp_path / "s.db") as store,
            pytest.raises(topo.MigrationError, match=r"'a' is at node 'vip' of version 1, .*2"),
        ):
            topo.Engine(load(tmp_path, renamed(mapping="{}"), "v2.yaml"), store)
        with topo.SqliteStore(tmp_path / "s.db") as store:  # still version 1, as it was
            assert store.meta()["version"] == "1"
            assert topo.Engine(load(tmp_path, MINIMAL), store).state("a")["node"] == "vip"  # type: ignore[index]

    def test_metrics_and_ledger_follow_their_names(self, tmp_path: Path) -> None:
        """A metric added before another, and an incentive added before another: each value
        lands where the new version keeps it; the new metric starts empty."""
        v1 = (
            journey_text(extra=PAY)
            .replace('when: "spend >= 100"}', 'when: "spend >= 100", incentives: [welcome]}')
            .replace("cost: 5}", "cost: 5, once: true}")
        )
        v2 = (
            v1.replace("version: 1", "version: 2")
            .replace("metrics:\n", "metrics:\n  orders: {count: purchase}\n")
            .replace("incentives:\n", "incentives:\n  first: {kind: gift, channel: sms}\n", 1)
        )
        with topo.SqliteStore(tmp_path / "s.db") as store:
            engine = topo.Engine(load(tmp_path, v1), store)
            assert len(engine.process(buy(1, "a", 150))) == 1
        with topo.SqliteStore(tmp_path / "s.db") as store:
            engine = topo.Engine(load(tmp_path, v2, "v2.yaml"), store)
            assert engine.state("a")["metrics"] == {"orders": 0, "spend": 150}  # type: ignore[index]
            ledger = engine.store.get("a").ledger  # type: ignore[union-attr]
            assert ledger is not None and ledger[0] is None and ledger[1] is not None

    def test_a_metric_whose_window_changed_keeps_its_events(self, tmp_path: Path) -> None:
        """A window made longer keeps what the shorter one held; a metric of another kind
        starts empty."""
        v1 = MINIMAL.replace(
            "spend: {sum: purchase.amount}",
            "spend: {sum: purchase.amount, window: 30d}\n  top: {max: purchase.amount}",
        )
        v2 = v1.replace("version: 1", "version: 2").replace("window: 30d", "window: 60d")
        v2 = v2.replace("top: {max: purchase.amount}", "top: {min: purchase.amount}")
        with topo.SqliteStore(tmp_path / "s.db") as store:
            engine = topo.Engine(load(tmp_path, v1), store)
            engine.process(buy(1, "a", 40, days=0))
            engine.process(buy(2, "a", 50, days=20))
        with topo.SqliteStore(tmp_path / "s.db") as store:
            engine = topo.Engine(load(tmp_path, v2, "v2.yaml"), store)
            assert engine.state("a")["metrics"] == {"spend": 90, "top": None}  # type: ignore[index]
            engine.process(buy(3, "a", 5, days=45))  # 40 is 45 days old: in the 60-day window
            assert engine.state("a")["metrics"] == {"spend": 95, "top": 5}  # type: ignore[index]


class TestExportImport:
    def test_round_trip_continues_exactly(self, tmp_path: Path) -> None:
        """Half the events, export, import into a new store, the other half: the same states
        and triggers as a store that never moved."""
        journey = load(tmp_path, granting())
        events = [buy(n, f"m{n % 7}", amount=10.0 + n % 50, days=n) for n in range(60)]
        with topo.SqliteStore(tmp_path / "a.db") as store:
            kept = topo.Engine(journey, store)
            outcomes(kept, events[:30])
            lines = list(export_lines(store))
        header = json.loads(lines[0])
        assert header["format"] == "topo-export/1" and header["version"] == 1
        assert json.loads(lines[1])["metrics"] == {"spend": sum(10.0 + n for n in range(0, 30, 7))}
        with topo.SqliteStore(tmp_path / "b.db") as store:
            assert import_lines(store, lines, "export.jsonl") == 7
        with topo.SqliteStore(tmp_path / "a.db") as a, topo.SqliteStore(tmp_path / "b.db") as b:
            kept, moved = topo.Engine(journey, a), topo.Engine(journey, b)
            assert outcomes(moved, events[30:]) == outcomes(kept, events[30:])
            assert states(moved) == states(kept)

    def test_a_bad_line_imports_nothing(self, tmp_path: Path) -> None:
        journey = load(tmp_path, MINIMAL)
        with topo.SqliteStore(tmp_path / "a.db") as store:
            topo.Engine(journey, store).process(buy(1))
            lines = list(export_lines(store))
        with topo.SqliteStore(tmp_path / "b.db") as store:
            with pytest.raises(topo.StoreError, match=r"export\.jsonl:3: not JSON"):
                import_lines(store, [*lines, "{oops"], "export.jsonl")
            assert list(store.members()) == [] and "journey" not in store.meta()


class TestReviewFindings:
    """What an independent review found, each with the test that failed before."""

    def test_a_symbolic_link_is_the_same_store(self, tmp_path: Path) -> None:
        journey = load(tmp_path, MINIMAL)
        (tmp_path / "alias.db").symlink_to(tmp_path / "s.db")
        with topo.SqliteStore(tmp_path / "s.db") as store:
            topo.Engine(journey, store)
            with (
                topo.SqliteStore(tmp_path / "alias.db") as other,
                pytest.raises(topo.StoreError, match="in use by another engine"),
            ):
                topo.Engine(journey, other)

    def test_a_change_cut_off_halfway_is_not_kept(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An exception in the middle of a change (here Ctrl-C after the metrics took the
        event in): the store forgets that change, and only it; what is committed after holds
        no half-changed member, the earlier call of the batch is kept (its triggers were
        handed out: it used to be lost with the batch), and the engine goes on."""
        journey = load(tmp_path, MINIMAL)
        with topo.SqliteStore(tmp_path / "s.db", batch_size=100) as store:
            engine = topo.Engine(journey, store)
            engine.process(buy(1, amount=40))
            store.commit()
            engine.process(buy(2, "n", amount=10))  # in the batch, before the failure
            monkeypatch.setattr(engine, "_keep", _interrupt)  # the change made, not yet kept
            with pytest.raises(KeyboardInterrupt):
                engine.process(buy(3, amount=50))
            monkeypatch.undo()
            store.commit()
            assert engine.state("m")["metrics"]["spend"] == 40  # type: ignore[index]
            assert engine.state("n")["metrics"]["spend"] == 10  # type: ignore[index]
            engine.process(buy(3, amount=70))
            assert engine.state("m")["node"] == "vip"  # type: ignore[index]

    def test_the_cache_is_bounded(self, tmp_path: Path) -> None:
        with topo.SqliteStore(tmp_path / "s.db", batch_size=50, cache_size=10) as store:
            engine = topo.Engine(load(tmp_path, MINIMAL), store)
            for n in range(500):
                engine.process(buy(n, f"m{n}"))
            store.commit()
            assert len(store._cache) <= 10
            assert engine.state("m3")["metrics"]["spend"] == 60  # type: ignore[index]

    def test_changed_members_waiting_for_a_commit_stay_within_the_cache(
        self, tmp_path: Path
    ) -> None:
        """A batch ends when as many members changed in it as the cache holds, however
        large ``batch_size`` is: the changed states wait in memory for their commit."""
        with topo.SqliteStore(tmp_path / "s.db", batch_size=1_000, cache_size=10) as store:
            engine = topo.Engine(load(tmp_path, MINIMAL), store)
            for n in range(25):
                engine.process(buy(n, f"m{n}"))
                assert len(store._dirty) < 10
            with topo.SqliteStore(tmp_path / "s.db", create=False) as reader:
                assert len(list(reader.members())) == 20  # two batches of ten, in the file

    def test_a_new_store_looks_up_no_member_it_holds_in_memory(self, tmp_path: Path) -> None:
        """While every member the file holds is in memory (a new store, nothing let go of),
        a member not in memory is not looked for in the file; once one is let go of, it is."""
        with topo.SqliteStore(tmp_path / "s.db", batch_size=3, cache_size=100) as store:
            engine = topo.Engine(load(tmp_path, MINIMAL), store)
            read: list[str] = []
            store._db.set_trace_callback(read.append)
            for n in range(10):
                engine.process(buy(n, f"m{n}"))
            assert not [sql for sql in read if sql.startswith("SELECT")]
            store.cache_size = 2
            engine.process(buy(20, "m0"))  # commits, and lets members go: m0 is read again
            assert engine.state("m1")["metrics"]["spend"] == 60  # type: ignore[index]
            assert any("FROM members WHERE member" in sql for sql in read)
            store._db.set_trace_callback(None)
        with topo.SqliteStore(tmp_path / "s.db") as again:  # a store that holds members
            engine = topo.Engine(load(tmp_path, MINIMAL), again)
            assert engine.state("m9")["metrics"]["spend"] == 60  # type: ignore[index]

    @pytest.mark.parametrize("damage", ["outbox", "layout", "not-utf8"])
    def test_damaged_rows(self, tmp_path: Path, damage: str) -> None:
        """A damaged row is a StoreError that quotes nothing of the row (it may hold pii)."""
        journey = load(tmp_path, granting())
        with topo.SqliteStore(tmp_path / "s.db") as store:
            topo.Engine(journey, store).process(buy(1, amount=150))
        with sqlite3.connect(tmp_path / "s.db") as db:
            if damage == "outbox":
                db.execute("""UPDATE outbox SET trigger = '{"secret": 1}'""")
            elif damage == "layout":
                db.execute("DELETE FROM meta WHERE key = 'layout'")
            else:
                db.execute("UPDATE members SET state = CAST(X'22736563726574FF22' AS TEXT)")
        with (
            pytest.raises(topo.StoreError, match="damaged") as raised,
            topo.SqliteStore(tmp_path / "s.db") as store,
        ):
            engine = topo.Engine(journey, store)
            engine.state("m")
            store.outbox.pending()
        assert "secret" not in str(raised.value)

    def test_an_import_that_failed_can_be_tried_again(self, tmp_path: Path) -> None:
        journey = load(tmp_path, MINIMAL)
        with topo.SqliteStore(tmp_path / "a.db") as store:
            topo.Engine(journey, store).process(buy(1))
            lines = list(export_lines(store))
        header = json.loads(lines[0])
        bad = [
            (json.dumps({**header, "version": "x"}), "version a whole number"),
            (lines[1].replace('"member":"m"', '"member":"z"', 1), "the line says member 'z'"),
            (lines[1].replace('"node":"visitor"', '"node":"vip"', 1), "the line says node 'vip'"),
            (lines[1].replace('"node":"visitor"', '"node":"gone"'), "node 'gone'"),
        ]
        for number, (line, message) in enumerate(bad):
            with (
                topo.SqliteStore(tmp_path / "b.db") as store,
                pytest.raises(topo.StoreError, match=message),
            ):
                if number == 0:
                    import_lines(store, [line], "x.jsonl")
                elif "says" in message:
                    import_lines(store, [lines[0], line], "x.jsonl")
                else:
                    state = json.loads(line)
                    if "gone" in message:
                        state["state"]["node"] = "gone"
                    import_lines(store, [lines[0], json.dumps(state)], "x.jsonl")
        with topo.SqliteStore(tmp_path / "b.db") as store:
            assert import_lines(store, lines, "x.jsonl") == 1

    def test_editing_a_reminders_guard_keeps_its_marks(self, tmp_path: Path) -> None:
        """A reminder is known by its incentive and place: a new guard under a new version
        keeps its once-per-stay mark, so it is not granted again in the same stay."""
        reminder = '{at: [visitor], toward: vip, incentive: welcome, when: "spend >= 10"}'
        v1 = granting().replace("moves:", f"reminders:\n  - {reminder}\nmoves:")
        v2 = v1.replace("version: 1", "version: 2").replace("spend >= 10", "spend >= 20")
        with topo.SqliteStore(tmp_path / "s.db") as store:
            engine = topo.Engine(load(tmp_path, v1), store)
            assert [t.reason for t in engine.process(buy(1, amount=30))] == ["reminder"]
        with topo.SqliteStore(tmp_path / "s.db") as store:
            engine = topo.Engine(load(tmp_path, v2, "v2.yaml"), store)
            assert engine.process(buy(2, amount=30)) == []


def _interrupt(*args: Any) -> Any:
    raise KeyboardInterrupt


class TestMadeWholeOrNotAtAll:
    """A process stopped while making a new store leaves no file at the store's path (an empty
    file there is refused as a store cut to nothing, so every later run failed)."""

    def test_a_store_stopped_while_being_made_leaves_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import topo.store.sqlite as sqlite_store

        path = tmp_path / "store.db"
        monkeypatch.setattr(sqlite_store, "_SCHEMA", sqlite_store._SCHEMA + "; NOT SQL")
        with pytest.raises(topo.StoreError):
            topo.SqliteStore(path)
        monkeypatch.undo()
        assert not path.exists()
        assert [p.name for p in tmp_path.iterdir()] == []  # nor a file beside it
        with topo.SqliteStore(path) as store:  # the next run makes it
            assert store.members() is not None
