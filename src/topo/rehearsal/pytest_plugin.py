"""topo's pytest plugin: scenario files are tests, and journeys and engines are fixtures.

Installed with topo (the ``pytest11`` entry point ``topo``), it lets pytest collect every
``*.scenarios.yaml`` file under the paths it is given, one test per scenario, named after the
scenario (so ``-k``, ``-x`` and node ids work as for any test). A failed scenario reports the
expectation that did not hold, the member's node and triggers, and its explanation; a scenario
file with mistakes is a collection error that lists them with their ``file:line:col``.

A draft journey (one that runs, with findings of the analysis such as a dead end) is rehearsed,
and its findings are a :class:`DraftJourneyWarning` in pytest's warnings summary; with
``--topo-strict`` it is refused as ``topo test --strict`` refuses it (a collection error).

Fixtures:

- ``journey``: a function that loads a journey by path (``journey("journeys/club.yaml")``) or
  by name, looked up as ``journeys/NAME.yaml`` under pytest's root directory;
- ``engine``: a function that makes an engine for a journey, a path or a name
  (``engine("club")``), with an optional ``store``.

Both load drafts as scenario files do: with a warning, or refused under ``--topo-strict``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from topo.engine.compiled import CompiledJourney
from topo.engine.engine import Engine
from topo.engine.stores import Store
from topo.errors import InvalidJourney
from topo.journey.model import Journey
from topo.rehearsal.runner import Failure, check_events, compile_for, run_scenario
from topo.rehearsal.scenarios import (
    SUFFIXES,
    InvalidScenarios,
    Scenario,
    ScenarioFile,
    load_scenarios,
)
from topo.validation import cannot_run, draft_report, findings_of, load_journey

__all__ = ["DraftJourneyWarning", "ScenarioFailed", "ScenarioItem", "ScenarioModule"]

_STRICT = "--topo-strict"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("topo").addoption(
        _STRICT,
        action="store_true",
        dest="topo_strict",
        help="refuse journeys with findings or warnings of topo's analysis, as "
        "topo test --strict does (without it, a draft runs with a warning)",
    )


class DraftJourneyWarning(UserWarning):
    """A journey runs, but ``topo validate`` has findings about it (it is a draft)."""


def _draft_warning(path: object, journey: Journey) -> DraftJourneyWarning | None:
    lines = draft_report(str(path), findings_of(journey) or (), strict_option=_STRICT)
    return DraftJourneyWarning("\n".join(lines)) if lines else None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIXES):
        module: ScenarioModule = ScenarioModule.from_parent(parent, path=file_path)
        return module
    return None


class ScenarioFailed(Exception):
    """A scenario whose expectations did not all hold."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure
        super().__init__(failure.message)


class ScenarioModule(pytest.File):
    """A scenario file: one test item per scenario."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            loaded = load_scenarios(self.path)
            compiled = compile_for(loaded, strict=self.config.getoption("topo_strict"))
            check_events(loaded, compiled)
        except InvalidScenarios as exc:
            raise self.CollectError(str(exc)) from None
        except InvalidJourney as exc:
            shown = "\n".join(d.render() for d in exc.diagnostics)
            line, column = loaded.journey_at
            why = (
                "cannot be loaded"
                if any(cannot_run(d) for d in exc.diagnostics)
                else f"has findings, which {_STRICT} refuses"
            )
            raise self.CollectError(
                f"{self.path}:{line}:{column}: error its journey {loaded.journey} {why}:\n{shown}"
            ) from None
        draft = _draft_warning(loaded.journey, compiled.journey)
        if draft is not None:
            self.warn(draft)
        for scenario in loaded.scenarios:
            yield ScenarioItem.from_parent(
                self, name=scenario.name, scenario=scenario, file=loaded, compiled=compiled
            )


class ScenarioItem(pytest.Item):
    """One scenario, run through the real engine."""

    def __init__(
        self,
        *,
        scenario: Scenario,
        file: ScenarioFile,
        compiled: CompiledJourney,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scenario, self.file, self.compiled = scenario, file, compiled

    def runtest(self) -> None:
        failure = run_scenario(self.compiled, self.scenario, self.file, None)
        if failure is not None:
            raise ScenarioFailed(failure)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return excinfo.value.failure.render()
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.line - 1, f"scenario: {self.scenario.name}"


@pytest.fixture
def journey(request: pytest.FixtureRequest) -> Callable[[str | Path], Journey]:
    """Load a journey by path, or by name from ``journeys/NAME.yaml`` under the root dir."""
    root = Path(str(request.config.rootpath))
    strict = bool(request.config.getoption("topo_strict"))

    def load(name_or_path: str | Path) -> Journey:
        path = Path(name_or_path)
        named = len(path.parts) == 1 and path.suffix not in (".yaml", ".yml")
        if named and not path.exists():  # a name, such as "club" or "retail-tiers.v2"
            path = root / "journeys" / f"{name_or_path}.yaml"
        loaded = load_journey(path, strict=strict)
        draft = _draft_warning(path, loaded)
        if draft is not None:
            warnings.warn(draft, stacklevel=2)
        return loaded

    return load


@pytest.fixture
def engine(
    journey: Callable[[str | Path], Journey],
) -> Callable[..., Engine]:
    """Make an engine for a journey (a loaded one, a path or a name) and an optional store;
    it keeps explanations (``explain=True``) unless told otherwise, as a test reads them."""

    def make(of: Journey | str | Path, store: Store | None = None, **options: Any) -> Engine:
        loaded = of if isinstance(of, Journey) else journey(of)
        options.setdefault("explain", True)
        return Engine(loaded, store, **options)

    return make
