"""The summary's figures, counted by hand on six members run through the real engine.

The population and each member's path are in club_population.py. What a CRM team relies on: every
number in the summary is the one a person counting the members' histories would write down.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from club_population import END, EVENTS, JOURNEY, PHONE, load, run

from conftest import ROOT
from topo.report.aggregate import combine
from topo.report.summary import summarise

SCHEMA = ROOT / "schema" / "summary-1.schema.json"


@pytest.fixture
def summary(tmp_path: Path) -> dict[str, Any]:
    journey = load(tmp_path)
    return summarise(journey, run(journey), end=END)


def rows(table: list[dict[str, Any]], *keys: str) -> dict[Any, dict[str, Any]]:
    """A table's rows by the value(s) of ``keys``."""
    return {(r[keys[0]] if len(keys) == 1 else tuple(r[k] for k in keys)): r for r in table}


class TestHeader:
    def test_header(self, summary: dict[str, Any]) -> None:
        """The header names the journey, the source, the period and the number of members."""
        header = summary["header"]
        assert header["journey"] == "club" and header["version"] == 2
        assert header["source"] == "replay"
        assert header["start"] == "2026-01-05T00:00:00+00:00"
        assert header["end"] == "2026-01-25T00:00:00+00:00"
        assert header["members"] == 6 and header["runs"] == 1
        assert summary["format"] == 1


class TestFunnel:
    def test_reached_and_at_the_end(self, summary: dict[str, Any]) -> None:
        """Members who ever reached each node, their share of those who joined, and where
        they are at the end."""
        funnel = summary["funnel"]
        assert funnel["joined"] == 6
        nodes = rows(funnel["nodes"], "node")
        assert list(nodes) == ["visitor", "member", "buyer", "vip", "gone"]  # file order
        assert {n: r["reached"] for n, r in nodes.items()} == {
            "visitor": 6, "member": 5, "buyer": 3, "vip": 2, "gone": 1,
        }  # fmt: skip
        assert {n: r["at_end"] for n, r in nodes.items()} == {
            "visitor": 1, "member": 1, "buyer": 1, "vip": 2, "gone": 1,
        }  # fmt: skip
        assert nodes["buyer"]["share"] == pytest.approx(0.5)


class TestMoves:
    def test_edges_and_labels(self, summary: dict[str, Any]) -> None:
        """Each (from, to) and each move counts the moves made and the members who made them;
        a move nobody took is listed with zero."""
        edges = rows(summary["moves"]["edges"], "from", "to")
        counts = {e: (r["moves"], r["members"]) for e, r in edges.items()}
        assert counts == {
            ("visitor", "member"): (5, 5),
            ("member", "buyer"): (3, 3),
            ("buyer", "vip"): (2, 2),
            ("member", "gone"): (1, 1),
            ("buyer", "gone"): (0, 0),
        }
        labels = rows(summary["moves"]["labels"], "move")
        assert labels["moves[3]"]["moves"] == 1 and labels["moves[3]"]["to"] == "gone"


class TestTime:
    def test_join_to_node_with_censoring(self, summary: dict[str, Any]) -> None:
        """Days from joining to buyer: m-4 after 1, m-1 after 2, m-2 after 10; m-3 (19 days
        watched), m-5 and m-6 (20) are censored. By hand: S = 5/6 after day 1, 4/6 after day
        2, 4/6 * 3/4 = 1/2 after day 10, so the first quartile is day 2, the median day 10
        and the third quartile is never reached."""
        buyer = rows(summary["time"]["to_node"], "node")["buyer"]
        assert (buyer["arrived"], buyer["censored"]) == (3, 3)
        assert (buyer["q1"], buyer["median"], buyer["q3"]) == (2.0, 10.0, None)

    def test_between_nodes_is_cause_specific(self, summary: dict[str, Any]) -> None:
        """Stays at member: to buyer after 1 (m-4), 2 (m-1), 10 (m-2) days; m-3 left for gone
        after 2 days and is censored then, m-5 is still there (20). S: 4/5, then 4/5 * 3/4 =
        0.6 (m-3 is still at risk at day 2), then 0.6 * 1/2 = 0.3."""
        edge = rows(summary["time"]["edges"], "from", "to")[("member", "buyer")]
        assert (edge["stays"], edge["arrived"], edge["censored"]) == (5, 3, 2)
        assert (edge["q1"], edge["median"], edge["q3"]) == (2.0, 10.0, None)


class TestStuck:
    def test_days_at_checkpoints(self, summary: dict[str, Any]) -> None:
        """Members at the start and each checkpoint at the end, and how long they have been
        there; a peak or an exit is not a place to be stuck."""
        stuck = rows(summary["stuck"], "node")
        assert list(stuck) == ["visitor", "member", "buyer"]
        assert stuck["buyer"]["members"] == 1 and stuck["buyer"]["max"] == 10.0
        assert stuck["member"]["median"] == 20.0


class TestIncentives:
    def test_grants_and_costs(self, summary: dict[str, Any]) -> None:
        """Grants per incentive times the journey's cost: 3 welcome (2), 3 voucher (5),
        1 vip_gift (30), 2 nudge (1): 53 in all, 53/6 per member who joined."""
        incentives = summary["incentives"]
        table = rows(incentives["by_incentive"], "incentive")
        assert {i: (r["grants"], r["cost"]) for i, r in table.items()} == {
            "welcome": (3, 6.0), "voucher": (3, 15.0), "vip_gift": (1, 30.0), "nudge": (2, 2.0),
        }  # fmt: skip
        assert table["nudge"]["channel"] == "push"
        assert incentives["total_cost"] == 53.0 and incentives["grants"] == 9
        assert incentives["cost_per_member"] == pytest.approx(53 / 6, abs=1e-6)
        channels = rows(incentives["by_channel"], "channel")
        assert channels["sms"] == {"channel": "sms", "grants": 3, "cost": 6.0}

    def test_owner_is_the_node_after_the_grant(self, summary: dict[str, Any]) -> None:
        """A move's grant belongs to the owner of the node it moved to: m-4's voucher, granted
        on the way from member to buyer in a cascade that ends at vip, is sales'."""
        owners = rows(summary["incentives"]["by_incentive_owner"], "incentive", "owner")
        assert set(owners) == {
            ("welcome", "crm"), ("voucher", "sales"), ("vip_gift", "vip-desk"),
            ("nudge", "sales"),
        }  # fmt: skip

    def test_cost_per_iso_week(self, summary: dict[str, Any]) -> None:
        """Weeks start on Monday; a week without grants is listed with zero."""
        weeks = [(w["week"], w["grants"], w["cost"]) for w in summary["incentives"]["weeks"]]
        assert weeks == [("2026-01-05", 7, 47.0), ("2026-01-12", 2, 6.0), ("2026-01-19", 0, 0.0)]

    def test_withheld_by_reason(self, summary: dict[str, Any]) -> None:
        """Withheld grants by the cap that held them: holdout, pressure, once-per-stay."""
        incentives = summary["incentives"]
        assert incentives["withheld"] == [
            {"incentive": "nudge", "reason": "once-per-stay", "withheld": 1},
            {"incentive": "vip_gift", "reason": "pressure", "withheld": 1},
            {"incentive": "welcome", "reason": "holdout", "withheld": 2},
        ]
        reasons = {r["reason"]: r["withheld"] for r in incentives["withheld_by_reason"]}
        assert reasons == {"holdout": 2, "once-per-stay": 1, "pressure": 1}


class TestPressure:
    def test_most_grants_in_any_window(self, summary: dict[str, Any]) -> None:
        """m-1 got welcome, voucher and nudge within 7 days (3, the most); m-2 and m-4 two,
        m-3 one, m-5 and m-6 none."""
        pressure = summary["pressure"]
        assert pressure["maximum"] == 3 and pressure["limit"] == 3
        assert pressure["per_days"] == 7.0
        histogram = {r["grants_in_window"]: r["members"] for r in pressure["histogram"]}
        assert histogram == {0: 2, 1: 1, 2: 2, 3: 1}

    def test_default_window_is_seven_days(self, tmp_path: Path) -> None:
        """Without settings.pressure the window is 7 days and there is no limit."""
        text = JOURNEY.replace("settings:\n  pressure: {max: 3, per: 7d}\n", "")
        journey = load(tmp_path, text)
        assert journey.settings.pressure is None
        pressure = summarise(journey, run(journey), end=END)["pressure"]
        assert pressure["per_days"] == 7.0 and pressure["limit"] is None


class TestOwners:
    def test_members_and_cost_per_owner(self, summary: dict[str, Any]) -> None:
        """Members at the end in the nodes an owner owns, and the cost of its grants."""
        owners = rows(summary["owners"], "owner")
        assert {o: (r["members"], r["grants"], r["cost"]) for o, r in owners.items()} == {
            "marketing": (1, 0, 0.0),
            "crm": (2, 3, 6.0),
            "sales": (1, 5, 17.0),
            "vip-desk": (2, 1, 30.0),
        }
        assert owners["crm"]["nodes"] == ["member", "gone"]


class TestControlGroups:
    def test_welcome_granted_vs_held_out(self, summary: dict[str, Any]) -> None:
        """welcome's goal is the next node from member toward the peak: buyer. Granted m-1,
        m-2 (reached it) and m-3 (left): 2 of 3; held out m-4 (reached) and m-5: 1 of 2;
        m-6 never got to the grant and is in neither group."""
        (row,) = summary["control_groups"]
        assert row["incentive"] == "welcome" and row["holdout"] == 0.5
        assert row["granted"] == {"members": 3, "reached": 2, "share": pytest.approx(2 / 3)}
        assert row["held_out"] == {"members": 2, "reached": 1, "share": 0.5}
        assert row["difference"] == pytest.approx(1 / 6)
        assert row["low"] < row["difference"] < row["high"]
        assert 0 < row["p_value"] <= 1 and row["detectable"] > 0

    def test_a_short_window_counts_less(self, tmp_path: Path) -> None:
        """With a 5-day window m-2 (buyer on day 10) has not reached the goal in time."""
        journey = load(tmp_path)
        short = summarise(journey, run(journey), end=END, window=timedelta(days=5))
        assert short["control_groups"][0]["granted"]["reached"] == 1


class TestDeterminismAndPrivacy:
    def test_same_states_same_json(self, tmp_path: Path) -> None:
        """Two runs of the same events give byte-identical JSON, whatever order the states
        come in."""
        journey = load(tmp_path)
        first = summarise(journey, run(journey), end=END)
        second = summarise(journey, list(reversed(run(journey))), end=END)
        assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)

    def test_no_pii_and_no_member_ids(self, summary: dict[str, Any]) -> None:
        """The pii value and the members' ids appear nowhere in the summary."""
        text = json.dumps(summary)
        assert PHONE not in text
        for member in {m for m, *_ in EVENTS}:
            assert f'"{member}"' not in text and member not in text

    def test_no_pii_in_a_member_id_free_form(self, summary: dict[str, Any]) -> None:
        """Event ids (which may carry anything a source system puts there) are not shown."""
        text = json.dumps(summary)
        assert '"e-0"' not in text and "e-1" not in text


class TestSchema:
    def test_a_summary_validates(self, summary: dict[str, Any]) -> None:
        """A real summary matches schema/summary-1.schema.json."""
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(summary)

    def test_a_combined_summary_validates(self, summary: dict[str, Any]) -> None:
        """Several runs combined match the schema too (numbers become intervals)."""
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(combine([summary, summary]))

    def test_an_empty_population(self, tmp_path: Path) -> None:
        """No members: counts are zero, shares and times unknown, still valid."""
        empty = summarise(load(tmp_path), [], end=END)
        assert empty["funnel"]["joined"] == 0 and empty["header"]["start"] is None
        assert empty["incentives"]["cost_per_member"] is None
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(empty)


class TestOlderHistories:
    def test_an_incentive_the_journey_no_longer_has(self, tmp_path: Path) -> None:
        """States kept across versions may name an incentive the journey dropped: the summary
        counts it under an unknown channel, rather than failing (KeyError)."""
        journey = load(tmp_path)
        states = run(journey)
        for state in states:
            state.history[:] = [
                (kind, "retired_offer", *rest) if kind == "granted" else (kind, incentive, *rest)
                for kind, incentive, *rest in state.history
            ]
        figures = summarise(journey, states, end=END)["incentives"]
        assert rows(figures["by_channel"], "channel")["(unknown)"]["grants"] > 0


def test_weeks_up_to_the_end_of_the_calendar() -> None:
    """A history in the last week of year 9999: the weekly costs end with that week (stepping
    a week past it was an OverflowError)."""
    from datetime import UTC, datetime

    import topo

    journey = topo.load_journey(ROOT / "journeys" / "cdnow.yaml")
    engine = topo.Engine(journey)
    engine.process({"id": "1", "member": "a", "type": "purchase",
                    "at": "9999-12-30T10:00:00+00:00", "amount": 5.0, "cds": 1})  # fmt: skip
    end = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    states = [engine.store.get("a")]
    weeks = summarise(journey, states, end=end)["incentives"]["weeks"]
    assert weeks[-1]["week"] == "9999-12-27" and weeks[-1]["grants"] == 1
