"""The JSON Schema of the personas file: shipped, current, and accepting the shipped files.

``schema/personas-1.schema.json`` is :func:`personas_schema_text`'s output; run with
``TOPO_UPDATE_GOLDEN=1`` to rewrite it after a deliberate change to the model, then review the
diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from conftest import ROOT
from topo.journey.loader import load_file
from topo.simulation.personas import personas_schema_text

SHIPPED = ROOT / "schema" / "personas-1.schema.json"
PERSONAS = sorted((ROOT / "journeys").glob("*.personas.yaml"))


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(personas_schema_text())
    return schema


def _data(path: Path) -> Any:
    document = load_file(path).document
    assert document is not None
    return json.loads(json.dumps(document.data))  # as an editor sees it: keys are text


class TestSchema:
    """The schema is well formed and shipped as generated."""

    def test_shipped_schema_is_current(self) -> None:
        """The committed schema is what the model generates today."""
        text = personas_schema_text()
        if os.environ.get("TOPO_UPDATE_GOLDEN"):
            SHIPPED.write_text(text, encoding="utf-8")
        assert SHIPPED.read_text(encoding="utf-8") == text

    def test_well_formed(self) -> None:
        """The schema is valid for draft 2020-12 and for draft-07 (editors use the latter)."""
        Draft202012Validator.check_schema(_schema())
        Draft7Validator.check_schema(_schema())

    def test_by_alias(self) -> None:
        """A rate response is written with `for`, as in the file, not `for_`."""
        response = _schema()["$defs"]["Response"]["properties"]
        assert "for" in response and "for_" not in response

    def test_sorted_with_a_final_newline(self) -> None:
        """The text has sorted keys and ends with a newline, so diffs stay small."""
        text = personas_schema_text()
        assert text.endswith("}\n")
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )

    @pytest.mark.parametrize("path", PERSONAS, ids=[p.stem for p in PERSONAS])
    def test_accepts_the_shipped_personas(self, path: Path) -> None:
        """Every shipped personas file is valid under the schema, as an editor checks it."""
        for validator in (Draft202012Validator, Draft7Validator):
            errors = [e.message for e in validator(_schema()).iter_errors(_data(path))]
            assert errors == []

    def test_refuses_an_unknown_key(self) -> None:
        """A misspelt key is flagged by an editor too."""
        data = {"personas": 1, "population": [{"id": "a", "share": "100%", "jion": {}}]}
        assert list(Draft202012Validator(_schema()).iter_errors(data))
