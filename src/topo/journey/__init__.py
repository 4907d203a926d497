"""Stage 1, the journey: a YAML file becomes a checked, positioned model.

Takes a journey file's text; hands on a :class:`~topo.journey.model.Journey` (pydantic, frozen)
and diagnostics that point at ``path:line:col``. Entry points: ``loader.load_file``
(YAML with every position kept), the checks in ``shape``, ``references``, ``guards`` and
``suppressions``, and the code registry :data:`topo.journey.codes.CODES`. Imports no other stage.
"""

from topo.journey.codes import CODES, Code
from topo.journey.model import Journey

__all__ = ["CODES", "Code", "Journey"]
