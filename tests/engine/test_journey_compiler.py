"""The journey compiler: the same outputs as the interpreter and the reference machine, and
journey text that stays data.

The differential tests run generated journeys and streams (``engine_streams``: every metric
kind, ``where`` filters, guards over attributes, fields, times and functions, timers, caps,
holdouts, messages, profile events, invalid, duplicate and late events, ticks) through the
compiled engine and the interpreter, one event at a time and in bulk, with and without
explanations, in backfill and keeping withheld grants, and require identical triggers (ids
included), rejects (with their reasons), states, explanations and withheld grants; and the
reference machine (``transitions``) agrees on triggers, rejects and nodes. The security tests
run the hostile-expression catalogue through the compiler's emitter.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topo
from engine_streams import MEMBERS, engine_journeys, engine_streams
from random_journeys import outcomes
from topo.engine.emitter import Emitter, UnsafeSource, check
from topo.engine.engine import Engine, interpreted_by_default
from topo.rehearsal.reference import ReferenceMachine

EXAMPLES = int(os.environ.get("TOPO_COMPILER_EXAMPLES", "150"))
"""Examples per differential test; the slow run (``-m slow``) sets thousands."""


def run(engine: Any, items: list[Any], bulk: bool) -> list[Any]:
    """Everything a runner gives for ``items``: triggers as dicts, rejects in full, ticks."""
    found: list[Any] = []
    rejected: list[Any] = []

    def reject(event: Any, error: topo.InvalidEvent) -> None:
        rejected.append((type(error).__name__, str(error), error.event_id, error.field))

    if bulk and isinstance(engine, Engine):
        batch: list[Any] = []
        for item in [*items, None]:
            if isinstance(item, datetime) or item is None:
                found += [t.to_dict() for t in engine.process_many(batch, on_reject=reject)]
                found.append(rejected[:])
                rejected.clear()
                batch = []
                if item is not None:
                    found += [t.to_dict() for t in engine.tick(item)]
            else:
                batch.append(item)
        return found
    for item in items:
        if isinstance(item, datetime):
            found += [t.to_dict() for t in engine.tick(item)]
            continue
        try:
            found += [t.to_dict() for t in engine.process(item)]
        except topo.InvalidEvent as error:
            found.append((type(error).__name__, str(error), error.event_id, error.field))
    return found


def kept(engine: Engine) -> dict[str, Any]:
    """What the engine remembers of each member: state, explanation, raw history, timers."""
    members = {}
    for member in sorted(engine.store.members()):
        state = engine.store.get(member)
        assert state is not None
        members[member] = (
            engine.state(member),
            engine.explain(member) if engine.keep_explanations else None,
            state.history,
            state.due,
            state.ledger,
            state.stay,
            state.grants,
            state.seen,
        )
    return members


def withheld(engine: Engine) -> list[Any]:
    return [(t.to_dict(), cap) for t, cap in engine.take_withheld()]


SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False
)


class TestSameOutputsAsTheInterpreter:
    @SETTINGS
    @given(
        engine_journeys(),
        engine_streams(),
        st.booleans(),
        st.sampled_from([True, False, 3]),
        st.booleans(),
        st.booleans(),
    )
    def test_everything_equal(
        self,
        journey: topo.Journey,
        items: list[Any],
        bulk: bool,
        explain: bool | int,
        backfill: bool,
        keep_withheld: bool,
    ) -> None:
        """Triggers, rejects with reasons, states, explanations, histories, timers, ledgers
        and withheld grants: all the same, whichever engine runs the journey."""
        options = {"explain": explain, "backfill": backfill, "withheld": keep_withheld}
        compiled = Engine(journey, interpret=False, **options)
        interpreted = Engine(journey, interpret=True, **options)
        assert not compiled.interpreted and interpreted.interpreted
        assert run(compiled, items, bulk) == run(interpreted, items, bulk)
        assert kept(compiled) == kept(interpreted)
        assert withheld(compiled) == withheld(interpreted)

    @SETTINGS
    @given(engine_journeys(), engine_streams())
    def test_the_reference_machine_agrees(self, journey: topo.Journey, items: list[Any]) -> None:
        """The third implementation, on what it models: triggers, rejects, nodes."""
        engine, reference = Engine(journey, interpret=False), ReferenceMachine(journey)
        plain = [i for i in items if isinstance(i, datetime | dict)]
        assert outcomes(engine, plain) == outcomes(reference, plain)
        for member in MEMBERS:
            state = engine.state(member)
            assert (None if state is None else state["node"]) == reference.node(member)


@pytest.mark.slow
class TestSameOutputsAtLength:
    """The differential test with thousands of examples (``pytest -m slow``)."""

    @settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
    @given(engine_journeys(), engine_streams(), st.booleans(), st.sampled_from([True, False]))
    def test_everything_equal(
        self, journey: topo.Journey, items: list[Any], bulk: bool, explain: bool
    ) -> None:
        compiled = Engine(journey, interpret=False, explain=explain, withheld=True)
        interpreted = Engine(journey, interpret=True, explain=explain, withheld=True)
        assert run(compiled, items, bulk) == run(interpreted, items, bulk)
        assert kept(compiled) == kept(interpreted)
        assert withheld(compiled) == withheld(interpreted)


class TestJourneysTooLargeToCompile:
    def test_run_interpreted_with_the_same_outputs(self) -> None:
        """A node with 1,200 moves on one event type nests the generated elif chain beyond
        CPython's compiler (a RecursionError when the engine was made): such a journey runs
        interpreted. Found by an independent review."""
        import yaml

        from topo.journey.loader import load_text
        from topo.validation import check_document

        n = 1_200
        document = {
            "topo": 1, "journey": "fan", "version": 1, "owners": {"crm": {}},
            "events": {"buy": {}},
            "metrics": {"orders": {"count": "buy"}},
            "nodes": {"s": {"kind": "start", "owner": "crm"},
                      **{f"t{i}": {"kind": "peak", "owner": "crm"} for i in range(n)}},
            "moves": [{"from": "s", "to": f"t{i}", "on": "buy", "when": f"orders >= {n - i + 1}"}
                      for i in range(n)],
        }  # fmt: skip
        loaded = load_text(yaml.safe_dump(document))
        assert loaded.document is not None
        journey, problems = check_document(loaded.document, analysis=False)
        assert journey is not None, [p.render() for p in problems]
        engine = Engine(journey, interpret=False)
        assert engine.interpreted
        events = [{"id": str(k), "member": "m", "type": "buy", "at": f"2026-01-0{k}T00:00:00Z"}
                  for k in range(1, 4)]  # fmt: skip
        assert run(engine, events, True) == run(Engine(journey, interpret=True), events, True)
        assert engine.state("m")["node"] == f"t{n - 1}"  # type: ignore[index]


class TestChoosingTheEngine:
    def test_compiled_by_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("TOPO_ENGINE", raising=False)
        journey = topo.load_journey("journeys/cdnow.yaml")
        assert not interpreted_by_default()
        assert not Engine(journey).interpreted
        assert Engine(journey, interpret=True).interpreted

    @pytest.mark.parametrize("value", ["interp", "yes", "1"])
    def test_a_misspelt_switch_is_a_sentence(
        self, monkeypatch: pytest.MonkeyPatch, value: str
    ) -> None:
        """A value the switch does not know used to leave the engine compiled, silently."""
        monkeypatch.setenv("TOPO_ENGINE", value)
        with pytest.raises(topo.UsageError, match="set it to interpreter"):
            Engine(topo.load_journey("journeys/cdnow.yaml"))
        monkeypatch.setenv("TOPO_ENGINE", " Compiled ")
        assert not Engine(topo.load_journey("journeys/cdnow.yaml")).interpreted

    def test_explain_takes_a_number_of_steps(self) -> None:
        journey = topo.load_journey("journeys/cdnow.yaml")
        with pytest.raises(topo.UsageError, match="0 or more"):
            Engine(journey, explain=-1)
        with pytest.raises(TypeError, match="a number of steps"):
            Engine(journey, explain="yes")  # type: ignore[arg-type]
        engine = Engine(journey, explain=2)
        for day in range(1, 6):
            engine.process({"id": str(day), "member": "m", "type": "purchase", "amount": 5.0,
                            "cds": 1, "at": f"1997-01-0{day}T00:00:00+00:00"})  # fmt: skip
        assert [step["event"] for step in engine.explain("m")] == ["4", "5"]

    def test_the_environment_chooses_the_interpreter(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TOPO_ENGINE", "interpreter")
        journey = topo.load_journey("journeys/cdnow.yaml")
        assert Engine(journey).interpreted
        assert not Engine(journey, interpret=False).interpreted


# -- the emitter's rules ------------------------------------------------------------------------


class TestLiterals:
    @pytest.mark.parametrize(
        "value",
        ["x", "x'); __import__('os').system('touch PWNED') #", "\\", "\n", 0, -3, True, None, 1.5],
    )
    def test_written_as_what_they_are(self, value: object) -> None:
        written = Emitter().literal(value)
        namespace: dict[str, Any] = {}
        exec(compile(f"value = {written}", "<test>", "exec"), {"__builtins__": {}}, namespace)
        assert namespace["value"] == value and type(namespace["value"]) is type(value)

    @pytest.mark.parametrize(
        "value", [float("inf"), float("-inf"), float("nan"), 10**400, {1}, [1], b"x", 1j]
    )
    def test_anything_else_refused(self, value: object) -> None:
        with pytest.raises(UnsafeSource):
            Emitter().literal(value)

    def test_a_str_subclass_cannot_choose_its_text(self) -> None:
        class Sly(str):
            def __repr__(self) -> str:
                return "__import__('os')"

        with pytest.raises(UnsafeSource):
            Emitter().literal(Sly("x"))

    def test_refused_literals_are_handed_over_as_values(self) -> None:
        emitter = Emitter()
        name = emitter.constant(float("inf"))
        assert emitter.namespace[name] == float("inf")
        assert name.startswith("_") and name[1:].isdigit()


class TestTheSourceCheck:
    @pytest.mark.parametrize(
        "source",
        [
            "import os",
            "from os import system",
            "def _1():\n    global x",
            "x = __import__",
            "_1 = raw.__class__",
            "_1 = open",
            "_1 = eval",
            "_1 = lambda: 0",
            "class _1: pass",
            "_1 = os",
            "def system(raw):\n    return raw",
        ],
    )
    def test_refused(self, source: str) -> None:
        with pytest.raises(UnsafeSource):
            check(source, set())

    def test_the_emitter_s_own_names_pass(self) -> None:
        check("def _1(raw, journal):\n    state = _2(raw)\n    return len(state.seen)", {"_2"})

    def test_runs_with_only_its_builtins(self) -> None:
        emitter = Emitter()
        functions = emitter.compile("def _1(raw, journal):\n    return type(raw)", "test")
        run = functions["_1"]
        assert run.__globals__["__builtins__"].keys() == {
            "bool", "dict", "float", "int", "iter", "len", "next", "str", "type"
        }  # fmt: skip


HOSTILE = [
    'x\'); __import__("os").system("touch PWNED") #',
    "'); import os; os.system('touch PWNED'); ('",
    "\\'); __import__('os').system('touch PWNED') #",
    '"""',
    "\\",
    "\n__import__('os').system('touch PWNED')\n",
    "{__import__('os').system('touch PWNED')}",
    "__class__",
    "\u200bgold",
    "gold\x00",
]


class TestHostileJourneys:
    """Journey text in every place the compiler writes it: nothing runs, the outputs are the
    interpreter's."""

    @pytest.mark.parametrize("text", HOSTILE)
    def test_text_stays_data(self, text: str, tmp_path: Any, monkeypatch: Any) -> None:
        monkeypatch.chdir(tmp_path)
        journey = _journey_with(text)
        events = [
            {"id": "1", "member": text or "m", "type": "buy", "at": "2026-01-01T00:00:00Z",
             "amount": 5.0, "sku": text},
            {"id": text, "member": text or "m", "type": "buy", "at": "2026-01-02T00:00:00Z",
             "amount": 500.0, "sku": text},
            {"id": "3", "member": text or "m", "type": "profile", "at": "2026-01-03T00:00:00Z",
             "tier": text},
            {"id": "4", "member": text or "m", "type": "buy", "at": "2026-01-04T00:00:00Z",
             "amount": 1.0, "sku": text},
        ]  # fmt: skip
        compiled = Engine(journey, interpret=False, explain=True)
        interpreted = Engine(journey, interpret=True, explain=True)
        assert run(compiled, events, True) == run(interpreted, events, True)
        assert kept(compiled) == kept(interpreted)
        assert not (tmp_path / "PWNED").exists()

    def test_huge_and_odd_literals(self) -> None:
        journey = _journey_with(
            "x",
            guard="spend >= 9223372036854775807 or orders < -9223372036854775808 or spend > 1e18",
        )
        events = [
            {"id": str(i), "member": "m", "type": "buy", "at": f"2026-01-0{i}T00:00:00Z",
             "amount": 10.0 ** (i * 60)}
            for i in range(1, 5)
        ]  # fmt: skip
        compiled, interpreted = Engine(journey, interpret=False), Engine(journey, interpret=True)
        assert run(compiled, events, False) == run(interpreted, events, False)
        assert kept(compiled) == kept(interpreted)


class TestTheCompilerRefusesOnItsOwn:
    """Expressions the journey checker refuses never reach the compiler; were one to, the
    compiler's explicit match refuses it too (rule 1), and nothing runs."""

    @pytest.mark.parametrize(
        "text",
        [
            "__import__('os').system('touch PWNED')",
            "().__class__.__bases__[0].__subclasses__()",
            "spend.__class__",
            "eval('1')",
            "open('PWNED', 'w')",
            "lambda: 0",
            "[x for x in [1]]",
            "f'{spend}'",
            "spend if spend else 0",
            "os",
            "(spend := 1)",
            "spend ** 2 > 1",
            "spend is None",
            "abs(x=1)",
            "spend[0]",
        ],
    )
    def test_refused(self, text: str, tmp_path: Any, monkeypatch: Any) -> None:
        from topo.engine.guard_source import expression_source

        monkeypatch.chdir(tmp_path)
        journey = _journey_with("x")
        slots = Engine(journey).compiled.metrics.slots
        with pytest.raises((UnsafeSource, ValueError)):
            expression_source(text, slots, Emitter())
        assert not (tmp_path / "PWNED").exists()

    def test_a_huge_literal_is_handed_over(self) -> None:
        from topo.engine.guard_source import expression_source

        emitter = Emitter()
        slots = Engine(_journey_with("x")).compiled.metrics.slots
        source = expression_source("spend > 1" + "0" * 400, slots, emitter)
        assert "0" * 400 not in source
        assert 10**400 in emitter.namespace.values()


def _journey_with(text: str, guard: str | None = None) -> topo.Journey:
    """A journey that carries ``text`` wherever a journey's text can go: a string literal in
    guards and in a list, a message, a channel, a move id (where the format allows)."""
    import json

    quoted = json.dumps(text)  # a string literal of the expression language (Python syntax)
    when = guard or f"event.sku == {quoted} or member.tier in [{quoted}, 'gold'] or orders >= 2"
    document = {
        "topo": 1,
        "journey": "hostile",
        "version": 1,
        "owners": {"crm": {}},
        "attributes": {"tier": {"type": "str"}},
        "events": {
            "buy": {
                "fields": {
                    "amount": {"type": "float", "min": 0},
                    "sku": {"type": "str", "required": False},
                }
            }
        },
        "metrics": {"spend": {"sum": "buy.amount"}, "orders": {"count": "buy"}},
        "nodes": {
            "s": {"kind": "start", "owner": "crm"},
            "b": {"kind": "peak", "owner": "crm", "on_enter": ["gift"]},
            "x": {"kind": "exit", "owner": "crm"},
        },
        "moves": [
            {"from": "s", "to": "b", "on": "buy", "when": when},
            {"from": "b", "to": "x", "on": "buy", "when": f"member.tier == {quoted}"},
        ],
        "incentives": {
            "gift": {"kind": "gift", "channel": "email", "message": "{tier} {node} {spend}"}
        },
        "reminders": [
            {"at": "b", "toward": "b", "incentive": "gift", "when": f"member.tier != {quoted}"}
        ],
    }
    import yaml

    from topo.journey.loader import load_text
    from topo.validation import check_document

    loaded = load_text(yaml.safe_dump(document))
    assert loaded.document is not None
    journey, problems = check_document(loaded.document, analysis=False)
    assert journey is not None, [p.render() for p in problems]
    return journey
