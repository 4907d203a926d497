"""Stage 5, rehearsal: step 6 of the TOPO method, one member at a time, before launch.

Takes a journey and scenario files, drawn streams or enumerated paths; hands on failures,
coverage and example members. Entry points: :func:`rehearse` (``runner``, ``topo test``),
``paths`` (``topo paths``), ``strategies`` (public as :mod:`topo.testing`), the pytest plugin,
and ``reference``, the independent state machine the engine is checked against.
"""

from topo.rehearsal.runner import Coverage, Failure, compile_for, rehearse, run_scenario

__all__ = ["Coverage", "Failure", "compile_for", "rehearse", "run_scenario"]
