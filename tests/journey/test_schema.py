"""The JSON Schema of the journey format: well formed, shipped, and true to the validator.

Journeys are read with topo's own loader, as an editor would read them with YAML 1.2: ``on:``
stays a string. ``schema/journey-1.schema.json`` is ``topo schema``'s output; run with
``TOPO_UPDATE_GOLDEN=1`` to rewrite it after a deliberate change, then review the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from conftest import JOURNEY_FILES, MINIMAL, ROOT, validate_rules
from doc_examples import YAML
from topo.cli.commands import main
from topo.journey.durations import parse_duration, parse_percentage
from topo.journey.loader import load_file, load_text
from topo.journey.schema import (
    DURATION_PATTERN,
    MESSAGE_PATTERN,
    PERCENTAGE_PATTERN,
    SCHEMA_ID,
    journey_schema,
    schema_text,
)
from topo.journey.templates import check_template
from topo.validation import validate_text

SHIPPED = ROOT / "schema" / "journey-1.schema.json"
JOURNEYS = JOURNEY_FILES
DOC_JOURNEYS = [(where, body) for where, info, body in YAML if info.split()[1:2] == ["journey"]]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("T[234]*.yaml"))

EXPRESSIBLE = {
    *(f"T2{n:02}" for n in range(1, 12)),
    *("T309", "T312", "T413", "T414", "T416", "T417", "T419", "T421", "T422"),
}
"""Codes whose defects lie inside one entry, where JSON Schema can see them."""

BEYOND_SCHEMA = {
    "T210-min-above-max": "compares two values of one entry",
    "T417-move-into-exit-with-incentive": "needs the kind of the node the move enters",
    "T422-metric-and-attribute-same-name": "compares the keys of two sections",
}
"""Fixtures of those codes whose defect JSON Schema still cannot express, and why."""


def _with_message(message: str) -> str:
    """MINIMAL with an incentive whose message is ``message`` (a YAML scalar)."""
    vip = "vip: {kind: peak, owner: crm}\n"
    gift = f"incentives:\n  gift: {{kind: gift, channel: email, message: {message}}}\n"
    return MINIMAL.replace(vip, "vip: {kind: peak, owner: crm, on_enter: [gift]}\n" + gift)


INVALID = {
    "message with a format other than .Nf": _with_message('"{spend:.2e}"'),
    "message with a conversion": _with_message('"{spend!r}"'),
    "message with a lone brace": _with_message('"100% } sure"'),
    "unknown top-level key": MINIMAL + "colour: blue\n",
    "unknown key in a node": MINIMAL.replace("owner: crm}", "owner: crm, on_entry: []}", 1),
    "duration in months": MINIMAL.replace(
        "{sum: purchase.amount}", "{sum: purchase.amount, window: 3mo}"
    ),
    "zero duration": MINIMAL.replace(
        "{sum: purchase.amount}", "{sum: purchase.amount, window: 0d}"
    ),
    "journey id with capitals": MINIMAL.replace("journey: demo", "journey: Demo"),
    "owner id with a space": MINIMAL.replace("crm: {title: CRM}", "crm team: {title: CRM}"),
    "metric name with a hyphen": MINIMAL.replace("spend: {sum", "total-spend: {sum"),
    "metric named now": MINIMAL.replace("spend: {sum", "now: {sum"),
    "event named profile": MINIMAL.replace("  purchase:\n", "  profile:\n", 1),
    "wrong node kind": MINIMAL.replace("kind: peak", "kind: summit"),
    "format version 2": MINIMAL.replace("topo: 1", "topo: 2"),
    "version as text": MINIMAL.replace("version: 1", "version: '1'"),
    "move with on and after": MINIMAL.replace("on: purchase,", "on: purchase, after: 30d,"),
    "move with neither on nor after": MINIMAL.replace("on: purchase,", ""),
    "empty from list": MINIMAL.replace("from: visitor", "from: []"),
    "metric of two kinds": MINIMAL.replace(
        "{sum: purchase.amount}", "{sum: purchase.amount, count: purchase}"
    ),
    "sum without a field": MINIMAL.replace("sum: purchase.amount", "sum: purchase"),
    "holdout over 100%": MINIMAL
    + "incentives:\n  gift: {kind: gift, channel: email, holdout: 150%}\n",
    "negative cost": MINIMAL + "incentives:\n  gift: {kind: gift, channel: email, cost: -1}\n",
}
"""Journeys with one defect each that both the schema and ``topo validate`` reject."""

SAMPLES = {
    **{p.stem: p.read_text(encoding="utf-8") for p in JOURNEYS + FIXTURES},
    **dict(DOC_JOURNEYS),
    **INVALID,
}
"""Every journey the tests know, valid or not, by name."""


def _data(text: str, where: str = "<test>") -> Any:
    loaded = load_text(text, where)
    assert loaded.document is not None, [d.render() for d in loaded.diagnostics]
    return loaded.document.data


def _errors(validator: Any, data: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    ]


def _is_percentage(text: str) -> bool:
    try:
        parse_percentage(text)
    except ValueError:
        return False
    return True


def _definitions(schema: dict[str, Any]) -> dict[str, Any]:
    """The journey itself and every entry it is made of, by name."""
    return {"Journey": schema, **schema["$defs"]}


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside ``schema``, itself included."""
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key in ("properties", "$defs"):
                for child in value.values():
                    yield from _subschemas(child)
            elif key not in ("enum", "const", "default", "required"):
                yield from _subschemas(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _subschemas(item)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return journey_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


class TestJourneySchema:
    """``journey_schema()``: a valid draft 2020-12 schema that says what the format says."""

    def test_valid_per_metaschema(self, schema: dict[str, Any]) -> None:
        """The schema is valid per the draft 2020-12 metaschema."""
        Draft202012Validator.check_schema(schema)

    def test_readable_as_draft_07(self, schema: dict[str, Any]) -> None:
        """The schema is also a valid draft-07 schema, the draft yaml-language-server reads."""
        Draft7Validator.check_schema(schema)

    def test_header(self, schema: dict[str, Any]) -> None:
        """The schema names its draft, its id, a title and a description."""
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == SCHEMA_ID
        assert schema["title"] and schema["description"]

    def test_alias_names(self, schema: dict[str, Any]) -> None:
        """A move's properties are named as journeys write them: ``from``, not ``from_``."""
        assert "from" in schema["$defs"]["Move"]["properties"]
        assert "from_" not in schema["$defs"]["Move"]["properties"]

    def test_objects_forbid_unknown_keys(self, schema: dict[str, Any]) -> None:
        """Every object with named properties refuses any other key."""
        for name, definition in _definitions(schema).items():
            assert definition["additionalProperties"] is False, name
        objects = [s for s in _subschemas(schema) if s.get("type") == "object"]
        assert all("additionalProperties" in s for s in objects)

    def test_every_property_described(self, schema: dict[str, Any]) -> None:
        """Every property of every entry has a description for an editor's hover."""
        for name, definition in _definitions(schema).items():
            for key, prop in definition["properties"].items():
                assert prop.get("description"), f"{name}.{key}"
                assert "title" not in prop, f"{name}.{key}"

    def test_every_mapping_checks_its_keys(self, schema: dict[str, Any]) -> None:
        """Every section keyed by ids or names checks its keys with a pattern."""
        mappings = [
            s for s in _subschemas(schema) if isinstance(s.get("additionalProperties"), dict)
        ]
        assert len(mappings) == 9  # seven sections, an event's fields, a migration's nodes
        assert all("pattern" in s["propertyNames"] for s in mappings)
        assert not any("patternProperties" in s for s in _subschemas(schema))

    def test_durations_spelled_as_the_format_does(self, schema: dict[str, Any]) -> None:
        """Every duration uses the format's pattern, none the model's declared one."""
        patterns = [s["pattern"] for s in _subschemas(schema) if "smhdw" in s.get("pattern", "")]
        assert len(patterns) == 7  # window, after, by, two cooldowns, per, dedup_window
        assert set(patterns) == {DURATION_PATTERN}

    def test_defaults_are_valid(self, schema: dict[str, Any]) -> None:
        """Every default an editor may insert is valid where it stands (``30d``, ``0%``)."""
        with_default = [s for s in _subschemas(schema) if "default" in s]
        assert len(with_default) > 30
        for sub in with_default:
            rest = {k: v for k, v in sub.items() if k != "default"}
            where = Draft202012Validator({**rest, "$defs": schema["$defs"]})
            assert _errors(where, sub["default"]) == [], sub

    def test_fresh_each_time(self) -> None:
        """Changing one returned schema does not change the next."""
        first = journey_schema()
        first["$defs"]["Move"]["properties"]["from"]["anyOf"][0]["pattern"] = "x"
        assert journey_schema() != first


class TestShippedJourneys:
    """Every journey shipped under ``journeys/`` is valid per the schema."""

    @pytest.mark.parametrize("path", JOURNEYS, ids=[p.name for p in JOURNEYS])
    def test_valid(self, path: Path, validator: Draft202012Validator) -> None:
        """The journey passes the schema with no error."""
        loaded = load_file(path)
        assert loaded.document is not None
        assert _errors(validator, loaded.document.data) == []

    def test_some_found(self) -> None:
        """The folder holds the four example journeys at least."""
        assert len(JOURNEYS) >= 4


class TestDocJourneys:
    """Every ``yaml journey`` block of the docs is valid per the schema."""

    @pytest.mark.parametrize("where,body", DOC_JOURNEYS, ids=[w for w, _ in DOC_JOURNEYS])
    def test_valid(self, where: str, body: str, validator: Draft202012Validator) -> None:
        """The block passes the schema with no error."""
        assert _errors(validator, _data(body, where)) == []


class TestInvalidJourneys:
    """Journeys the validator rejects for a defect inside one entry, the schema rejects too."""

    def test_minimal_is_valid(self, validator: Draft202012Validator) -> None:
        """The journey the defects are made from is valid, so each error is the defect's."""
        assert _errors(validator, _data(MINIMAL)) == []

    @pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
    def test_rejected_by_both(self, text: str, validator: Draft202012Validator) -> None:
        """The schema finds an error, and so does ``topo validate``."""
        assert _errors(validator, _data(text))
        assert validate_text(text, "<test>")

    @pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
    def test_fixture(self, path: Path, validator: Draft202012Validator) -> None:
        """A fixture is rejected exactly when its defect is one JSON Schema can express."""
        loaded = load_file(path)
        assert loaded.document is not None and not loaded.diagnostics
        expressible = path.stem[:4] in EXPRESSIBLE and path.stem not in BEYOND_SCHEMA
        assert bool(_errors(validator, loaded.document.data)) is expressible

    def test_beyond_schema_names_fixtures(self) -> None:
        """Every fixture said to be beyond the schema exists."""
        assert set(BEYOND_SCHEMA) <= {p.stem for p in FIXTURES}


class TestDraft7Reading:
    """An editor that validates with draft-07 semantics reaches the same verdicts."""

    @pytest.mark.parametrize("text", SAMPLES.values(), ids=SAMPLES.keys())
    def test_same_errors(self, text: str, validator: Draft202012Validator) -> None:
        """Draft-07 and draft 2020-12 find the same errors in the journey."""
        data = _data(text)
        draft7 = Draft7Validator(validator.schema)
        assert sorted(_errors(draft7, data)) == sorted(_errors(validator, data))


class TestPatterns:
    """Durations and percentages the schema accepts, the validator accepts too."""

    @given(st.from_regex(DURATION_PATTERN, fullmatch=True).filter(lambda text: len(text) <= 8))
    def test_schema_duration_parses(self, text: str) -> None:
        """A duration matching the pattern (up to 9999999w) is a positive duration."""
        assert parse_duration(text).total_seconds() > 0

    def test_huge_duration_reported(self) -> None:
        """A duration longer than Python's timedelta allows is a diagnostic, not a crash."""
        text = MINIMAL.replace(
            "{sum: purchase.amount}", "{sum: purchase.amount, window: 10000000000w}"
        )
        assert [d.code for d in validate_rules(text, "<test>")] == ["T207"]

    @given(st.integers(min_value=1, max_value=10**9), st.sampled_from("smhdw"))
    def test_written_duration_matches(self, amount: int, unit: str) -> None:
        """Every duration as the format writes it matches the pattern."""
        assert re.fullmatch(DURATION_PATTERN, f"{amount}{unit}")

    @given(st.from_regex(PERCENTAGE_PATTERN, fullmatch=True))
    def test_schema_percentage_parses(self, text: str) -> None:
        """A percentage matching the pattern is a share from 0 to 1."""
        assert 0 <= parse_percentage(text) <= 1

    @given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["", ".5", ".25"]))
    def test_percentage_range(self, whole: int, decimals: str) -> None:
        """A percentage matches exactly when it is 100% or less."""
        text = f"{whole}{decimals}%"
        assert bool(re.fullmatch(PERCENTAGE_PATTERN, text)) is _is_percentage(text)


class _Everything(set[str]):
    """Every name is known: only the template's shape is judged."""

    def __contains__(self, name: object) -> bool:
        return True


class TestMessagePattern:
    """The schema's pattern for messages accepts exactly the templates whose shape the
    validator accepts (which names they may show is the validator's alone)."""

    def test_a_number_format_is_valid(self, validator: Draft202012Validator) -> None:
        text = _with_message('"{spend:.2f} of {node}, {{literal}} { spend :.0f}"')
        assert _errors(validator, _data(text)) == []
        assert validate_rules(text, "<test>") == []

    @given(st.text(alphabet="{}:.09fFe_ a!x\t", max_size=14))
    def test_same_verdict_on_the_shape(self, template: str) -> None:
        shape = {"invalid-template", "invalid-format"}
        problems = [p for p in check_template(template, _Everything(), set()) if p.name in shape]
        assert bool(re.search(MESSAGE_PATTERN, template)) is (problems == [])


class TestSchemaText:
    """``schema_text()``: the shipped file, as ``topo schema`` prints it."""

    def test_shipped_file_is_current(self) -> None:
        """``schema/journey-1.schema.json`` is exactly what ``topo schema`` prints."""
        text = schema_text()
        if os.environ.get("TOPO_UPDATE_GOLDEN"):
            SHIPPED.write_text(text, encoding="utf-8")
        assert SHIPPED.exists(), "the schema file is missing; run with TOPO_UPDATE_GOLDEN=1"
        assert SHIPPED.read_text(encoding="utf-8") == text

    def test_json_with_sorted_keys(self) -> None:
        """The text is the schema as JSON, keys sorted, ending in a newline."""
        text = schema_text()
        assert json.loads(text) == journey_schema()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


class TestSchemaCommand:
    """``topo schema`` prints the schema."""

    def test_prints_schema(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The command exits 0 and prints the schema as valid JSON, nothing on stderr."""
        code = main(["schema"])
        out, err = capsys.readouterr()
        assert (code, err) == (0, "")
        assert json.loads(out) == journey_schema()
        assert out == schema_text()
