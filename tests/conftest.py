"""Shared test set-up: hypothesis profiles and small journey builders."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from topo.diagnostics import Diagnostic
from topo.validation import validate_text

ROOT = Path(__file__).resolve().parent.parent

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
