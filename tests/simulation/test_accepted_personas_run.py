"""What the personas check accepts runs: no traceback, no rejected event; what would be
rejected, or could not run, is refused first with a sentence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conftest import dedent
from topo.errors import InvalidEvent, InvalidPersonas, UsageError
from topo.journey.model import Journey
from topo.simulation.model import Personas
from topo.simulation.personas import check_personas_text
from topo.simulation.simulation import simulate
from topo.validation import load_journey

JOURNEY = """
    topo: 1
    journey: kinds
    version: 1
    owners: {crm: {}}
    attributes:
      born: {type: date}
      phone: {type: str, pii: true}
    events:
      order:
        fields:
          items: {type: int, min: 1}
          size: {type: int, one_of: [1, 2, 3]}
          due: {type: datetime, required: false}
    nodes:
      visitor: {kind: start, owner: crm}
      buyer: {kind: peak, owner: crm}
    moves:
      - {from: visitor, to: buyer, on: order}
    incentives:
      thanks: {kind: coupon, channel: email, cost: 5}
"""

PERSONAS = """
    personas: 1
    population:
      - id: everyone
        share: 100%
        join: {spread: 10d}
        attributes:
          born: {value: 1990-05-01}
        events:
          order:
            repeat: {bgnbd: {r: 0.5, alpha: 4, a: 1, b: 3, unit: 7d}}
            fields:
              items: {lognormal: {median: 2, sigma: 0.5}}
              size: {choice: {1: 50%, 3: 50%}}
              due: {value: "2026-03-01T10:00:00+00:00"}
        respond:
          thanks: {order: {rate: 2, for: 30d}}
"""


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Journey:
    path = tmp_path_factory.mktemp("kinds") / "kinds.yaml"
    path.write_text(dedent(JOURNEY), encoding="utf-8")
    return load_journey(path)


def changed(old: str, new: str) -> str:
    text = dedent(PERSONAS)
    assert old in text, old
    return text.replace(old, new, 1)


def codes(text: str, journey: Journey) -> list[str]:
    return [d.code for d in check_personas_text(text, "p.yaml", journey)[1]]


def model(text: str, journey: Journey) -> Personas:
    personas, diagnostics = check_personas_text(text, "p.yaml", journey)
    assert personas is not None, diagnostics
    return personas


class TestRefusedBeforeTheRun:
    """Values the engine would reject are refused by the check (they ran and were all
    rejected, with exit code 0)."""

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ("born: {value: 1990-05-01}", "born: {value: 1990-W01-1}"),  # an ISO week date
            ('due: {value: "2026-03-01T10:00:00+00:00"}', 'due: {value: "2026-03-01T10:00+00:00"}'),
            ('due: {value: "2026-03-01T10:00:00+00:00"}', 'due: {value: "2026-03-01T10:00:00"}'),
        ],
    )
    def test_dates_and_timestamps_the_engine_refuses(
        self, kinds: Journey, old: str, new: str
    ) -> None:
        assert codes(changed(old, new), kinds) == ["T608"]

    def test_a_number_distribution_on_a_field_with_one_of(self, kinds: Journey) -> None:
        text = changed("size: {choice: {1: 50%, 3: 50%}}", "size: {uniform: [1, 3]}")
        assert codes(text, kinds) == ["T609"]


class TestAcceptedRuns:
    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ("", ""),
            # a far tail of an int field: infinity once drawn, clipped to a number
            (
                "items: {lognormal: {median: 2, sigma: 0.5}}",
                "items: {lognormal: {median: 5, sigma: 1000}}",
            ),
            # a BG/NBD rate that underflows to zero: such members never buy again
            ("r: 0.5,", "r: 0.001,"),
        ],
    )
    def test_runs_without_a_traceback_or_a_reject(self, kinds: Journey, old: str, new: str) -> None:
        done = simulate(kinds, model(changed(old, new), kinds), members=200, days=60)
        assert done.first.rejected == {}
        assert done.first.sent > 0

    def test_rejects_are_counted_by_reason_not_by_event(
        self, kinds: Journey, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A reason counts every event it refused (the event's id is not part of it)."""
        from topo.engine.engine import Engine

        def refuse(self: Engine, event: dict[str, Any]) -> Any:
            raise InvalidEvent("too many", event_id=event["id"], field="items")

        monkeypatch.setattr(Engine, "process", refuse)
        done = simulate(kinds, model(dedent(PERSONAS), kinds), members=20, days=30)
        assert list(done.first.rejected) == ["profile.items: too many", "order.items: too many"]
        assert done.first.rejected["order.items: too many"] > 20


class TestBadOptionsAndModels:
    def test_a_model_is_checked_against_the_journey(self, kinds: Journey) -> None:
        """A Personas model made in Python gets the file's diagnostics, not a KeyError."""
        wrong = Personas.model_validate(
            {"personas": 1, "population": [
                {"id": "a", "share": "100%", "events": {"ordr": {"once": {}}}}
            ]}
        )  # fmt: skip
        with pytest.raises(InvalidPersonas) as caught:
            simulate(kinds, wrong, members=5, days=5)
        assert "did you mean 'order'?" in str(caught.value)

    @pytest.mark.parametrize(
        "option",
        [
            {"seed": "1"},
            {"seed": -1},
            {"window": timedelta(0)},
            {"days": 3_000_000},
            {"start": "9999-12-30T00:00:00+00:00"},
        ],
    )
    def test_refused_with_a_sentence_before_running(
        self, kinds: Journey, option: dict[str, Any]
    ) -> None:
        with pytest.raises(UsageError):
            simulate(kinds, model(dedent(PERSONAS), kinds), members=5, **option)
