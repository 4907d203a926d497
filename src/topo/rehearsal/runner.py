"""Running scenario files through the real engine: what failed, why, and what was exercised.

:func:`run_scenario` plays one scenario on a fresh engine (with explanations) and checks each
``expect`` after its step; the first failed check ends the scenario with a :class:`Failure`
that names the expectation, what happened instead (node, triggers since the last check) and
the member's explanation. :class:`Coverage` collects, per journey, the nodes, moves,
incentives and reminders the scenarios exercised.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from topo.engine.compiled import CompiledJourney, compile_journey
from topo.engine.engine import Engine, rejection
from topo.engine.member_state import MemberState
from topo.engine.triggers import Trigger
from topo.errors import InvalidEvent
from topo.rehearsal.scenarios import (
    Expect,
    InvalidScenarios,
    Scenario,
    ScenarioFile,
    ScenarioProblem,
)

__all__ = ["Coverage", "Failure", "compile_for", "rehearse", "run_scenario"]


@dataclass
class Failure:
    """A scenario that did not go as expected, in words for people."""

    scenario: str
    file: Path
    line: int
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}: {self.scenario}\n{self.message}"


@dataclass
class Coverage:
    """What the scenarios of one journey exercised, against what the journey has."""

    compiled: CompiledJourney
    nodes: set[str] = field(default_factory=set)
    moves: set[int] = field(default_factory=set)
    incentives: set[str] = field(default_factory=set)
    reminders: set[int] = field(default_factory=set)

    def note(self, state: MemberState) -> None:
        """Add what the member's history and ledger show it went through."""
        journey = self.compiled.journey
        labels = {m.id or f"moves[{i}]": i for i, m in enumerate(journey.moves)}
        self.nodes.add(self.compiled.start)
        for entry in state.history:
            if entry[0] == "move" and entry[1] in labels:
                self.moves.add(labels[entry[1]])
                self.nodes.add(entry[3])
            elif entry[0] == "granted":
                self.incentives.add(entry[1])
        first = len(journey.incentives)
        for slot, at in enumerate(state.ledger or ()):
            if slot >= first and at is not None:
                self.reminders.add(slot - first)

    def merge(self, other: Coverage) -> None:
        """Add what ``other`` (of the same journey) exercised."""
        if other is not self:
            self.nodes |= other.nodes
            self.moves |= other.moves
            self.incentives |= other.incentives
            self.reminders |= other.reminders

    def parts(self) -> dict[str, tuple[int, int, list[str]]]:
        """For each kind: (exercised, total, what was not exercised)."""
        journey = self.compiled.journey
        moves = [m.id or f"moves[{i}]" for i, m in enumerate(journey.moves)]
        reminders = [f"reminders[{i}]" for i in range(len(journey.reminders))]
        return {
            "nodes": _part(list(journey.nodes), self.nodes),
            "moves": _part(moves, {moves[i] for i in self.moves}),
            "incentives": _part(list(journey.incentives), self.incentives),
            "reminders": _part(reminders, {reminders[i] for i in self.reminders}),
        }

    def percent(self, kind: str = "moves") -> float:
        done, total, _ = self.parts()[kind]
        return 100.0 if total == 0 else 100.0 * done / total


def _part(every: list[str], done: set[str]) -> tuple[int, int, list[str]]:
    return len([x for x in every if x in done]), len(every), [x for x in every if x not in done]


def run_scenario(
    compiled: CompiledJourney, scenario: Scenario, file: ScenarioFile, coverage: Coverage | None
) -> Failure | None:
    """Play ``scenario``; None when every expectation held, else the first that did not."""
    engine = Engine(compiled, explain=True)
    since: list[Trigger] = []  # granted since the last check
    checked = 0  # how much of the member's history the last check had seen
    rejected: str | None = None
    for step in scenario.steps:
        rejected = None
        if step.event is not None:
            try:
                since += _of(scenario.member, engine.process(step.event))
            except InvalidEvent as error:
                rejected = rejection(error)
                if step.expect is None or step.expect.rejected is None:
                    said = f"the event was rejected ({rejected}): {error}"
                    return _fail(file, scenario, step.line, engine, said, since, checked)
        elif step.advance:
            since += _of(scenario.member, engine.tick(step.at))
        if step.expect is not None:
            withheld = _withheld(engine, scenario.member, checked)
            problem = _check(engine, scenario.member, step.expect, since, withheld, rejected)
            if problem is not None:
                return _fail(file, scenario, step.expect.line, engine, problem, since, checked)
            kept = engine.store.get(scenario.member)
            since, checked = [], 0 if kept is None else len(kept.history)
    if coverage is not None:  # a scenario that failed shows nothing exercised
        for member in engine.store.members():
            state = engine.store.get(member)
            if state is not None:
                coverage.note(state)
    return None


def check_events(file: ScenarioFile, compiled: CompiledJourney) -> None:
    """Every event of ``file`` that breaks the journey's declarations (an unknown type, a field
    of the wrong type), unless its step expects it to be rejected as invalid: raised together as
    :class:`InvalidScenarios`, each at its ``event:`` value."""
    problems = []
    for scenario in file.scenarios:
        for step in scenario.steps:
            if step.event is None or (step.expect and step.expect.rejected == "invalid"):
                continue
            try:
                compiled.events.read(step.event)
            except InvalidEvent as error:
                what = (
                    error.reason
                    if error.field is None
                    else f"field {error.field!r}: {error.reason}"
                )
                problems.append(ScenarioProblem(str(file.path), step.line, step.column, what))
    if problems:
        raise InvalidScenarios(problems)


def rehearse(
    file: ScenarioFile, *, strict: bool = False
) -> tuple[list[tuple[Scenario, Failure | None]], Coverage]:
    """Run every scenario of ``file``: each with its failure (None when it passed), and what
    the passing ones exercised. Raises InvalidJourney when the journey cannot run (with
    ``strict``, also when it has findings: see :func:`compile_for`), and InvalidScenarios when
    an event breaks its declaration."""
    compiled = compile_for(file, strict=strict)
    check_events(file, compiled)
    coverage = Coverage(compiled)
    results = [(s, run_scenario(compiled, s, file, coverage)) for s in file.scenarios]
    return results, coverage


def compile_for(file: ScenarioFile, *, strict: bool = False) -> CompiledJourney:
    """The journey a scenario file names, compiled. A draft (a journey that runs, with findings
    of the analysis) is rehearsed; ``topo.findings_of(compiled.journey)`` gives its
    findings. Raises InvalidJourney when the journey cannot run, and with ``strict`` when it
    has any finding or warning (see ``topo.load_journey``)."""
    from topo.validation import load_journey

    return compile_journey(load_journey(file.journey, strict=strict))


def _withheld(engine: Engine, member: str, checked: int) -> list[tuple[str, str]]:
    """(incentive, cap) of each grant a cap held back since the last check."""
    kept = engine.store.get(member)
    history = [] if kept is None else kept.history
    return [(e[1], e[2]) for e in history[checked:] if e[0] == "withheld"]


def _of(member: str, triggers: list[Trigger]) -> list[Trigger]:
    """The triggers of the scenario's member (its events may name other members too)."""
    return [t for t in triggers if t.member == member]


def _check(
    engine: Engine,
    member: str,
    expect: Expect,
    since: list[Trigger],
    withheld: list[tuple[str, str]],
    rejected: str | None,
) -> str | None:
    """What does not hold of ``expect``, in words; None when all of it holds."""
    if expect.rejected is not None and rejected != expect.rejected:
        return f"expected the event to be rejected as {expect.rejected}, but it was " + (
            "processed" if rejected is None else f"rejected as {rejected}"
        )
    unknown = _unknown(engine.compiled, expect)
    if unknown is not None:
        return unknown
    state = engine.state(member)
    node = None if state is None else state["node"]
    if expect.node is not None and node != expect.node:
        where = "has no valid event yet" if node is None else f"is at {node!r}"
        return f"expected node {expect.node!r}, but the member {where}"
    if expect.path is not None:
        path = [] if state is None else _path(engine, state)
        if path != expect.path:
            return f"expected path {expect.path}, but the member went {path}"
    if expect.granted is not None:
        problem = _match("granted", expect.granted, [(t.incentive, t.reason) for t in since])
        if problem is not None:
            return problem
    for incentive in expect.not_granted:
        if any(t.incentive == incentive for t in since):
            return f"expected {incentive!r} not to be granted, but it was"
    if expect.withheld is not None:
        problem = _match("withheld", expect.withheld, withheld)
        if problem is not None:
            return problem
    metrics = {} if state is None else state["metrics"]
    for name, value in expect.metrics.items():
        if name not in metrics:
            return f"expected metric {name!r}, but the journey has no such metric"
        found = metrics[name]
        if not _same(found, value):
            shown = found if _instant(found) is not None else repr(found)
            return f"expected metric {name} = {value!r}, but it is {shown}"
    return None


def _same(found: Any, expected: Any) -> bool:
    """A metric's value is the expected one; two times (RFC 3339 text, as the engine gives and
    a scenario file writes) are the same when they name the same instant, whatever offsets."""
    instants = _instant(found), _instant(expected)
    if instants[0] is not None and instants[1] is not None:
        return instants[0] == instants[1]
    return bool(found == expected)


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) > 10 and value[10:11] in "Tt":
        with suppress(ValueError):
            moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            return moment if moment.utcoffset() is not None else None
    return None


def _unknown(compiled: CompiledJourney, expect: Expect) -> str | None:
    """An id the expectation names that the journey does not have, in words."""
    journey = compiled.journey
    nodes = [expect.node] if expect.node else []
    for node in [*nodes, *(expect.path or [])]:
        if node not in journey.nodes:
            return f"the journey has no node {node!r}"
    for item in [*(expect.granted or []), *(expect.withheld or [])]:
        if item["incentive"] not in journey.incentives:
            return f"the journey has no incentive {item['incentive']!r}"
    for incentive in expect.not_granted:
        if incentive not in journey.incentives:
            return f"the journey has no incentive {incentive!r}"
    return None


def _path(engine: Engine, state: dict[str, Any]) -> list[str]:
    return [engine.compiled.start, *(e["to"] for e in state["history"] if "move" in e)]


def _match(what: str, expected: list[dict[str, Any]], found: list[tuple[str, str]]) -> str | None:
    wanted = [
        (item["incentive"], item["reason"]) for item in expected for _ in range(item["count"])
    ]
    ok = len(wanted) == len(found) and all(
        incentive == f[0] and (reason is None or reason == f[1])
        for (incentive, reason), f in zip(wanted, found, strict=True)
    )
    if ok:
        return None
    shown = ", ".join(f"{i} ({r})" for i, r in found) or "nothing"
    listed = ", ".join(i if r is None else f"{i} ({r})" for i, r in wanted) or "nothing"
    return f"expected {what}: {listed}; but {what} since the last check: {shown}"


def _fail(
    file: ScenarioFile,
    scenario: Scenario,
    line: int,
    engine: Engine,
    problem: str,
    since: list[Trigger],
    checked: int,
) -> Failure:
    state = engine.state(scenario.member)
    node = "none yet (no valid event)" if state is None else state["node"]
    triggers = ", ".join(f"{t.incentive} ({t.reason})" for t in since) or "none"
    held = _withheld(engine, scenario.member, checked)
    withheld = "".join(f"; withheld: {i} (by {cap})" for i, cap in held)
    explanation = "\n".join(f"    {_step(s)}" for s in engine.explain(scenario.member)[-8:])
    message = (
        f"  {problem}\n"
        f"  node: {node}; triggers since the last check: {triggers}{withheld}\n"
        f"  explanation (last steps):\n{explanation or '    (none)'}"
    )
    return Failure(scenario.name, file.path, line, message)


def _step(step: dict[str, Any]) -> str:
    head = f"{step.get('at', '')} {step.get('step')}"
    what = step.get("event") or step.get("move") or step.get("reminder") or ""
    outcome = step.get("outcome") or ""
    held = ", ".join(f"{w['incentive']} (by {w['cap']})" for w in step.get("withheld", ()))
    if held:
        outcome = f"{outcome}; withheld: {held}" if outcome else f"withheld: {held}"
    guards = "; ".join(
        f"{g.get('move')}{'' if g.get('when') is None else ' when ' + str(g['when'])}: "
        f"{'holds' if g.get('holds') else 'does not hold'}"
        + (f" ({_values(g['values'])})" if g.get("values") else "")
        for g in step.get("guards", [])
    )
    return " ".join(
        part for part in (head, str(what), outcome, f"[{guards}]" if guards else "") if part
    )


def _values(values: dict[str, Any]) -> str:
    """What a guard saw, as ``name = value`` (times as RFC 3339)."""
    shown = (
        f"{name} = {value if _instant(value) is not None else repr(value)}"
        for name, value in values.items()
    )
    return ", ".join(shown)
