"""Grants a cap withheld, kept as data (``Engine(withheld=True)``, ``take_withheld``): each
with its own id, the cap that withheld it, none in backfill, none from a call that failed."""

from __future__ import annotations

from pathlib import Path

import pytest

import topo
from conftest import dedent
from topo.journey.model import Journey

JOURNEY = """
    topo: 1
    journey: wj
    version: 1
    owners: {crm: {}}
    events:
      buy: {}
    nodes:
      a: {kind: start, owner: crm}
      b: {kind: checkpoint, owner: crm, on_enter: [x]}
      c: {kind: checkpoint, owner: crm, on_enter: [x]}
      d: {kind: peak, owner: crm}
    moves:
      - {from: a, to: b, on: buy, incentives: [x]}
      - {from: b, to: c, on: buy, incentives: [x]}
      - {from: c, to: d, on: buy, incentives: [x]}
    incentives:
      x: {kind: coupon, channel: email, cost: 1, holdout: 50%}
"""


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Journey:
    path: Path = tmp_path_factory.mktemp("wj") / "wj.yaml"
    path.write_text(dedent(JOURNEY), encoding="utf-8")
    return topo.load_journey(path)


def buys(members: int, times: int) -> list[dict[str, str]]:
    return [
        {"id": f"{m}-{k}", "member": f"m{m}", "type": "buy", "at": f"2026-01-0{k + 1}T10:00:00Z"}
        for k in range(times)
        for m in range(members)
    ]


def test_each_withheld_grant_has_its_own_id(journey: Journey) -> None:
    """Two grants of one event withheld (the move's and the node's) are two ids, and none is
    a granted trigger's id."""
    engine = topo.Engine(journey, withheld=True)
    sent = [t.id for event in buys(40, 3) for t in engine.process(event)]
    withheld = engine.take_withheld()
    assert len(withheld) > 40  # about half the members, five grants each
    ids = [trigger.id for trigger, _ in withheld]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & set(sent)
    assert {cap for _, cap in withheld} == {"holdout"}
    assert engine.take_withheld() == []  # taken once


def test_none_kept_without_asking_or_in_backfill(journey: Journey) -> None:
    for engine in (topo.Engine(journey), topo.Engine(journey, withheld=True, backfill=True)):
        for event in buys(20, 3):
            engine.process(event)
        assert engine.take_withheld() == []


def test_a_replay_refuses_on_withheld_it_could_never_call(journey: Journey) -> None:
    """``on_withheld`` with an engine that keeps none was silently never called."""
    from topo.errors import UsageError
    from topo.replay.runner import replay

    got: list[object] = []
    for engine in (topo.Engine(journey), topo.Engine(journey, withheld=True, backfill=True)):
        with pytest.raises(UsageError, match="withheld=True"):
            replay(engine, [], on_withheld=lambda t, cap: got.append(t))


def test_the_command_refuses_withheld_with_backfill(
    journey: Journey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--backfill --withheld`` wrote an empty file; now it says why it cannot."""
    from conftest import run, write_jsonl

    path = tmp_path / "wj.yaml"
    path.write_text(dedent(JOURNEY), encoding="utf-8")
    events = tmp_path / "e.jsonl"
    write_jsonl(events, buys(4, 1))
    out = tmp_path / "w.jsonl"
    code, err = run(
        ["replay", str(path), str(events), "--backfill", "--withheld", str(out)], capsys
    )
    assert code == 2 and "--backfill" in err and "Traceback" not in err
    assert not out.exists()
