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
DRIVER_JAVA_OPTIONS = "LAKEHOUSE_DRIVER_JAVA_OPTIONS"
"""The setting with more JVM options for the driver (none by default). Short runs on small data
gain from ``-XX:TieredStopAtLevel=1`` (no C2 compilation: the test suite's many short
``lakehouse`` processes set it); a long job loses by it."""


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


def extra_jars(settings: Settings) -> list[str]:
    """More jars for the driver to serve to executors: those in ``LAKEHOUSE_EXTRA_JARS_DIR``
    when it is set (the cluster profile's s3a file system, ``.jars/s3a/``; docs/cluster.md)."""
    folder = settings.get("LAKEHOUSE_EXTRA_JARS_DIR")
    if folder is None:
        return []
    jars = sorted(str(p) for p in Path(folder).glob("*.jar"))
    if not jars:
        raise SetupError(f"no jar in LAKEHOUSE_EXTRA_JARS_DIR={folder}: run 'make cluster-setup'")
    return jars


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Spark settings for ``s3a://`` from the standard AWS variables, the ones ``deltalake``
    and the object store clients read too (docs/cluster.md); empty when none is set.

    ``AWS_ENDPOINT_URL`` (an S3-compatible store: path-style requests, TLS when ``https``),
    ``AWS_REGION`` (default ``us-east-1``), ``AWS_ACCESS_KEY_ID`` with ``AWS_SECRET_ACCESS_KEY``
    (static keys; without them s3a's default credential chain applies).
    """
    conf: dict[str, str] = {}
    endpoint = settings.get("AWS_ENDPOINT_URL")
    if endpoint is not None:
        conf["fs.s3a.endpoint"] = endpoint
        conf["fs.s3a.path.style.access"] = "true"
        conf["fs.s3a.connection.ssl.enabled"] = str(endpoint.startswith("https:")).lower()
        conf["fs.s3a.endpoint.region"] = settings.get("AWS_REGION", "us-east-1") or "us-east-1"
    key, secret = settings.get("AWS_ACCESS_KEY_ID"), settings.get("AWS_SECRET_ACCESS_KEY")
    if key is not None and secret is not None:
        conf["fs.s3a.aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        )
        conf["fs.s3a.access.key"] = key
        conf["fs.s3a.secret.key"] = secret
    return {f"spark.hadoop.{k}": v for k, v in conf.items()}


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
        .config("spark.jars", ",".join(vendored_jars(s.jars_dir) + extra_jars(s)))
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
            f"-Dderby.system.home={s.cache_dir} -Dlog4j2.configurationFile=file:{LOG4J} "
            + (s.get(DRIVER_JAVA_OPTIONS) or ""),
        )
    )
    # The cluster profile's object store (docs/cluster.md): nothing unless AWS_* are set.
    for key, value in s3a_conf(s).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
