"""The docs are executed: their examples cannot rot.

- every ```yaml block parses as YAML (topo's loader, so ``on:`` stays a string);
- every ```yaml journey block is a complete journey with no diagnostics;
- every ```yaml fails TCODE block yields TCODE (and nothing else but, when the error leaves
  some analysis uncertain, the T519 notice that it did not run; a T519 block yields one error
  and the notice);
- every ```python block runs, from the repository root;
- every diagnostic code has a page ``docs/diagnostics/TCODE.md`` titled ``# TCODE name``,
  with a failing and a passing example unless the code cannot be shown in YAML.
"""

from __future__ import annotations

import pytest

import topo
from conftest import ROOT
from doc_examples import FENCE, PYTHON, YAML
from topo.journey.loader import load_text
from topo.validation import validate_text

NO_YAML_EXAMPLE = {"T100", "T103", "T106"}


class TestYamlExamples:
    """YAML examples in the docs are valid, and journeys among them are clean."""

    @pytest.mark.parametrize("where,info,body", YAML, ids=[w for w, _, _ in YAML])
    def test_example(self, where: str, info: str, body: str) -> None:
        """A block parses; a journey block has no diagnostics; a failing block shows its code."""
        words = info.split()
        if len(words) >= 2 and words[1] == "journey":
            assert [d.render() for d in validate_text(body, where)] == []
        elif len(words) >= 3 and words[1] == "fails":
            codes = [d.code for d in validate_text(body, where)]
            defects = [c for c in codes if c != "T519"]
            if words[2] == "T519":
                assert codes.count("T519") == 1 and len(defects) == 1
            else:
                assert codes.count("T519") <= 1 and defects == [words[2]]
        else:
            loaded = load_text(body, where)
            problems = [d for d in loaded.diagnostics if d.code != "T105"]  # fragments may be lists
            assert not problems, [d.render() for d in problems]


class TestPythonExamples:
    """Python examples in the docs run as written."""

    @pytest.mark.parametrize("where,info,body", PYTHON, ids=[w for w, _, _ in PYTHON])
    def test_example(
        self, where: str, info: str, body: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The block runs from the repository root without an exception."""
        monkeypatch.chdir(ROOT)
        exec(compile(body, where, "exec"), {"__name__": "__docs__"})


def _failing_examples(text: str) -> list[tuple[str, str]]:
    """(journey, console block) for each ``yaml fails`` block followed by a console block."""
    blocks = [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]
    return [
        (body, blocks[i + 1][1])
        for i, (info, body) in enumerate(blocks[:-1])
        if info.startswith("yaml fails") and blocks[i + 1][0] == "console"
    ]


class TestDiagnosticPages:
    """Every diagnostic code has its page, with examples that show it."""

    @pytest.mark.parametrize("code", topo.CODES, ids=[c.code for c in topo.CODES])
    def test_page(self, code: topo.Code) -> None:
        """The page exists, is titled with the code and name, and shows fail and pass."""
        page = ROOT / "docs" / "diagnostics" / f"{code.code}.md"
        assert page.exists(), f"{page.relative_to(ROOT)} is missing"
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# {code.code} {code.name}\n")
        if code.code not in NO_YAML_EXAMPLE:
            assert f"```yaml fails {code.code}\n" in text
            assert "```yaml journey\n" in text

    @pytest.mark.parametrize("code", topo.CODES, ids=[c.code for c in topo.CODES])
    def test_quoted_output_is_real(self, code: topo.Code) -> None:
        """The ``topo validate`` output a page quotes under its failing example is exact."""
        page = ROOT / "docs" / "diagnostics" / f"{code.code}.md"
        for body, console in _failing_examples(page.read_text(encoding="utf-8")):
            command, *output = console.strip("\n").splitlines()
            file = command.split()[-1]
            diagnostics = validate_text(body, file)
            assert output[:-1] == [d.render() for d in diagnostics]

    def test_index_lists_every_code(self) -> None:
        """The index page links every code's page."""
        index = (ROOT / "docs" / "diagnostics" / "index.md").read_text(encoding="utf-8")
        for code in topo.CODES:
            assert f"({code.code}.md)" in index, code.code
