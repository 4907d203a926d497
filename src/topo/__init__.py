"""topo: a rule engine for TOPO customer journeys.

Load a journey, validate it, and move members along it from their events::

    import topo

    journey = topo.load_journey("journeys/knowledge-club.yaml")
    diagnostics = topo.validate("journeys/")
"""

from __future__ import annotations

__version__ = "0.1.0.dev0"

from topo.codes import CODES, Code
from topo.diagnostics import Diagnostic, Severity
from topo.engine import DuplicateEvent, Engine, LateEvent
from topo.errors import (
    InvalidEvent,
    InvalidJourney,
    MigrationError,
    StoreError,
    TopoError,
    UsageError,
)
from topo.events import Event
from topo.model import Journey
from topo.sqlite_store import SqliteOutbox, SqliteStore
from topo.stores import MemoryStore, Outbox, Store
from topo.triggers import Trigger
from topo.validation import findings_of, load_journey, validate, validate_text

__all__ = [
    "CODES",
    "Code",
    "Diagnostic",
    "DuplicateEvent",
    "Engine",
    "Event",
    "InvalidEvent",
    "InvalidJourney",
    "Journey",
    "LateEvent",
    "MemoryStore",
    "MigrationError",
    "Outbox",
    "Severity",
    "SqliteOutbox",
    "SqliteStore",
    "Store",
    "StoreError",
    "TopoError",
    "Trigger",
    "UsageError",
    "__version__",
    "findings_of",
    "load_journey",
    "validate",
    "validate_text",
]
