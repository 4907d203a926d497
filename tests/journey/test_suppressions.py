"""Suppression comments: ``# topo: disable=CODE`` turns a code off for one file."""

from __future__ import annotations

from conftest import MINIMAL, dedent
from topo.journey.suppressions import suppressions_in
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

    def test_analysis_suppression_is_not_judged_when_its_check_did_not_run(self) -> None:
        """A suppression of a check that errors stopped is not called idle: it is needed later;
        one of a check that ran is judged as usual."""
        broken = UNUSED_METRIC.replace('"spend >= 100"', '"spend >= 100 and visitz > 1"')
        codes = [f[0] for f in found("# topo: disable=T517\n" + broken)]
        assert codes == ["T303", "T519"]  # T517 reads the guards, which have an error
        assert found("# topo: disable=T517\n" + UNUSED_METRIC) == []
        codes = [f[0] for f in found("# topo: disable=T514\n" + broken)]
        assert codes == ["T109", "T303", "T519"]  # T514 ran, and found nothing

    def test_the_notice_cannot_be_suppressed(self) -> None:
        """The notice that some analysis did not run (T519) stays, and the suppression says
        why it does nothing: the analysis is never skipped silently."""
        broken = MINIMAL.replace("to: vip,", "to: vpi,")
        text = "# topo: disable=T519, analysis-skipped\n" + broken
        assert [(f[0], f[3]) for f in found(text) if f[0] == "T109"] == [
            (
                "T109",
                f"{word} says which checks did not run; it cannot be suppressed (fix the errors "
                "that stop them instead)",
            )
            for word in ("T519", "analysis-skipped")
        ]
        assert "T519" in [f[0] for f in found(text)]


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
