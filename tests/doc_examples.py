"""The fenced examples of the docs and the README, read once for the tests that check them."""

from __future__ import annotations

import re

from conftest import ROOT

PAGES = sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"])
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def blocks(kind: str) -> list[tuple[str, str, str]]:
    """(page:line, info string, body) of every fenced block whose info starts with ``kind``."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            info = match.group(1).strip()
            if info.split(" ", 1)[0] == kind:
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{page.relative_to(ROOT)}:{line}", info, match.group(2)))
    return found


YAML = blocks("yaml")
PYTHON = blocks("python")
