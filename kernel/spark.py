"""The one Spark session of a job run, with Delta from the vendored jars.

Jars are resolved at set-up time by Maven (``make jars``) into ``.jars/``; nothing is
downloaded when a job runs. ``SPARK_MASTER`` points the same code at a cluster.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


LOG4J = Path(__file__).resolve().parent / "log4j2.properties"


class SetupError(RuntimeError):
    """The machine is not set up (jars missing): run ``make setup``."""


def vendored_jars(jars_dir: Path) -> list[str]:
    """The jars Maven resolved into ``jars_dir`` (Delta, delta-storage, PostgreSQL JDBC)."""
    jars = sorted(str(p) for p in jars_dir.glob("*.jar"))
    if not any(Path(j).name.startswith("delta-spark") for j in jars):
        raise SetupError(
            f"no Delta jar in {jars_dir}: run 'make setup' (Maven resolves the jars at set-up)"
        )
    return jars


def session(
    settings: Settings | None = None,
    app_name: str = "convergence-lakehouse",
    master: str | None = None,
    shuffle_partitions: int | None = None,
    ui: bool = False,
) -> SparkSession:
    """Get or create the Spark session configured for Delta and the agencies' charsets."""
    from pyspark.sql import SparkSession

    s = settings or Settings.from_env()
    # Python workers (pandas UDFs: Presidio) run this interpreter, the project's venv: pyspark
    # reads PYSPARK_PYTHON when the driver starts (spark.pyspark.python only under spark-submit).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    partitions = shuffle_partitions or s.shuffle_partitions
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master or s.spark_master)
        .config("spark.jars", ",".join(vendored_jars(s.jars_dir)))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
        .config("spark.sql.legacy.javaCharsets", "true")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", s.spark_driver_memory)
        .config("spark.ui.enabled", str(ui).lower())
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Python workers run this interpreter (the project's venv), wherever pyspark starts.
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .config("spark.databricks.delta.schema.autoMerge.enabled", "false")
        # Delta replays its log with 50 partitions by default: far too many for this machine.
        .config("spark.databricks.delta.snapshotPartitions", str(partitions))
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        .config("spark.sql.warehouse.dir", str(s.cache_dir / "spark-warehouse"))
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={s.cache_dir} -Dlog4j2.configurationFile=file:{LOG4J}",
        )
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
