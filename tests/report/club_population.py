"""A small journey and six members run through the real engine, for the report's tests.

Hand counts of this population are in test_summary.py; each member's path is written beside
its events below. Days are counted from Monday 2026-01-05 (UTC); the run ends on day 20.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import topo
from conftest import dedent
from topo.engine.member_state import MemberState
from topo.journey.model import Journey

DAY0 = datetime(2026, 1, 5, tzinfo=UTC)
END = DAY0 + timedelta(days=20)
PHONE = "PII-PHONE-0912345678"
"""The pii value m-1's profile carries; no report may show it."""

JOURNEY = dedent(
    """
    topo: 1
    journey: club
    version: 2
    title: Test club
    owners:
      marketing: {title: Marketing}
      crm: {title: CRM}
      sales: {title: Sales}
      vip-desk: {title: VIP desk}
    attributes:
      phone: {type: str, pii: true}
    events:
      verify: {}
      purchase:
        fields:
          amount: {type: float, min: 0}
      unsubscribe: {}
    metrics:
      spend: {sum: purchase.amount}
    nodes:
      visitor: {kind: start, owner: marketing}
      member: {kind: checkpoint, owner: crm, on_enter: [welcome]}
      buyer: {kind: checkpoint, owner: sales}
      vip: {kind: peak, owner: vip-desk, on_enter: [vip_gift]}
      gone: {kind: exit, owner: crm}
    moves:
      - {from: visitor, to: member, on: verify}
      - {from: member, to: buyer, on: purchase, incentives: [voucher]}
      - {from: buyer, to: vip, on: purchase, when: "spend >= 100"}
      - {from: [member, buyer], to: gone, on: unsubscribe}
    incentives:
      welcome: {kind: coupon, channel: sms, cost: 2, holdout: 50%}
      voucher: {kind: coupon, channel: email, cost: 5, once: true}
      vip_gift: {kind: gift, channel: mail, cost: 30}
      nudge: {kind: content, channel: push, cost: 1}
    reminders:
      - {at: buyer, toward: vip, incentive: nudge}
    settings:
      pressure: {max: 3, per: 7d}
    """
)

# (member, day, type, fields). At 50%, m-4, m-5 and m-6 are in welcome's control group.
EVENTS: list[tuple[str, float, str, dict[str, Any]]] = [
    # m-1: member d0 (welcome), buyer d2 (voucher, nudge), vip d5 (vip_gift withheld: pressure)
    ("m-1", 0, "verify", {}),
    ("m-1", 0, "profile", {"phone": PHONE}),
    ("m-1", 2, "purchase", {"amount": 50.0}),
    ("m-1", 5, "purchase", {"amount": 60.0}),
    # m-2: member d0 (welcome), buyer d10 (voucher, nudge), d12 nudge withheld: once-per-stay
    ("m-2", 0, "verify", {}),
    ("m-2", 10, "purchase", {"amount": 20.0}),
    ("m-2", 12, "purchase", {"amount": 10.0}),
    # m-3: joins d1 at member (welcome), leaves for gone d3
    ("m-3", 1, "verify", {}),
    ("m-3", 3, "unsubscribe", {}),
    # m-4: member d0 (welcome withheld: holdout), buyer and vip d1 in one cascade
    ("m-4", 0, "verify", {}),
    ("m-4", 1, "purchase", {"amount": 200.0}),
    # m-5: member d0 (welcome withheld: holdout), stays
    ("m-5", 0, "verify", {}),
    # m-6: joins d0 with a purchase, stays at visitor
    ("m-6", 0, "purchase", {"amount": 10.0}),
]


def load(tmp_path: Path, text: str = JOURNEY) -> Journey:
    """The journey, loaded from a file as users load theirs."""
    path = tmp_path / "journey.yaml"
    path.write_text(text, encoding="utf-8")
    return topo.load_journey(path)


def run(
    journey: Journey,
    events: list[tuple[str, float, str, dict[str, Any]]] = EVENTS,
    end: datetime = END,
) -> list[MemberState]:
    """Every member's state after the events and a tick to ``end``, sorted by member id."""
    engine = topo.Engine(journey)
    for n, (member, day, kind, fields) in enumerate(events):
        at = (DAY0 + timedelta(days=day)).isoformat()
        engine.process({"id": f"e-{n}", "member": member, "type": kind, "at": at, **fields})
    engine.tick(end)
    states = [engine.store.get(m) for m in sorted(engine.store.members())]
    assert all(s is not None for s in states)
    return [s for s in states if s is not None]
