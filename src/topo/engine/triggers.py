"""Triggers: what comes out of the evaluator, one per grant, in the contract's shape.

A :class:`Trigger` is frozen data; :meth:`Trigger.to_dict` gives the contract's JSON object
(``from`` included). Its id is deterministic: :func:`trigger_id` hashes the journey, the member,
the cause (an event id, or a timer's due time and move), the time, the incentive, the reason and
the grant's place among the grants of that cause, so replaying the same events through the same
journey gives the same ids on any machine, and a downstream sender can de-duplicate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["REASONS", "Trigger", "new_trigger", "timer_cause", "trigger_from_dict", "trigger_id"]

Reason = Literal["move", "enter", "reminder", "timer"]
REASONS: tuple[Reason, ...] = ("move", "enter", "reminder", "timer")


@dataclass(frozen=True, slots=True)
class Trigger:
    """One grant of an incentive to a member: who, what, through which channel, why, when."""

    id: str
    member: str
    incentive: str
    channel: str
    reason: Reason
    from_node: str | None
    to_node: str
    node: str
    at: datetime
    at_text: str
    cause: str
    message: str
    cost: float

    def to_dict(self) -> dict[str, Any]:
        """The trigger as the contract writes it (``at`` with the offset it came with)."""
        return {
            "id": self.id,
            "member": self.member,
            "incentive": self.incentive,
            "channel": self.channel,
            "reason": self.reason,
            "from": self.from_node,
            "to": self.to_node,
            "node": self.node,
            "at": self.at_text,
            "cause": self.cause,
            "message": self.message,
            "cost": self.cost,
        }


# A frozen dataclass sets each attribute through object.__setattr__ in __init__; the engine,
# which made every value itself, sets the slots directly (as events.py does for events).
_SLOTS = tuple(Trigger.__dict__[name].__set__ for name in Trigger.__slots__)


def new_trigger(
    ident: str,
    member: str,
    incentive: str,
    channel: str,
    reason: Reason,
    from_node: str | None,
    to_node: str,
    node: str,
    at: datetime,
    at_text: str,
    cause: str,
    message: str,
    cost: float,
) -> Trigger:
    """``Trigger(...)`` with the same arguments in the same order, faster."""
    trigger = object.__new__(Trigger)
    (set_id, set_member, set_incentive, set_channel, set_reason, set_from, set_to, set_node,
     set_at, set_at_text, set_cause, set_message, set_cost) = _SLOTS  # fmt: skip
    set_id(trigger, ident)
    set_member(trigger, member)
    set_incentive(trigger, incentive)
    set_channel(trigger, channel)
    set_reason(trigger, reason)
    set_from(trigger, from_node)
    set_to(trigger, to_node)
    set_node(trigger, node)
    set_at(trigger, at)
    set_at_text(trigger, at_text)
    set_cause(trigger, cause)
    set_message(trigger, message)
    set_cost(trigger, cost)
    return trigger


def trigger_from_dict(data: dict[str, Any]) -> Trigger:
    """The trigger :meth:`Trigger.to_dict` wrote (as a durable store's outbox keeps it)."""
    return Trigger(
        id=data["id"],
        member=data["member"],
        incentive=data["incentive"],
        channel=data["channel"],
        reason=data["reason"],
        from_node=data["from"],
        to_node=data["to"],
        node=data["node"],
        at=datetime.fromisoformat(data["at"]),
        at_text=data["at"],
        cause=data["cause"],
        message=data["message"],
        cost=data["cost"],
    )


def timer_cause(due_text: str, move: str) -> str:
    """The cause of a timer's grants: its due time (RFC 3339) and the move (id or index)."""
    return f"timer:{due_text}:{move}"


def trigger_id(
    journey: str,
    version: int,
    member: str,
    cause: str,
    at: str,
    incentive: str,
    reason: str,
    place: int,
) -> str:
    """A deterministic id: the same inputs give the same id on any machine (32 hex digits).

    ``at`` (the grant's time as written) tells apart two events that share an id, which a
    member may send again once the dedup window has passed. ``place`` is the grant's position
    among the grants one cause makes, so that a cascade granting one incentive twice still
    gives two ids.
    """
    fields = (journey, str(version), member, cause, at, incentive, reason, str(place))
    text = "\x1f".join(fields)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
