"""Suppression comments: ``# topo: disable=CODE`` turns a code off for one file."""

from __future__ import annotations

from conftest import MINIMAL, dedent
from topo.suppressions import suppressions_in
from topo.validation import validate_text

UNUSED_METRIC = MINIMAL.replace(
    "  spend: {sum: purchase.amount}",
    "  spend: {sum: purchase.amount}\n  visits: {count: purchase}",
)


def found(text: str) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.line, d.column, d.message) for d in validate_text(text, "j.yaml")]


class TestSuppressing:
    """A suppression turns its codes off, by code or by name, anywhere in the file."""

    def test_warning_is_reported_without_suppression(self) -> None:
        """The unused metric is a warning to begin with."""
        assert [f[0] for f in found(UNUSED_METRIC)] == ["T517"]

    def test_by_code(self) -> None:
        """``# topo: disable=T517`` turns it off."""
        assert found("# topo: disable=T517\n" + UNUSED_METRIC) == []

    def test_by_name_at_the_end(self) -> None:
        """A name works as well as a code, on any line of its own."""
        assert found(UNUSED_METRIC + "# topo: disable=unused-metric\n") == []

    def test_several_codes(self) -> None:
        """Codes are separated by commas; an idle one among them is reported at its column."""
        text = "# topo: disable=T517, T506\n" + UNUSED_METRIC
        assert found(text) == [
            ("T109", 1, 23, "nothing in this file is reported as T506; remove the suppression")
        ]


class TestIdleSuppressions:
    """A suppression that does nothing is reported (T109), except where it cannot be judged."""

    def test_unknown_code_gets_a_suggestion(self) -> None:
        """A code that does not exist says so, with the nearest one."""
        [(code, line, column, message)] = found("# topo: disable=T599\n" + MINIMAL)
        assert (code, line, column) == ("T109", 1, 17)
        assert message == "'T599' is no diagnostic code or name; did you mean 'T509'?"

    def test_reading_problems_cannot_be_suppressed(self) -> None:
        """T1xx codes stay reported, and the suppression says why it does nothing."""
        text = "# topo: disable=T102\n" + MINIMAL.replace("version: 1", "version: 1\nversion: 1")
        codes = [(f[0], f[3]) for f in found(text)]
        assert ("T109", "T102 is a problem of reading the file; it cannot be suppressed") in codes
        assert "T102" in [c for c, _ in codes]

    def test_analysis_suppression_is_not_judged_when_analysis_did_not_run(self) -> None:
        """With an error in the file, a T5xx suppression is not called idle: it is needed later."""
        broken = UNUSED_METRIC.replace("to: vip,", "to: vpi,")
        assert [f[0] for f in found("# topo: disable=T517\n" + broken)] == ["T403"]
        assert found("# topo: disable=T517\n" + UNUSED_METRIC) == []


class TestWhatIsAComment:
    """Only real comment lines suppress; text inside a string value does not."""

    def test_line_inside_a_block_string_is_not_a_suppression(self) -> None:
        """A ``# topo: disable=`` line inside ``description: |`` is part of the description."""
        text = UNUSED_METRIC.replace(
            "version: 1", "version: 1\ndescription: |\n  How to silence:\n  # topo: disable=T517"
        )
        assert [f[0] for f in found(text)] == ["T517"]

    def test_suppression_after_text_is_reported(self) -> None:
        """A suppression at the end of a line of content suppresses nothing, and says so."""
        text = UNUSED_METRIC.replace(
            "  visits: {count: purchase}", "  visits: {count: purchase}  # topo: disable=T517"
        )
        assert [(f[0], f[1]) for f in found(text)] == [("T517", 12), ("T109", 12)]

    def test_text_that_looks_like_a_suppression_is_text(self) -> None:
        """A message that contains the words is not a misplaced suppression."""
        text = MINIMAL.replace(
            "  vip: {kind: peak, owner: crm}", "  vip: {kind: peak, owner: crm, on_enter: [gift]}"
        )
        text += (
            'incentives:\n  gift: {kind: gift, channel: mail, message: "see # topo: disable=X"}\n'
        )
        assert found(text) == []

    def test_reading_the_comments(self) -> None:
        """Each word of a comment is found with its column; other comments are ignored."""
        text = dedent(
            """
            # a plain comment
              #  topo: disable = T506 ,overlapping-moves
            key: 1  # topo: disable=T517
            """
        )
        words = [(s.word, s.code, s.span.line, s.span.column) for s in suppressions_in(text)]
        assert words == [("T506", "T506", 2, 22), ("overlapping-moves", "T506", 2, 28)]
