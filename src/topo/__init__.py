"""topo: a rule engine for TOPO customer journeys.

Load a journey, validate it, and move members along it from their events::

    import topo

    journey = topo.load_journey("journeys/knowledge-club.yaml")
    diagnostics = topo.validate("journeys/")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from topo._old_paths import install as _install_old_paths
from topo._old_paths import old_attribute as __getattr__  # noqa: F401 (topo.triggers, ...)
from topo._version import __version__
from topo.diagnostics import Diagnostic, Severity
from topo.engine.engine import DuplicateEvent, Engine, LateEvent
from topo.engine.events import Event
from topo.engine.stores import MemoryStore, Outbox, Store
from topo.engine.triggers import Trigger
from topo.errors import (
    InvalidEvent,
    InvalidJourney,
    InvalidPersonas,
    MigrationError,
    StoreError,
    TopoError,
    UsageError,
)
from topo.journey.codes import CODES, Code
from topo.journey.model import Journey
from topo.store.sqlite import SqliteOutbox, SqliteStore
from topo.validation import findings_of, load_journey, validate, validate_text

_install_old_paths()

if TYPE_CHECKING:  # loaded on first use (numpy): see topo._old_paths.LAZY
    from topo.calibration.calibrate import Calibration, calibrate
    from topo.simulation.simulation import Simulation, simulate

__all__ = [
    "CODES",
    "Calibration",
    "Code",
    "Diagnostic",
    "DuplicateEvent",
    "Engine",
    "Event",
    "InvalidEvent",
    "InvalidJourney",
    "InvalidPersonas",
    "Journey",
    "LateEvent",
    "MemoryStore",
    "MigrationError",
    "Outbox",
    "Severity",
    "Simulation",
    "SqliteOutbox",
    "SqliteStore",
    "Store",
    "StoreError",
    "TopoError",
    "Trigger",
    "UsageError",
    "__version__",
    "calibrate",
    "findings_of",
    "load_journey",
    "simulate",
    "validate",
    "validate_text",
]
