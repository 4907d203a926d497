"""Stage 4, replay: a file of events runs through a journey, resumably, to output files.

Takes JSON lines, CSV or Parquet events (``readers``) and a journey; hands on triggers, rejects,
withheld grants and member states as JSON lines, through the memory or the SQLite store.
Entry point: :func:`replay` (``runner``), the work behind ``topo replay``.
"""

from topo.replay.runner import ReplayReport, replay, state_line

__all__ = ["ReplayReport", "replay", "state_line"]
