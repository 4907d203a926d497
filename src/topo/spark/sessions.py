"""A Spark session for the command line, tests and benchmarks: local or on a cluster's master.

PySpark starts a Java process (the driver's JVM) and, for every task that runs Python, a Python
worker: that worker must be the interpreter topo is installed in, so ``PYSPARK_PYTHON`` is set
to this interpreter when it is not set already. Spark's web UI and console progress bars are
off, and so is the driver's logging below errors (``log4j2.properties`` beside this module)
when the driver's JVM is started here: topo prints its own summary.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from topo.errors import UsageError

__all__ = ["NEEDS_JAVA", "cores", "session"]

NEEDS_JAVA = (
    "Spark needs Java 17 or later, and none could be started: install a Java runtime "
    "(on Debian or Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
)


def session(master: str = "local[*]", *, partitions: int | None = None) -> Any:
    """The active Spark session, or a new one on ``master`` (``local[2]``, ``yarn``,
    ``spark://host:7077``, ...); ``partitions`` sets ``spark.sql.shuffle.partitions``.

    Raises :class:`topo.UsageError` in one sentence when Java is missing or will not start."""
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise UsageError(NEEDS_JAVA)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("topo")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    if "PYSPARK_SUBMIT_ARGS" not in os.environ:  # the driver's JVM is started here: quiet it
        logging = Path(__file__).with_name("log4j2.properties").as_uri()
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={logging}"
        )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # PySparkRuntimeError JAVA_GATEWAY_EXITED, or the JVM's own
        # Java was found above: the JVM started and stopped (a master it cannot reach, a
        # Java too old), or Spark refused the settings.
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
        raise UsageError(
            f"Spark could not start on master {master} ({first[:300]}): is the master right, "
            "and is Java 17 or later the java found (JAVA_HOME, or java on the PATH)?"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def cores(spark: Any) -> int:
    """How many tasks the session runs at once (its default parallelism); under Spark
    Connect, which shows no SparkContext, its ``spark.sql.shuffle.partitions``."""
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect: no SparkContext on the client
        return int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
