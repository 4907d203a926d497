"""The pre-commit hook: its definition is well formed and its entry does what the hook promises.

Running pre-commit itself would build a virtual environment from the package index for every
test run; instead the test checks the definition against pre-commit's own rules for a hook and
runs the hook's entry exactly as pre-commit runs it (the entry, then the staged file names), in
a temporary repository. docs/pre-commit.md says how to run the real thing.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import MINIMAL, ROOT

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def hook() -> dict[str, object]:
    [found] = [h for h in HOOKS if h["id"] == "topo-validate"]
    return dict(found)


def run_entry(
    hook: dict[str, object], files: list[Path], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run the hook's entry the way pre-commit does: entry words, then the file names."""
    words = shlex.split(str(hook["entry"]))
    assert words[0] == "topo"
    program = shutil.which("topo")
    command = [program] if program else [sys.executable, "-m", "topo"]
    return subprocess.run(
        [*command, *words[1:], *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


class TestHookDefinition:
    """The hook has what pre-commit requires, and selects journey files."""

    def test_required_keys(self, hook: dict[str, object]) -> None:
        """id, name, entry and language are there; language python installs this package."""
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"
        assert str(hook["entry"]).split() == ["topo", "validate"]

    @pytest.mark.parametrize(
        "path,selected",
        [
            ("journeys/club.yaml", True),
            ("journeys/sub/club.yml", True),
            ("crm/journeys/club.yaml", True),
            ("journeys/README.md", False),
            ("config/app.yaml", False),
            ("myjourneys/club.yaml", False),
            ("journeys/club.personas.yaml", False),
            ("journeys/scenarios/club.scenarios.yaml", False),
        ],
    )
    def test_files_pattern(self, hook: dict[str, object], path: str, selected: bool) -> None:
        """The default pattern takes YAML files below a journeys/ folder, but not the scenario
        and personas files beside them, and nothing else."""
        excluded = re.search(str(hook["exclude"]), path) is not None
        assert (bool(re.search(str(hook["files"]), path)) and not excluded) is selected

    def test_console_script_is_declared(self) -> None:
        """The entry's program is the console script the package installs."""
        assert 'topo = "topo.cli:main"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


class TestHookRun:
    """The entry passes clean journeys and fails, with positions, on broken ones."""

    def test_clean_files_pass(self, hook: dict[str, object], tmp_path: Path) -> None:
        """Staged clean journeys: exit 0."""
        (tmp_path / "journeys").mkdir()
        good = tmp_path / "journeys" / "good.yaml"
        good.write_text(MINIMAL, encoding="utf-8")
        result = run_entry(hook, [good.relative_to(tmp_path)], tmp_path)
        assert result.returncode == 0, result.stderr

    def test_broken_file_fails_with_its_position(
        self, hook: dict[str, object], tmp_path: Path
    ) -> None:
        """A staged broken journey: exit 1 and a path:line:col line for the commit author."""
        (tmp_path / "journeys").mkdir()
        bad = tmp_path / "journeys" / "bad.yaml"
        bad.write_text(MINIMAL.replace("owner: crm}", "owner: crn}", 1), encoding="utf-8")
        result = run_entry(hook, [bad.relative_to(tmp_path)], tmp_path)
        assert result.returncode == 1
        assert result.stdout.startswith("journeys/bad.yaml:13:33: error T401 ")
