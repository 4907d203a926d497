"""Source maps: locating characters inside string values, whatever the YAML style."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from topo.journey.loader import load_text
from topo.journey.source import SourceMap, Span

ALPHABET = st.sampled_from([*"abcxyz019 _.<>=!+-*/%()[],'\"é知", "\t", "\x07"])
STYLES = [None, "'", '"', "|", ">"]


def locate_each(text: str, value: str) -> list[str]:
    """The source character each value character is located at."""
    doc = load_text(text).document
    assert doc is not None and doc.data["when"] == value
    source = doc.source
    found = []
    lines = text.split("\n")
    for i, ch in enumerate(value):
        if ch.isspace():  # folded line breaks and indentation have no one place
            found.append(ch)
            continue
        span = source.inside(("when",), i, i + 1)
        found.append(lines[span.line - 1][span.column - 1])
    return found


class TestInside:
    """``SourceMap.inside`` finds each character of a string where it is written."""

    @given(st.text(ALPHABET, min_size=1, max_size=120), st.sampled_from(STYLES), st.booleans())
    def test_every_visible_character_is_found(
        self, value: str, style: str | None, unicode: bool
    ) -> None:
        """Quotes, escapes, indentation and folding do not move a character's position.

        Without ``allow_unicode`` the dumper writes é and 知 as \\xE9 and \\u77E5 escapes.
        """
        assume(value.strip() == value and "  " not in value)
        text = yaml.dump({"when": value}, default_style=style, allow_unicode=unicode, width=40)
        loaded = yaml.safe_load(text)["when"]
        assume(loaded == value)  # some styles add a final newline; keep the exact ones
        found = locate_each(text, value)
        for ch, at in zip(value, found, strict=True):
            if not ch.isspace() and ch.isascii() and ch.isprintable():
                assert at == ch
            elif not ch.isspace():  # written as itself, or as the backslash of its escape
                assert at in (ch, "\\")

    def test_folded_expression_over_lines(self) -> None:
        """A name on the second line of a folded scalar is located on that line."""
        text = "when: >-\n  spend > 100 and\n  visits < 3\n"
        doc = load_text(text).document
        assert doc is not None
        start = doc.data["when"].index("visits")
        assert doc.source.inside(("when",), start, start + 6) == Span(3, 3, 3, 9)

    def test_double_quoted_escape(self) -> None:
        """After an escaped quote, later characters are still found."""
        text = 'when: "event.name == \\"x\\" and spend > 1"\n'
        doc = load_text(text).document
        assert doc is not None
        start = doc.data["when"].index("spend")
        assert doc.source.inside(("when",), start, start + 5) == Span(1, 32, 1, 37)

    def test_after_unicode_escape(self) -> None:
        """A name after a \\u escape is located where it is written (the escape is one char)."""
        text = "when: \"member.city == 'Qu\\u00e9bec' and spnd >= 1\"\n"
        doc = load_text(text).document
        assert doc is not None
        start = doc.data["when"].index("spnd")
        span = doc.source.inside(("when",), start, start + 4)
        assert text[span.column - 1 : span.end_column - 1] == "spnd"

    def test_not_a_string_falls_back_to_the_value(self) -> None:
        """A path that holds no string gives the value's span."""
        doc = load_text("when: 3\n").document
        assert doc is not None
        assert doc.source.inside(("when",), 0, 1) == doc.source.values[("when",)]

    @pytest.mark.parametrize("index,expected", [(0, (1, 1)), (3, (1, 4)), (4, (2, 1)), (6, (3, 1))])
    def test_position_of_offsets(self, index: int, expected: tuple[int, int]) -> None:
        """Offsets become 1-based line and column."""
        assert SourceMap("abc\nx\nyz").position(index) == expected


class TestAlignedOnce:
    """A string is aligned with the file once, however many problems point inside it."""

    def test_one_alignment_for_many_problems(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A guard with 2,000 unknown names is walked once, not once per name (which made a
        50 KB file take a minute)."""
        import topo.journey.source as source
        from conftest import MINIMAL, validate_rules

        calls: list[int] = []
        original = source._align

        def counted(*args: object) -> list[int]:
            calls.append(1)
            return original(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(source, "_align", counted)
        names = ", ".join(f"u{i}" for i in range(2000))
        text = MINIMAL.replace('"spend >= 100"', f'"min(spend, {names}) > 1"')
        found = validate_rules(text, "j.yaml")
        assert len(found) == 2000 and len(calls) == 1
        line = text.splitlines()[found[-1].line - 1]
        assert line[found[-1].column - 1 : found[-1].end_column - 1] == "u1999"
