"""Shared test set-up: hypothesis profiles and small journey builders."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from topo.cli.commands import main
from topo.diagnostics import Diagnostic
from topo.validation import find_journeys, validate_text

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root folder."""
TESTS = ROOT / "tests"
"""The tests' folder: fixtures, snapshots and data shared by the stages' tests."""
JOURNEY_FILES = find_journeys([ROOT / "journeys"])
"""The shipped journeys, found as ``topo validate journeys/`` finds them (beside them, their
personas files, which are not journeys)."""

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
)  # for deep local runs: pytest --hypothesis-profile=thorough
settings.load_profile("ci" if os.environ.get("CI") else "default")

MINIMAL = """\
topo: 1
journey: demo
version: 1
owners:
  crm: {title: CRM}
events:
  purchase:
    fields:
      amount: {type: float, min: 0}
metrics:
  spend: {sum: purchase.amount}
nodes:
  visitor: {kind: start, owner: crm}
  vip: {kind: peak, owner: crm}
moves:
  - {from: visitor, to: vip, on: purchase, when: "spend >= 100"}
"""
"""A small valid journey; tests append to it or replace parts of it."""


def dedent(text: str) -> str:
    """Test texts are written indented; journeys are not."""
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def root() -> Path:
    """The repository's root folder."""
    return ROOT


def validate_rules(text: str, file: str = "<string>") -> list[Diagnostic]:
    """``topo.validate_text`` without the notice that some analysis checks did not run (T519),
    of which there is at most one: what the rules of the format report about ``text``. Tests of
    single rules use it; the notice has tests of its own (test_analysis, the fixtures)."""
    found = validate_text(text, file)
    assert [d.code for d in found].count("T519") <= 1
    return [d for d in found if d.code != "T519"]


def fail_at(
    engine: Any, method: str, call: int, error: type[BaseException] = KeyboardInterrupt
) -> None:
    """Make ``engine.method`` raise ``error`` on its ``call``-th call (1-based), as a Ctrl-C or
    a bug halfway through a change would; ``del engine.<method>`` puts it back."""
    original = getattr(engine, method)
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == call:
            raise error
        return original(*args, **kwargs)

    setattr(engine, method, failing)


def kept_states(engine: Any) -> dict[str, str]:
    """Every member of the engine's store as the durable store would write it (text: nothing
    shared with the live states), by member id."""
    from topo.engine.member_codec import dumps

    return {m: dumps(engine.store.get(m)) for m in sorted(engine.store.members())}


def replay_to_files(
    journey: Path, events: Path, folder: Path, *extra: str
) -> tuple[int, dict[str, Path]]:
    """``topo replay`` with --triggers, --states and --rejects written into ``folder``: the
    exit code and the three files by option name."""
    from topo.cli.commands import main

    outputs = {name: folder / f"{name}.jsonl" for name in ("triggers", "states", "rejects")}
    argv = ["replay", str(journey), str(events), *extra]
    for name, path in outputs.items():
        argv += [f"--{name}", str(path)]
    return main(argv), outputs


CDNOW = str(ROOT / "journeys" / "cdnow.yaml")
"""The shipped CDNOW journey: purchases with an amount and a number of CDs."""


def event(n: int, member: str, day: int, amount: float = 20.0, **extra: Any) -> dict[str, Any]:
    """A CDNOW purchase ``e-N`` of ``member`` on day ``day`` of January 1997."""
    at = f"1997-01-{day:02d}T00:00:00+00:00"
    return {
        "id": f"e-{n}",
        "member": member,
        "type": "purchase",
        "at": at,
        "amount": amount,
        "cds": 1,
        **extra,
    }


def write_jsonl(path: Path, events: list[Any]) -> Path:
    """Events (dicts, or lines as they are) as a JSON lines file."""
    path.write_text(
        "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events),
        encoding="utf-8",
    )
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``topo ARGV`` in this process: its exit code and what it wrote to stderr."""
    code = main(argv)
    return code, capsys.readouterr().err


def lines(path: Path) -> list[dict[str, Any]]:
    """A JSON lines output file, read back."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class Links(HTMLParser):
    """Every src and href of the page's tags, and how many plotly.js bundles it carries."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


# -- Spark (tests/spark): one session for the whole run -----------------------------------------


def _missing() -> str | None:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install '.[spark]')"
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        return "Java 17 is not installed (Spark needs it)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/spark is marked ``spark``."""
    spark = os.path.join(os.path.dirname(__file__), "spark", "")
    for item in items:
        if str(item.path).startswith(spark):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One Spark session for every Spark test (starting one costs seconds): local, two cores,
    two shuffle partitions, no UI; skipped, saying why, without PySpark or Java."""
    missing = _missing()
    if missing:
        pytest.skip(missing)
    from topo.spark import session

    found = session("local[2]", partitions=2)
    yield found
    found.stop()
