"""Odd but plausible journey files never end in a traceback (found by review).

Each case was a crash or a wrong finding once; each must now give diagnostics, and only the
right ones.
"""

from __future__ import annotations

import pytest

from conftest import MINIMAL, validate_rules


def codes(text: str) -> list[str]:
    return [d.code for d in validate_rules(text, "j.yaml")]


WITH_BAD_OWNER = MINIMAL.replace(
    "visitor: {kind: start, owner: crm}", "visitor: {kind: start, owner: zz}"
)


class TestKeysThatAreNotText:
    """Keys that are null, floats or numbers are reported where they stand."""

    @pytest.mark.parametrize("line", ["~: x", "1.5: x", ".inf: x", "1: x", "true: x"])
    def test_top_level(self, line: str) -> None:
        """A top-level key that is not text: one T203, and the other problems still reported."""
        found = validate_rules(WITH_BAD_OWNER + line + "\n", "j.yaml")
        assert [d.code for d in found] == ["T401", "T203"]
        assert found[1].line == WITH_BAD_OWNER.count("\n") + 1

    @pytest.mark.parametrize("key", ["~", "2.5"])
    def test_inside_a_section(self, key: str) -> None:
        """A node id that is not text is reported at that key, not at the section."""
        text = MINIMAL.replace(
            "  vip: {kind: peak", f"  {key}: {{kind: checkpoint, owner: crm}}\n  vip: {{kind: peak"
        )
        [d] = validate_rules(text, "j.yaml")
        assert d.code == "T203" and text.splitlines()[d.line - 1].startswith(f"  {key}:")


class TestScalars:
    """Values YAML cannot construct are reported, not raised."""

    @pytest.mark.parametrize("value", ["!!int abc", "!!float abc", "!!bool maybe"])
    def test_tag_that_does_not_fit(self, value: str) -> None:
        """An explicit tag with a value it cannot read is T108, and the value is kept as text."""
        assert codes(MINIMAL.replace("journey: demo", "journey: demo\ntitle: " + value)) == ["T108"]

    def test_number_too_long(self) -> None:
        """A 5,000-digit number is reported, and its message stays short."""
        found = validate_rules(MINIMAL.replace("version: 1", "version: " + "9" * 5000), "j.yaml")
        assert [d.code for d in found] == ["T108", "T203"]
        assert all(len(d.message) < 200 for d in found)

    @pytest.mark.parametrize("bound", [".nan", "-.inf"])
    def test_field_bounds_are_finite(self, bound: str) -> None:
        """A field's min may not be NaN or infinite."""
        assert codes(
            MINIMAL.replace("{type: float, min: 0}", f"{{type: float, min: {bound}}}")
        ) == ["T204"]

    def test_id_with_a_trailing_newline(self) -> None:
        """An id that ends in a line break is not a valid id."""
        assert codes(MINIMAL.replace("journey: demo", 'journey: "demo\\n"')) == ["T205"]


class TestDeepExpressions:
    """Expressions nested beyond reason are refused, not a RecursionError."""

    @pytest.mark.parametrize(
        "guard",
        ["not " * 800 + "spend > 1", "-" * 800 + "spend > 1", " + ".join(["spend"] * 800) + " > 1"],
    )
    def test_refused(self, guard: str) -> None:
        """One T301 saying the expression nests too deeply."""
        found = validate_rules(MINIMAL.replace('"spend >= 100"', f'"{guard}"'), "j.yaml")
        assert [d.code for d in found] == ["T301"] and "nests more than" in found[0].message


class TestGuardLogicEdges:
    """The guard logic decides large numbers and constant comparisons right."""

    @pytest.mark.parametrize("guard", ["spend > 10000000000000000", "spend >= 1e300"])
    def test_large_thresholds_can_hold(self, guard: str) -> None:
        """A huge threshold is unusual, not impossible."""
        assert "T505" not in codes(MINIMAL.replace('"spend >= 100"', f'"{guard}"'))

    def test_constant_in_list(self) -> None:
        """``1 in [1, 2] or ...`` can hold; ``1 in [3] and ...`` cannot."""
        assert "T505" not in codes(MINIMAL.replace('"spend >= 100"', '"1 in [1, 2] or spend > 1"'))
        assert "T505" in codes(MINIMAL.replace('"spend >= 100"', '"1 in [3] and spend > 1"'))


class TestTextEdges:
    """Line endings and look-alike letters do not mislead positions or names."""

    def test_old_mac_line_endings(self) -> None:
        """A file with \\r line endings gets the right line and column."""
        text = MINIMAL.replace('"spend >= 100"', '"spnd >= 100"').replace("\n", "\r")
        [d] = validate_rules(text, "j.yaml")
        assert (d.code, d.line) == ("T303", 16)
        assert text.split("\r")[d.line - 1][d.column - 1 : d.end_column - 1] == "spnd"

    @pytest.mark.parametrize("name", ["\uff53\uff50\uff45\uff4e\uff44", "\ufb01ne"])
    def test_look_alike_letters_are_refused(self, name: str) -> None:
        """A name in fullwidth letters or with a ligature is refused, not read as another name."""
        [d] = validate_rules(MINIMAL.replace('"spend >= 100"', f'"{name} >= 100"'), "j.yaml")
        assert d.code == "T301" and "plain letters" in d.message

    def test_duration_hint_ignores_strings(self) -> None:
        """'5d' inside quotes is text; the real problem (an unclosed parenthesis) is named."""
        [d] = validate_rules(MINIMAL.replace('"spend >= 100"', "\"node == '5d' and (\""), "j.yaml")
        assert d.code == "T301" and "never closed" in d.message
