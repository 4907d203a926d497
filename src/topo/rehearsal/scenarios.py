"""Scenario files: a journey rehearsed with a member's events and what should happen.

A scenario file (``NAME.scenarios.yaml``) names a journey and holds scenarios; each is a list
of steps: an event, a clock advance, or only a check, each optionally followed by ``expect``.
See ``docs/scenarios.md`` for the format. :func:`load_scenarios` reads one file into
:class:`ScenarioFile`; every problem is a :class:`ScenarioProblem` with its ``file:line:col``,
all of them at once, raised together as :class:`InvalidScenarios`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from topo.errors import TopoError
from topo.journey.loader import load_file
from topo.journey.source import Document

__all__ = [
    "SUFFIXES",
    "Expect",
    "InvalidScenarios",
    "Scenario",
    "ScenarioFile",
    "ScenarioProblem",
    "Step",
    "find_scenarios",
    "load_scenarios",
    "scenario_step",
]

SUFFIXES = (".scenarios.yaml", ".scenarios.yml")
"""How scenario files are named; ``topo validate`` leaves them out of the folders it reads."""

_RELATIVE = re.compile(r"^\+(\d+)(w|d|h|m|s)$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_EXPECT_KEYS = ("node", "path", "granted", "not_granted", "withheld", "metrics", "rejected")


@dataclass(frozen=True)
class ScenarioProblem:
    """One mistake in a scenario file, and where it stands."""

    file: str
    line: int
    column: int
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: error {self.message}"


class InvalidScenarios(TopoError):
    """A scenario file that cannot be run; :attr:`problems` says every reason and where."""

    def __init__(self, problems: list[ScenarioProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.render() for p in problems))


@dataclass(frozen=True)
class Expect:
    """What should hold after a step; every part is optional."""

    line: int
    node: str | None = None
    path: list[str] | None = None
    granted: list[dict[str, Any]] | None = None  # {incentive, reason?, count}
    not_granted: list[str] = field(default_factory=list)
    withheld: list[dict[str, Any]] | None = None  # {incentive, reason?, count}
    metrics: dict[str, Any] = field(default_factory=dict)
    rejected: str | None = None  # invalid | duplicate | late


@dataclass(frozen=True)
class Step:
    """An event (``event`` set), a clock advance (``advance`` set) or a check alone."""

    line: int
    at: datetime
    event: dict[str, Any] | None = None
    advance: bool = False
    expect: Expect | None = None
    column: int = 1


@dataclass(frozen=True)
class Scenario:
    name: str
    line: int
    member: str
    steps: list[Step]


@dataclass(frozen=True)
class ScenarioFile:
    path: Path
    journey: Path
    scenarios: list[Scenario]
    journey_at: tuple[int, int] = (1, 1)  # line and column of `journey:`


def find_scenarios(paths: list[str]) -> list[Path]:
    """The scenario files ``paths`` name: files as given, folders searched (hidden ones left
    out); a :class:`topo.errors.UsageError` for a path that does not exist or finds none."""
    from topo.errors import UsageError

    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.name.endswith(SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not found:
        raise UsageError(f"no scenario files (*{SUFFIXES[0]}) in {', '.join(paths)}")
    return found


def load_scenarios(path: str | Path) -> ScenarioFile:
    """The scenario file at ``path``; :class:`InvalidScenarios` lists every problem."""
    path = Path(path)
    try:
        loaded = load_file(path)
    except OSError as exc:
        raise InvalidScenarios(
            [ScenarioProblem(str(path), 1, 1, f"cannot read the file: {exc.strerror}")]
        ) from None
    if loaded.document is None or loaded.diagnostics:
        raise InvalidScenarios(
            [
                ScenarioProblem(d.file, d.line, d.column, _for_scenarios(d.message))
                for d in loaded.diagnostics
            ]
        )
    reader = _Reader(loaded.document, path)
    result = reader.file()
    if reader.problems:
        raise InvalidScenarios(sorted(reader.problems, key=lambda p: (p.line, p.column)))
    assert result is not None
    return result


def _for_scenarios(message: str) -> str:
    """A loader message about journeys, said of a scenario file."""
    if "a journey is a mapping" in message:
        return message.split(";")[0] + "; a scenario file is a mapping with `journey` and " \
            "`scenarios`"  # fmt: skip
    return message


class _Reader:
    """Reads the plain data of a scenario file, noting each problem with its position."""

    def __init__(self, document: Document, path: Path) -> None:
        self.document, self.path = document, path
        self.problems: list[ScenarioProblem] = []

    def problem(self, where: tuple[Any, ...], message: str, *, key: bool = False) -> None:
        source = self.document.source
        span = source.key(where) if key else source.value(where)
        self.problems.append(ScenarioProblem(str(self.path), span.line, span.column, message))

    def line(self, where: tuple[Any, ...]) -> int:
        return self.document.source.value(where).line

    def file(self) -> ScenarioFile | None:
        data = self.document.data
        if not isinstance(data, dict):
            self.problem((), "a scenario file is a mapping with `journey` and `scenarios`")
            return None
        if "topo" in data and "scenarios" not in data:  # a journey file given to `topo test`
            self.problem(
                (),
                "this is a journey, not a scenario file: give `topo test` the journey's "
                f"scenario file (such as scenarios/{self.path.stem}.scenarios.yaml beside it) "
                "or a folder that holds it (see docs/scenarios.md)",
            )
            return None
        self.unknown(data, (), ("journey", "start", "member", "scenarios"))
        journey = data.get("journey")
        if not isinstance(journey, str):
            self.problem(
                ("journey",), "`journey` is the path of a journey file, relative to this one"
            )
            journey = ""
        start = self.time(data.get("start", "1970-01-01T00:00:00+00:00"), ("start",), None)
        member = data.get("member", "m")
        if not isinstance(member, str):
            self.problem(("member",), "`member` is text: the member the events are for")
            member = "m"
        items = data.get("scenarios")
        if not isinstance(items, list) or not items:
            self.problem(("scenarios",), "`scenarios` is a list of scenarios, at least one")
            items = []
        scenarios = [
            self.scenario(item, ("scenarios", i), start or datetime.now().astimezone(), member)
            for i, item in enumerate(items)
        ]
        names = [s.name for s in scenarios if s is not None]
        for i, scenario in enumerate(scenarios):
            if scenario is not None and names.count(scenario.name) > 1:
                self.problem(("scenarios", i, "name"), f"two scenarios are named {scenario.name!r}")
        span = self.document.source.value(("journey",))
        return ScenarioFile(
            self.path,
            Path(os.path.normpath(self.path.parent / journey)),
            [s for s in scenarios if s is not None],
            (span.line, span.column),
        )

    def scenario(
        self, data: Any, where: tuple[Any, ...], start: datetime, member: str
    ) -> Scenario | None:
        if not isinstance(data, dict):
            self.problem(where, "a scenario is a mapping with `name` and `steps`")
            return None
        self.unknown(data, where, ("name", "member", "steps"))
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem((*where, "name"), "a scenario has a `name`: what it shows, in words")
            name = f"scenario {where[-1] + 1}"
        member = data.get("member", member)
        if not isinstance(member, str):
            self.problem((*where, "member"), "`member` is text")
            member = "m"
        items = data.get("steps")
        if not isinstance(items, list) or not items:
            what = "is empty: give at least one" if items == [] else "is a list of"
            self.problem((*where, "steps"), f"`steps` {what} events, advances and checks")
            items = []
        steps, at = [], start
        for i, item in enumerate(items):
            step = self.step(
                item, (*where, "steps", i), start, at, member, f"{where[-1] + 1}-{i + 1}"
            )
            if step is not None:
                steps.append(step)
                at = step.at
        return Scenario(name, self.line(where), member, steps)

    def step(
        self,
        data: Any,
        where: tuple[Any, ...],
        start: datetime,
        previous: datetime,
        member: str,
        number: str,
    ) -> Step | None:
        if not isinstance(data, dict):
            self.problem(where, "a step is a mapping: `event` (with `at`, `fields`), `advance`, "
                         "or `expect` alone")  # fmt: skip
            return None
        self.unknown(data, where, ("event", "at", "fields", "id", "member", "advance", "expect"))
        expect = None if "expect" not in data else self.expect(data["expect"], (*where, "expect"))
        if "event" in data and "advance" in data:
            self.problem(where, "a step is an event or an advance, not both: split it in two")
        if "event" not in data and expect is not None and expect.rejected is not None:
            self.problem((*where, "expect", "rejected"), "only an event can be rejected")
        if "advance" in data:
            at = self.time(data["advance"], (*where, "advance"), start)
            if at is not None and at < previous:
                self.problem((*where, "advance"), f"the clock cannot go back: this is before "
                             f"the step above ({previous.isoformat()})")  # fmt: skip
            return Step(self.line(where), at or previous, advance=True, expect=expect)
        if "event" not in data:
            for extra in ("at", "fields", "id", "member"):
                if extra in data:
                    said = f"`{extra}` belongs to an event: add `event: TYPE`"
                    self.problem((*where, extra), said, key=True)
            if expect is None:
                self.problem(where, "a step has an `event`, an `advance` or an `expect`")
            return Step(self.line(where), previous, expect=expect)
        kind = data["event"]
        if not isinstance(kind, str):
            self.problem(
                (*where, "event"), "`event` is the event's type, as the journey declares it"
            )
        at = self.time(data["at"], (*where, "at"), start) if "at" in data else previous
        fields = data.get("fields", {})
        if not isinstance(fields, Mapping):
            self.problem((*where, "fields"), "`fields` maps the event's field names to values")
            fields = {}
        for key in ("id", "member", "type", "at"):
            if key in fields:
                self.problem((*where, "fields", key), f"`{key}` is the step's own, not a "
                             f"field: write it beside `event`", key=True)  # fmt: skip
        for key in ("id", "member"):
            if key in data and not isinstance(data[key], str):
                self.problem((*where, key), f"`{key}` is text")
        event = {
            "id": data.get("id", f"e{number}"),
            "member": data.get("member", member),
            "type": kind,
            "at": (at or previous).isoformat(),
            **fields,
        }
        column = self.document.source.value((*where, "event")).column
        return Step(self.line(where), at or previous, event=event, expect=expect, column=column)

    def expect(self, data: Any, where: tuple[Any, ...]) -> Expect | None:
        if not isinstance(data, dict):
            self.problem(where, f"`expect` maps what to check: {', '.join(_EXPECT_KEYS)}")
            return None
        self.unknown(data, where, _EXPECT_KEYS)
        node = data.get("node")
        if node is not None and not isinstance(node, str):
            self.problem((*where, "node"), "`node` is a node id")
        path = data.get("path")
        if path is not None and not (
            isinstance(path, list) and all(isinstance(n, str) for n in path)
        ):
            self.problem((*where, "path"), "`path` is the list of nodes the member has been at")
            path = None
        not_granted = data.get("not_granted", [])
        if not isinstance(not_granted, list) or not all(isinstance(i, str) for i in not_granted):
            self.problem((*where, "not_granted"), "`not_granted` is a list of incentive ids")
            not_granted = []
        metrics = data.get("metrics", {})
        if not isinstance(metrics, dict):
            self.problem((*where, "metrics"), "`metrics` maps metric names to their values")
            metrics = {}
        rejected = data.get("rejected")
        if rejected is not None and rejected not in ("invalid", "duplicate", "late"):
            self.problem((*where, "rejected"), "`rejected` is invalid, duplicate or late")
        return Expect(
            line=self.line(where),
            node=node if isinstance(node, str) else None,
            path=path,
            granted=self.grants(data, where, "granted"),
            not_granted=not_granted,
            withheld=self.grants(data, where, "withheld"),
            metrics=metrics,
            rejected=rejected,
        )

    def grants(self, data: dict[str, Any], where: tuple[Any, ...], key: str) -> Any:
        if key not in data:
            return None
        items = data[key]
        if not isinstance(items, list):
            self.problem((*where, key), f"`{key}` is a list: incentive ids, or mappings with "
                         "`incentive` and optionally `reason` and `count`")  # fmt: skip
            return None
        found = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                found.append({"incentive": item, "reason": None, "count": 1})
                continue
            if not isinstance(item, dict) or not isinstance(item.get("incentive"), str):
                self.problem((*where, key, i), "an incentive id, or a mapping with `incentive`")
                continue
            self.unknown(item, (*where, key, i), ("incentive", "reason", "count"))
            count = item.get("count", 1)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                self.problem((*where, key, i, "count"), "`count` is a whole number, at least 1")
                count = 1
            reason = item.get("reason")
            if key == "granted" and reason not in (None, "move", "enter", "reminder", "timer"):
                self.problem((*where, key, i, "reason"), "`reason` is move, enter, reminder or "
                             "timer")  # fmt: skip
            elif reason is not None and not isinstance(reason, str):
                self.problem((*where, key, i, "reason"), "`reason` is the cap, as text")
            found.append({"incentive": item["incentive"], "reason": reason, "count": count})
        return found

    def time(self, value: Any, where: tuple[Any, ...], start: datetime | None) -> datetime | None:
        """An absolute time (RFC 3339 with an offset), or ``+N`` and a unit after ``start``."""
        if isinstance(value, str) and start is not None:
            relative = _RELATIVE.match(value.strip())
            if relative:
                try:
                    return start + timedelta(**{_UNITS[relative[2]]: int(relative[1])})
                except OverflowError:
                    self.problem(where, f"{value!r} is too far from `start` to be a time")
                    return None
        if isinstance(value, datetime):
            found: datetime | None = value
        else:
            try:
                found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                found = None
        if found is None or found.utcoffset() is None:
            relative_ok = " or +N with a unit w, d, h, m or s after `start`" if start else ""
            self.problem(where, f"{value!r} is not a time: write RFC 3339 with an offset "
                         f"(2026-03-01T10:00:00+00:00){relative_ok}")  # fmt: skip
            return None
        return found

    def unknown(self, data: dict[str, Any], where: tuple[Any, ...], known: tuple[str, ...]) -> None:
        for key in data:
            if key not in known:
                self.problem((*where, key), f"unknown key {key!r}; expected one of "
                             f"{', '.join(known)}", key=True)  # fmt: skip


def scenario_step(step: dict[str, Any] | datetime, expect: Mapping[str, Any] | None = None) -> str:
    """One step of a scenario file as a YAML flow mapping: an event (a mapping with ``type``,
    ``at``, ``id``, ``member`` and its fields) or a clock advance (a time); values written so
    that topo's loader reads them back as they were (text quoted, floats without exponents)."""
    parts: dict[str, Any]
    if isinstance(step, datetime):
        parts = {"advance": step.isoformat()}
    else:
        fields = {k: v for k, v in step.items() if k not in ("id", "member", "type", "at")}
        parts = {k: step[k] for k in ("type", "id", "member", "at") if k in step}
        parts = {"event": parts.pop("type", None), **parts, "fields": fields}
    if expect:
        parts["expect"] = dict(expect)
    return _flow(parts)


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "E" in text:  # the loader reads 1e-05 as text: write it out
            from decimal import Decimal

            text = format(Decimal(text), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, datetime):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML string
