"""The public surface: what users import keeps working, whatever the house looks like inside.

The names of ``topo.__all__`` and ``topo.testing`` are pinned here; the console script and the
pytest plugin's entry point resolve; every module path the docs name imports without a warning;
and every module path of topo 0.1 (before the stages became sub-packages) still imports, as the
moved module itself, with a DeprecationWarning that names the new path.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import subprocess
import sys
import warnings

import pytest

import topo
import topo.testing
from conftest import ROOT
from topo._old_paths import MOVED, QUIET

PUBLIC = [
    "CODES", "Calibration", "Code", "Diagnostic", "DuplicateEvent", "Engine", "Event",
    "InvalidEvent", "InvalidJourney", "InvalidPersonas", "Journey", "LateEvent", "MemoryStore",
    "MigrationError", "Outbox", "Severity", "Simulation", "SqliteOutbox", "SqliteStore", "Store",
    "StoreError", "TopoError", "Trigger", "UsageError", "__version__", "calibrate", "findings_of",
    "load_journey", "simulate", "validate", "validate_text",
]  # fmt: skip
TESTING = ["START", "JourneyMachine", "events", "from_journey", "journey_machine", "scenario_text"]

BECAME_PACKAGES = {
    "topo.engine": ["DuplicateEvent", "Engine", "LateEvent", "rejection"],
    "topo.analysis": ["CHECKS", "FORMAT_RULES", "Analysis", "Check", "analyse", "codes_not_run"],
    "topo.replay": ["ReplayReport", "replay", "state_line"],
    "topo.rehearsal": ["Coverage", "Failure", "compile_for", "rehearse", "run_scenario"],
    "topo.cli": ["main"],
}
"""The five modules of topo 0.1 whose names are packages now, and the names they exported."""

OLD_MODULES = {
    "analysis_context", "caps", "change_wording", "codes", "collector", "compiled", "conditions",
    "diagrams", "diffing", "document_builder", "domains", "durations", "evaluation", "events",
    "exports", "expressions", "field_values", "guard_changes", "guard_checks", "guards",
    "holdout", "journey_graph", "journey_texts", "json_values", "list_items", "loader",
    "member_checks", "member_codec", "member_state", "metrics", "migration_problems",
    "migrations", "model", "number_range", "paths", "pressure", "progress", "pytest_plugin",
    "readers", "reference", "references", "rendering", "schema", "scenarios", "shape", "site",
    "source", "sqlite_store", "stores", "suggestions", "suppressions", "templates", "triggers",
}  # fmt: skip
"""Every other module of topo 0.1 but ``topo.testing`` (public, and still a module)."""


class TestNames:
    def test_the_public_names_are_those_of_before(self) -> None:
        """``topo.__all__`` is the list users have, and each name is there."""
        assert topo.__all__ == PUBLIC
        for name in PUBLIC:
            assert getattr(topo, name) is not None

    def test_simulation_is_loaded_on_first_use(self) -> None:
        """``import topo`` does not import numpy; ``topo.simulate`` does, when first used."""
        done = subprocess.run(
            [sys.executable, "-c", "import sys, topo; print('numpy' in sys.modules); "
             "topo.simulate; print('numpy' in sys.modules, topo.Simulation.__name__)"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert done.stdout.split() == ["False", "True", "Simulation"]

    def test_topo_testing_keeps_its_names(self) -> None:
        assert topo.testing.__all__ == TESTING
        for name in TESTING:
            assert callable(getattr(topo.testing, name)) or name == "START"

    @pytest.mark.parametrize("package", sorted(BECAME_PACKAGES))
    def test_a_module_that_became_a_package_exports_what_it_did(self, package: str) -> None:
        module = importlib.import_module(package)
        for name in BECAME_PACKAGES[package]:
            assert hasattr(module, name), f"{package}.{name}"

    def test_every_star_import_of_a_package_is_declared(self) -> None:
        """Each sub-package's ``__all__`` names only what it has."""
        for package in ("journey", "analysis", "engine", "store", "replay", "rehearsal", "cli"):
            module = importlib.import_module(f"topo.{package}")
            assert all(hasattr(module, name) for name in module.__all__), package


class TestOldPaths:
    def test_the_table_covers_every_old_module(self) -> None:
        assert {name.removeprefix("topo.") for name in MOVED} == OLD_MODULES

    @pytest.mark.parametrize("old", sorted(set(MOVED) - QUIET))
    def test_an_old_path_is_the_moved_module_with_a_warning(
        self, old: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        new = importlib.import_module(MOVED[old])
        monkeypatch.delitem(sys.modules, old, raising=False)
        monkeypatch.delitem(vars(topo), old.removeprefix("topo."), raising=False)
        with pytest.warns(DeprecationWarning, match=f"{re.escape(old)} has moved to {MOVED[old]}"):
            module = importlib.import_module(old)
        assert module is new
        assert module.__spec__ is not None
        assert module.__spec__.name == MOVED[old]  # the module keeps its own name

    def test_old_paths_in_a_fresh_interpreter(self) -> None:
        """What a user's code of topo 0.1 did, first thing in a process."""
        code = (
            "import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
            "try:\n"
            "    from topo.events import EventReader\n"
            "except DeprecationWarning as w:\n"
            "    print(w)\n"
            "warnings.simplefilter('ignore', DeprecationWarning)\n"
            "from topo.sqlite_store import SqliteStore\n"
            "import topo.engine.events, topo.exports\n"
            "print(SqliteStore is topo.SqliteStore, topo.exports.export_lines.__module__)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        assert done.stdout.splitlines() == [
            "topo.events has moved to topo.engine.events; import it from there "
            "(the old path will be removed in topo 1.0)",
            "True topo.store.exports",
        ]

    def test_the_pytest_plugin_path_stays_quiet(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """pytest imports ``topo.pytest_plugin`` while reading a project's configuration (a
        ``filterwarnings`` entry naming ``DraftJourneyWarning`` after ``error``), where a warning
        would stop pytest: that old path is the plugin itself, without a warning."""
        monkeypatch.delitem(sys.modules, "topo.pytest_plugin", raising=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            module = importlib.import_module("topo.pytest_plugin")
        assert module is importlib.import_module("topo.rehearsal.pytest_plugin")

    def test_an_old_module_as_an_attribute_of_topo(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``import topo; topo.triggers.trigger_id(...)`` as code written for the flat layout
        did: the moved module, with the warning; an unknown name is still an AttributeError."""
        monkeypatch.delitem(vars(topo), "triggers", raising=False)  # set by the old path's import
        with pytest.warns(DeprecationWarning, match="topo.triggers has moved to") as caught:
            triggers = topo.triggers  # type: ignore[attr-defined]
        assert triggers is importlib.import_module("topo.engine.triggers")
        assert caught[0].filename == __file__  # the warning names the line that used it
        with pytest.raises(AttributeError, match="no attribute 'nothing'"):
            topo.nothing  # type: ignore[attr-defined]  # noqa: B018

    def test_an_unknown_module_is_still_unknown(self) -> None:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("topo.no_such_module")


class TestEntryPoints:
    def test_python_dash_m(self) -> None:
        for module in ("topo", "topo.cli"):
            done = subprocess.run(
                [sys.executable, "-m", module, "--version"], capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == f"topo {topo.__version__}"

    def test_the_installed_entry_points_resolve(self) -> None:
        """The console script and the pytest plugin, as the installed metadata names them."""
        found = {
            (group, e.name): e
            for group in ("console_scripts", "pytest11")
            for e in importlib.metadata.entry_points(group=group, name="topo")
        }
        if not found:
            pytest.skip("topo is not installed (only on sys.path): no entry points to resolve")
        assert found[("console_scripts", "topo")].load() is topo.cli.main
        plugin = found[("pytest11", "topo")].load()
        assert plugin.__name__ == "topo.rehearsal.pytest_plugin"


class TestDocumentedPaths:
    """Every ``topo.x.y`` the docs and the README name is a module or a name that imports
    cleanly: no stale path, no deprecated one."""

    def test_every_documented_path_imports_without_a_warning(self) -> None:
        pages = [*ROOT.glob("docs/**/*.md"), ROOT / "README.md"]
        paths = set()
        for page in pages:
            text = page.read_text(encoding="utf-8")
            paths |= {f"{m}.{n}" for m, n in re.findall(r"from (topo[\w.]*) import (\w+)", text)}
            paths |= set(re.findall(r"`(topo(?:\.\w+)+)", text))
        assert len(paths) > 20
        for path in sorted(paths):
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)
                assert _resolves(path), f"{path}, named in the docs, does not import"


def _resolves(path: str) -> bool:
    """True when ``path`` is a module, or an attribute of the longest module it starts with."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        if name in MOVED:
            return False
        try:
            target: object = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False
