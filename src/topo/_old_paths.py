"""The module paths topo had before its stages became sub-packages, kept working for a while.

Until the stages became sub-packages, topo kept its 63 modules side by side (``topo.events``,
``topo.sqlite_store``, ...); they now live in one sub-package per stage (``topo.engine.events``,
``topo.store.sqlite``). Importing an old path gives the new module itself (the same object, so
patching and ``isinstance`` see one module) and a :class:`DeprecationWarning` naming the new
path; so does ``topo.NAME`` read as an attribute after ``import topo`` (the package's
``__getattr__``). The paths that became packages (``topo.engine``, ``topo.analysis``,
``topo.replay``, ``topo.rehearsal``, ``topo.cli``) re-export their old module's names, and
``topo.testing`` stays a public module. See docs/architecture.md.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["LAZY", "MOVED", "QUIET", "install", "old_attribute"]

MOVED: dict[str, str] = {
    "topo.analysis_context": "topo.analysis.context",
    "topo.caps": "topo.engine.caps",
    "topo.change_wording": "topo.analysis.change_wording",
    "topo.codes": "topo.journey.codes",
    "topo.collector": "topo.engine.collector",
    "topo.compiled": "topo.engine.compiled",
    "topo.conditions": "topo.analysis.conditions",
    "topo.diagrams": "topo.analysis.diagrams",
    "topo.diffing": "topo.analysis.diffing",
    "topo.document_builder": "topo.journey.document_builder",
    "topo.domains": "topo.analysis.domains",
    "topo.durations": "topo.journey.durations",
    "topo.evaluation": "topo.engine.evaluation",
    "topo.events": "topo.engine.events",
    "topo.exports": "topo.store.exports",
    "topo.expressions": "topo.journey.expressions",
    "topo.field_values": "topo.engine.field_values",
    "topo.guard_changes": "topo.analysis.guard_changes",
    "topo.guard_checks": "topo.analysis.guard_checks",
    "topo.guards": "topo.journey.guards",
    "topo.holdout": "topo.engine.holdout",
    "topo.journey_graph": "topo.analysis.journey_graph",
    "topo.journey_texts": "topo.journey.journey_texts",
    "topo.json_values": "topo.engine.json_values",
    "topo.list_items": "topo.analysis.list_items",
    "topo.loader": "topo.journey.loader",
    "topo.member_checks": "topo.store.member_checks",
    "topo.member_codec": "topo.engine.member_codec",
    "topo.member_state": "topo.engine.member_state",
    "topo.metrics": "topo.engine.metrics",
    "topo.migration_problems": "topo.journey.migration_problems",
    "topo.migrations": "topo.engine.migrations",
    "topo.model": "topo.journey.model",
    "topo.number_range": "topo.journey.number_range",
    "topo.paths": "topo.rehearsal.paths",
    "topo.pressure": "topo.analysis.pressure",
    "topo.progress": "topo.cli.progress",
    "topo.pytest_plugin": "topo.rehearsal.pytest_plugin",
    "topo.readers": "topo.replay.readers",
    "topo.reference": "topo.rehearsal.reference",
    "topo.references": "topo.journey.references",
    "topo.rendering": "topo.cli.rendering",
    "topo.scenarios": "topo.rehearsal.scenarios",
    "topo.schema": "topo.journey.schema",
    "topo.shape": "topo.journey.shape",
    "topo.site": "topo.journey.site",
    "topo.source": "topo.journey.source",
    "topo.sqlite_store": "topo.store.sqlite",
    "topo.stores": "topo.engine.stores",
    "topo.suggestions": "topo.journey.suggestions",
    "topo.suppressions": "topo.journey.suppressions",
    "topo.templates": "topo.journey.templates",
    "topo.triggers": "topo.engine.triggers",
}

QUIET = frozenset({"topo.pytest_plugin"})
"""Old paths that stay without a warning: pytest imports ``topo.pytest_plugin`` while it reads a
project's configuration (``-p``, ``pytest_plugins``, a ``filterwarnings`` entry naming
``DraftJourneyWarning``), where a warning under an ``error`` filter would stop pytest."""


class _Alias(importlib.abc.Loader):
    """Loads an old path as the module at its new path."""

    def __init__(self, new: str) -> None:
        self.new = new
        self.spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name not in QUIET:
            _warn(spec.name, self.new, 2)
        module = importlib.import_module(self.new)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system set the module's __spec__ to the old path's: give it back its own.
        module.__spec__ = self.spec


class _OldPaths(importlib.abc.MetaPathFinder):
    """Finds the old paths, and nothing else."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(new))


def _warn(old: str, new: str, stacklevel: int) -> None:
    warnings.warn(
        f"{old} has moved to {new}; import it from there "
        "(the old path will be removed in topo 1.0)",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


LAZY = {
    "simulate": "topo.simulation.simulation",
    "Simulation": "topo.simulation.simulation",
    "calibrate": "topo.calibration.calibrate",
    "Calibration": "topo.calibration.calibrate",
}
"""Public names ``import topo`` does not load until they are used (they need numpy)."""


def old_attribute(name: str) -> Any:
    """``topo.NAME`` for a public name loaded on first use (:data:`LAZY`), or for a moved
    module's old name (``topo.triggers``, with the warning); :class:`AttributeError` for
    anything else (the package's ``__getattr__``)."""
    if name in LAZY:
        return getattr(importlib.import_module(LAZY[name]), name)
    old = f"topo.{name}"
    new = MOVED.get(old)
    if new is None:
        raise AttributeError(f"module 'topo' has no attribute {name!r}")
    if old not in QUIET:
        _warn(old, new, 2)  # the line that read topo.NAME (module __getattr__ is called from it)
    return importlib.import_module(new)


def install() -> None:
    """Let the old paths be imported (once per process; ``topo`` does it on import)."""
    if not any(isinstance(finder, _OldPaths) for finder in sys.meta_path):
        sys.meta_path.append(_OldPaths())
