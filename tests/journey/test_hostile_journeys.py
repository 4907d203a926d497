"""Odd but plausible journey files never end in a traceback (found by review).

Each case was a crash or a wrong finding once; each must now give diagnostics, and only the
right ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import topo
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


BIG = "9" * 400  # beyond floats: float() of it raises OverflowError
TOO_LARGE = "9223372036854775808"  # 2**63: one more than the largest 64-bit integer


def _guard(guard: str) -> str:
    return MINIMAL.replace('"spend >= 100"', f'"{guard}"')


def _field(declaration: str) -> str:
    return MINIMAL.replace("{type: float, min: 0}", declaration)


def _added(section: str) -> str:
    return MINIMAL + section


CATALOGUE: list[tuple[str, str, list[str]]] = [
    # nesting the parser refuses before topo counts it
    ("nesting-10000-flow", MINIMAL + "title: " + "[" * 10_000 + "]" * 10_000 + "\n", ["T107"]),
    ("nesting-2000-block", MINIMAL + "title:\n" + "  - " * 2_000 + "x\n", ["T107"]),
    # numbers out of range in the format's keys
    ("version-2**63", MINIMAL.replace("version: 1", f"version: {TOO_LARGE}"), ["T204"]),
    ("version-400-digits", MINIMAL.replace("version: 1", f"version: {BIG}"), ["T204"]),
    ("topo-400-digits", MINIMAL.replace("topo: 1", f"topo: {BIG}"), ["T204"]),
    ("min-400-digits", _field(f"{{type: float, min: {BIG}}}"), ["T204"]),
    ("min-minus-400-digits", _field(f"{{type: float, min: -{BIG}}}"), ["T204"]),
    ("max-400-digits", _field(f"{{type: float, min: 0, max: {BIG}}}"), ["T204"]),
    ("max-infinite", _field("{type: float, min: 0, max: .inf}"), ["T204"]),
    ("max-2**63-float", _field("{type: float, min: 0, max: 9.3e+18}"), ["T204"]),
    ("one_of-400-digits", _field(f"{{type: int, one_of: [1, {BIG}]}}"), ["T204"]),
    ("one_of-nan", _field("{type: float, one_of: [1.5, .nan]}"), ["T204"]),
    (
        "cost-400-digits",
        _added(f"incentives:\n  gift: {{kind: gift, channel: mail, cost: {BIG}}}\n"),
        ["T204"],
    ),
    (
        "cost-2**63",
        _added(f"incentives:\n  gift: {{kind: gift, channel: mail, cost: {TOO_LARGE}}}\n"),
        ["T204"],
    ),
    ("max_cascade-2**63", _added(f"settings:\n  max_cascade: {TOO_LARGE}\n"), ["T204"]),
    (
        "pressure-max-2**63",
        _added(f"settings:\n  pressure: {{max: {TOO_LARGE}, per: 7d}}\n"),
        ["T204"],
    ),
    (
        "from_version-2**63",
        _added(f"migrations:\n  - {{from_version: {TOO_LARGE}, nodes: {{}}}}\n"),
        ["T204"],
    ),
    ("duration-5000-digits", _added("settings:\n  dedup_window: " + "9" * 5000 + "d\n"), ["T207"]),
    # numbers out of range in expressions
    ("when-400-digits", _guard(f"spend >= {BIG}"), ["T302"]),
    ("when-2**63", _guard(f"spend >= {TOO_LARGE}"), ["T302"]),
    ("when-below-the-smallest", _guard(f"spend >= -{TOO_LARGE[:-1]}9"), ["T302"]),
    ("when-1e400-is-inf", _guard("spend >= 1e400"), ["T302"]),
    ("when-in-a-list", _guard(f"spend in [1, {BIG}]"), ["T302"]),
    ("when-in-arithmetic", _guard(f"spend * {BIG} > 1"), ["T302"]),
    (
        "where-400-digits",
        MINIMAL.replace(
            "{sum: purchase.amount}", f"{{sum: purchase.amount, where: 'event.amount < {BIG}'}}"
        ),
        ["T302"],
    ),
    # calls of anything but a built-in function by name
    ("call-of-a-call", _guard("abs(spend)(1) > 0"), ["T302"]),
    ("call-of-a-number", _guard("-1() > 0"), ["T302"]),
    ("call-of-a-text", _guard("''() > 0"), ["T302"]),
    ("call-of-a-list", _guard("[abs][0](spend) > 0"), ["T302"]),
]
"""Hostile journeys (a case id, the text, the codes it must give): each was a traceback, a
hang or a journey that passed validation and then failed in the engine."""

ALLOWED: list[tuple[str, str]] = [
    ("version-largest", MINIMAL.replace("version: 1", "version: 9223372036854775807")),
    ("when-smallest", _guard("spend > -9223372036854775808")),
    ("when-largest", _guard("spend < 9223372036854775807")),
    ("when-tiny-float", _guard("spend > 1e-400")),
    ("min-smallest", _field("{type: int, min: -9223372036854775808}")),
]
"""The edges of the range, which are inside it."""


class TestCatalogue:
    """Each hostile journey gives exactly its diagnostics, through every entry point."""

    @pytest.mark.parametrize(
        "text,expected", [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE]
    )
    def test_validate_text(self, text: str, expected: list[str]) -> None:
        """``validate_text`` reports the expected codes and raises nothing."""
        assert codes(text) == expected

    @pytest.mark.parametrize(
        "text,expected", [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE]
    )
    def test_validate_and_load_journey(
        self, text: str, expected: list[str], tmp_path: Path
    ) -> None:
        """``topo.validate`` reports them too, and ``topo.load_journey`` raises InvalidJourney."""
        path = tmp_path / "j.yaml"
        path.write_text(text, encoding="utf-8")
        assert [d.code for d in topo.validate(path) if d.code != "T519"] == expected
        with pytest.raises(topo.InvalidJourney) as raised:
            topo.load_journey(path)
        assert [d.code for d in raised.value.diagnostics if d.code != "T519"] == expected

    @pytest.mark.parametrize("text", [c[1] for c in ALLOWED], ids=[c[0] for c in ALLOWED])
    def test_edges_of_the_range_pass(self, text: str) -> None:
        """The smallest and largest numbers of the range are allowed, in keys and in guards."""
        assert [c for c in codes(text) if c.startswith(("T2", "T3"))] == []

    def test_messages_say_the_range(self) -> None:
        """A number out of range is reported at itself, with the range in words, kept short."""
        [d] = validate_rules(_guard(f"spend >= {BIG}"), "j.yaml")
        line = _guard(f"spend >= {BIG}").splitlines()[d.line - 1]
        assert line[d.column - 1 : d.end_column - 1] == BIG
        assert "9,223,372,036,854,775,807" in d.message and len(d.message) < 200
