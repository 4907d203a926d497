"""topo on Apache Spark: ``topo.spark.replay`` and ``topo.spark.simulate`` (the ``spark`` extra).

Members never affect each other, so the work splits by member: each Spark task runs the real
:class:`topo.Engine` on its members, and the outputs are exactly those of ``topo replay`` and
``topo simulate`` (see docs/spark.md). Importing this package needs PySpark
(``pip install 'topo[spark]'``); ``import topo`` never imports it.
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

from topo.spark.replaying import Result, replay
from topo.spark.sessions import session
from topo.spark.simulating import Simulation, simulate

__all__ = ["NEEDS_PYSPARK", "Result", "Simulation", "replay", "session", "simulate"]
