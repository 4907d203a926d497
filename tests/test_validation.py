"""The public entry points: topo.validate, topo.validate_text and topo.load_journey."""

from __future__ import annotations

from pathlib import Path

import pytest

import topo
from conftest import MINIMAL
from topo.validation import find_journeys


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.yml").write_text(
        MINIMAL.replace("owner: crm}", "owner: crn}", 1), encoding="utf-8"
    )
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.yaml").write_text("not: [valid", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    return tmp_path


class TestValidate:
    """``topo.validate`` reports every problem and never raises."""

    def test_folder_is_searched(self, folder: Path) -> None:
        """Journeys below a folder are found (*.yaml and *.yml, hidden folders skipped)."""
        [d, notice] = topo.validate(folder)
        assert d.code == "T401" and d.file.endswith("bad.yml")
        assert notice.code == "T519" and notice.file == d.file  # T514 did not run

    def test_several_paths(self, folder: Path) -> None:
        """A list of files and folders is checked as a whole, sorted by file."""
        diagnostics = topo.validate([str(folder / "sub" / "bad.yml"), folder / "good.yaml"])
        assert [d.code for d in diagnostics] == ["T401", "T519"]

    def test_missing_path_is_a_diagnostic(self, tmp_path: Path) -> None:
        """A path that names nothing is reported as T100, not raised."""
        [d] = topo.validate(tmp_path / "nope.yaml")
        assert (d.code, d.message) == ("T100", "no such file or folder")

    def test_empty_folder_is_a_diagnostic(self, tmp_path: Path) -> None:
        """A folder without journeys is reported as T100."""
        [d] = topo.validate(tmp_path)
        assert d.code == "T100" and "no journey files" in d.message

    def test_sorted_by_position(self, tmp_path: Path) -> None:
        """Diagnostics come in file order whatever stage found them."""
        text = MINIMAL.replace("owner: crm}", "owner: crn}", 1).replace("version: 1", "version: 0")
        (tmp_path / "j.yaml").write_text(text, encoding="utf-8")
        lines = [d.line for d in topo.validate(tmp_path / "j.yaml")]
        assert lines == sorted(lines) and len(lines) == 3  # T204, T401, the notice T519

    def test_files_beside_journeys_are_skipped(self, folder: Path) -> None:
        """A folder's scenario and personas files are not journeys: `topo validate journeys/`
        checks only the journeys beside them (each still checks when named as a file)."""
        for name in ("good.scenarios.yaml", "good.personas.yaml", "other.personas.yml"):
            (folder / name).write_text("personas: 1\n", encoding="utf-8")
        assert sorted(p.name for p in find_journeys([folder])) == ["bad.yml", "good.yaml"]
        assert find_journeys([folder / "good.personas.yaml"]) == [folder / "good.personas.yaml"]

    def test_find_journeys_raises_usage_error(self, tmp_path: Path) -> None:
        """The path search behind the command line raises UsageError for nothing found."""
        with pytest.raises(topo.UsageError, match="no such file"):
            find_journeys([tmp_path / "nope"])


class TestLoadJourney:
    """``topo.load_journey`` returns the model or raises InvalidJourney with every problem."""

    def test_returns_the_model(self, folder: Path) -> None:
        """A clean file gives a Journey."""
        journey = topo.load_journey(folder / "good.yaml")
        assert isinstance(journey, topo.Journey)
        assert journey.journey == "demo" and set(journey.nodes) == {"visitor", "vip"}

    def test_raises_with_diagnostics(self, folder: Path) -> None:
        """A file with errors raises, and the exception lists them all."""
        with pytest.raises(topo.InvalidJourney) as caught:
            topo.load_journey(folder / "sub" / "bad.yml")
        assert [d.code for d in caught.value.diagnostics] == ["T401", "T519"]
        assert "bad.yml:" in str(caught.value) and "unknown owner 'crn'" in str(caught.value)

    @pytest.mark.parametrize("name", ["nope.yaml", "."])
    def test_not_a_file(self, tmp_path: Path, name: str) -> None:
        """A missing file or a folder raises InvalidJourney (a TopoError) with T100."""
        with pytest.raises(topo.TopoError) as caught:
            topo.load_journey(tmp_path / name)
        assert isinstance(caught.value, topo.InvalidJourney)
        assert caught.value.diagnostics[0].code == "T100"

    def test_not_yaml(self, tmp_path: Path) -> None:
        """A file that is not YAML raises with its syntax diagnostic."""
        path = tmp_path / "j.yaml"
        path.write_text("a: [1\n", encoding="utf-8")
        with pytest.raises(topo.InvalidJourney) as caught:
            topo.load_journey(path)
        assert [d.code for d in caught.value.diagnostics] == ["T101"]


class TestDiagnostic:
    """Diagnostics are frozen data with a stable shape."""

    def test_frozen(self) -> None:
        """A diagnostic cannot be changed after it is made."""
        [d] = topo.validate_text(MINIMAL.replace("version: 1", "version: 0"))
        with pytest.raises(AttributeError):
            d.line = 3  # type: ignore[misc]

    def test_dict_shape(self) -> None:
        """``to_dict`` has exactly the documented keys."""
        [d] = topo.validate_text(MINIMAL.replace("version: 1", "version: 0"), "j.yaml")
        assert d.to_dict() == {
            "code": "T204",
            "name": "invalid-value",
            "severity": "error",
            "message": "version: the number 0 is too small; it must be at least 1",
            "file": "j.yaml",
            "line": 3,
            "column": 10,
            "end_line": 3,
            "end_column": 11,
            "path": ["version"],
        }


class TestPathsThatCannotBeLookedAt:
    """validate never raises, and load_journey raises InvalidJourney, whatever the path."""

    @pytest.mark.parametrize("path", ["a" * 10_000, "x/" * 3_000 + "a.yaml", ""])
    def test_a_path_too_long_or_empty(self, path: str) -> None:
        """An OSError (File name too long) came through both; an empty path read the
        current folder."""
        import topo

        [found] = topo.validate(path)
        assert found.code == "T100"
        with pytest.raises(topo.InvalidJourney) as caught:
            topo.load_journey(path)
        assert [d.code for d in caught.value.diagnostics] == ["T100"]

    def test_on_the_command_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """One line, exit 2."""
        from topo.cli.commands import main

        assert main(["validate", "a" * 10_000]) == 2
        assert capsys.readouterr().err.endswith("...: File name too long\n")
