"""The docs are executed: their examples cannot rot.

- every ```yaml block parses as YAML (topo's loader, so ``on:`` stays a string);
- every ```yaml journey block is a complete journey with no diagnostics;
- every ```yaml fails TCODE block yields TCODE (and nothing else but, when the error leaves
  some analysis uncertain, the T519 notice that it did not run; a T519 block yields one error
  and the notice);
- every ```yaml personas JOURNEY block is a personas file with no diagnostics against the shipped
  ``journeys/JOURNEY.yaml``, and every ```yaml personas JOURNEY fails TCODE block yields TCODE
  only; the ```text block after it holds its diagnostics exactly (as ``personas.yaml``);
- every ```python block runs, from the repository root;
- every diagnostic code has a page ``docs/diagnostics/TCODE.md`` titled ``# TCODE name``,
  with a failing and a passing example unless the code cannot be shown in YAML (a personas
  file's for the T6xx codes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import topo
from conftest import ROOT
from doc_examples import FENCE, PYTHON, YAML
from topo.diagnostics import Diagnostic
from topo.journey.loader import load_text
from topo.simulation.personas import check_personas_text
from topo.validation import validate_text

NO_YAML_EXAMPLE = {"T100", "T103", "T106"}


class TestYamlExamples:
    """YAML examples in the docs are valid, and journeys among them are clean."""

    @pytest.mark.parametrize("where,info,body", YAML, ids=[w for w, _, _ in YAML])
    def test_example(self, where: str, info: str, body: str) -> None:
        """A block parses; a journey block has no diagnostics; a failing block shows its code."""
        words = info.split()
        if len(words) >= 3 and words[1] == "personas":
            codes = [d.code for d in _personas_problems(body, words[2], where)]
            assert codes == ([words[4]] if words[3:4] == ["fails"] else [])
        elif len(words) >= 2 and words[1] == "journey":
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


def _personas_problems(body: str, journey: str, file: str) -> list[Diagnostic]:
    """The diagnostics of a personas example against the shipped ``journeys/JOURNEY.yaml``."""
    _, diagnostics = check_personas_text(
        body, file, topo.load_journey(ROOT / "journeys" / f"{journey}.yaml")
    )
    return diagnostics


class TestPythonExamples:
    """Python examples in the docs run as written."""

    @pytest.mark.parametrize(
        "where,info,body",
        [
            pytest.param(*block, marks=[pytest.mark.spark] if "spark" in block[1].split() else [])
            for block in PYTHON
        ],
        ids=[w for w, _, _ in PYTHON],
    )
    def test_example(
        self,
        where: str,
        info: str,
        body: str,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        request: pytest.FixtureRequest,
    ) -> None:
        """The block runs without an exception from a folder that sees the repository's
        journeys and data as the root does; what it writes (a report) stays out of the
        repository. A ``python spark`` block runs in the tests' Spark session (skipped, saying
        why, without PySpark or Java)."""
        if "spark" in info.split()[1:]:
            request.getfixturevalue("spark")
        for name in ("journeys", "data", "schema"):
            (tmp_path / name).symlink_to(ROOT / name)
        monkeypatch.chdir(tmp_path)
        exec(compile(body, where, "exec"), {"__name__": "__docs__"})


def _failing_examples(text: str) -> list[tuple[str, str]]:
    """(journey, console block) for each ``yaml fails`` block followed by a console block."""
    blocks = [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]
    return [
        (body, blocks[i + 1][1])
        for i, (info, body) in enumerate(blocks[:-1])
        if info.startswith("yaml fails") and blocks[i + 1][0] == "console"
    ]


def _failing_personas(text: str) -> list[tuple[str, str, str]]:
    """(journey, personas, text block) for each ``yaml personas J fails`` block followed by a
    text block."""
    blocks = [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]
    return [
        (info.split()[2], body, blocks[i + 1][1])
        for i, (info, body) in enumerate(blocks[:-1])
        if re.match(r"yaml personas \S+ fails", info) and blocks[i + 1][0] == "text"
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
        if code.code.startswith("T6"):
            assert re.search(rf"^```yaml personas [a-z-]+ fails {code.code}$", text, re.M)
            assert re.search(r"^```yaml personas [a-z-]+$", text, re.M)
        elif code.code not in NO_YAML_EXAMPLE:
            assert f"```yaml fails {code.code}\n" in text
            assert "```yaml journey\n" in text

    @pytest.mark.parametrize("code", topo.CODES, ids=[c.code for c in topo.CODES])
    def test_quoted_output_is_real(self, code: topo.Code) -> None:
        """The ``topo validate`` output a page quotes under its failing example is exact."""
        page = ROOT / "docs" / "diagnostics" / f"{code.code}.md"
        text = page.read_text(encoding="utf-8")
        personas_examples = _failing_personas(text)
        if code.code.startswith("T6"):  # its failing example is followed by what it prints
            assert personas_examples, f"{page.name}: no text block after the failing example"
        for journey, body, output in personas_examples:
            shown = [d.render() for d in _personas_problems(body, journey, "personas.yaml")]
            assert output.strip("\n").splitlines() == shown
        for body, console in _failing_examples(text):
            command, *output = console.strip("\n").splitlines()
            file = command.split()[-1]
            diagnostics = validate_text(body, file)
            assert output[:-1] == [d.render() for d in diagnostics]

    def test_index_lists_every_code(self) -> None:
        """The index page links every code's page."""
        index = (ROOT / "docs" / "diagnostics" / "index.md").read_text(encoding="utf-8")
        for code in topo.CODES:
            assert f"({code.code}.md)" in index, code.code
