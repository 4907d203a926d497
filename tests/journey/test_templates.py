"""Message templates: only known, non-pii placeholders, nothing else substituted; one format,
``.Nf``, for numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.journey.templates import Placeholder, check_template, placeholders

KNOWN = {"node", "offering", "incentive", "spend", "region"}
PII = {"phone"}
NOT_NUMBERS = {"node": "text", "offering": "text", "incentive": "text", "region": "a str attribute"}


def found(template: str) -> list[tuple[str, str]]:
    return [
        (p.name, template[p.start : p.end])
        for p in check_template(template, KNOWN, PII, NOT_NUMBERS)
    ]


class TestTemplates:
    """Each placeholder rule, with the offending placeholder pointed at."""

    @pytest.mark.parametrize(
        "template",
        [
            "",
            "plain text",
            "Hi {node}",
            "{spend} at {offering} via {incentive}",
            "{{literal}} {region}",
            "{ node }",
            "{spend:.2f}",
            "{spend:.0f} and {spend:.9f}",
            "{ spend :.1f}",
        ],
    )
    def test_allowed(self, template: str) -> None:
        """Known placeholders and doubled braces pass."""
        assert found(template) == []

    @pytest.mark.parametrize(
        "template,name,offending",
        [
            ("Call {phone}", "pii-placeholder", "{phone}"),
            ("Hi {nobody}", "unknown-placeholder", "{nobody}"),
            ("{spend!r}", "invalid-template", "{spend!r}"),
            ("{spend!r:.2f}", "invalid-template", "{spend!r:.2f}"),
            ("{member.region:.2f}", "invalid-template", "{member.region:.2f}"),
            ("{spend:.2e}", "invalid-format", ".2e"),
            ("{spend:.2}", "invalid-format", ".2"),
            ("{spend:2f}", "invalid-format", "2f"),
            ("{spend:.2F}", "invalid-format", ".2F"),
            ("{spend:.10f}", "invalid-format", ".10f"),
            ("{spend:,.2f}", "invalid-format", ",.2f"),
            ("{spend: .2f}", "invalid-format", " .2f"),
            ("{spend:.2%}", "invalid-format", ".2%"),
            ("{spend:}", "invalid-format", ":"),
            ("{spend:.2f:x}", "invalid-format", ".2f:x"),
            ("{node:.2f}", "format-not-a-number", "{node:.2f}"),
            ("{region:.0f}", "format-not-a-number", "{region:.0f}"),
            ("{phone:.2f}", "pii-placeholder", "{phone:.2f}"),
            ("{nobody:.2f}", "unknown-placeholder", "{nobody:.2f}"),
            ("{member.region}", "invalid-template", "{member.region}"),
            ("{region[0]}", "invalid-template", "{region[0]}"),
            ("{}", "invalid-template", "{}"),
            ("{0}", "invalid-template", "{0}"),
            ("a } b", "invalid-template", "}"),
            ("a { b", "invalid-template", "{"),
            ("{a {node}}", "invalid-template", "{"),
        ],
    )
    def test_rejected(self, template: str, name: str, offending: str) -> None:
        """Each bad placeholder gives its problem at the placeholder."""
        assert found(template)[0] == (name, offending)

    def test_suggestion(self) -> None:
        """A misspelt placeholder suggests the nearest known one."""
        [problem] = check_template("{nod}", KNOWN, PII)
        assert "did you mean 'node'?" in problem.message

    @pytest.mark.parametrize("spec", [".2", "2f", ".2F", "2", ".2e", ",.2f", " .2f"])
    def test_a_near_miss_suggests_the_format(self, spec: str) -> None:
        """A format with one count of decimals up to 9 suggests ``.Nf`` with it."""
        [problem] = check_template(f"{{spend:{spec}}}", KNOWN, PII)
        assert problem.message.endswith("; did you mean {spend:.2f}?")

    @pytest.mark.parametrize("spec", [".10f", "", "f", ">10"])
    def test_no_suggestion_without_a_count_of_decimals_to_keep(self, spec: str) -> None:
        [problem] = check_template(f"{{spend:{spec}}}", KNOWN, PII)
        assert "did you mean" not in problem.message
        assert problem.message.endswith("(N from 0 to 9); as in {spend:.2f}")

    def test_format_on_text_says_what_the_value_is(self) -> None:
        [problem] = check_template("{region:.2f}", KNOWN, PII, NOT_NUMBERS)
        assert problem.message == (
            "{region:.2f}: region is a str attribute, never a number, and .2f writes numbers "
            "only; write {region}"
        )

    def test_pii_value_is_not_in_the_message(self) -> None:
        """The message names the attribute, never a value."""
        [problem] = check_template("{phone}", KNOWN, PII)
        assert problem.message == "{phone} is a pii attribute; it may never appear in a message"

    @given(st.text(max_size=60))
    def test_any_text_is_read_without_exceptions(self, template: str) -> None:
        """Arbitrary text yields placeholders and problems inside the text, never an exception."""
        for item in placeholders(template):
            assert 0 <= item.start < item.end <= len(template)
            if isinstance(item, Placeholder):
                assert template[item.start] == "{" and template[item.end - 1] == "}"


@pytest.mark.parametrize(
    ("value", "spec", "written"),
    [(-1e-9, ".2f", "0.00"), (-0.0, ".0f", "0"), (-0.001, ",.2f", "0.00"), (-1.5, ".2f", "-1.50"),
     (-0.004, ".2%", "-0.40%"), (-3, "d", "-3")],
)  # fmt: skip
def test_a_sum_that_rounds_to_zero_is_written_without_a_sign(
    value: float, spec: str, written: str
) -> None:
    """A customer reads "0.00", never "-0.00" (a sum of refunds a hair below zero)."""
    from topo.journey.templates import compile_template

    assert compile_template(f"{{spend:{spec}}}")({"spend": value}) == written
