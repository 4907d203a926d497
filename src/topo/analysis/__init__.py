"""Stage 2a, analysis: step 4 of the TOPO method, done by a machine, and journey diffs.

Takes a checked :class:`~topo.journey.model.Journey`; hands on findings (graph, guards, pressure),
drawings (Mermaid, DOT) and the changes between two versions of a journey. Entry points:
:func:`analyse` and :data:`CHECKS` (``checks``), ``diagrams.render``, ``diffing.diff_journeys``.
Reads the journey stage only; the engine never imports it, nor it the engine.
"""

from topo.analysis.checks import CHECKS, FORMAT_RULES, Analysis, Check, analyse, codes_not_run

__all__ = ["CHECKS", "FORMAT_RULES", "Analysis", "Check", "analyse", "codes_not_run"]
