"""The shape stage: the journey model, strict types, and errors mapped to their place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import MINIMAL, dedent, validate_rules


def found(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in validate_rules(text, "j.yaml")]


def messages(text: str) -> list[str]:
    return [f"{d.code} {d.message}" for d in validate_rules(text, "j.yaml")]


class TestUnknownKeys:
    """Unknown keys are errors at the key, with the nearest known key suggested."""

    def test_top_level_typo(self) -> None:
        """A misspelt section is reported with a suggestion."""
        assert messages(MINIMAL + "incentivs: {}\n") == [
            "T201 unknown key 'incentivs' in the journey; did you mean 'incentives'?"
        ]

    def test_nested_typo_in_flow_mapping(self) -> None:
        """A misspelt key inside ``{...}`` points at that key."""
        text = MINIMAL.replace(
            "visitor: {kind: start, owner: crm}", "visitor: {kind: start, ownr: crm}"
        )
        [(line, column)] = [(row, col) for code, row, col in found(text) if code == "T201"]
        assert text.splitlines()[line - 1][column - 1 :].startswith("ownr")

    def test_typo_in_a_move_suggests_when(self) -> None:
        """``wehn`` suggests ``when``."""
        text = MINIMAL.replace('when: "spend >= 100"', 'wehn: "spend >= 100"')
        assert messages(text) == ["T201 unknown key 'wehn' in moves[0]; did you mean 'when'?"]

    def test_from_alias_is_the_known_key(self) -> None:
        """The suggestion is the key as written in YAML (``from``), not the Python name."""
        text = MINIMAL.replace("{from: visitor,", "{form: visitor,")
        assert any("did you mean 'from'?" in m for m in messages(text))


class TestTypes:
    """Types are strict where the format says so."""

    @pytest.mark.parametrize(
        "old,new,code",
        [
            ("version: 1", "version: '1'", "T203"),
            ("version: 1", "version: 1.0", "T203"),
            ("version: 1", "version: true", "T203"),
            ("version: 1", "version: 0", "T204"),
            ("topo: 1", "topo: 2", "T209"),
            ("journey: demo", "journey: Demo", "T205"),
            ("journey: demo", "journey: 1demo", "T205"),
            ("amount: {type: float, min: 0}", "amount: {type: decimal}", "T204"),
            ("amount: {type: float, min: 0}", "amount: {type: float, min: '0'}", "T203"),
        ],
    )
    def test_rejected(self, old: str, new: str, code: str) -> None:
        """Each wrong value gives its code."""
        assert [c for c, _, _ in found(MINIMAL.replace(old, new))] == [code]

    @pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
    def test_not_a_finite_cost(self, value: str) -> None:
        """NaN and infinities are not costs, and the message says so."""
        text = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}", "  vip: {kind: peak, owner: crm, on_enter: [gift]}"
        )
        text += f"incentives:\n  gift: {{kind: gift, channel: mail, cost: {value}}}\n"
        [message] = messages(text)
        assert message.startswith("T204 incentives.gift.cost:")
        assert "is not a finite number" in message

    def test_integer_is_accepted_for_a_float(self) -> None:
        """``cost: 30`` is a fine number."""
        text = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}", "  vip: {kind: peak, owner: crm, on_enter: [gift]}"
        )
        text += "incentives:\n  gift: {kind: gift, channel: mail, cost: 30}\n"
        assert found(text) == []

    def test_boolean_is_not_text(self) -> None:
        """A ``when: true`` (a YAML boolean) is not an expression text."""
        text = MINIMAL.replace('when: "spend >= 100"', "when: true")
        assert messages(text) == [
            "T203 moves[0].when: expected text, got the boolean true; "
            "to move without a condition, leave `when` out"
        ]

    def test_literal_suggestion(self) -> None:
        """A misspelt node kind suggests the nearest kind."""
        text = MINIMAL.replace("kind: peak", "kind: paek")
        [message] = messages(text)
        assert "expected one of start, checkpoint, peak, exit; did you mean 'peak'?" in message

    @pytest.mark.parametrize(
        "old,new,message",
        [
            (
                "  crm: {title: CRM}",
                "  crm: {title: CRM}\n  true: {}",
                "owners: the key 'true' is not text",
            ),
            (
                "  vip: {kind: peak",
                "  1: {kind: peak, owner: crm}\n  vip: {kind: peak",
                "nodes: the key '1' is not text",
            ),
            ("{from: visitor,", "{1: x, from: visitor,", "moves[0]: the key '1' is not text"),
        ],
    )
    def test_key_that_is_not_text(self, old: str, new: str, message: str) -> None:
        """A number or boolean as a key says so, and does not read as a list position."""
        [found_message] = messages(MINIMAL.replace(old, new))
        assert found_message.startswith(f"T203 {message}")

    def test_missing_required_key(self) -> None:
        """A node without an owner is reported at the node."""
        text = MINIMAL.replace("vip: {kind: peak, owner: crm}", "vip: {kind: peak}")
        assert messages(text) == ["T202 nodes.vip is missing the required key 'owner'"]

    def test_missing_top_level_section(self) -> None:
        """A journey without ``nodes`` says so, and does not pile up unknown-node errors."""
        before, after = MINIMAL.split("nodes:")
        text = before + after[after.index("moves:") :]  # the moves still name the nodes
        assert [c for c, _, _ in found(text)] == ["T202"]


class TestDurationsAndPercentages:
    """Durations and percentages are parsed into numbers the engine uses."""

    @pytest.mark.parametrize(
        "text,code",
        [("0d", "T207"), ("3 months", "T207"), ("1y", "T207"), ("-3d", "T207"), (30, "T207")],
    )
    def test_bad_duration(self, text: object, code: str) -> None:
        """Anything but a positive integer and a unit is reported."""
        journey = MINIMAL + f"settings: {{dedup_window: {text}}}\n"
        assert [c for c, _, _ in found(journey)] == [code]

    @pytest.mark.parametrize("text", ["0.1", "110%", "ten%", "-5%"])
    def test_bad_percentage(self, text: str) -> None:
        """Holdouts are written as 0% to 100%."""
        journey = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}", "  vip: {kind: peak, owner: crm, on_enter: [gift]}"
        )
        journey += f"incentives:\n  gift: {{kind: gift, channel: mail, holdout: {text}}}\n"
        assert [c for c, _, _ in found(journey)] == ["T208"]

    def test_parsed_values(self) -> None:
        """The model holds timedeltas and shares."""
        import topo
        from topo.journey.loader import load_text
        from topo.validation import check_document

        text = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}", "  vip: {kind: peak, owner: crm, on_enter: [gift]}"
        )
        text += "incentives:\n  gift: {kind: gift, channel: mail, holdout: 2.5%, cooldown: 12h}\n"
        text += "settings: {dedup_window: 2w}\n"
        document = load_text(text).document
        assert document is not None
        journey, problems = check_document(document)
        assert problems == [] and isinstance(journey, topo.Journey)
        assert journey.incentives["gift"].holdout == pytest.approx(0.025)
        assert journey.incentives["gift"].cooldown == timedelta(hours=12)
        assert journey.settings.dedup_window == timedelta(weeks=2)


class TestEveryProblemAtOnce:
    """Shape errors do not hide the problems that later checks find."""

    def test_five_defects_of_different_stages(self) -> None:
        """A duplicate key, an unknown key, a bad value, an unknown node and an unknown name."""
        text = dedent(
            """
            topo: 1
            journey: demo
            version: 1
            owners:
              crm: {title: CRM}
              crm: {title: again}
            events:
              purchase: {fields: {amount: {type: float}}}
            metrics:
              spend: {sum: purchase.amount}
            nodes:
              visitor: {kind: start, owner: crm, colour: red}
              vip: {kind: peak, owner: crm}
              gold: {kind: checkpoint, owner: crm, on_enter: 5}
            moves:
              - {from: visitor, to: vip, on: purchase, when: "spend >= 100"}
              - {from: visitor, to: silver, on: purchase}
              - {from: gold, to: vip, on: purchase, when: "spned > 1"}
            """
        )
        assert [c for c, _, _ in found(text)] == ["T102", "T201", "T203", "T403", "T303"]

    def test_broken_timer_move_keeps_its_id_for_reminders(self) -> None:
        """A reminder naming a move with a shape error does not also get 'unknown move id'."""
        text = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}", "  vip: {kind: peak, owner: crm, on_enter: [nudge]}"
        )
        text += "  - {id: review, from: vip, to: visitor, after: 3 months}\n"
        text += "incentives:\n  nudge: {kind: content, channel: email}\n"
        text += "reminders:\n  - {at: vip, ahead_of: review, by: 30d, incentive: nudge}\n"
        assert [c for c, _, _ in found(text)] == ["T207"]

    def test_broken_node_is_not_reported_as_unknown(self) -> None:
        """A move into a node with a shape error does not also say the node is unknown."""
        text = MINIMAL.replace(
            "vip: {kind: peak, owner: crm}", "vip: {kind: peak, owner: crm, extra: 1}"
        )
        assert [c for c, _, _ in found(text)] == ["T201"]

    def test_broken_move_keeps_its_index(self) -> None:
        """After a broken move, later moves' diagnostics keep their index in the file."""
        text = (
            MINIMAL
            + "  - {from: visitor, to: vip, on: 5}\n"
            + "  - {from: visitor, to: nowhere, on: purchase}\n"
        )
        diagnostics = validate_rules(text, "j.yaml")
        assert [(d.code, d.path[:2]) for d in diagnostics] == [
            ("T203", ("moves", 1)),
            ("T403", ("moves", 2)),
        ]
        assert (
            diagnostics[1].line
            == text.splitlines().index("  - {from: visitor, to: nowhere, on: purchase}") + 1
        )

    def test_entry_with_two_errors_leaves_out_only_itself(self) -> None:
        """A node with two shape errors is left out alone: its section still counts, so a move
        into a node that does not exist is still reported (it was hidden before)."""
        text = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}",
            "  vip: {kind: peak, owner: crm}\n  bad: {kind: chekpoint, ownr: crm}",
        )
        text += "  - {from: visitor, to: nowhere, on: purchase}\n"
        assert [c for c, _, _ in found(text)] == ["T202", "T204", "T201", "T403"]

    def test_many_keys_that_are_not_text(self) -> None:
        """Thousands of keys written as numbers are each reported at its own key."""
        nodes = "".join(f"  {k}.5: {{kind: checkpoint, owner: crm}}\n" for k in range(2000))
        text = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}\n", "  vip: {kind: peak, owner: crm}\n" + nodes
        )
        problems = found(text)
        assert [c for c, _, _ in problems] == ["T203"] * 2000
        first = text.splitlines().index("  0.5: {kind: checkpoint, owner: crm}") + 1
        assert [line for _, line, _ in problems] == list(range(first, first + 2000))
