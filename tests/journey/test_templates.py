"""Message templates: only known, non-pii placeholders, nothing else substituted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topo.journey.templates import Placeholder, check_template, placeholders

KNOWN = {"node", "offering", "incentive", "spend", "region"}
PII = {"phone"}


def found(template: str) -> list[tuple[str, str]]:
    return [(p.name, template[p.start : p.end]) for p in check_template(template, KNOWN, PII)]


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
            ("{spend:.2f}", "invalid-template", "{spend:.2f}"),
            ("{spend!r}", "invalid-template", "{spend!r}"),
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
