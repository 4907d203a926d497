"""The registry of diagnostic codes."""

from __future__ import annotations

import re
from pathlib import Path

import topo

SRC = Path(topo.__file__).parent


class TestRegistry:
    """Codes and names are unique, well formed, and all in use."""

    def test_codes_and_names_are_unique(self) -> None:
        """No two entries share a code or a name."""
        assert len({c.code for c in topo.CODES}) == len(topo.CODES)
        assert len({c.name for c in topo.CODES}) == len(topo.CODES)

    def test_shapes(self) -> None:
        """Codes are T and three digits; names are kebab-case; summaries are sentences."""
        for code in topo.CODES:
            assert re.fullmatch(r"T[1-9][0-9]{2}", code.code)
            assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", code.name)
            assert code.summary.endswith(".") and code.summary[0].isupper()

    def test_every_name_is_used_by_the_source(self) -> None:
        """Every registered name appears in the source as a string (no dead codes)."""
        source = "\n".join(
            p.read_text(encoding="utf-8") for p in SRC.rglob("*.py") if p.name != "codes.py"
        )
        unused = [c.name for c in topo.CODES if f'"{c.name}"' not in source]
        assert unused == []
