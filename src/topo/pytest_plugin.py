"""topo's pytest plugin: scenario files are tests, and journeys and engines are fixtures.

Installed with topo (the ``pytest11`` entry point ``topo``), it lets pytest collect every
``*.scenarios.yaml`` file under the paths it is given, one test per scenario, named after the
scenario (so ``-k``, ``-x`` and node ids work as for any test). A failed scenario reports the
expectation that did not hold, the member's node and triggers, and its explanation; a scenario
file with mistakes is a collection error that lists them with their ``file:line:col``.

Fixtures:

- ``journey``: a function that loads a journey by path (``journey("journeys/club.yaml")``) or
  by name, looked up as ``journeys/NAME.yaml`` under pytest's root directory;
- ``engine``: a function that makes an engine for a journey, a path or a name
  (``engine("club")``), with an optional ``store``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from topo.compiled import CompiledJourney
from topo.engine import Engine
from topo.errors import InvalidJourney
from topo.model import Journey
from topo.rehearsal import Failure, check_events, compile_for, run_scenario
from topo.scenarios import SUFFIXES, InvalidScenarios, Scenario, ScenarioFile, load_scenarios
from topo.stores import Store
from topo.validation import load_journey

__all__ = ["ScenarioFailed", "ScenarioItem", "ScenarioModule"]


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
            compiled = compile_for(loaded)
            check_events(loaded, compiled)
        except InvalidScenarios as exc:
            raise self.CollectError(str(exc)) from None
        except InvalidJourney as exc:
            shown = "\n".join(d.render() for d in exc.diagnostics)
            line, column = loaded.journey_at
            raise self.CollectError(
                f"{self.path}:{line}:{column}: error its journey {loaded.journey} cannot be "
                f"loaded:\n{shown}"
            ) from None
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

    def load(name_or_path: str | Path) -> Journey:
        path = Path(name_or_path)
        named = len(path.parts) == 1 and path.suffix not in (".yaml", ".yml")
        if named and not path.exists():  # a name, such as "club" or "retail-tiers.v2"
            path = root / "journeys" / f"{name_or_path}.yaml"
        return load_journey(path)

    return load


@pytest.fixture
def engine(
    journey: Callable[[str | Path], Journey],
) -> Callable[..., Engine]:
    """Make an engine for a journey (a loaded one, a path or a name) and an optional store."""

    def make(of: Journey | str | Path, store: Store | None = None, **options: Any) -> Engine:
        loaded = of if isinstance(of, Journey) else journey(of)
        return Engine(loaded, store, **options)

    return make
