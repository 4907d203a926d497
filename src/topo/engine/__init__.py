"""Stage 2b, the engine: members move along a journey on their events, incentives are granted.

Takes a :class:`~topo.journey.model.Journey` and events; hands on triggers (with stable ids),
rejects, member states and explanations. Entry point: :class:`Engine` (``engine``), with the
store protocol and the memory store in ``stores``, events checked in ``events``, guards compiled
in ``evaluation`` and ``compiled``. Reads the journey stage only.
"""

from topo.engine.engine import DuplicateEvent, Engine, LateEvent, rejection

__all__ = ["DuplicateEvent", "Engine", "LateEvent", "rejection"]
