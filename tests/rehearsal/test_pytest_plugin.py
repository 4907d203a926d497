"""The pytest plugin: scenario files collected as tests, one per scenario, with failures a
person can act on; the journey and engine fixtures."""

from __future__ import annotations

import shutil
from importlib.metadata import entry_points

import pytest

import topo.rehearsal.pytest_plugin  # noqa: F401  # imported once: pytester's in-process runs re-import
from conftest import ROOT  # what a test imports, and the copies must agree

pytest_plugins = ["pytester"]

# Installed, topo's plugin loads itself (the pytest11 entry point); from a source tree, say so.
INSTALLED = any(e.name == "topo" for e in entry_points(group="pytest11"))
PLUGIN = [] if INSTALLED else ["-p", "topo.rehearsal.pytest_plugin"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the CDNOW journey and its shipped scenarios."""
    (pytester.path / "journeys" / "scenarios").mkdir(parents=True)
    shutil.copy(ROOT / "journeys" / "cdnow.yaml", pytester.path / "journeys")
    shutil.copy(
        ROOT / "journeys" / "scenarios" / "cdnow.scenarios.yaml",
        pytester.path / "journeys" / "scenarios",
    )
    return pytester


def test_one_test_per_scenario(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "-v", "journeys")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        ["*cdnow.scenarios.yaml::a first order makes a first buyer*PASSED*"]
    )


def test_k_selects_scenarios(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "journeys", "-k", "VIP")
    result.assert_outcomes(passed=2)


def test_a_failure_says_what_and_why(project: pytest.Pytester) -> None:
    journey = project.path / "journeys" / "cdnow.yaml"
    journey.write_text(journey.read_text().replace("spend_365d >= 300\n", "spend_365d <= 300\n"))
    result = project.runpytest(*PLUGIN, "journeys", "-x")
    result.assert_outcomes(failed=1, passed=1)  # -x: the first failure stops the run
    result.stdout.fnmatch_lines(
        [
            "*expected node 'repeat_buyer', but the member is at 'vip'*",
            "*explanation (last steps):*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_broken_scenario_file_is_a_collection_error(project: pytest.Pytester) -> None:
    (project.path / "journeys" / "scenarios" / "bad.scenarios.yaml").write_text(
        "journey: ../cdnow.yaml\nscenarios:\n  - name: x\n    steps: [{advance: soon}]\n"
    )
    result = project.runpytest(*PLUGIN, "journeys")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*bad.scenarios.yaml:4:23: error 'soon' is not a time*"])


def test_fixtures(project: pytest.Pytester) -> None:
    shutil.copy(ROOT / "journeys" / "cdnow.yaml", project.path / "journeys" / "cdnow.v2.yaml")
    project.makepyfile(
        test_use="""
        def test_it(journey, engine):
            assert journey("cdnow").journey == "cdnow"
            assert journey("cdnow.v2").journey == "cdnow"  # a name with a dot is a name
            e = engine("cdnow", explain=False)
            [t] = e.process({"id": "e", "member": "m", "type": "purchase",
                             "at": "1997-01-01T00:00:00Z", "amount": 1.0, "cds": 1})
            assert t.incentive == "second_order_coupon"
        """
    )
    project.runpytest(*PLUGIN, "test_use.py").assert_outcomes(passed=1)


DRAFT_SCENARIOS = """\
journey: ../draft.yaml
start: 2026-01-01T00:00:00+00:00
scenarios:
  - name: a purchase of 150 makes a VIP
    steps:
      - event: purchase
        fields: {amount: 150.0}
        expect: {node: vip}
"""


@pytest.fixture(params=["T504-member-has-no-way-out", "T503-ambassador-peak-not-reached"])
def drafted(request: pytest.FixtureRequest, pytester: pytest.Pytester) -> pytest.Pytester:
    """A project whose journey is a draft (a dead end, or an unreachable peak), with a
    scenario file that rehearses it."""
    (pytester.path / "journeys" / "scenarios").mkdir(parents=True)
    fixture = ROOT / "tests" / "fixtures" / "invalid" / f"{request.param}.yaml"
    shutil.copy(fixture, pytester.path / "journeys" / "draft.yaml")
    (pytester.path / "journeys" / "scenarios" / "draft.scenarios.yaml").write_text(DRAFT_SCENARIOS)
    return pytester


def test_a_draft_is_rehearsed_with_a_warning(drafted: pytest.Pytester) -> None:
    """The scenarios of a draft run and pass; its findings are a warning in the summary."""
    result = drafted.runpytest(*PLUGIN, "journeys")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*DraftJourneyWarning*draft.yaml:16:3: warning T50[34] *", "*runs as a draft*"]
    )


def test_topo_strict_refuses_a_draft(drafted: pytest.Pytester) -> None:
    """With --topo-strict the draft is a collection error that lists its findings."""
    result = drafted.runpytest(*PLUGIN, "journeys", "--topo-strict")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*has findings, which --topo-strict refuses:*", "*draft.yaml:16:3: error T50[34] *"]
    )


def test_the_journey_fixture_loads_a_draft(drafted: pytest.Pytester) -> None:
    """The fixture returns a draft, with a warning; under --topo-strict it raises."""
    drafted.makepyfile(
        test_use="""
        import pytest
        import topo

        def test_it(journey, request):
            if request.config.getoption("topo_strict"):
                with pytest.raises(topo.InvalidJourney):
                    journey("draft")
            else:
                assert journey("draft").journey == "demo"
        """
    )
    result = drafted.runpytest(*PLUGIN, "test_use.py")
    result.assert_outcomes(passed=1, warnings=1)
    drafted.runpytest(*PLUGIN, "test_use.py", "--topo-strict").assert_outcomes(passed=1)
