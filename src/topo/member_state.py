"""What topo remembers of one member: where they are, since when, their metrics and attributes,
recent event ids, timer clocks, and the incentive ledger that the caps read.

Times are kept twice where both are needed: as whole microseconds since 1970 (exact, for
comparisons) and as the aware datetime they came as (to write them back with their offset).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["MemberState", "Record"]

Record = dict[str, Any]
"""One step of a member's history: a move, a grant, a withheld grant, or a migration."""


@dataclass(slots=True)
class MemberState:
    """One member's state in one journey."""

    member: str
    node: str
    entered_at: datetime
    clock: int  # microseconds: the last event or timer processed for the member
    metrics: list[Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # recent event ids -> their times
    last_activity: datetime | None = None
    last_of_type: dict[str, datetime] = field(default_factory=dict)
    restarts: dict[str, datetime] = field(default_factory=dict)  # timer label -> restart time
    considered: dict[int, int] = field(default_factory=dict)  # ahead_of reminder -> clock start
    stay: set[int] = field(default_factory=set)  # reminders granted in this stay at the node
    reminded: dict[int, int] = field(default_factory=dict)  # reminder -> its last grant
    granted: dict[str, int] = field(default_factory=dict)  # incentive -> its last grant
    grants: deque[int] = field(default_factory=deque)  # recent grant times, for pressure
    history: list[Record] = field(default_factory=list)
    explanation: list[Record] = field(default_factory=list)

    def enter(self, node: str, at: datetime) -> None:
        """Move to ``node`` at ``at``: its timers start, its reminders are armed again."""
        self.node = node
        self.entered_at = at
        self.restarts.clear()
        self.considered.clear()
        self.stay.clear()
