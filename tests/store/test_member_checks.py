"""A member's state from outside (topo import) holds only what an engine could have written:
each hand-edited value the review tried is refused with the field it is in, never a traceback
later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import topo
from conftest import CDNOW, event, write_jsonl
from topo.cli.commands import main
from topo.engine.compiled import compile_journey
from topo.engine.member_codec import decode, encode
from topo.store.member_checks import check_member

COMPILED = compile_journey(topo.load_journey(CDNOW))
BIG = int("9" * 4299)


def member_state() -> dict[str, Any]:
    """A real member, encoded as an export carries it."""
    engine = topo.Engine(COMPILED)
    engine.process_many([event(1, "a", 1), event(2, "a", 9, amount=5.5)])
    return json.loads(json.dumps(encode(engine.store.get("a"))))  # type: ignore[arg-type]


def edited(change: Any) -> dict[str, Any]:
    data = member_state()
    change(data)
    return data


CASES: list[tuple[str, Any, str]] = [
    ("a sum of 4,300 digits", lambda d: d["metrics"][1][0]["$tuple"].__setitem__(1, BIG),
     "metrics.spend_365d holds 9999999999999999999999999999999999999999..."),
    ("an amount past the range", lambda d: d["metrics"][1][0]["$tuple"].__setitem__(1, 1e300),
     "metrics.spend_365d holds 1e+300"),
    ("a window's event that is no pair", lambda d: d["metrics"].__setitem__(1, [[1, 2]]),
     "metrics.spend_365d holds an odd event"),
    ("a count that is text", lambda d: d["metrics"].__setitem__(0, "x"),
     "metrics.orders must be a count"),
    ("a clock past year 9999", lambda d: d.__setitem__("clock", 2**80), "clock must be a time"),
    ("a due time past year 9999", lambda d: d.__setitem__("due", -(2**70)), "due must be a time"),
    ("an odd history entry", lambda d: d["history"].append({"$tuple": ["weird"]}),
     "history holds an entry no engine writes: ('weird',)"),
    ("an attribute the journey lacks", lambda d: d.__setitem__("attributes", {"score": 10**50}),
     "attributes.score: the journey has no such attribute"),
    ("a metric too many", lambda d: d["metrics"].append(3), "metrics has 5 slots, the journey 4"),
    ("a first_at that is a number", lambda d: d["metrics"].__setitem__(3, 7),
     "metrics.first_purchase_at holds 7"),
    ("events out of order", lambda d: d["metrics"][1].reverse(),
     "metrics.spend_365d holds events out of time order"),
]  # fmt: skip


class TestCheckMember:
    """Each edit is refused naming its field; the state as written passes."""

    def test_a_real_member_passes(self) -> None:
        """What an engine wrote is what an import accepts."""
        check_member(decode(member_state()), COMPILED)
        check_member(decode(member_state()), None)

    @pytest.mark.parametrize("name,change,said", CASES, ids=[c[0] for c in CASES])
    def test_refused(self, name: str, change: Any, said: str) -> None:
        """The reason starts with the field and says what is wrong."""
        with pytest.raises(ValueError) as caught:
            check_member(decode(edited(change)), COMPILED)
        assert str(caught.value).startswith(said), str(caught.value)


class TestImport:
    """topo import refuses such a line at once, exit 2, and imports nothing."""

    def test_a_hand_edited_sum(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The review's case: a sum of 4,300 digits imported fine, then broke every replay."""
        events = write_jsonl(tmp_path / "e.jsonl", [event(1, "a", 1), event(2, "a", 9)])
        store = str(tmp_path / "s.db")
        assert main(["replay", CDNOW, str(events), "--store", f"sqlite:{store}"]) == 0
        assert main(["export", store]) == 0
        header, line = capsys.readouterr().out.splitlines()
        member = json.loads(line)
        member["state"]["metrics"][1] = [{"$tuple": [1, int("9" * 4299)]}]
        (tmp_path / "x.jsonl").write_text(f"{header}\n{json.dumps(member)}\n", encoding="utf-8")
        code = main(["import", str(tmp_path / "new.db"), str(tmp_path / "x.jsonl")])
        err = capsys.readouterr().err
        assert code == 2 and f"{tmp_path / 'x.jsonl'}:2: the member's state: " in err
        assert "metrics.spend_365d holds" in err and "Traceback" not in err
