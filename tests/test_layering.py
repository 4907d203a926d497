"""The house's layering: each stage imports only the stages below it, and nothing imports the face.

``src/topo`` holds one sub-package per stage of the pipeline (see docs/architecture.md). The
layers below run from the top down; a module may import the layers under its own, never its
own layer's other members (they are independent), never a layer above. Above every layer is
the public face (``topo/__init__.py``, ``__main__``, ``topo.testing`` and the old module paths),
which may import anything and which no stage imports (``import topo`` or ``from topo import
X`` inside a stage would run the whole face first, and is a cycle). A new top-level module or
package must be placed in a layer here before the test passes, so the layering stays true as
the house grows. ``transitions`` stays behind one wall: only the reference machine imports it.

The scan reads every ``import`` of every module with ``ast``, lazy imports inside functions and
imports under ``TYPE_CHECKING`` included, and ``importlib.import_module("topo...")`` or
``__import__("topo...")`` with a literal name. A stage may not use an old module path (the flat
layout's ``topo.events``): it would hide where the code really comes from.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import topo
from topo._old_paths import MOVED

SRC = Path(topo.__file__).parent

LAYERS: list[set[str]] = [
    {"cli"},
    {"calibration", "spark"},
    {"simulation", "replay", "rehearsal"},
    {"store", "report", "lines"},
    {"validation"},
    {"analysis", "engine"},
    {"journey"},
    {"workers"},
    {"errors"},
    {"diagnostics", "_version"},
]
"""From the top down. Members of one layer are independent of each other."""

FACE = {"__init__", "__main__", "testing", "_old_paths"}
"""The public face: above every layer, imported by none."""

WALLED = {"transitions": {"topo.rehearsal.reference"}}
"""Third-party packages only the named modules may import."""


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.why}"


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of everything the module imports; ``from topo import x`` gives
    ``topo.x`` when ``x`` is a module of topo and ``topo`` when it is a name of the face."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and _called(node.func) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "topo":
                found += [
                    (node.lineno, f"topo.{alias.name}" if _is_unit(alias.name) else "topo")
                    for alias in node.names
                ]
            else:
                found.append((node.lineno, target))
    return found


def _called(func: ast.expr) -> str:
    """The name a call is made through: ``import_module`` for ``importlib.import_module(...)``."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_unit(name: str) -> bool:
    return name in FACE or any(name in layer for layer in LAYERS)


def _unit(dotted: str) -> str:
    """The layer unit a dotted name of topo belongs to: its first part under ``topo``."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str) -> int | None:
    for rank, layer in enumerate(reversed(LAYERS)):
        if unit in layer:
            return rank
    return None


def violations(src: Path) -> list[Violation]:
    """Every import under ``src`` (a copy of the ``topo`` package) that breaks the layering."""
    found: list[Violation] = []
    for path in sorted(src.rglob("*.py")):
        module = _module_name(path, src)
        unit = _unit(module)
        for line, imported in _imports(path, module):
            top = imported.split(".")[0]
            if top in WALLED and module not in WALLED[top]:
                found.append(Violation(module, line, imported, f"only {sorted(WALLED[top])} may"))
        if unit in FACE:
            continue
        rank = _rank(unit)
        if rank is None:
            found.append(
                Violation(module, 1, "-", f"{unit!r} is in no layer of tests/test_layering.py")
            )
            continue
        for line, imported in _imports(path, module):
            if imported.split(".")[0] != "topo":
                continue
            old = next((name for name in MOVED if f"{imported}.".startswith(f"{name}.")), None)
            if old is not None:
                found.append(Violation(module, line, imported, f"an old path: use {MOVED[old]}"))
                continue
            other = _unit(imported)
            if other == unit:
                continue
            if other in FACE:
                found.append(Violation(module, line, imported, "no stage imports the public face"))
                continue
            other_rank = _rank(other)
            if other_rank is None:
                continue  # reported as a module of its own
            if other_rank > rank:
                found.append(Violation(module, line, imported, f"{other} is above {unit}"))
            elif other_rank == rank:
                found.append(
                    Violation(module, line, imported, f"{other} and {unit} are independent")
                )
    return found


class TestTheHouse:
    def test_no_stage_imports_above_itself(self) -> None:
        """Every import of topo's own code points down, and transitions stays behind its wall."""
        assert [str(v) for v in violations(SRC)] == []

    def test_every_stage_is_a_package_in_a_layer(self) -> None:
        """``ls src/topo`` shows the stages, and each is placed in a layer."""
        packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
        assert packages == {
            *("journey", "analysis", "engine", "store", "report", "replay", "rehearsal"),
            *("simulation", "calibration", "spark", "cli"),
        }
        modules = {p.stem for p in SRC.glob("*.py")}
        assert modules - FACE <= set().union(*LAYERS)

    def test_each_stage_says_what_it_takes_and_hands_on(self) -> None:
        """Each sub-package's docstring says in three to five lines (after its title) what the
        stage takes, what it hands on, and its entry points."""
        for init in sorted(SRC.glob("*/__init__.py")):
            doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
            assert doc, init
            _, _, body = doc.partition("\n\n")
            assert 3 <= len(body.splitlines()) <= 5, init
            assert "Takes" in body and "hands on" in body and "Entry point" in body, init


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """A copy of the package to break."""
    copy = tmp_path / "topo"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _add(house: Path, where: str, line: str) -> list[str]:
    path = house / where
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    return [v.why for v in violations(house)]


class TestTheScanCatchesABreach:
    """Each forbidden import, added to a copy of the package, is found: the test above can fail."""

    @pytest.mark.parametrize(
        "where,line,why",
        [
            (
                "journey/model.py",
                "from topo.engine.engine import Engine",
                "engine is above journey",
            ),
            (
                "engine/engine.py",
                "from topo.store.sqlite import SqliteStore",
                "store is above engine",
            ),
            ("engine/stores.py", "import topo.cli.commands", "cli is above engine"),
            ("rehearsal/paths.py", "from topo.cli import main", "cli is above rehearsal"),
            (
                "engine/metrics.py",
                "from topo.analysis import CHECKS",
                "analysis and engine are independent",
            ),
            (
                "analysis/pressure.py",
                "from ..engine import caps",
                "engine and analysis are independent",
            ),
            (
                "replay/runner.py",
                "from topo.rehearsal import rehearse",
                "rehearsal and replay are independent",
            ),
            (
                "diagnostics.py",
                "from topo.journey.source import Document",
                "journey is above diagnostics",
            ),
            ("store/sqlite.py", "import topo", "no stage imports the public face"),
            ("cli/commands.py", "from topo import Engine", "no stage imports the public face"),
            (
                "cli/rendering.py",
                "from topo.testing import events",
                "no stage imports the public face",
            ),
            (
                "engine/caps.py",
                "def f():\n    from topo.validation import validate",
                "validation is above engine",
            ),
            ("engine/events.py", "import transitions", "only ['topo.rehearsal.reference'] may"),
            ("testing.py", "import transitions", "only ['topo.rehearsal.reference'] may"),
            (
                "engine/caps.py",
                "def f():\n    from topo.sqlite_store import SqliteStore",
                "an old path: use topo.store.sqlite",
            ),
            ("journey/model.py", "import topo.events", "an old path: use topo.engine.events"),
            (
                "journey/model.py",
                "import importlib\nimportlib.import_module('topo.store.sqlite')",
                "store is above journey",
            ),
            ("journey/model.py", "__import__('topo.cli.commands')", "cli is above journey"),
        ],
    )
    def test_a_forbidden_import_is_caught(
        self, house: Path, where: str, line: str, why: str
    ) -> None:
        assert why in _add(house, where, line)

    def test_a_stage_in_no_layer_is_caught(self, house: Path) -> None:
        (house / "flink").mkdir()
        (house / "flink" / "__init__.py").write_text('"""Soon."""\n', encoding="utf-8")
        assert [v.why for v in violations(house)] == [
            "'flink' is in no layer of tests/test_layering.py"
        ]

    def test_an_import_downwards_is_fine(self, house: Path) -> None:
        assert _add(house, "store/exports.py", "from topo.journey.model import Journey") == []
