"""A member's state written out as JSON and read back continues exactly as if never written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topo
from random_journeys import journeys, outcomes, streams
from topo.engine.member_codec import FORMAT, decode, dumps, encode, encode_generally
from topo.engine.member_state import MemberState


def through_json(state: MemberState) -> MemberState:
    return decode(json.loads(dumps(state)))


class TestRoundTrip:
    """Encoding then decoding gives the same state, written the same way."""

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(journeys(), streams(), st.integers(0, 30), st.booleans())
    def test_a_member_continues_exactly(
        self, journey: topo.Journey, items: list[Any], cut: int, explain: bool
    ) -> None:
        """Run part of a stream, write every member out and read them into a new store, run
        the rest through both: the same triggers, rejects and states."""
        first, rest = items[:cut], items[cut:]
        kept = topo.Engine(journey, explain=explain)
        outcomes(kept, first)
        store = topo.MemoryStore()
        for member in kept.store.members():
            state = kept.store.get(member)
            assert state is not None
            assert encode(state) == encode_generally(state)  # the fast paths write the same
            again = through_json(state)
            assert encode(again) == encode(state)
            store.put(again)
        moved = topo.Engine(journey, store, explain=explain)
        assert outcomes(moved, rest) == outcomes(kept, rest)
        for member in kept.store.members():
            assert encode(moved.store.get(member)) == encode(kept.store.get(member))  # type: ignore[arg-type]

    def test_values_json_has_no_type_for(self) -> None:
        """Times keep their offset and microseconds; dates, sets of booleans and numbers,
        tuples, int-keyed maps and event ids that look like tags all come back as they were."""
        at = datetime(2026, 3, 1, 10, 15, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
        state = MemberState(
            "m", "a", at, 1, [{("bool", True), 1, 1.5, "x"}, [(5, date(2026, 1, 2))]]
        )
        state.seen = {"$t": 1, "e-1": 2}
        state.considered = {3: 4}
        state.attributes = {"born": date(1990, 12, 31), "since": at}
        state.history.append(("move", "m0", "a", "b", at, "$t"))
        back = through_json(state)
        assert back == state and back.entered_at.utcoffset() == timedelta(hours=8)
        assert encode(back) == encode(state)
        assert list(back.seen) == ["$t", "e-1"]  # in time order, as kept


class TestRefused:
    """Anything that is not a state this topo wrote is a ValueError naming what is wrong."""

    def good(self) -> dict[str, Any]:
        return encode(MemberState("m", "a", datetime(2026, 1, 1, tzinfo=UTC), 0, []))

    @pytest.mark.parametrize(
        "change,message",
        [
            ({"format": "topo-member/9"}, "not a member state of this topo"),
            ({"entered_at": {"$t": "2026-01-01T00:00:00"}}, "entered_at: the time"),
            ({"metrics": [{"$when": 1}]}, "metrics: unknown tag '$when'"),
            ({"clock": "soon"}, "clock: must be a whole number"),
            ({"due": "x"}, "due: must be null or a whole number"),
            ({"history": [["move"]]}, "history: must be a list of tuples"),
            ({"seen": {"e": "x"}}, "seen: must map event ids"),
        ],
    )
    def test_bad_fields(self, change: dict[str, Any], message: str) -> None:
        with pytest.raises(ValueError, match=message.replace("$", r"\$")):
            decode({**self.good(), **change})

    def test_missing_field(self) -> None:
        data = self.good()
        del data["seen"]
        with pytest.raises(ValueError, match="lacks seen"):
            decode(data)

    def test_format_is_written(self) -> None:
        assert self.good()["format"] == FORMAT

    def test_a_state_kept_before_joined_at_reads_as_unknown(self) -> None:
        """States written before ``joined_at`` existed decode with it None; one written now
        keeps it exactly."""
        joined = datetime(2025, 12, 1, tzinfo=UTC)
        state = MemberState("m", "a", datetime(2026, 1, 1, tzinfo=UTC), 0, [], joined_at=joined)
        data = encode(state)
        assert decode(data).joined_at == joined
        del data["joined_at"]
        assert decode(data).joined_at is None


class TestRefusedFromTheReview:
    """decode raises ValueError, and only ValueError, for data it did not write."""

    def good(self) -> dict[str, Any]:
        return encode(MemberState("m", "a", datetime(2026, 1, 1, tzinfo=UTC), 0, []))

    def test_deep_nesting(self) -> None:
        deep: Any = []
        for _ in range(5_000):
            deep = [deep]
        with pytest.raises(ValueError, match="metrics: nested too deeply"):
            decode({**self.good(), "metrics": deep})

    def test_keys_that_are_not_text(self) -> None:
        with pytest.raises(ValueError, match="attributes"):
            decode({**self.good(), "attributes": {1.5: 2}})
