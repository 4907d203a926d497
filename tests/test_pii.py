"""pii never leaves a member's state: every output topo writes is scanned for marker values.

Each pii attribute gets a marker value no other part of the run could write by chance. A
replay (triggers, states, rejects, summary, progress), the library's state and explanation,
and a failing scenario's report must never show one, whichever way the value came in: set by
a valid profile event, misspelled (``phnoe``), of the wrong type, on an event of another type,
or read by a guard, a metric's ``where`` or a count.
"""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

import topo
from conftest import dedent, replay_to_files
from topo.cli.commands import main

MARKERS: dict[str, Any] = {
    "phone": "PII-PHONE-0912345678",
    "email": "pii.marker@example.invalid",
    "income": 987654.321,
    "national_id": 735_091_842_615,
    "birthday": "1911-11-11",
    "last_visit": "1922-02-22T22:22:22+00:00",
}
"""A marker value for each pii attribute of the journey below."""

JOURNEY = dedent(
    """
    topo: 1
    journey: private
    version: 1
    owners: {crm: {title: CRM}}
    attributes:
      region: {type: str}
      phone: {type: str, pii: true}
      email: {type: str, pii: true}
      income: {type: float, pii: true}
      national_id: {type: int, pii: true}
      birthday: {type: date, pii: true}
      last_visit: {type: datetime, pii: true}
    events:
      purchase: {fields: {amount: {type: float, min: 0}}}
    metrics:
      spend: {sum: purchase.amount}
      phone_changes: {count: profile, where: "event.phone != null"}
      emails: {distinct: profile.email}
    nodes:
      visitor: {kind: start, owner: crm}
      known: {kind: checkpoint, owner: crm, on_enter: [hello, held]}
      vip: {kind: peak, owner: crm, on_enter: [gift]}
    moves:
      - {from: visitor, to: known, on: profile,
         when: "member.phone != null and member.income > 1000 and phone_changes >= 1"}
      - {from: known, to: vip, on: purchase,
         when: "spend >= 100 and member.birthday != null and emails >= 1"}
    incentives:
      hello: {kind: content, channel: sms, message: "Hi {region}, {phone_changes} {emails}"}
      gift: {kind: gift, channel: mail, message: "{spend} in {region} at {node}"}
      held: {kind: content, channel: sms, holdout: 100%, message: "{region} {emails}"}
    """
)

AT = "2026-01-01T00:00:00+00:00"


def events() -> list[dict[str, Any]]:
    """Every way a pii value can come in, valid or not."""
    base = {"member": "m", "type": "profile", "at": AT}
    return [
        {**base, "id": "p-1", "region": "north", **MARKERS},
        {**base, "id": "p-2", "phnoe": MARKERS["phone"]},  # misspelled: rejected
        {**base, "id": "p-3", "phone": 5, "email": MARKERS["email"]},  # wrong type for phone
        {**base, "id": "p-4", "income": MARKERS["phone"]},  # a pii value in another pii field
        {**base, "id": "p-5", "national_id": 1.5, "birthday": MARKERS["birthday"] + "x"},
        {**base, "id": "p-6", "last_visit": "1922-02-22 22:22"},  # not RFC 3339
        {**base, "id": "p-8", "last_visit": "1922-02-22T22:22:22"},  # no offset
        {**base, "id": "p-7", "type": "profil", "mail": MARKERS["email"]},  # unknown type
        {**base, "id": "e-1", "type": "purchase", "amount": 150.0,
         "email": MARKERS["email"]},  # an undeclared field
        {**base, "id": "e-2", "type": "purchase", "amount": 150.0},
        {**base, "id": "p-1", "region": "south", **MARKERS},  # a duplicate
    ]  # fmt: skip


def spellings() -> list[str]:
    """How a marker could appear in an output: as written, and as Python would write it."""
    found = []
    for value in MARKERS.values():
        found += [str(value), json.dumps(value)]
        if isinstance(value, float | int):
            found.append(f"{value:,}")
    found.append("1911, 11, 11")  # a date's repr
    found.append("1922, 2, 22")  # a datetime's repr
    found.append("1922-02-22")  # the day, however the time is written
    return found


def assert_clean(text: str, where: str) -> None:
    leaked = [s for s in spellings() if s in text]
    assert not leaked, f"{where} shows pii: {leaked}"


@pytest.fixture
def journey_file(tmp_path: Path) -> Path:
    path = tmp_path / "private.yaml"
    path.write_text(JOURNEY, encoding="utf-8")
    return path


class TestNoPiiInOutputs:
    """The run really uses the pii values (the member moves on them); no output shows one."""

    def test_replay(
        self, journey_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Triggers, states, rejects, the summary and stdout of topo replay."""
        source = tmp_path / "e.jsonl"
        source.write_text("".join(json.dumps(e) + "\n" for e in events()), encoding="utf-8")
        later = {"withheld": tmp_path / "withheld.jsonl", "summary": tmp_path / "summary.json"}
        if find_spec("plotly") is not None:
            later["report"] = tmp_path / "report.html"
        extra = [arg for name, path in later.items() for arg in (f"--{name}", str(path))]
        code, outputs = replay_to_files(journey_file, source, tmp_path, *extra)
        outputs.update(later)
        assert code == 0
        out, err = capsys.readouterr()
        assert "9 rejected" in err  # the run saw every case
        states = [json.loads(line) for line in outputs["states"].read_text().splitlines()]
        assert states[0]["node"] == "vip"  # the pii values were used
        assert outputs["withheld"].read_text()  # the held-out grant was written, as data
        for name, path in outputs.items():
            assert_clean(path.read_text(encoding="utf-8"), f"--{name}")
        assert_clean(out + err, "the summary")

    def test_simulate(
        self, journey_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Triggers, states, the summary, the report and what topo simulate prints, for members
        whose pii attributes a personas file draws (only --events, the input, carries them)."""
        personas = tmp_path / "p.yaml"
        attributes = {name: {"value": value} for name, value in MARKERS.items()}
        personas.write_text(
            json.dumps(
                {"personas": 1, "population": [{
                    "id": "all", "share": "100%", "attributes": {"region": {"value": "north"},
                                                                 **attributes},
                    "events": {"purchase": {"repeat": {"poisson": {"every": "2d"}},
                                            "fields": {"amount": {"value": 60}}}},
                }]}
            ),
            encoding="utf-8",
        )  # fmt: skip
        outputs = {name: tmp_path / f"{name}.out" for name in ("triggers", "states", "summary")}
        if find_spec("plotly") is not None:
            outputs["report"] = tmp_path / "report.out"
        argv = ["simulate", str(journey_file), "--personas", str(personas), "--members", "20",
                "--days", "30", "--events", str(tmp_path / "events.out")]  # fmt: skip
        for name, path in outputs.items():
            argv += [f"--{name}", str(path)]
        assert main(argv) == 0
        out, err = capsys.readouterr()
        states = [json.loads(line) for line in outputs["states"].read_text().splitlines()]
        assert {state["node"] for state in states} == {"vip"}  # the pii values were used
        for name, path in outputs.items():
            assert_clean(path.read_text(encoding="utf-8"), f"--{name}")
        assert_clean(out + err, "what simulate prints")
        assert MARKERS["phone"] in (tmp_path / "events.out").read_text()  # the input, by design

    def test_state_and_explanation(self, journey_file: Path) -> None:
        """engine.state() and engine.explain(), with every guard's values."""
        engine = topo.Engine(topo.load_journey(journey_file), explain=True)
        triggers = engine.process_many(events(), on_reject=lambda event, error: None)
        assert engine.state("m")["node"] == "vip"  # type: ignore[index]
        assert_clean(json.dumps(engine.state("m"), default=str), "engine.state()")
        assert_clean(json.dumps(engine.explain("m"), default=str), "engine.explain()")
        assert_clean(json.dumps([t.to_dict() for t in triggers], default=str), "the triggers")

    def test_reasons_of_rejects(self, journey_file: Path) -> None:
        """Each InvalidEvent's reason and text, as a library user would log them."""
        engine = topo.Engine(topo.load_journey(journey_file))
        reasons: list[str] = []
        engine.process_many(events(), on_reject=lambda event, error: reasons.append(str(error)))
        assert len(reasons) == 9
        assert_clean("\n".join(reasons), "the reasons")

    def test_a_failing_scenario(
        self, journey_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """topo test's failure report: node, triggers, metrics and the explanation."""
        profile = {k: v for k, v in MARKERS.items()}
        scenario = {
            "journey": journey_file.name,
            "start": AT,
            "scenarios": [
                {
                    "name": "a member who gives everything",
                    "steps": [
                        {"event": "profile", "fields": {"region": "north", **profile}},
                        {"event": "purchase", "at": "+1d", "fields": {"amount": 150.0},
                         "expect": {"node": "known", "granted": ["hello"]}},
                    ],
                }
            ],
        }  # fmt: skip
        path = tmp_path / "private.scenarios.yaml"
        path.write_text(json.dumps(scenario), encoding="utf-8")
        assert main(["test", str(path)]) == 1
        out, err = capsys.readouterr()
        assert "vip" in out + err  # the report says where the member is
        assert_clean(out + err, "topo test")


class TestAMetricCannotCopyPii:
    """The way a pii value used to reach every output: a metric that kept it."""

    @pytest.mark.parametrize("kind", ["last", "max"])
    def test_refused_at_load(self, journey_file: Path, kind: str) -> None:
        """``phone_copy: {last: profile.phone}`` does not load (T423); the message names the
        attribute, never a value."""
        text = JOURNEY.replace(
            "  spend: {sum: purchase.amount}",
            f"  spend: {{sum: purchase.amount}}\n  copy: {{{kind}: profile.income}}",
        ).replace("{spend} in", "{copy} {spend} in")
        journey_file.write_text(text, encoding="utf-8")
        with pytest.raises(topo.InvalidJourney) as caught:
            topo.load_journey(journey_file)
        assert [d.code for d in caught.value.diagnostics] == ["T423"]
