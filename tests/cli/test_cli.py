"""The command line: output forms, exit codes, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINIMAL
from topo.cli.commands import main


@pytest.fixture
def journeys(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text(MINIMAL, encoding="utf-8")
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


class TestValidateCommand:
    """``topo validate``: text and json output, exit 0/1/2."""

    def test_clean_exits_zero(self, journeys: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """No problems: nothing on stdout, a summary on stderr, exit 0."""
        code, out, err = run(["validate", str(journeys)], capsys)
        assert (code, out) == (0, "")
        assert err == "1 file checked: no problems\n"

    def test_errors_exit_one_with_lines(
        self, journeys: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each problem is one ``path:line:col: severity CODE message`` line."""
        bad = journeys / "bad.yaml"
        bad.write_text(
            MINIMAL.replace("version: 1", "version: 0").replace("owner: crm}", "owner: crn}", 1),
            encoding="utf-8",
        )
        code, out, err = run(["validate", str(journeys)], capsys)
        assert code == 1
        assert out.splitlines() == [
            f"{bad}:3:10: error T204 version: the number 0 is too small; it must be at least 1",
            f"{bad}:13:33: error T401 unknown owner 'crn'; did you mean 'crm'?",
            f"{bad}:13:33: warning T519 one check of the analysis did not run (T514): it reads "
            "the owners, which the errors above leave uncertain; fix them, then run again to see "
            "the findings",
        ]
        assert err == "2 files checked: 2 errors, 1 warning\n"

    def test_json_shape(self, journeys: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """``--format json`` is one JSON document with counts and diagnostics."""
        (journeys / "bad.yaml").write_text(
            MINIMAL.replace("version: 1", "version: 0"), encoding="utf-8"
        )
        code, out, _ = run(["validate", "--format", "json", str(journeys)], capsys)
        document = json.loads(out)
        assert code == 1
        assert set(document) == {"version", "files", "errors", "warnings", "diagnostics"}
        assert (
            document["version"],
            document["files"],
            document["errors"],
            document["warnings"],
        ) == (1, 2, 1, 0)
        [diagnostic] = document["diagnostics"]
        assert set(diagnostic) == {
            "code",
            "name",
            "severity",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "path",
        }
        assert diagnostic["path"] == ["version"]

    def test_strict_fails_on_warnings(
        self, journeys: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A warning passes without --strict (exit 0) and fails with it (exit 1)."""
        (journeys / "good.yaml").write_text(
            MINIMAL.replace(
                "  spend: {sum: purchase.amount}",
                "  spend: {sum: purchase.amount}\n  idle: {count: purchase}",
            ),
            encoding="utf-8",
        )
        code, out, _ = run(["validate", str(journeys)], capsys)
        assert code == 0 and " warning T517 " in out
        code, out, _ = run(["validate", "--strict", str(journeys)], capsys)
        assert code == 1 and " warning T517 " in out

    def test_github_format_under_github_actions(
        self, journeys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With GITHUB_ACTIONS set, findings are annotations unless a format is asked for."""
        (journeys / "bad.yaml").write_text(
            MINIMAL.replace("version: 1", "version: 0"), encoding="utf-8"
        )
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
        _, out, _ = run(["validate", str(journeys)], capsys)
        assert out.startswith(f"::error file={journeys / 'bad.yaml'},line=3,col=10,")
        _, out, _ = run(["validate", "--format", "text", str(journeys)], capsys)
        assert out.startswith(f"{journeys / 'bad.yaml'}:3:10: error T204")

    def test_json_when_clean(self, journeys: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A clean run still prints a JSON document."""
        code, out, _ = run(["validate", "--format", "json", str(journeys)], capsys)
        assert code == 0 and json.loads(out)["diagnostics"] == []

    def test_missing_path_exits_two(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A missing file is one line on stderr and exit 2."""
        missing = tmp_path / "nope.yaml"
        code, out, err = run(["validate", str(missing)], capsys)
        assert (code, out) == (2, "")
        assert err == f"topo: error: {missing}: no such file or folder\n"

    def test_no_path_exits_two(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``topo validate`` without a path is a usage error, exit 2."""
        with pytest.raises(SystemExit) as exit_info:
            main(["validate"])
        assert exit_info.value.code == 2
        assert "PATH" in capsys.readouterr().err

    def test_empty_folder_exits_two(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A folder without journeys is one line and exit 2."""
        code, out, err = run(["validate", str(tmp_path)], capsys)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and "no journey files" in err

    def test_not_yaml_is_one_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A file that is not YAML gives one diagnostic line and exit 1."""
        path = tmp_path / "x.yaml"
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
        code, out, _ = run(["validate", str(path)], capsys)
        assert code == 1 and out.count("\n") == 1 and "T106" in out

    def test_bad_format_exits_two(self, journeys: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown ``--format`` is a usage error."""
        with pytest.raises(SystemExit) as exit_info:
            main(["validate", "--format", "xml", str(journeys)])
        assert exit_info.value.code == 2
        assert "invalid choice" in capsys.readouterr().err

    def test_no_command_exits_two(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``topo`` alone prints help and exits 2."""
        assert main([]) == 2
        assert "validate" in capsys.readouterr().err


class TestInstalledCommand:
    """The installed ``topo`` and ``python -m topo`` run the same command line."""

    def test_python_m_topo(self, journeys: Path) -> None:
        """``python -m topo validate`` works as a module."""
        result = subprocess.run(
            [sys.executable, "-m", "topo", "validate", str(journeys)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "no problems" in result.stderr

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``--version`` prints the version."""
        with pytest.raises(SystemExit):
            main(["--version"])
        assert capsys.readouterr().out.startswith("topo ")
