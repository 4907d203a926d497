"""Suggestions: the nearest known word, and the budget that bounds their cost per document."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import MINIMAL, validate_rules
from topo.journey.suggestions import did_you_mean, number_text_hint, suggestion_budget


class TestDidYouMean:
    """The nearest known word is suggested, under a budget of comparisons."""

    def test_nearest_word(self) -> None:
        """A typo gets the known word it is closest to."""
        assert did_you_mean("spnd", ["spend", "purchases"]) == "; did you mean 'spend'?"

    def test_nothing_near(self) -> None:
        """A word like none of the known ones gets no hint."""
        assert did_you_mean("zzz", ["spend"]) == ""

    def test_spent_budget_reads_nothing(self) -> None:
        """Once the budget is spent, no hint is made and the known words are not even read."""

        def never() -> Iterator[str]:
            raise AssertionError("read")
            yield ""

        with suggestion_budget(3):
            assert did_you_mean("spnd", ["spend", "purchases", "x"]) != ""
            assert did_you_mean("spnd", never()) == ""

    def test_no_budget_outside_a_check(self) -> None:
        """Outside a document's check there is no limit."""
        for _ in range(100):
            assert did_you_mean("spnd", ["spend"] * 1000) != ""


class TestBudgetPerDocument:
    """A document with thousands of misspellings reports them all; the hints stop early."""

    def test_every_problem_reported_hints_bounded(self) -> None:
        """All 3,000 unknown names are reported; hints stop once the budget is spent."""
        metrics = "".join(f"  metric_{i}: {{count: purchase}}\n" for i in range(100))
        text = MINIMAL.replace("metrics:\n", "metrics:\n" + metrics)
        guard = " and ".join(f"metrik_{i} > 0" for i in range(3000))
        text = text.replace('"spend >= 100"', f'"{guard}"')
        found = validate_rules(text, "j.yaml")
        assert [d.code for d in found] == ["T303"] * 3000
        hinted = [d for d in found if "did you mean" in d.message]
        assert 0 < len(hinted) < 1000
        assert found[0] in hinted

    def test_each_document_has_its_own_budget(self) -> None:
        """The budget is per document: a second journey gets its hints again."""
        guard = " and ".join(f"metrik_{i} > 0" for i in range(3000))
        many = MINIMAL.replace('"spend >= 100"', f'"{guard}"')
        validate_rules(many, "a.yaml")
        [d] = validate_rules(MINIMAL.replace('"spend >= 100"', '"spnd >= 100"'), "b.yaml")
        assert "did you mean 'spend'" in d.message


class TestNumbersYamlReadsAsText:
    """``1e6`` in YAML 1.1 is text: the message says how to write the number."""

    @pytest.mark.parametrize(
        "text,hint",
        [("1e6", "1.0e+6"), ("2.5E-3", "2.5e-3"), ("-3e+2", "-3.0e+2"), ("1.e5", "1.e+5")],
    )
    def test_the_hint_writes_a_number_yaml_reads(self, text: str, hint: str) -> None:
        import yaml

        assert number_text_hint(text) == f" (YAML reads {text} as text; write {hint})"
        assert isinstance(yaml.safe_load(hint), float)
        assert yaml.safe_load(hint) == float(text)

    @pytest.mark.parametrize("value", ["ten", "1,000", "1e", 1e6, 7, None, "e5"])
    def test_no_hint_for_anything_else(self, value: object) -> None:
        assert number_text_hint(value) == ""

    def test_a_journey_number_written_1e6(self) -> None:
        text = MINIMAL.replace("amount: {type: float, min: 0}", "amount: {type: float, max: 1e6}")
        [d] = [d for d in validate_rules(text) if d.code == "T203"]
        assert d.message.endswith("got the text '1e6' (YAML reads 1e6 as text; write 1.0e+6)")
