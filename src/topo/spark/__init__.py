"""topo on Apache Spark: replay and simulation past one machine (the ``spark`` extra).

Takes a DataFrame of events (or a journey and personas) and a Spark session; each task runs the
real engine on its members. It hands on the outputs of ``topo replay`` and ``topo simulate``,
exactly, as typed DataFrames or JSON lines. Entry points: :func:`replay`, :func:`simulate`
(see docs/spark.md). It needs PySpark (``pip install 'topo[spark]'``); ``import topo`` never
imports it.
"""

from __future__ import annotations

NEEDS_PYSPARK = (
    "topo.spark needs PySpark 4, topo's spark extra: pip install 'topo[spark]' "
    "(or '.[spark]' in topo's folder)"
)

try:
    import pyarrow  # noqa: F401
    import pyspark  # noqa: F401
except ImportError:
    raise ImportError(NEEDS_PYSPARK) from None

from topo.spark.replaying import Result, replay  # noqa: E402 (after the check above)
from topo.spark.sessions import session  # noqa: E402
from topo.spark.simulating import Simulation, simulate  # noqa: E402

__all__ = ["Result", "Simulation", "replay", "session", "simulate"]
