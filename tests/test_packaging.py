"""The declared dependency ranges and the oldest versions CI installs stay in step."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from conftest import ROOT


def lower_bounds() -> dict[str, Version]:
    """Every lower bound pyproject.toml declares, runtime and extras, by package name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    bounds: dict[str, Version] = {}
    for line in declared:
        requirement = Requirement(line)
        if requirement.name == "topo":
            continue
        for spec in requirement.specifier:
            if spec.operator == ">=":
                bounds[_name(requirement.name)] = Version(spec.version)
    return bounds


def pinned() -> dict[str, Version]:
    text = (ROOT / "constraints-min.txt").read_text(encoding="utf-8")
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, flags=re.MULTILINE)
    return {_name(name): Version(version) for name, version in pins}


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class TestOldestVersions:
    """constraints-min.txt pins exactly the lower bounds of pyproject.toml."""

    def test_every_bound_is_pinned_at_its_value(self) -> None:
        """A raised bound without its pin (or a pin without a bound) would make CI test a lie."""
        bounds = {
            name: version
            for name, version in lower_bounds().items()
            if name not in ("mypy", "ruff")  # development tools: CI does not install them
        }
        assert pinned() == bounds
