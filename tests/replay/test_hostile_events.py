"""The hostile-input review's catalogue of events, as data: each class of bad event is a reject
with a clear reason, never a traceback; it changes no member; and no output shows a pii value.

Every case is sent, as one line of JSON (or through the Python API where JSON cannot carry it),
to a member who already has a valid history. After the whole catalogue, the member must be
exactly as the valid history left it, every reject must have a reason in words, and no output
of the replay may hold a pii marker.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import topo
from conftest import dedent, replay_to_files
from topo.cli.commands import main
from topo.engine.member_codec import dumps
from topo.journey.number_range import RANGE_TEXT

PHONE = "PII-0912-345-678"

JOURNEY = dedent(
    """
    topo: 1
    journey: hostile
    version: 1
    owners: {crm: {title: CRM}}
    attributes:
      region: {type: str}
      phone: {type: str, pii: true}
    events:
      purchase:
        fields:
          amount: {type: float, min: 0}
          items: {type: int}
    metrics:
      spend: {sum: purchase.amount}
      units: {sum: purchase.items}
    nodes:
      visitor: {kind: start, owner: crm}
      vip: {kind: peak, owner: crm, on_enter: [gift]}
    moves:
      - {from: visitor, to: vip, on: purchase, when: "spend >= 1000"}
    incentives:
      gift: {kind: gift, channel: mail, message: "{units} items, {spend} spent"}
    """
)

BASE = {"member": "m", "at": "2026-01-02T00:00:00+00:00"}
VALID = [
    {**BASE, "id": "v-1", "type": "profile", "region": "north", "phone": PHONE,
     "at": "2026-01-01T00:00:00+00:00"},
    {**BASE, "id": "v-2", "type": "purchase", "amount": 10.0, "items": 1},
]  # fmt: skip


def purchase(n: str, **fields: Any) -> dict[str, Any]:
    return {**BASE, "id": f"h-{n}", "type": "purchase", "amount": 1.0, "items": 1, **fields}


# (name, the JSON line, what the reject's reason says)
LINES: list[tuple[str, str, str]] = [
    ("an int of 4,299 digits", json.dumps(purchase("1", items=10**4298)),
     f"a very large integer is out of range: {RANGE_TEXT}"),
    ("an int just past 64 bits", json.dumps(purchase("2", items=2**63)),
     "the number 9223372036854775808 is out of range"),
    ("a float past 64 bits", json.dumps(purchase("3", amount=1e300)),
     "the number 1e+300 is out of range"),
    ("a number JSON cannot read", json.dumps(purchase("4")).replace('"items": 1', '"items": '
     + "9" * 5000), "not an event: it holds an integer of more than 4,300 digits"),
    ("NaN", json.dumps(purchase("5", amount=math.nan)), "expected a finite number"),
    ("infinity", json.dumps(purchase("6", amount=math.inf)), "expected a finite number"),
    ("a key twice", json.dumps(purchase("7")).replace('"amount": 1.0',
     '"amount": 5000.0, "amount": 1.0'), "the key 'amount' comes twice in one object"),
    ("a time without an offset", json.dumps(purchase("8", at="2026-01-03T00:00:00")),
     "'at' has no offset: write it with the offset of its time zone, as "
     "2026-01-03T00:00:00+00:00 for UTC"),
    ("a misspelled pii key", json.dumps({**BASE, "id": "h-9", "type": "profile",
     "phnoe": PHONE}), "the journey has no such attribute; did you mean 'phone'?"),
    ("a pii value of the wrong type", json.dumps({**BASE, "id": "h-10", "type": "profile",
     "phone": 912345678}), "the value is not text (pii values are never shown)"),
    ("a pii value on an unknown type", json.dumps({**BASE, "id": "h-11", "type": "profil",
     "phone": PHONE}), "'type' is 'profil', not an event type of this journey"),
    ("a lone surrogate", json.dumps(purchase("12")).replace('"member": "m"',
     '"member": "\\udcff"'), "'member' holds a lone surrogate"),
    ("nesting past the stack", "[" * 100_000, "not an event: nested too deeply"),
    ("a late event", json.dumps(purchase("13", at="2025-12-31T00:00:00+00:00")), "late"),
    ("a duplicate", json.dumps(VALID[1]), "a duplicate"),
]  # fmt: skip


@pytest.fixture
def journey_file(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(JOURNEY, encoding="utf-8")
    return path


class TestTheCatalogue:
    """Every case through topo replay, after a valid history."""

    def test_rejected_with_reasons_and_nothing_changed(
        self, journey_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """One reject per case, with its reason; the states are those of the valid events
        alone; no traceback and no pii in any output."""
        source = tmp_path / "e.jsonl"
        lines = [json.dumps(e) for e in VALID] + [line for _, line, _ in LINES]
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        code, out = replay_to_files(journey_file, source, tmp_path)
        assert code == 0
        stdout, stderr = capsys.readouterr()
        rejects = [json.loads(line) for line in out["rejects"].read_text().splitlines()]
        assert len(rejects) == len(LINES)
        for (name, _, reason), reject in zip(LINES, rejects, strict=True):
            assert reason in reject["reason"], name
        alone = tmp_path / "alone.jsonl"
        alone.write_text("".join(json.dumps(e) + "\n" for e in VALID), encoding="utf-8")
        assert main(["replay", str(journey_file), str(alone), "--states", str(tmp_path / "a")]) == 0
        assert out["states"].read_text() == (tmp_path / "a").read_text()
        written = "".join(p.read_text() for p in out.values()) + stdout + stderr
        assert PHONE not in written and "Traceback" not in written


# (name, the event as Python gives it, what the reason says): what JSON cannot carry
OBJECTS: list[tuple[str, dict[str, Any], str]] = [
    ("a Decimal", purchase("20", amount=Decimal("1.5")),
     "expected a number, got a value of type Decimal"),
    ("a bool for an int", purchase("21", items=True), "expected an integer, got true"),
    ("a set", purchase("22", items={1}), "expected an integer, got a value of type set"),
    ("bytes for text", {**BASE, "id": "h-23", "type": "profile", "region": b"north"},
     "expected text, got a value of type bytes"),
]  # fmt: skip


_UNREADABLE = {"a number JSON cannot read", "a key twice", "nesting past the stack",
               "an int of 4,299 digits"}  # fmt: skip
"""Cases the JSON reader refuses before any event exists, and the 4,299-digit int (a test of
its own below)."""
FROM_JSON = [(n, json.loads(line), r) for n, line, r in LINES if n not in _UNREADABLE]


class TestThroughTheLibrary:
    """The same promise for Engine.process and process_many."""

    @pytest.mark.parametrize("name,event,reason", [*FROM_JSON, *OBJECTS])
    def test_process(
        self, journey_file: Path, name: str, event: dict[str, Any], reason: str
    ) -> None:
        """InvalidEvent with the reason; the member is exactly as before."""
        engine = topo.Engine(topo.load_journey(journey_file))
        engine.process_many(VALID)
        before = dumps(engine.store.get("m"))  # type: ignore[arg-type]
        with pytest.raises(topo.InvalidEvent) as caught:
            engine.process(event)
        assert reason in str(caught.value) and PHONE not in str(caught.value)
        assert dumps(engine.store.get("m")) == before  # type: ignore[arg-type]

    def test_an_int_of_4299_digits(self, journey_file: Path) -> None:
        """The review's first crash: the sum of two such ints broke every write after the
        member had changed. Now it is refused before anything changes."""
        engine = topo.Engine(topo.load_journey(journey_file))
        engine.process_many(VALID)
        with pytest.raises(topo.InvalidEvent, match="out of range"):
            engine.process(purchase("30", items=10**4298))
        assert engine.state("m")["metrics"]["units"] == 1  # type: ignore[index]
