"""``topo.spark.replay``: exactly ``topo replay``'s triggers, states, rejects and withheld grants,
for any number of partitions and any input order."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CDNOW, ROOT, write_jsonl
from random_journeys import journeys, streams
from replay_outputs import UNTIL, cdnow_events, replayed_here, replayed_on_spark
from topo.errors import UsageError
from topo.journey.model import Journey
from topo.validation import load_journey


@pytest.fixture(scope="module")
def cdnow() -> Journey:
    return load_journey(CDNOW)


class TestReplayOnCdnow:
    """The CDNOW purchases (with rejects of every kind), as JSON lines read by Spark."""

    @pytest.mark.parametrize("partitions", [1, 2, 7])
    def test_outputs_equal_topo_replay(
        self, spark: Any, cdnow: Journey, tmp_path: Path, partitions: int
    ) -> None:
        """Triggers (those of --until last), states, rejects in input order, withheld: alike."""
        from topo.spark.replaying import replay_text

        path = write_jsonl(tmp_path / "e.jsonl", cdnow_events())
        until = datetime.fromisoformat(UNTIL)
        result = replay_text(spark.read.text(str(path)), cdnow, until=UNTIL, partitions=partitions)
        found = replayed_on_spark(result.persist())
        expected = replayed_here(cdnow, path, until)
        assert found == expected
        assert len(expected["rejects"]) == 5 and expected["withheld"]
        assert any('"reason": "timer"' in line for line in expected["triggers"])
        assert result.report().summary() == _local_report(cdnow, path, until)

    def test_shuffled_input(self, spark: Any, cdnow: Journey, tmp_path: Path) -> None:
        """Events out of time order: the late ones rejected as locally, in input order."""
        from topo.spark.replaying import replay_text

        items = cdnow_events("00120")
        random.Random(7).shuffle(items)
        path = write_jsonl(tmp_path / "e.jsonl", items)
        result = replay_text(spark.read.text(str(path)), cdnow, until=UNTIL, partitions=7)
        expected = replayed_here(cdnow, path, datetime.fromisoformat(UNTIL))
        assert replayed_on_spark(result.persist()) == expected
        assert sum("late: it is earlier" in line for line in expected["rejects"]) > 10


class TestReplayOfADataFrame:
    """A typed DataFrame of events (as a Parquet table holds them), and the typed outputs."""

    def test_rows_replay_as_the_same_events_in_json(
        self, spark: Any, cdnow: Journey, tmp_path: Path
    ) -> None:
        from topo.spark import replay

        events = [e for e in cdnow_events("00150") if isinstance(e, dict) and "member" in e]
        random.Random(3).shuffle(events)
        columns = "id string, member string, type string, at string, amount double, cds long"
        rows = [
            (e["id"], e["member"], e["type"], e["at"], float(e["amount"]), e["cds"]) for e in events
        ]
        frame = spark.createDataFrame(rows, columns).repartition(3)  # rows spread, order kept
        ordered = [row.asDict() for row in frame.collect()]
        path = write_jsonl(
            tmp_path / "e.jsonl", [{k: v for k, v in r.items() if v is not None} for r in ordered]
        )
        result = replay(frame, cdnow, until=UNTIL, partitions=2).persist()
        expected = replayed_here(cdnow, path, datetime.fromisoformat(UNTIL))
        assert replayed_on_spark(result) == expected
        triggers = result.triggers
        assert (
            dict(triggers.dtypes)["at"] == "timestamp" and dict(triggers.dtypes)["cost"] == "double"
        )
        assert triggers.count() == len(expected["triggers"])
        first = json.loads(expected["triggers"][0])
        assert triggers.first()["id"] == first["id"]
        states = result.states
        assert (
            states.select("metrics.orders").first()[0]
            == json.loads(expected["states"][0])["metrics"]["orders"]
        )
        rejects = result.rejects.collect()
        assert [r["line"] for r in rejects] == [
            json.loads(line)["line"] for line in expected["rejects"]
        ]

    def test_a_frame_without_the_envelope_is_refused(self, spark: Any, cdnow: Journey) -> None:
        from topo.spark import replay

        frame = spark.createDataFrame([("a", 1.0)], "member string, amount double")
        with pytest.raises(
            UsageError, match=r"needs the columns id, member, type and at \(missing: id, type, at\)"
        ):
            replay(frame, cdnow)

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"partitions": 0}, "partitions is a whole number from 1"),
            ({"until": "tomorrow"}, "until"),
        ],
    )
    def test_bad_options_are_one_sentence(
        self, spark: Any, cdnow: Journey, options: dict[str, Any], message: str
    ) -> None:
        from topo.spark import replay

        frame = spark.createDataFrame(
            [("e", "m", "purchase", "1997-01-01T00:00:00+00:00")],
            "id string, member string, type string, at string",
        )
        with pytest.raises(UsageError, match=message):
            replay(frame, cdnow, **options)


class TestPii:
    """A pii attribute never leaves a member's state: no column, no value in any output."""

    def test_phone_is_never_shown(self, spark: Any, tmp_path: Path) -> None:
        from topo.spark import replay

        club = load_journey(ROOT / "journeys" / "knowledge-club.yaml")
        at = "2026-01-0{}T00:00:00+00:00"
        rows = [
            ("e1", "m1", "profile", at.format(1), "north", "+44 7700 900123", None),
            ("e2", "m1", "signup", at.format(2), None, None, "web"),
            ("e3", "m2", "signup", at.format(3), None, "+44 7700 900456", "fax"),  # invalid
        ]
        columns = "id string, member string, type string, at string, region string, "
        frame = spark.createDataFrame(rows, columns + "phone string, channel string")
        result = replay(frame, club, partitions=2).persist()
        outputs = replayed_on_spark(result)
        assert outputs["rejects"] and outputs["states"]
        assert not any("7700" in line for lines in outputs.values() for line in lines)
        attributes = result.states.schema["attributes"].dataType.fieldNames()
        assert attributes == ["region"]
        assert result.states.first()["attributes"]["region"] == "north"
        assert '"phone":"***"' in result.rejects.first()["event"]


MEMBERS = {"a": "m0", "b": "m1", "c": "m5"}


class TestGeneratedStreams:
    """Random journeys and streams (late, repeated and invalid events, timers): alike."""

    @settings(
        max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(journey=journeys(), items=streams(), partitions=st.sampled_from([1, 2, 7]))
    def test_any_stream(
        self, spark: Any, journey: Journey, items: list[Any], partitions: int, tmp_path: Path
    ) -> None:
        from topo.spark.replaying import replay_text

        events = [{**i, "member": MEMBERS[i["member"]]} for i in items if isinstance(i, dict)]
        ticks = [i for i in items if isinstance(i, datetime)]
        until = max(ticks) + timedelta(days=60) if ticks else None
        path = write_jsonl(tmp_path / f"e{partitions}.jsonl", events)
        lines = spark.createDataFrame([(json.dumps(e),) for e in events], "value string")
        result = replay_text(lines, journey, until=until, partitions=partitions)
        assert replayed_on_spark(result.persist()) == replayed_here(journey, path, until)
        result.unpersist()


def _local_report(journey: Journey, path: Path, until: datetime) -> str:
    from topo.engine.engine import Engine
    from topo.replay.readers import read_events
    from topo.replay.runner import replay

    return replay(Engine(journey), read_events(path, journey), until=until).summary()
