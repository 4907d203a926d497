"""``topo diff``: the changes between two versions of a journey, and the problems they cause."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import topo
from conftest import ROOT, dedent
from topo.analysis.diffing import Change, JourneyDiff, diff_journeys
from topo.cli.commands import main
from topo.journey.model import Journey, Migration

BASE = dedent(
    """
    topo: 1
    journey: demo
    version: 1
    owners:
      crm: {title: CRM}
      sales: {title: Sales}
    events:
      purchase:
        fields:
          amount: {type: float, min: 0}
      unsubscribe: {}
    metrics:
      spend: {sum: purchase.amount}
      purchases: {count: purchase}
    nodes:
      visitor: {kind: start, owner: crm}
      buyer: {kind: checkpoint, owner: sales}
      vip: {kind: peak, owner: sales, on_enter: [gift]}
      gone: {kind: exit, owner: crm}
    moves:
      - {from: visitor, to: buyer, on: purchase}
      - {from: buyer, to: vip, on: purchase, when: "spend >= 3000 and purchases >= 3"}
      - {id: requalify, from: vip, to: buyer, after: 365d, when: "spend < 3000"}
      - {from: [visitor, buyer, vip], to: gone, on: unsubscribe}
    incentives:
      gift: {kind: gift, channel: mail, cost: 500}
      teaser: {kind: content, channel: email, cost: 0}
    reminders:
      - {at: buyer, toward: vip, when: "spend >= 2000", incentive: teaser, cooldown: 30d}
    """
)
"""Version 1 of a small journey; the tests derive later versions from it."""

WITHOUT_GONE = (
    BASE.replace("version: 1", "version: 2")
    .replace("  gone: {kind: exit, owner: crm}\n", "")
    .replace("  - {from: [visitor, buyer, vip], to: gone, on: unsubscribe}\n", "")
)
"""Version 2 without the exit node ``gone`` (and the move into it)."""

KNOWLEDGE_CLUB = ROOT / "journeys" / "knowledge-club.yaml"


def bump(text: str, version: int = 2) -> str:
    """The journey text with its version set to ``version``."""
    return re.sub(r"(?m)^version: \d+$", f"version: {version}", text, count=1)


def load(tmp_path: Path, text: str, name: str) -> Journey:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return topo.load_journey(path)


def compare(tmp_path: Path, new: str, old: str = BASE) -> JourneyDiff:
    """The difference from ``old`` to ``new``, both loaded from files as a user's would be."""
    return diff_journeys(load(tmp_path, old, "old"), load(tmp_path, new, "new"))


def lines(difference: JourneyDiff, section: str) -> list[str]:
    """The changes of one section as ``kind item: detail``."""
    return [f"{c.kind} {c.item}: {c.detail}" for c in difference.changes if c.section == section]


def only(difference: JourneyDiff, section: str) -> Change:
    [change] = [c for c in difference.changes if c.section == section]
    return change


class TestDiffJourneys:
    """The whole comparison: no change, a version bump, and what counts as a change."""

    def test_same_file_has_no_changes(self, tmp_path: Path) -> None:
        """A journey compared with itself has no changes and no problems."""
        difference = compare(tmp_path, BASE)
        assert (difference.changes, difference.problems) == ((), ())

    def test_version_bump_alone(self, tmp_path: Path) -> None:
        """Raising the version is the one change, and no problem."""
        difference = compare(tmp_path, bump(BASE))
        assert difference.changes == (
            Change("changed", "journey", "demo", "version", "version raised from 1 to 2", 1, 2),
        )
        assert difference.problems == ()

    def test_revisions(self, tmp_path: Path) -> None:
        """The difference says which journey and versions it compares."""
        difference = compare(tmp_path, bump(BASE, 3))
        assert (difference.old.journey, difference.old.version) == ("demo", 1)
        assert (difference.new.journey, difference.new.version) == ("demo", 3)

    def test_title_and_description(self, tmp_path: Path) -> None:
        """Top-level title and description are compared too."""
        new = bump(BASE).replace("version: 2\n", "version: 2\ntitle: Demo club\n")
        assert lines(compare(tmp_path, new), "journey")[1:] == [
            'changed demo: title set to "Demo club"'
        ]

    def test_journey_id(self, tmp_path: Path) -> None:
        """A changed journey id is a change of the journey section."""
        new = bump(BASE).replace("journey: demo", "journey: club")
        change = compare(tmp_path, new).changes[0]
        assert (change.field, change.before, change.after) == ("journey", "demo", "club")


class TestNodes:
    """Nodes are matched by id: added, removed, and their kind, owner and on_enter."""

    def test_added(self, tmp_path: Path) -> None:
        """A new node is added, with what the file says of it."""
        new = bump(BASE).replace("  gone:", "  regular: {kind: checkpoint, owner: sales}\n  gone:")
        new = new.replace(
            "  - {id: requalify,",
            "  - {from: buyer, to: regular, on: purchase}\n"
            "  - {from: regular, to: vip, on: purchase}\n"
            "  - {id: requalify,",
        )
        assert lines(compare(tmp_path, new), "nodes") == [
            "added regular: kind checkpoint, owner sales"
        ]

    def test_changed_kind_owner_on_enter(self, tmp_path: Path) -> None:
        """Kind, owner and on_enter changes are each one change of the node."""
        new = bump(BASE).replace(
            "buyer: {kind: checkpoint, owner: sales}",
            "buyer: {kind: peak, owner: crm, on_enter: [teaser]}",
        )
        assert lines(compare(tmp_path, new), "nodes") == [
            "changed buyer: kind changed from checkpoint to peak",
            "changed buyer: owner changed from sales to crm",
            "changed buyer: on_enter: teaser added",
        ]

    def test_removed_with_migration_says_where_members_go(self, tmp_path: Path) -> None:
        """A removed node that a migration maps says where its members go."""
        new = WITHOUT_GONE + "migrations:\n  - {from_version: 1, nodes: {gone: visitor}}\n"
        difference = compare(tmp_path, new)
        assert lines(difference, "nodes") == [
            "removed gone: kind exit, owner crm; its members go to visitor "
            "(migration from version 1)"
        ]
        assert difference.problems == ()

    def test_kept_node_whose_members_a_migration_moves(self, tmp_path: Path) -> None:
        """A migration may send the members of a node that still exists elsewhere."""
        new = bump(BASE) + "migrations:\n  - {from_version: 1, nodes: {buyer: visitor}}\n"
        change = only(compare(tmp_path, new), "nodes")
        assert (change.item, change.field, change.before, change.after) == (
            "buyer",
            "members",
            "buyer",
            "visitor",
        )
        assert change.detail == "members of version 1 here go to visitor (migration from version 1)"


class TestMoveMatching:
    """Moves are one move in both versions by id, else by sources, target and trigger."""

    def test_changed_guard_is_a_changed_move(self, tmp_path: Path) -> None:
        """Only a guard changed: the move is changed, not removed and added."""
        new = bump(BASE).replace('"spend >= 3000 and purchases >= 3"', '"spend >= 5000"')
        assert lines(compare(tmp_path, new), "moves") == [
            "changed buyer -> vip on purchase: guard changed from "
            '"spend >= 3000 and purchases >= 3" to "spend >= 5000"'
        ]

    def test_id_keeps_identity(self, tmp_path: Path) -> None:
        """A move with the same id is the same move, whatever else changed."""
        new = bump(BASE).replace(
            "{id: requalify, from: vip, to: buyer, after: 365d,",
            "{id: requalify, from: vip, to: gone, after: 180d,",
        )
        assert lines(compare(tmp_path, new), "moves") == [
            "changed requalify (vip -> buyer after 365d): to changed from buyer to gone",
            "changed requalify (vip -> buyer after 365d): after shortened from 365d to 180d",
        ]

    def test_sources_changed(self, tmp_path: Path) -> None:
        """Same target and trigger, other sources: the move's ``from`` changed."""
        new = bump(BASE).replace("from: [visitor, buyer, vip]", "from: [buyer, vip]")
        assert lines(compare(tmp_path, new), "moves") == [
            "changed [visitor, buyer, vip] -> gone on unsubscribe: from: visitor removed"
        ]

    def test_trigger_changed(self, tmp_path: Path) -> None:
        """Same sources and target, another trigger: the move's ``on`` changed."""
        new = bump(BASE).replace(
            "{from: visitor, to: buyer, on: purchase}",
            "{from: visitor, to: buyer, on: [purchase, unsubscribe]}",
        )
        assert lines(compare(tmp_path, new), "moves") == [
            "changed visitor -> buyer on purchase: on: unsubscribe added"
        ]

    def test_added_and_removed(self, tmp_path: Path) -> None:
        """A move that shares neither sources nor target and trigger is removed, another added."""
        new = bump(BASE).replace(
            '  - {id: requalify, from: vip, to: buyer, after: 365d, when: "spend < 3000"}\n',
            "  - {from: buyer, to: gone, after: 400d, since: purchase}\n",
        )
        assert lines(compare(tmp_path, new), "moves") == [
            'removed requalify (vip -> buyer after 365d): when "spend < 3000"',
            "added buyer -> gone after 400d: since purchase",
        ]

    def test_renamed_node_keeps_its_moves(self, tmp_path: Path) -> None:
        """A node renamed with a migration: moves into it are changed, not removed and added."""
        new = (
            re.sub(r"\bbuyer\b", "customer", bump(BASE))
            + "migrations:\n  - {from_version: 1, nodes: {buyer: customer}}\n"
        )
        difference = compare(tmp_path, new)
        assert [c.kind for c in difference.changes if c.section == "moves"] == ["changed"] * 4
        assert lines(difference, "moves")[0] == (
            "changed visitor -> buyer on purchase: to changed from buyer to customer"
        )
        assert difference.problems == ()

    def test_alike_moves_matched_by_guard_shape(self, tmp_path: Path) -> None:
        """Of two alike moves, each is matched with the one whose guard differs in numbers only."""
        small = (
            '  - {from: buyer, to: vip, on: purchase, when: "spend >= 3000 and purchases >= 3"}\n'
        )
        large = '  - {from: buyer, to: vip, on: purchase, when: "spend >= 10000"}\n'
        old = BASE.replace(small, small + large)
        new = bump(old).replace(
            small + large,
            large.replace("10000", "20000") + small.replace("3000", "5000"),
        )
        difference = compare(tmp_path, new, old)
        assert lines(difference, "moves")[:2] == [
            'changed buyer -> vip on purchase when "spend >= 3000 and purchases >= 3": '
            "threshold of spend raised from 3000 to 5000",
            'changed buyer -> vip on purchase when "spend >= 10000": '
            "threshold of spend raised from 10000 to 20000",
        ]
        assert difference.changes[-1].field == "order"

    def test_order_of_moves_out_of_a_node(self, tmp_path: Path) -> None:
        """Swapping two moves out of one node is a change: the first that applies is taken."""
        first = (
            '  - {from: buyer, to: vip, on: purchase, when: "spend >= 3000 and purchases >= 3"}\n'
        )
        second = '  - {from: buyer, to: gone, on: purchase, when: "spend < 1"}\n'
        old = BASE.replace(first, first + second)
        new = bump(old).replace(first + second, second + first)
        change = only(compare(tmp_path, new, old), "moves")
        assert (change.item, change.field) == ("moves out of buyer", "order")
        assert change.after == [
            "buyer -> gone on purchase",
            "buyer -> vip on purchase",
            "[visitor, buyer, vip] -> gone on unsubscribe",
        ]


class TestThresholds:
    """Guards are parsed, never evaluated: a changed number in a comparison is a threshold."""

    @pytest.mark.parametrize(
        "before,after,detail",
        [
            ("spend >= 3000", "spend >= 5000", "threshold of spend raised from 3000 to 5000"),
            ("spend >= 3000", "spend >= 2500.5", "threshold of spend lowered from 3000 to 2500.5"),
            ("3000 <= spend", "4000 <= spend", "threshold of spend raised from 3000 to 4000"),
            ("spend > -5", "spend > -10", "threshold of spend lowered from -5 to -10"),
            (
                "days_since(entered_at) <= 30",
                "days_since(entered_at) <= 60",
                "threshold of days_since(entered_at) raised from 30 to 60",
            ),
        ],
    )
    def test_threshold_wording(self, tmp_path: Path, before: str, after: str, detail: str) -> None:
        """A comparison of something with a number names it and says raised or lowered."""
        old = BASE.replace('"spend >= 3000 and purchases >= 3"', f'"{before}"')
        new = bump(old).replace(f'"{before}"', f'"{after}"')
        change = only(compare(tmp_path, new, old), "moves")
        assert (change.field, change.detail) == ("when", detail)

    def test_values_are_numbers(self, tmp_path: Path) -> None:
        """A threshold change carries the two numbers as before and after."""
        new = bump(BASE).replace("spend >= 3000 and", "spend >= 5000 and")
        change = only(compare(tmp_path, new), "moves")
        assert (change.before, change.after) == (3000, 5000)

    def test_each_threshold_is_a_change(self, tmp_path: Path) -> None:
        """Two numbers changed in one guard are two changes."""
        new = bump(BASE).replace(
            "spend >= 3000 and purchases >= 3", "spend >= 5000 and purchases >= 2"
        )
        assert [c.detail for c in compare(tmp_path, new).changes if c.section == "moves"] == [
            "threshold of spend raised from 3000 to 5000",
            "threshold of purchases lowered from 3 to 2",
        ]

    def test_chained_comparison(self, tmp_path: Path) -> None:
        """Both bounds of ``a <= x < b`` are thresholds of x."""
        old = BASE.replace('"spend >= 2000"', '"1000 <= spend < 3000"')
        new = bump(old).replace('"1000 <= spend < 3000"', '"1500 <= spend < 3000"')
        assert only(compare(tmp_path, new, old), "reminders").detail == (
            "threshold of spend raised from 1000 to 1500"
        )

    def test_other_change_falls_back_to_text(self, tmp_path: Path) -> None:
        """A changed operator is not a threshold: the old and new text are shown."""
        new = bump(BASE).replace("spend >= 3000 and", "spend > 3000 and")
        change = only(compare(tmp_path, new), "moves")
        assert change.detail == (
            'guard changed from "spend >= 3000 and purchases >= 3" to '
            '"spend > 3000 and purchases >= 3"'
        )
        assert (change.before, change.after) == (
            "spend >= 3000 and purchases >= 3",
            "spend > 3000 and purchases >= 3",
        )

    def test_spacing_is_no_change(self, tmp_path: Path) -> None:
        """The same expression written with other spaces and quotes is no change."""
        old = BASE.replace('"spend >= 2000"', "\"node == 'buyer' and spend >= 2000\"")
        written = "\"node == 'buyer' and spend >= 2000\""
        new = bump(old).replace(written, "'node==\"buyer\"  and spend>=2000'")
        assert lines(compare(tmp_path, new, old), "reminders") == []

    def test_guard_added_and_removed(self, tmp_path: Path) -> None:
        """A guard that appears or disappears is named with its text."""
        new = (
            bump(BASE)
            .replace(', when: "spend < 3000"', "")
            .replace(
                "{from: visitor, to: buyer, on: purchase}",
                '{from: visitor, to: buyer, on: purchase, when: "spend > 0"}',
            )
        )
        assert [c.detail for c in compare(tmp_path, new).changes if c.section == "moves"] == [
            'guard "spend > 0" added',
            'guard "spend < 3000" removed',
        ]

    def test_metric_filter(self, tmp_path: Path) -> None:
        """A metric's ``where`` is compared the same way."""
        old = BASE.replace("{count: purchase}", '{count: purchase, where: "event.amount >= 10"}')
        new = bump(old).replace("event.amount >= 10", "event.amount >= 50")
        assert lines(compare(tmp_path, new, old), "metrics") == [
            "changed purchases: threshold of event.amount raised from 10 to 50"
        ]

    def test_unparseable_guard_falls_back_to_text(self, tmp_path: Path) -> None:
        """A guard that cannot be parsed (a model built by hand) is shown as text."""
        old = load(tmp_path, BASE, "old")
        moves = list(old.moves)
        moves[1] = moves[1].model_copy(update={"when": "spend >="})
        new = old.model_copy(update={"version": 2, "moves": moves})
        change = only(diff_journeys(old, new), "moves")
        assert (
            change.detail == 'guard changed from "spend >= 3000 and purchases >= 3" to "spend >="'
        )


class TestIncentives:
    """Incentives by id: every field, added and removed."""

    def test_fields(self, tmp_path: Path) -> None:
        """Cost, channel, once, cooldown, holdout and message changes each have their words."""
        new = bump(BASE).replace(
            "gift: {kind: gift, channel: mail, cost: 500}",
            "gift: {kind: gift, channel: email, cost: 400, once: true, cooldown: 30d,"
            ' holdout: 10%, message: "A gift"}',
        )
        assert lines(compare(tmp_path, new), "incentives") == [
            "changed gift: channel changed from mail to email",
            "changed gift: cost lowered from 500 to 400",
            'changed gift: message set to "A gift"',
            "changed gift: once changed from false to true",
            "changed gift: cooldown set to 30d",
            "changed gift: holdout raised from 0% to 10%",
        ]

    def test_values_as_the_file_writes_them(self, tmp_path: Path) -> None:
        """Durations and percentages are JSON-ready text, as in the file."""
        old = BASE.replace("cost: 500}", "cost: 500, cooldown: 7d, holdout: 10%}")
        new = bump(old).replace("cooldown: 7d, holdout: 10%", "cooldown: 2w, holdout: 2.5%")
        changes = [c for c in compare(tmp_path, new, old).changes if c.section == "incentives"]
        assert [(c.before, c.after) for c in changes] == [("7d", "14d"), ("10%", "2.5%")]
        assert changes[0].detail == "cooldown lengthened from 7d to 14d"

    def test_added_and_removed(self, tmp_path: Path) -> None:
        """A new incentive is added and an old one removed, with what the file says."""
        new = bump(BASE).replace(
            "  teaser: {kind: content, channel: email, cost: 0}\n",
            "  teaser: {kind: content, channel: email, cost: 0}\n"
            "  voucher: {kind: coupon, channel: sms, cost: 5}\n",
        )
        new = new.replace("on_enter: [gift]", "on_enter: [voucher]").replace(
            "  gift: {kind: gift, channel: mail, cost: 500}\n", ""
        )
        difference = compare(tmp_path, new)
        assert lines(difference, "incentives") == [
            "removed gift: kind gift, channel mail, cost 500",
            "added voucher: kind coupon, channel sms, cost 5",
        ]
        removed = difference.changes[-2]
        assert removed.before == {
            "kind": "gift",
            "channel": "mail",
            "cost": 500,
            "once": False,
            "holdout": "0%",
        }


class TestReminders:
    """Reminders are matched by where they stand, what they are about and their incentive."""

    def test_changed(self, tmp_path: Path) -> None:
        """Guard and cooldown changes of a kept reminder."""
        new = bump(BASE).replace('"spend >= 2000"', '"spend >= 2500"')
        new = new.replace("cooldown: 30d}", "cooldown: 14d}")
        assert lines(compare(tmp_path, new), "reminders") == [
            "changed at buyer toward vip (teaser): threshold of spend raised from 2000 to 2500",
            "changed at buyer toward vip (teaser): cooldown shortened from 30d to 14d",
        ]

    def test_incentive_changed(self, tmp_path: Path) -> None:
        """Same place and target, another incentive: the reminder's incentive changed."""
        new = bump(BASE).replace("incentive: teaser", "incentive: gift")
        assert lines(compare(tmp_path, new), "reminders") == [
            "changed at buyer toward vip (teaser): incentive changed from teaser to gift"
        ]

    def test_ahead_of_added_and_removed(self, tmp_path: Path) -> None:
        """A reminder about something else entirely is removed and another added."""
        new = bump(BASE).replace(
            '{at: buyer, toward: vip, when: "spend >= 2000", incentive: teaser, cooldown: 30d}',
            "{at: vip, ahead_of: requalify, by: 30d, incentive: gift}",
        )
        assert lines(compare(tmp_path, new), "reminders") == [
            'removed at buyer toward vip (teaser): when "spend >= 2000", cooldown 30d',
            "added at vip ahead of requalify (gift): by 30d",
        ]


class TestOtherSections:
    """Owners, offerings, attributes, events and their fields, metrics and settings."""

    def test_owners_offerings_attributes(self, tmp_path: Path) -> None:
        """Named entries of the simple sections are added, removed or changed by field."""
        new = bump(BASE).replace("crm: {title: CRM}", "crm: {title: CRM, contact: crm@example.com}")
        new = new.replace(
            "events:",
            "offerings:\n  magazine: {kind: product}\n"
            "attributes:\n  region: {type: str, pii: true}\n"
            "events:",
        )
        difference = compare(tmp_path, new)
        assert lines(difference, "owners") == ["changed crm: contact set to crm@example.com"]
        assert lines(difference, "offerings") == ["added magazine: kind product"]
        assert lines(difference, "attributes") == ["added region: type str, pii true"]

    def test_events_and_fields(self, tmp_path: Path) -> None:
        """Event types are added and removed; their fields are items of their own."""
        new = bump(BASE).replace(
            "      amount: {type: float, min: 0}\n",
            "      amount: {type: float, min: 1}\n"
            "      plan: {type: str, required: false, one_of: [monthly, yearly]}\n",
        )
        new = new.replace("  unsubscribe: {}\n", "  unsubscribe: {}\n  attend: {}\n")
        assert lines(compare(tmp_path, new), "events") == [
            "changed purchase.amount: min raised from 0 to 1",
            "added purchase.plan: type str, required false, one_of [monthly, yearly]",
            "added attend: no fields",
        ]

    def test_metrics(self, tmp_path: Path) -> None:
        """A metric's kind and source are one field; its window is another."""
        new = bump(BASE).replace("{sum: purchase.amount}", "{sum: purchase.amount, window: 365d}")
        new = new.replace("purchases: {count: purchase}", "purchases: {distinct: purchase.amount}")
        difference = compare(tmp_path, new)
        assert lines(difference, "metrics") == [
            "changed spend: window set to 365d",
            'changed purchases: measure changed from "count: purchase" to '
            '"distinct: purchase.amount"',
        ]

    def test_settings(self, tmp_path: Path) -> None:
        """Settings are compared field by field, nested ones too."""
        old = BASE + "settings:\n  pressure: {max: 3, per: 7d}\n"
        new = bump(old).replace("{max: 3, per: 7d}", "{max: 2, per: 7d}\n  max_cascade: 3")
        assert lines(compare(tmp_path, new, old), "settings") == [
            "changed settings: max_cascade set to 3",
            "changed settings: pressure.max lowered from 3 to 2",
        ]

    def test_migrations(self, tmp_path: Path) -> None:
        """Migrations are compared by from_version, mapping by mapping."""
        old = bump(BASE, 3) + "migrations:\n  - {from_version: 1, nodes: {lapsed: buyer}}\n"
        new = bump(old, 4).replace(
            "{from_version: 1, nodes: {lapsed: buyer}}",
            "{from_version: 1, nodes: {lapsed: visitor, reader: buyer}}\n"
            "  - {from_version: 2, nodes: {old: vip}}",
        )
        assert lines(compare(tmp_path, new, old), "migrations") == [
            "changed from version 1: members at lapsed now go to visitor (was buyer)",
            "changed from version 1: reader -> buyer added",
            "added from version 2: old -> vip",
        ]


class TestUnmappedNodes:
    """A node of OLD that NEW lacks needs a migration of NEW that maps it (problem a)."""

    def test_removed_without_migration(self, tmp_path: Path) -> None:
        """The problem names the node, both versions, and the migration to add."""
        difference = compare(tmp_path, WITHOUT_GONE)
        assert difference.problems == (
            "node 'gone' of version 1 is not in version 2, and no migration says where its "
            "members go; add `migrations: [{from_version: 1, nodes: {gone: NODE}}]`, with NODE "
            "the node where its members should go now",
        )
        assert lines(difference, "nodes") == [
            "removed gone: kind exit, owner crm; no migration says where its members go"
        ]

    def test_hint_names_new_nodes_and_existing_migration(self, tmp_path: Path) -> None:
        """With a migration from OLD's version, the fix is to extend it; new nodes are named."""
        new = re.sub(r"\bgone\b", "left", bump(BASE))
        new += "migrations:\n  - {from_version: 1, nodes: {lapsed: buyer}}\n"
        [problem] = compare(tmp_path, new).problems
        assert problem.endswith(
            "add `gone: NODE` to the nodes of its migration from version 1, with NODE the node "
            "where its members should go now (new in version 2: left)"
        )

    def test_later_migration_applies_to_older_members(self, tmp_path: Path) -> None:
        """Members of version 1 pass through the migration from version 2 too (a chain)."""
        new = bump(WITHOUT_GONE, 3) + "migrations:\n"
        new += "  - {from_version: 2, nodes: {gone: visitor}}\n"
        difference = compare(tmp_path, new)
        assert difference.problems == ()
        assert lines(difference, "nodes") == [
            "removed gone: kind exit, owner crm; its members go to visitor "
            "(migration from version 2)"
        ]

    def test_chain_through_two_migrations(self, tmp_path: Path) -> None:
        """Each migration in turn moves the member from the node the last one left it at."""
        new = bump(WITHOUT_GONE, 3) + (
            "migrations:\n"
            "  - {from_version: 1, nodes: {gone: buyer}}\n"
            "  - {from_version: 2, nodes: {buyer: visitor}}\n"
        )
        difference = compare(tmp_path, new)
        assert difference.problems == ()
        assert lines(difference, "nodes") == [
            "removed gone: kind exit, owner crm; its members go to visitor "
            "(migrations from versions 1 and 2)",
            "changed buyer: members of version 1 here go to visitor (migration from version 2)",
        ]

    def test_older_migration_does_not_apply(self, tmp_path: Path) -> None:
        """A migration from a version older than OLD's is not for OLD's members."""
        old = bump(BASE, 2)
        new = bump(WITHOUT_GONE, 3) + "migrations:\n"
        new += "  - {from_version: 1, nodes: {gone: visitor}}\n"
        [problem] = compare(tmp_path, new, old).problems
        assert problem.startswith("node 'gone' of version 2 is not in version 3")

    def test_same_version_fix_raises_version_first(self, tmp_path: Path) -> None:
        """When NEW's version is not higher, the fix says to raise it first."""
        new = bump(WITHOUT_GONE, 1)
        problems = compare(tmp_path, new).problems
        assert any("raise `version` above 1, then add `migrations:" in p for p in problems)


class TestBrokenMigrations:
    """A migration of NEW that maps to a node NEW lacks is a problem (b)."""

    def test_target_missing(self, tmp_path: Path) -> None:
        """The problem names the migration, both nodes, and the nearest node of NEW."""
        old = load(tmp_path, BASE, "old")
        migration = Migration(from_version=1, nodes={"gone": "vipp"})
        new = old.model_copy(update={"version": 2, "migrations": [migration]})
        assert diff_journeys(old, new).problems == (
            "the migration from version 1 sends members at 'gone' to 'vipp', which is not a node "
            "of version 2; map 'gone' to one of its nodes; did you mean 'vip'?",
        )

    def test_loader_refuses_it_first(self, tmp_path: Path) -> None:
        """From files, the validator already refuses such a migration (T403)."""
        new = bump(BASE) + "migrations:\n  - {from_version: 1, nodes: {gone: vipp}}\n"
        with pytest.raises(topo.InvalidJourney) as caught:
            load(tmp_path, new, "new")
        assert [d.code for d in caught.value.diagnostics] == ["T403"]


class TestVersionRule:
    """A changed journey needs a higher version number (problem c)."""

    def test_same_version_with_changes(self, tmp_path: Path) -> None:
        """Any change under the same version number is a problem that says why."""
        new = BASE.replace("cost: 500", "cost: 400")
        assert compare(tmp_path, new).problems == (
            "the journey changed but its version is still 1: stored members record only the "
            "version number, so they could not tell the two apart and no migration could apply "
            "to them; raise `version` to 2",
        )

    def test_cosmetic_change_counts(self, tmp_path: Path) -> None:
        """A changed title is a change too: publish it as a new version."""
        new = BASE.replace("version: 1\n", "version: 1\ntitle: Demo\n")
        assert len(compare(tmp_path, new).problems) == 1

    def test_lower_version(self, tmp_path: Path) -> None:
        """A lower version number is a problem even without other changes."""
        difference = compare(tmp_path, BASE, bump(BASE))
        assert difference.problems == (
            "the new version number 1 is lower than the old 2: members stored under version 2 "
            "would be read by an older journey; raise `version` to 3 (or were OLD and NEW given "
            "the other way round?)",
        )

    def test_version_gap_is_fine(self, tmp_path: Path) -> None:
        """Skipping version numbers is allowed."""
        assert compare(tmp_path, bump(BASE, 5)).problems == ()


class TestRender:
    """``render("text")`` for people, ``render("json")`` for tools."""

    def test_text(self, tmp_path: Path) -> None:
        """A header, then each section's changes, one a line."""
        new = bump(BASE).replace("cost: 500", "cost: 400").replace("spend >= 3000", "spend >= 5000")
        assert compare(tmp_path, new).render("text") == dedent(
            """
            demo: version 1 -> 2, 3 changes

            journey
              changed  demo: version raised from 1 to 2

            moves
              changed  buyer -> vip on purchase: threshold of spend raised from 3000 to 5000

            incentives
              changed  gift: cost lowered from 500 to 400
            """
        )

    def test_text_without_changes(self, tmp_path: Path) -> None:
        """No changes is one line."""
        assert compare(tmp_path, BASE).render() == "demo: version 1 -> 1, no changes\n"

    def test_json_shape(self, tmp_path: Path) -> None:
        """One JSON document: shape version, both revisions, changes and problems."""
        new = BASE.replace("cost: 500", "cost: 400")
        document = json.loads(compare(tmp_path, new).render("json"))
        assert set(document) == {"version", "old", "new", "changes", "problems"}
        assert document["version"] == 1
        assert document["old"] == {"journey": "demo", "version": 1}
        assert document["changes"] == [
            {
                "kind": "changed",
                "section": "incentives",
                "item": "gift",
                "field": "cost",
                "detail": "cost lowered from 500 to 400",
                "before": 500,
                "after": 400,
            }
        ]
        assert len(document["problems"]) == 1

    def test_json_of_whole_items(self, tmp_path: Path) -> None:
        """Added and removed items carry their fields as JSON-ready data."""
        new = bump(BASE).replace("after: 365d", "after: 52w")
        new = new.replace("{id: requalify,", "{id: requalify2,")
        document = json.loads(compare(tmp_path, new).render("json"))
        moves = [c for c in document["changes"] if c["section"] == "moves"]
        assert [(c["kind"], c["field"], c["before"], c["after"]) for c in moves] == [
            ("changed", "id", "requalify", "requalify2"),
            ("changed", "after", "365d", "364d"),
        ]

    def test_unknown_format(self, tmp_path: Path) -> None:
        """An unknown format is a ValueError with the known ones."""
        with pytest.raises(ValueError, match="use one of: text, json"):
            compare(tmp_path, BASE).render("xml")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


class TestDiffCommand:
    """``topo diff OLD NEW``: changes on stdout, problems on stderr, exit 0/1/2."""

    def write(self, tmp_path: Path, name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def test_clean_exits_zero(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A migrated change: the changes on stdout, nothing on stderr, exit 0."""
        old = self.write(tmp_path, "old.yaml", BASE)
        new = self.write(tmp_path, "new.yaml", bump(BASE).replace("cost: 500", "cost: 400"))
        code, out, err = run(["diff", old, new], capsys)
        assert (code, err) == (0, "")
        assert out.startswith("demo: version 1 -> 2, 2 changes\n")

    def test_problems_exit_one(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Each problem is a ``topo:`` line on stderr, and the exit code is 1."""
        old = self.write(tmp_path, "old.yaml", BASE)
        new = self.write(tmp_path, "new.yaml", WITHOUT_GONE)
        code, out, err = run(["diff", old, new], capsys)
        assert code == 1
        assert "removed  gone:" in out
        assert err.startswith("topo: node 'gone' of version 1 is not in version 2")
        assert err.count("\n") == 1

    def test_json(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """``--format json`` prints the JSON document; problems still go to stderr."""
        old = self.write(tmp_path, "old.yaml", BASE)
        new = self.write(tmp_path, "new.yaml", BASE.replace("cost: 500", "cost: 400"))
        code, out, err = run(["diff", "--format", "json", old, new], capsys)
        assert code == 1
        assert json.loads(out)["problems"] == [err.removeprefix("topo: ").rstrip("\n")]

    def test_invalid_journey_exits_one(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An invalid file: its diagnostics on stderr, nothing on stdout, exit 1."""
        old = self.write(tmp_path, "old.yaml", BASE)
        new = self.write(tmp_path, "new.yaml", bump(BASE).replace("owner: crm}", "owner: crn}", 1))
        code, out, err = run(["diff", old, new], capsys)
        assert (code, out) == (1, "")
        assert f"{new}:" in err and "T401" in err

    def test_missing_file_exits_two(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file that does not exist cannot be compared: exit 2."""
        old = self.write(tmp_path, "old.yaml", BASE)
        code, out, err = run(["diff", old, str(tmp_path / "nope.yaml")], capsys)
        assert (code, out) == (2, "")
        assert "nope.yaml" in err


class TestKnowledgeClub:
    """The shipped journey (version 2, with a migration from version 1) and a version 3."""

    def version_3(self, tmp_path: Path, text: str) -> str:
        path = tmp_path / "knowledge-club-3.yaml"
        path.write_text(bump(text, 3), encoding="utf-8")
        return str(path)

    def test_rename_with_migration(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``buyer`` renamed ``customer`` with a migration from version 2: exit 0."""
        text = re.sub(r"\bbuyer\b", "customer", KNOWLEDGE_CLUB.read_text(encoding="utf-8"))
        text += "  - from_version: 2\n    nodes: {buyer: customer}\n"
        code, out, err = run(["diff", str(KNOWLEDGE_CLUB), self.version_3(tmp_path, text)], capsys)
        assert (code, err) == (0, "")
        assert (
            "  removed  buyer: kind checkpoint, owner sales; its members go to customer "
            "(migration from version 2)\n" in out
        )
        assert "  changed  member -> buyer on purchase: to changed from buyer to customer\n" in out
        assert (
            "  changed  from version 1: members at reader now go to customer (was buyer)\n" in out
        )

    def test_remove_without_migration(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The ``unsubscribed`` exit removed without a migration: exit 1, and how to fix it."""
        text = KNOWLEDGE_CLUB.read_text(encoding="utf-8")
        text = re.sub(r"  unsubscribed: .*\n", "", text)
        text = re.sub(r"  - from: \[visitor, member.*\n    to: unsubscribed\n.*\n", "", text)
        code, _, err = run(["diff", str(KNOWLEDGE_CLUB), self.version_3(tmp_path, text)], capsys)
        assert code == 1
        assert err == (
            "topo: node 'unsubscribed' of version 2 is not in version 3, and no migration says "
            "where its members go; add `migrations: [{from_version: 2, nodes: {unsubscribed: "
            "NODE}}]`, with NODE the node where its members should go now\n"
        )

    def test_diff_against_itself(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The shipped file against itself: no changes, exit 0."""
        code, out, _ = run(["diff", str(KNOWLEDGE_CLUB), str(KNOWLEDGE_CLUB)], capsys)
        assert (code, out) == (0, "knowledge-club: version 2 -> 2, no changes\n")


class TestDocs:
    """The example of ``docs/diff.md`` prints what the page says it prints."""

    FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)

    def blocks(self, kind: str) -> list[str]:
        text = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
        return [m.group(2) for m in self.FENCE.finditer(text) if m.group(1).strip() == kind]

    def session(self, block: str) -> tuple[str, str, int]:
        """The command, what it printed and the exit code of a quoted console session."""
        command, *rest = block.splitlines(keepends=True)
        echo = rest.index("$ echo $?\n")
        return command, "".join(rest[:echo]), int(rest[echo + 1])

    def test_example(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The clean example: its output and exit code are real."""
        old, new = self.blocks("yaml journey")[:2]
        (tmp_path / "tea-club-1.yaml").write_text(old, encoding="utf-8")
        (tmp_path / "tea-club-2.yaml").write_text(new, encoding="utf-8")
        command, printed, status = self.session(self.blocks("console")[0])
        assert command == "$ topo diff tea-club-1.yaml tea-club-2.yaml\n"
        argv = ["diff", str(tmp_path / "tea-club-1.yaml"), str(tmp_path / "tea-club-2.yaml")]
        assert run(argv, capsys) == (status, printed, "")

    def test_failing_example(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Without its migration, version 2 fails with the quoted problem."""
        old, new = self.blocks("yaml journey")[:2]
        new = new[: new.index("migrations:")]
        (tmp_path / "tea-club-1.yaml").write_text(old, encoding="utf-8")
        (tmp_path / "tea-club-2.yaml").write_text(new, encoding="utf-8")
        command, printed, status = self.session(self.blocks("console")[1])
        assert command.endswith(" > /dev/null\n")
        argv = ["diff", str(tmp_path / "tea-club-1.yaml"), str(tmp_path / "tea-club-2.yaml")]
        code, _, err = run(argv, capsys)
        assert (code, err) == (status, printed)

    def test_json_example_fields(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The JSON excerpt on the page is one of the real changes, with the real keys."""
        old, new = self.blocks("yaml journey")[:2]
        (tmp_path / "1.yaml").write_text(old, encoding="utf-8")
        (tmp_path / "2.yaml").write_text(new, encoding="utf-8")
        _, out, _ = run(
            ["diff", "--format", "json", *(str(tmp_path / n) for n in ("1.yaml", "2.yaml"))], capsys
        )
        real = json.loads(out)
        [quoted] = [json.loads(block) for block in self.blocks("json")]
        assert set(quoted) == set(real)
        assert (quoted["old"], quoted["new"]) == (real["old"], real["new"])
        assert quoted["changes"][0] in real["changes"]


class TestSuggestedFix:
    """The fix a problem suggests can be pasted into a journey as it is."""

    def test_suggested_migration_is_valid_yaml(self, tmp_path: Path) -> None:
        """The `migrations: [...]` snippet in the message loads as a migrations section."""
        import re

        from topo.journey.loader import load_text
        from topo.journey.migration_problems import unmapped_nodes

        old = tmp_path / "old.yaml"
        old.write_text(_journey_with_extra_node(), encoding="utf-8")
        new = tmp_path / "new.yaml"
        new.write_text(
            _journey_with_extra_node()
            .replace("version: 1", "version: 2")
            .replace("  extra: {kind: checkpoint, owner: crm}\n", "")
            .replace("  - {from: visitor, to: extra, on: purchase}\n", "")
            .replace("  - {from: extra, to: vip, on: purchase}\n", ""),
            encoding="utf-8",
        )
        [problem] = list(unmapped_nodes(topo.load_journey(old), topo.load_journey(new)))
        snippet = re.search(r"`(migrations: \[.*?\])`", problem).group(1)  # type: ignore[union-attr]
        loaded = load_text(snippet.replace("NODE", "vip"))
        assert loaded.document is not None
        assert loaded.document.data == {
            "migrations": [{"from_version": 1, "nodes": {"extra": "vip"}}]
        }


def _journey_with_extra_node() -> str:
    return (
        "topo: 1\njourney: d\nversion: 1\nowners: {crm: {}}\nevents: {purchase: {}}\nnodes:\n"
        "  visitor: {kind: start, owner: crm}\n  extra: {kind: checkpoint, owner: crm}\n"
        "  vip: {kind: peak, owner: crm}\nmoves:\n  - {from: visitor, to: vip, on: purchase}\n"
        "  - {from: visitor, to: extra, on: purchase}\n  - {from: extra, to: vip, on: purchase}\n"
    )


class TestWellFormedIsEnough:
    """topo diff compares journeys that break only analysis rules."""

    def test_old_version_with_an_unreachable_node(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An old version with an unreachable node (T501, an error) can still be compared."""
        from topo.cli.commands import main

        text = _journey_with_extra_node().replace(
            "  - {from: visitor, to: extra, on: purchase}\n", ""
        )
        old = tmp_path / "old.yaml"
        old.write_text(text, encoding="utf-8")
        assert [d.code for d in topo.validate(old)] == ["T501"]
        new = tmp_path / "new.yaml"
        new.write_text(
            text.replace("version: 1", "version: 2").replace("journey: d", "journey: d\ntitle: D"),
            encoding="utf-8",
        )
        assert main(["diff", str(old), str(new)]) == 0
        assert "title" in capsys.readouterr().out
