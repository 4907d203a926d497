"""The caps on a grant, checked in the contract's order; the first that fails withholds it.

A grant of incentive I to member M at time t is withheld, with the cap's name as the reason,
when (in this order):

1. ``once``: M was granted I before;
2. ``cooldown``: M was granted I (by any move, node or reminder) at some u with t - u < cooldown;
3. ``reminder-cooldown`` / ``once-per-stay``: for a reminder, its own cooldown has not passed,
   or, without one, it was already granted during this stay at the node (``ahead_of``
   reminders have no once-per-stay rule);
4. ``holdout``: M is in the incentive's control group;
5. ``pressure``: M was granted ``max`` or more incentives at times u with t - per < u <= t.

Withheld grants count for none of these later; grants recorded in backfill count for all.
"""

from __future__ import annotations

from topo.engine.compiled import CompiledIncentive, CompiledReminder
from topo.engine.holdout import held_out
from topo.engine.member_state import MemberState

__all__ = ["CAPS", "Pressure", "noted", "record", "withheld_by"]

CAPS = ("once", "cooldown", "reminder-cooldown", "once-per-stay", "holdout", "pressure")


Pressure = tuple[int, int] | None
"""``settings.pressure`` as (max, per in microseconds), or None for no limit."""


def withheld_by(
    state: MemberState,
    incentive: CompiledIncentive,
    at: int,
    reminder: CompiledReminder | None = None,
    pressure: Pressure = None,
) -> str | None:
    """The name of the first cap that withholds the grant, or None when it may be granted."""
    ledger = state.ledger
    last = _last(ledger, incentive.slot)
    if incentive.once and last is not None:
        return "once"
    if incentive.cooldown is not None and last is not None and at - last < incentive.cooldown:
        return "cooldown"
    if reminder is not None:
        if reminder.cooldown is not None:
            fired = _last(ledger, reminder.slot)
            if fired is not None and at - fired < reminder.cooldown:
                return "reminder-cooldown"
        elif reminder.ahead_of is None and reminder.index in state.stay:
            return "once-per-stay"
    if incentive.holdout and held_out(incentive.id, state.member, incentive.holdout):
        return "holdout"
    if pressure is not None and state.grants:
        most, per = pressure
        grants, oldest = state.grants, at - per
        if grants[0] <= oldest:  # older than any window a later grant can look at
            state.grants = grants = tuple(u for u in grants if u > oldest)
        if len(grants) >= most:
            return "pressure"
    return None


def record(
    state: MemberState,
    incentive: CompiledIncentive,
    at: int,
    reminder: CompiledReminder | None = None,
    pressure: Pressure = None,
) -> None:
    """Note a grant in the member's ledger, so that later caps see it.

    The ledger and the pressure log are tuples, made anew on each grant (grants are rarer than
    events): a tuple of numbers is not tracked by Python's cyclic garbage collector, so members
    cost it less to walk."""
    state.ledger = noted(state.ledger or (), incentive.slot, at)
    if reminder is not None:
        state.ledger = noted(state.ledger, reminder.slot, at)
        if reminder.index not in state.stay:
            state.stay += (reminder.index,)
    if pressure is not None:
        state.grants = (*(state.grants or ()), at)


def _last(ledger: tuple[int | None, ...] | None, slot: int) -> int | None:
    """The time of the last grant noted at ``slot`` of a member's ledger, or None."""
    return ledger[slot] if ledger is not None and slot < len(ledger) else None


def noted(ledger: tuple[int | None, ...], slot: int, at: int) -> tuple[int | None, ...]:
    """``ledger`` with ``at`` at ``slot`` (longer if need be): a new tuple."""
    if slot >= len(ledger):
        ledger += (None,) * (slot + 1 - len(ledger))
    return (*ledger[:slot], at, *ledger[slot + 1 :])
