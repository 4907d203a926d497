"""Journey analysis: the graph and guard checks beyond what the golden fixtures show.

Every check has a failing fixture (tests/fixtures/invalid/T5xx-*.yaml, with its exact position
in a golden file) and a passing counterpart (tests/fixtures/valid/T5xx-*-ok.yaml); these tests
pin down the decisions around them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MINIMAL, dedent
from topo.analysis.checks import CHECKS
from topo.analysis.conditions import condition_of
from topo.analysis.context import PARTS, Analysis
from topo.analysis.guard_checks import backwards_thresholds, overlapping_moves
from topo.journey.codes import CODES
from topo.journey.loader import load_text
from topo.journey.shape import build_journey
from topo.validation import validate_text

LADDER = dedent(
    """
    topo: 1
    journey: ladder
    version: 1
    owners: {crm: {title: CRM}}
    events: {purchase: {fields: {amount: {type: float, min: 0}}}}
    metrics:
      spend: {sum: purchase.amount, window: 365d}
      orders: {count: purchase, window: 365d}
    nodes:
      visitor: {kind: start, owner: crm}
      regular: {kind: checkpoint, owner: crm}
      gold: {kind: checkpoint, owner: crm}
      vip: {kind: peak, owner: crm}
    moves:
      - {from: visitor, to: regular, on: purchase}
      - {from: regular, to: gold, on: purchase, when: "spend >= 1000 and orders >= 2"}
      - {from: gold, to: vip, on: purchase, when: "spend >= 3000"}
      - {id: review, from: vip, to: gold, after: 365d, when: "spend < 3000"}
      - {from: gold, to: regular, after: 365d, when: "orders == 0"}
    """
)


def codes(text: str) -> list[str]:
    return [d.code for d in validate_text(text, "j.yaml")]


class TestBackwardsThresholds:
    """T507 is about steps up, not about the way back down."""

    def test_ladder_with_downgrades_is_quiet(self) -> None:
        """Timer downgrades asking for less (``orders == 0``) are not backwards thresholds."""
        assert codes(LADDER) == []

    def test_step_up_asking_less_is_reported(self) -> None:
        """VIP asking for less spend than gold already asked for is reported."""
        text = LADDER.replace('when: "spend >= 3000"}', 'when: "spend >= 500"}')
        assert codes(text) == ["T507"]  # the review (a timer) back into gold does not hide it

    def test_capped_arrival_resets_the_requirement(self) -> None:
        """After a move that caps spend from above, a lower threshold is a fresh start."""
        text = LADDER.replace(
            '  - {from: gold, to: regular, after: 365d, when: "orders == 0"}',
            '  - {from: gold, to: regular, on: purchase, when: "spend < 100"}',
        ).replace('"spend >= 1000 and orders >= 2"', '"spend >= 50 and orders >= 2"')
        assert "T507" not in codes(text)


class TestReminders:
    """Reminder checks name what is wrong."""

    def test_reminder_toward_its_own_node(self) -> None:
        """A reminder at vip toward vip points where members already are."""
        text = LADDER + dedent(
            """
            incentives: {nudge: {kind: content, channel: email}}
            reminders:
              - {at: vip, toward: vip, incentive: nudge}
            """
        )
        [d] = validate_text(text, "j.yaml")
        assert d.code == "T510" and "where members already are" in d.message


class TestOverlaps:
    """T506 gives a witness and never shows a pii value."""

    def test_witness_hides_pii_attributes(self) -> None:
        """A witness on a pii attribute shows that it is one, not a value."""
        text = LADDER.replace(
            "owners: {crm: {title: CRM}}",
            "owners: {crm: {title: CRM}}\nattributes: {phone: {type: str, pii: true}}",
        ).replace(
            '  - {from: gold, to: vip, on: purchase, when: "spend >= 3000"}',
            "  - {from: gold, to: vip, on: purchase,"
            " when: \"spend >= 3000 and member.phone == 'x'\"}\n"
            "  - {from: gold, to: vip, on: purchase, when: \"member.phone == 'x'\"}",
        )
        messages = [d.message for d in validate_text(text, "j.yaml") if d.code == "T506"]
        assert messages and all("'x'" not in m and "(a pii value)" in m for m in messages)

    @pytest.mark.parametrize("guard", ["spend * 2 > 10", "days_since(entered_at) > 3"])
    def test_undecided_guards_do_not_overlap(self, guard: str) -> None:
        """Guards the logic does not decide are never reported as overlapping."""
        text = LADDER.replace(
            '  - {from: gold, to: vip, on: purchase, when: "spend >= 3000"}',
            f'  - {{from: gold, to: vip, on: purchase, when: "{guard}"}}\n'
            f'  - {{from: gold, to: vip, on: purchase, when: "{guard}"}}',
        )
        assert "T506" not in codes(text)


class TestOverlapReporting:
    """Each later move is reported once, naming the first earlier move it overlaps with."""

    def test_once_per_later_move(self) -> None:
        """Three overlapping moves give two warnings: the second and the third, once each."""
        text = LADDER.replace(
            '  - {from: gold, to: vip, on: purchase, when: "spend >= 3000"}',
            '  - {from: gold, to: vip, on: purchase, when: "spend >= 3000"}\n'
            '  - {from: gold, to: vip, on: purchase, when: "spend >= 4000"}\n'
            '  - {from: gold, to: vip, on: purchase, when: "spend >= 5000"}',
        )
        found = [d for d in validate_text(text, "j.yaml") if d.code == "T506"]
        assert len(found) == 2
        assert [d.line for d in found] == [18, 19]
        assert all("the move at line 17 " in d.message for d in found)

    def test_a_source_named_twice_is_one_source(self) -> None:
        """``from: [gold, gold]`` does not make a move overlap itself."""
        text = LADDER.replace(
            "{from: gold, to: vip, on: purchase,", "{from: [gold, gold], to: vip, on: purchase,"
        )
        assert codes(text) == []


class TestWhichMetricsClimb:
    """Backwards thresholds are judged only on metrics an event can only raise."""

    def test_last_amount_may_fall(self) -> None:
        """A ``last`` metric asked for less later is not backwards: it changes with each event."""
        text = (
            LADDER.replace(
                "  orders: {count: purchase, window: 365d}",
                "  orders: {count: purchase, window: 365d}\n  last_amount: {last: purchase.amount}",
            )
            .replace('"spend >= 1000 and orders >= 2"', '"last_amount >= 1000 and orders >= 2"')
            .replace('when: "spend >= 3000"}', 'when: "last_amount >= 500 and spend >= 3000"}')
        )
        assert "T507" not in codes(text)


DRAFT = dedent(
    """
    topo: 1
    journey: draft
    version: 1
    owners: {crm: {title: CRM}}
    events: {signup: {}, purchase: {fields: {amount: {type: float, min: 0}}}}
    metrics:
      spend: {sum: purchase.amount}
    nodes:
      visitor: {kind: start, owner: crm}
      member: {kind: checkpoint, owner: crm}
      vip: {kind: peak, owner: crm, on_enter: [gift]}
    moves:
      - {from: visitor, to: member, on: signup}
      - {from: visitor, to: vip, on: purchase, when: "spend >= 100"}
    incentives:
      gift: {kind: gift, channel: sms, cost: 20, message: "Thanks: {spend} spent"}
    """
)
"""A draft: `member` is a dead end (T504), and nothing else is wrong."""


def notice(text: str) -> str:
    """The message of the T519 notice of ``text`` (there must be exactly one)."""
    [found] = [d.message for d in validate_text(text, "j.yaml") if d.code == "T519"]
    return found


class TestAnalysisOfAJourneyWithErrors:
    """The analysis runs on what loaded, check by check, and is never skipped silently."""

    def test_the_draft_alone(self) -> None:
        """The draft has one finding, and no notice: the whole analysis ran."""
        assert codes(DRAFT) == ["T504"]

    def test_message_error_and_dead_end_are_both_reported(self) -> None:
        """A broken message does not make the graph uncertain: the dead end is reported with
        it, and the notice names the one check that reads messages (unused metrics)."""
        text = DRAFT.replace("{spend} spent", "{spent} spent")
        assert codes(text) == ["T504", "T310", "T519"]
        assert "(T517): it reads the messages" in notice(text)

    def test_bad_cost_leaves_the_graph_checks_running(self) -> None:
        """An incentive with a negative cost is left out of the model; the checks that read
        incentives wait, the dead end is still found."""
        text = DRAFT.replace("cost: 20", "cost: -20")
        assert codes(text) == ["T504", "T204", "T519"]
        assert "(T513, T515, T517, T518): they read the incentives" in notice(text)

    def test_guard_error_leaves_the_graph_checks_running(self) -> None:
        """An invalid guard stops the guard checks, not the graph checks."""
        text = DRAFT.replace('"spend >= 100"', '"spend >= 100 and"')
        assert codes(text) == ["T504", "T301", "T519"]
        assert "(T505-T509, T517): they read the guards" in notice(text)

    def test_unknown_node_makes_the_graph_uncertain(self) -> None:
        """With a typo in a move's `to`, every check that reads the moves waits (the peak
        would look unreachable: a guess); the notice says which, and stands at the error."""
        text = DRAFT.replace("to: vip, on", "to: vpi, on")
        found = validate_text(text, "j.yaml")
        assert [d.code for d in found] == ["T403", "T519"]
        error, skipped = found
        assert (skipped.line, skipped.column) == (error.line, error.column)
        assert str(skipped.severity) == "warning"
        assert skipped.message == (
            "some checks of the analysis did not run (T501-T513): they read the moves, which "
            "the errors above leave uncertain; fix them, then run again to see the findings"
        )

    def test_unused_metric_next_to_an_unknown_node(self) -> None:
        """Checks that read no broken part report their findings beside the errors."""
        text = LADDER.replace(
            "  orders: {count: purchase, window: 365d}",
            "  orders: {count: purchase, window: 365d}\n  idle: {count: purchase}",
        )
        assert codes(text) == ["T517"]
        assert codes(text.replace("to: vip, on", "to: vpi, on")) == ["T517", "T403", "T519"]

    def test_a_node_left_out_stops_what_reads_nodes(self) -> None:
        """A node with a shape error is left out of the model: the checks that read nodes,
        their owners or what they grant wait."""
        text = DRAFT.replace("member: {kind: checkpoint", "member: {kind: chekpoint")
        assert codes(text) == ["T204", "T519"]
        assert "(T501-T504, T506, T507, T510, T513, T514, T518)" in notice(text)

    def test_a_format_version_topo_does_not_read_stops_everything(self) -> None:
        """With ``topo: 2`` nothing about the file is certain: no check runs."""
        text = DRAFT.replace("topo: 1", "topo: 2")
        assert codes(text) == ["T209", "T519"]
        assert notice(text).startswith("the analysis did not run (T501-T518): its checks read")

    def test_a_misspelt_section_stops_what_reads_it(self) -> None:
        """An unknown top-level key close to a section's name may be that section, missing."""
        text = DRAFT.replace("incentives:", "incentivs:")
        assert codes(text) == ["T504", "T405", "T201", "T519"]  # the graph is still certain
        assert "they read the grants, the incentives, the messages and the offerings" in notice(
            text
        )
        assert codes(DRAFT + "colour: blue\n") == ["T504", "T201"]  # no section is near

    def test_every_notice_is_one_line_after_its_errors(self) -> None:
        """Several errors give one notice, after the last error that stopped a check."""
        text = DRAFT.replace("to: vip, on", "to: vpi, on")
        text = text.replace("owner: crm, on", "owner: cr, on")
        found = validate_text(text, "j.yaml")
        assert [d.code for d in found] == ["T401", "T403", "T519"]
        assert found[-1].line == found[1].line


class TestWhatEachCheckReads:
    """The table of checks is complete, and says what each check reads."""

    def test_every_analysis_code_has_one_check(self) -> None:
        """Each T5xx code other than the notice is reported by exactly one check."""
        reported = [code for check in CHECKS for code in check.codes]
        analysis = [c.code for c in CODES if c.code.startswith("T5") and c.code != "T519"]
        assert sorted(reported) == analysis

    def test_every_part_a_check_reads_has_words(self) -> None:
        """The notice can name every part."""
        assert {part for check in CHECKS for part in check.reads} <= set(PARTS)


PRESSURE = dedent(
    """
    topo: 1
    journey: loop
    version: 1
    owners: {crm: {title: CRM}}
    events: {purchase: {}, back: {}}
    nodes:
      s: {kind: start, owner: crm}
      a: {kind: checkpoint, owner: crm}
      p: {kind: peak, owner: crm, on_enter: [gift]}
    moves:
      - {from: s, to: a, on: purchase}
      - {from: a, to: p, on: purchase}
      - {from: p, to: a, on: back}
    incentives:
      gift: {kind: gift, channel: mail}
    settings:
      pressure: {max: 1000000, per: 7d}
    """
)


class TestPressure:
    """T513: walks and cycles that collect more grants than the cap allows."""

    def test_free_cycle_is_reported_at_once(self) -> None:
        """A cycle on events that grants each time fits any cap; it is named, whatever the max."""
        [d] = validate_text(PRESSURE, "j.yaml")
        assert d.code == "T513" and "go round a -> p -> a on events alone" in d.message

    def test_once_incentives_do_not_make_a_cycle_endless(self) -> None:
        """When the cycle grants only a ``once`` incentive, it is not endless."""
        text = PRESSURE.replace(
            "gift: {kind: gift, channel: mail}", "gift: {kind: gift, channel: mail, once: true}"
        )
        text = text.replace(
            "p: {kind: peak, owner: crm, on_enter: [gift]}", "p: {kind: peak, owner: crm}"
        )
        text = text.replace(
            "{from: a, to: p, on: purchase}", "{from: a, to: p, on: purchase, incentives: [gift]}"
        )
        assert codes(text) == []

    def test_walk_over_the_cap(self) -> None:
        """Without a cycle, the quickest walk over the cap is reported with the time it takes."""
        text = PRESSURE.replace(
            "  - {from: p, to: a, on: back}\n", "  - {from: p, to: a, after: 3d}\n"
        )
        text = text.replace("max: 1000000", "max: 1").replace(
            "{purchase: {}, back: {}}", "{purchase: {}}"
        )
        [d] = validate_text(text, "j.yaml")
        assert d.code == "T513" and "in 3d" in d.message and "p -> a -> p" in d.message


_ATOMS = st.builds(
    "{} {} {}".format,
    st.sampled_from(["spend", "event.amount"]),
    st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    st.integers(0, 6).map(lambda n: str(n * 10)),
) | st.sampled_from(["spend", "spend * 2 > 5", "event.amount in [10, 20]", "true", "false"])
_GUARDS = st.recursive(
    _ATOMS,
    lambda inner: (
        st.builds("({} {} {})".format, inner, st.sampled_from(["and", "or"]), inner)
        | inner.map("not ({})".format)
    ),
    max_leaves=4,
)


def _naive_overlaps(analysis: Analysis) -> list[tuple[int, int]]:
    """(later, earlier) for each later move and the first earlier move it overlaps, asking
    every pair: the definition the bulk comparison must agree with."""
    found = []
    moves = [(i, m) for i, m in analysis.graph.moves_out("visitor") if m.on]
    domains = analysis.domains(["purchase"], ["visitor"])
    for k, (later, move) in enumerate(moves):
        mine = condition_of(move.when, domains)
        for earlier, other in moves[:k]:
            if condition_of(other.when, domains).both(mine).witness() is not None:
                found.append((later, earlier))
                break
    return found


class TestOverlapsInBulk:
    """Settling most pairs by their numbers' ranges finds the same overlaps as asking each."""

    @given(st.lists(_GUARDS | st.none(), min_size=2, max_size=8))
    def test_same_as_every_pair(self, guards: list[str | None]) -> None:
        """For any guards out of one node on one event: the same later moves, the same first
        earlier moves."""
        lines = [
            "  - {from: visitor, to: vip, on: purchase"
            + ("}" if guard is None else f', when: "{guard}"}}')
            for guard in guards
        ]
        text = MINIMAL.replace(MINIMAL.splitlines()[-1], "\n".join(lines))
        document = load_text(text, "j.yaml").document
        assert document is not None
        site = build_journey(document).site(document)
        assert site is not None
        analysis = Analysis(site)
        found = [(d.path[1], d.message) for d in overlapping_moves(analysis)]
        expected = _naive_overlaps(analysis)
        assert [later for later, _ in found] == [later for later, _ in expected]
        for (_, message), (_, earlier) in zip(found, expected, strict=True):
            assert f"line {site.line(('moves', earlier))} " in message


_LADDER_HEAD = LADDER.split("moves:")[0] + "moves:\n"
_THRESHOLDS = st.builds(
    "{} {} {}".format,
    st.sampled_from(["spend", "orders"]),
    st.sampled_from([">=", ">=", ">=", ">", "<"]),
    st.sampled_from(["1", "2", "500", "1000", "3000"]),
)
_STEPS = [("visitor", "regular"), ("regular", "gold"), ("gold", "vip"), ("visitor", "gold")]
_LADDER_MOVES = st.lists(
    st.tuples(
        st.sampled_from([*_STEPS, *_STEPS, ("gold", "regular"), ("vip", "gold")]),
        st.one_of(_THRESHOLDS, st.builds("{} and {}".format, _THRESHOLDS, _THRESHOLDS), st.none()),
        st.sampled_from([False, False, False, True]),
    ),
    min_size=2,
    max_size=6,
)


def _naive_backwards(analysis: Analysis) -> list[tuple[str, int]]:
    """(metric, move) of every backwards threshold, asking every metric of every move and
    walking the whole graph for every metric: the definition the shortcuts must agree with."""
    import math

    from topo.analysis import guard_checks as checks

    journey = analysis.journey
    found = []
    for metric in checks._never_falling(journey):
        asked = {
            i: checks._asks(checks._condition(analysis, move, move.from_), move, metric)
            for i, move in enumerate(journey.moves)
        }
        required = checks._required_on_arrival(
            analysis.graph.start, checks._steps_up(analysis), asked
        )
        for i, move in enumerate(journey.moves):
            asks = asked[i]
            if asks is None or asks == -math.inf or move.after is not None:
                continue
            if any(required.get(s, (-math.inf, None))[0] > asks for s in move.from_):
                found.append((metric, i))
    return found


class TestBackwardsShortcuts:
    """Reading only the metrics a guard names, and walking only where a path can ask twice,
    finds the same backwards thresholds as asking everything."""

    @given(_LADDER_MOVES)
    def test_same_as_asking_everything(
        self, moves: list[tuple[tuple[str, str], str | None, bool]]
    ) -> None:
        """For any ladder of moves (timers among them): the same metrics at the same moves."""
        lines = []
        for (source, target), guard, timer in moves:
            trigger = "after: 30d" if timer else "on: purchase"
            when = "" if guard is None else f', when: "{guard}"'
            lines.append(f"  - {{from: {source}, to: {target}, {trigger}{when}}}")
        document = load_text(_LADDER_HEAD + "\n".join(lines) + "\n", "j.yaml").document
        assert document is not None
        site = build_journey(document).site(document)
        assert site is not None
        analysis = Analysis(site)
        found = [
            (d.message.split(" >= ")[0].split()[-1], d.path[1])
            for d in backwards_thresholds(analysis)
        ]
        assert found == _naive_backwards(analysis)
