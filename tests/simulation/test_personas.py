"""Loading a personas file and checking it against its journey: every problem, at its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import topo
from conftest import ROOT, dedent
from topo.errors import InvalidPersonas
from topo.simulation.personas import check_personas_text, load_personas

CLUB = topo.load_journey(ROOT / "journeys" / "knowledge-club.yaml")

VALID = dedent(
    """
    personas: 1
    population:
      - id: occasional
        share: 70%
        join: {spread: 90d}
        attributes:
          region: {choice: {north: 60%, south: 40%}}
        events:
          signup: {once: {probability: 100%}, fields: {channel: {value: web}}}
          verify_phone: {once: {probability: 80%, after: {exponential: 2d}}}
          purchase:
            repeat: {bgnbd: {r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, unit: 7d},
                     first: {probability: 60%, after: {value: 20d}}}
            fields:
              amount: {gamma_gamma: {p: 6.25, q: 3.74, gamma: 15.44}}
              offering: {choice: {magazine: 70%, talks: 20%, courses: 10%}}
          unsubscribe: {once: {probability: 5%, after: {exponential: 180d}}}
        respond:
          welcome_coupon: {purchase: {rate: 1.5, for: 30d}}
          any: {unsubscribe: {probability: 0.5%}}
      - id: fan
        share: 30%
        events:
          purchase:
            repeat: {poisson: {every: 14d}}
            fields:
              amount: {uniform: [100, 500]}
              offering: {value: talks}
    """
)
"""A personas file that fits knowledge-club.yaml; tests replace parts of it."""


def problems(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic of ``text`` against knowledge-club."""
    _, diagnostics = check_personas_text(text, "p.yaml", CLUB)
    return [(d.code, d.line, d.column) for d in diagnostics]


def messages(text: str) -> list[str]:
    _, diagnostics = check_personas_text(text, "p.yaml", CLUB)
    return [f"{d.code} {d.message}" for d in diagnostics]


def at(text: str, needle: str, after: str = "") -> tuple[int, int]:
    """The 1-based line and column of ``needle`` in ``text`` (after ``after``, if given)."""
    index = text.index(needle, text.index(after) if after else 0)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def changed(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


class TestValid:
    """A file that fits its journey loads into the model, with no diagnostics."""

    def test_valid_file(self) -> None:
        """The model holds what the file says; `for` is read into `for_`."""
        personas, diagnostics = check_personas_text(VALID, "p.yaml", CLUB)
        assert diagnostics == []
        assert personas is not None
        assert [p.id for p in personas.population] == ["occasional", "fan"]
        response = personas.population[0].respond["welcome_coupon"]["purchase"]
        assert response.rate == 1.5 and response.for_ is not None

    def test_pii_attribute_with_or_without_a_distribution(self) -> None:
        """A pii attribute may be left to the simulator, or drawn."""
        text = changed("region: {choice", "phone: {value: '+00 000'}\n      region: {choice")
        assert problems(text) == []


class TestShape:
    """Keys and types are checked as a journey's are (T2xx), with the personas' own words."""

    def test_unknown_key_suggests(self) -> None:
        """A misspelt key is T201 at the key, with "did you mean"."""
        text = changed("join: {spread: 90d}", "jion: {spread: 90d}")
        assert problems(text) == [("T201", *at(text, "jion"))]
        assert "did you mean 'join'?" in messages(text)[0]

    def test_misspelt_distribution(self) -> None:
        """A misspelt distribution kind suggests the right one."""
        text = changed("{gamma_gamma:", "{gama_gamma:")
        assert problems(text) == [("T201", *at(text, "gama_gamma"))]
        assert "did you mean 'gamma_gamma'?" in messages(text)[0]

    def test_wrong_type(self) -> None:
        """A number where a mapping belongs is T203 at the value."""
        text = changed("join: {spread: 90d}", "join: 90")
        assert problems(text) == [("T203", *at(text, "90", "join"))]

    def test_missing_key(self) -> None:
        """A persona without a share is T202 at the persona."""
        text = changed("    share: 30%\n", "")
        assert problems(text) == [("T202", *at(text, "id: fan"))]

    def test_two_kinds_of_behaviour(self) -> None:
        """`once` and `repeat` together are T602."""
        text = changed(
            "repeat: {poisson: {every: 14d}}", "repeat: {poisson: {every: 14d}}\n        once: {}"
        )
        assert [code for code, _, _ in problems(text)] == ["T602"]

    def test_distribution_with_two_kinds(self) -> None:
        """A distribution with two kinds is T601."""
        text = changed("offering: {value: talks}", "offering: {value: talks, uniform: [1, 2]}")
        assert [code for code, _, _ in problems(text)] == ["T601"]

    def test_not_a_mapping(self) -> None:
        """An empty file says what a personas file starts with."""
        assert messages("") == [
            "T105 the file is empty; a personas file is a mapping that starts with `personas: 1`"
        ]

    def test_yaml_error(self) -> None:
        """A YAML syntax error is the journey's T101."""
        assert [code for code, _, _ in problems("personas: [1\n")] == ["T101"]


class TestAgainstTheJourney:
    """Names the journey does not declare are errors at the name, with "did you mean"."""

    def test_unknown_event_type(self) -> None:
        """An event type the journey lacks is T603 at the key."""
        text = changed("      unsubscribe: {once", "      unsubscrbe: {once")
        assert problems(text) == [("T603", *at(text, "unsubscrbe"))]
        assert "did you mean 'unsubscribe'?" in messages(text)[0]

    def test_unknown_field(self) -> None:
        """A field the event type lacks is T604 at the key."""
        text = changed("{channel: {value: web}}", "{channel: {value: web}, chanel: {value: web}}")
        assert problems(text) == [("T604", *at(text, "chanel"))]
        assert "did you mean 'channel'?" in messages(text)[0]

    def test_unknown_attribute(self) -> None:
        """An attribute the journey lacks is T605 at the key."""
        text = changed("region: {choice", "regoin: {choice")
        assert problems(text) == [("T605", *at(text, "regoin"))]
        assert "did you mean 'region'?" in messages(text)[0]

    def test_unknown_incentive(self) -> None:
        """A `respond` key that is neither an incentive nor `any` is T606 at the key."""
        text = changed("welcome_coupon: {purchase", "welcome_copon: {purchase")
        assert problems(text) == [("T606", *at(text, "welcome_copon"))]
        assert "did you mean 'welcome_coupon'?" in messages(text)[0]

    def test_unknown_response_event_type(self) -> None:
        """A response's event type the journey lacks is T603 at the key."""
        text = changed("{unsubscribe: {probability", "{unsubscribes: {probability")
        assert problems(text) == [("T603", *at(text, "unsubscribes"))]

    def test_profile_event(self) -> None:
        """`profile` among the events is refused, saying that attributes are the profile."""
        text = changed(
            "      unsubscribe: {once", "      profile: {once: {}}\n      unsubscribe: {once"
        )
        assert problems(text) == [("T612", *at(text, "profile"))]
        assert "attributes are sent as one profile event" in messages(text)[0]

    def test_required_field_without_distribution(self) -> None:
        """A required field with no distribution is T610 at the event type."""
        text = changed("{once: {probability: 100%}, fields: {channel: {value: web}}}", "{once: {}}")
        assert problems(text) == [("T610", *at(text, "signup"))]
        assert "'channel'" in messages(text)[0]

    def test_optional_field_may_be_left_out(self) -> None:
        """`plan` is optional: no distribution, no problem (it is absent)."""
        assert "plan" not in VALID and problems(VALID) == []

    def test_response_sending_an_event_the_persona_does_not_draw(self) -> None:
        """A probability response that sends an event type with required fields needs them."""
        text = changed("any: {unsubscribe", "any: {attend: {probability: 5%}, unsubscribe")
        assert problems(text) == [("T610", *at(text, "attend"))]

    @pytest.mark.parametrize(
        ("response", "said"),
        [
            ("unsubscribe: {rate: 2, for: 7d}", "sends once"),
            ("attend: {rate: 2, for: 7d}", "does not send"),
        ],
    )
    def test_a_rate_response_needs_a_repeat(self, response: str, said: str) -> None:
        """Multiplying the rate of an event sent once, or not at all, would do nothing."""
        text = changed(
            "welcome_coupon: {purchase: {rate: 1.5, for: 30d}}", f"welcome_coupon: {{{response}}}"
        )
        name = response.split(":")[0]
        assert problems(text) == [("T613", *at(text, name, "welcome_coupon"))]
        assert said in messages(text)[0]

    def test_duplicate_persona_ids(self) -> None:
        """Two personas with one id: T611 at the second id."""
        text = changed("id: fan", "id: occasional")
        assert problems(text) == [("T611", *at(text, "occasional", "share: 70%"))]


class TestShares:
    """Shares add up to 100%, within 1e-9."""

    def test_population_shares(self) -> None:
        """Shares of 70% and 20% are T607 at `population`."""
        text = changed("share: 30%", "share: 20%")
        assert problems(text) == [("T607", *at(text, "population"))]
        assert "90%" in messages(text)[0]

    def test_choice_shares(self) -> None:
        """A choice of 60% and 30% is T607 at `choice`."""
        text = changed("{north: 60%, south: 40%}", "{north: 60%, south: 30%}")
        assert problems(text) == [("T607", *at(text, "choice"))]

    def test_thirds_add_up(self) -> None:
        """Three shares of 33.3333333333% are within the tolerance."""
        third = "33.33333333333333%"
        choice = f"{{magazine: {third}, talks: {third}, courses: {third}}}"
        assert problems(changed("{magazine: 70%, talks: 20%, courses: 10%}", choice)) == []


OFFERING = "offering: {value: talks}"
AMOUNT = "amount: {uniform: [100, 500]}"
REGION = "region: {choice: {north: 60%, south: 40%}}"


class TestTypes:
    """A distribution fits the type of what it draws (T608) and its `one_of` (T609)."""

    @pytest.mark.parametrize(
        "old,new,needle",
        [
            (OFFERING, "offering: {gamma_gamma: {p: 1, q: 2, gamma: 3}}", "gamma_gamma: {p: 1"),
            (OFFERING, "offering: {uniform: [1, 2]}", "uniform: [1"),
            (OFFERING, "offering: {value: 3}", "3}"),
            (AMOUNT, "amount: {value: lots}", "lots"),
            (AMOUNT, "amount: {exponential: 2d}", "exponential: 2d}"),
            (REGION, "region: {choice: {1: 60%, 2: 40%}}", "1: 60%"),
            (REGION, "region: {normal: {mean: 1, sd: 1}}", "normal"),
            ("after: {exponential: 2d}", "after: {lognormal: {median: 2, sigma: 1}}", "lognormal"),
            ("after: {value: 20d}", "after: {value: 20}", "20}"),
            ("after: {value: 20d}", "after: {value: 20 days}", "20 days"),
        ],
    )
    def test_type_mismatch(self, old: str, new: str, needle: str) -> None:
        """The distribution that does not fit is T608 where it says so."""
        text = changed(old, new)
        assert problems(text)[0] == ("T608", *at(text, needle, new))
        assert {code for code, _, _ in problems(text)} == {"T608"}

    def test_choice_outside_one_of(self) -> None:
        """A choice value outside the field's `one_of` is T609 at the value, with a hint."""
        text = changed("talks: 20%, courses", "talk: 20%, courses")
        assert problems(text) == [("T609", *at(text, "talk: 20%"))]
        assert "did you mean 'talks'?" in messages(text)[0]

    def test_value_outside_one_of(self) -> None:
        """A value outside the field's `one_of` is T609."""
        text = changed("offering: {value: talks}", "offering: {value: books}")
        assert problems(text) == [("T609", *at(text, "books"))]

    def test_pii_value_is_never_quoted(self) -> None:
        """A wrong value of a pii attribute is reported without the value."""
        text = changed("region: {choice", "phone: {value: 4915112345678}\n      region: {choice")
        assert problems(text) == [("T608", *at(text, "4915112345678"))]
        assert "4915112345678" not in messages(text)[0]

    @pytest.mark.parametrize(
        "line",
        ['phone: {choice: {"4915112345678": 100}}', "phone: {value: 4915112345678999999999}"],
    )
    def test_pii_is_never_quoted_in_a_shape_problem(self, line: str) -> None:
        """A problem the shape stage finds inside a pii attribute's distribution (a share
        without %, here) names neither the value nor a choice's value, even in its path."""
        text = changed("region: {choice", f"{line}\n      region: {{choice")
        found = messages(text)
        assert found and not any("4915112345678" in m for m in found)


class TestEveryProblemAtOnce:
    """A file with many mistakes reports each of them in one run, in file order."""

    def test_many_mistakes(self) -> None:
        """Seven mistakes of seven kinds, seven diagnostics."""
        text = (
            VALID.replace("jion", "jion")
            .replace("join: {spread: 90d}", "jion: {spread: 90d}")
            .replace("regio", "regoin")
            .replace("unsubscribe: {once", "unsubscrbe: {once")
            .replace("talks: 20%, courses", "talk: 20%, courses")
            .replace("welcome_coupon:", "welcome_copon:")
            .replace("id: fan", "id: occasional")
            .replace("share: 30%", "share: 20%")
        )
        codes = [code for code, _, _ in problems(text)]
        assert sorted(codes) == sorted(["T201", "T605", "T603", "T609", "T606", "T611", "T607"])
        assert problems(text) == sorted(problems(text), key=lambda p: (p[1], p[2]))


class TestLoadPersonas:
    """`load_personas` gives the model, or raises InvalidPersonas with every diagnostic."""

    def test_loads(self, tmp_path: Path) -> None:
        """A valid file loads."""
        path = tmp_path / "p.personas.yaml"
        path.write_text(VALID, encoding="utf-8")
        assert len(load_personas(path, CLUB).population) == 2

    def test_invalid_raises_with_diagnostics(self, tmp_path: Path) -> None:
        """An invalid file raises InvalidPersonas, a TopoError, naming the file."""
        path = tmp_path / "p.personas.yaml"
        path.write_text(changed("share: 30%", "share: 20%"), encoding="utf-8")
        with pytest.raises(InvalidPersonas) as raised:
            load_personas(path, CLUB)
        assert isinstance(raised.value, topo.TopoError)
        assert [d.code for d in raised.value.diagnostics] == ["T607"]
        assert str(path) in str(raised.value)

    @pytest.mark.parametrize("name", ["missing.yaml", ".", "a\0b"])
    def test_unreadable(self, tmp_path: Path, name: str) -> None:
        """A missing file, a folder or an impossible path is T100, not a traceback."""
        with pytest.raises(InvalidPersonas) as raised:
            load_personas(str(tmp_path / name) if name != "." else tmp_path, CLUB)
        assert [d.code for d in raised.value.diagnostics] == ["T100"]


SHIPPED = sorted((ROOT / "journeys").glob("*.personas.yaml"))


class TestShipped:
    """Each shipped journey has a personas file that fits it."""

    def test_one_beside_each_journey_and_cdnow_s_calibrated_one(self) -> None:
        """One written by hand beside each shipped journey; CDNOW's calibrated one too."""
        assert [p.name for p in SHIPPED] == [
            "cdnow.calibrated.personas.yaml",
            *(f"{name}.personas.yaml"
              for name in ("cdnow", "grocery", "knowledge-club", "retail-tiers")),
        ]  # fmt: skip

    @pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
    def test_loads_without_diagnostics(self, path: Path) -> None:
        """The file has no diagnostics against its journey, and 2 to 4 personas (the
        calibrated one, 1)."""
        journey = topo.load_journey(path.with_name(path.name.split(".")[0] + ".yaml"))
        _, diagnostics = check_personas_text(path.read_text(encoding="utf-8"), str(path), journey)
        assert [d.render() for d in diagnostics] == []
        count = len(load_personas(path, journey).population)
        assert count == 1 if ".calibrated." in path.name else 2 <= count <= 4


YAMLISH = st.text(alphabet="personasid:-{}[],% \n0123456789.dwhrxyz&*!|>'\"#", max_size=200)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
SHARES = st.sampled_from(["50%", "100%", "1e3%", "-1%", "200%", "%", "0.5"]) | SCALARS
DATA = st.recursive(
    SCALARS | SHARES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "personas",
                    "population",
                    "id",
                    "share",
                    "join",
                    "spread",
                    "at",
                    "events",
                    "attributes",
                    "respond",
                    "once",
                    "repeat",
                    "fields",
                    "choice",
                    "value",
                    "uniform",
                    "purchase",
                    "amount",
                    "offering",
                    "region",
                    "any",
                    "after",
                    "first",
                    "poisson",
                    "bgnbd",
                    "every",
                    "exponential",
                    "probability",
                    "rate",
                    "for",
                    "profile",
                    "normal",
                    "gamma_gamma",
                    "lognormal",
                    "p",
                    "q",
                    "gamma",
                    "mean",
                    "sd",
                    "median",
                    "sigma",
                    "r",
                    "alpha",
                    "a",
                    "b",
                    "unit",
                    "welcome_coupon",
                    "plan",
                    "signup",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)


class TestHostileInput:
    """No text and no structure makes the checker raise: everything is a diagnostic."""

    @given(YAMLISH)
    def test_random_text(self, text: str) -> None:
        """Random YAML-ish text gives diagnostics or a model, never an exception."""
        personas, diagnostics = check_personas_text(text, "p.yaml", CLUB)
        assert (personas is None) == any(d.severity == "error" for d in diagnostics)

    @given(DATA)
    def test_random_structures(self, data: object) -> None:
        """Random structures of the format's own words give diagnostics, never an exception."""
        import json

        text = "personas: 1\npopulation:\n  - " + json.dumps(data, allow_nan=True)
        check_personas_text(text, "p.yaml", CLUB)
        check_personas_text(json.dumps(data, allow_nan=True), "p.yaml", CLUB)

    @given(DATA)
    def test_random_persona(self, persona: object) -> None:
        """A random persona inside a valid file never raises."""
        import json

        text = VALID + "  - " + json.dumps(persona, allow_nan=True) + "\n"
        check_personas_text(text, "p.yaml", CLUB)

    @pytest.mark.parametrize(
        "persona",
        [
            "events: {purchase: {once: {}, fields: {amount: {value: 1e999}}}}",
            "events: {purchase: {once: {}, fields: {amount: {uniform: [1, 9%s]}}}}" % ("9" * 40),
            "join: {spread: 9%sd}" % ("9" * 40),
            "attributes: {region: {choice: {.nan: 100%}}}",
            "attributes: {region: {choice: {[1]: 100%}}}",
            "events: {purchase: {once: {after: {value: 9%sd}}}}" % ("9" * 40),
            "events: {purchase: {once: {after: {value: 9%s}}}}" % ("9" * 400),
        ],
    )
    def test_hostile_examples(self, persona: str) -> None:
        """Huge numbers, NaN and complex keys are diagnostics."""
        text = f"personas: 1\npopulation: [{{id: a, share: 100%, {persona}}}]"
        personas, diagnostics = check_personas_text(text, "p.yaml", CLUB)
        assert personas is None and diagnostics

    @pytest.mark.parametrize(
        "text", ["a: &a [*a]", "personas: 1\npopulation: [{share: 9%s%%}]" % ("9" * 60)]
    )
    def test_hostile_files(self, text: str) -> None:
        """Self-referencing aliases and huge shares are diagnostics."""
        personas, diagnostics = check_personas_text(text, "p.yaml", CLUB)
        assert personas is None and diagnostics


def test_a_number_yaml_reads_as_text_says_how_to_write_it() -> None:
    """``uniform: [100, 5e2]``: YAML 1.1 reads ``5e2`` as text; the message says ``5.0e+2``."""
    found = messages(changed("uniform: [100, 500]", "uniform: [100, 5e2]"))
    assert any("(YAML reads 5e2 as text; write 5.0e+2)" in m for m in found), found
