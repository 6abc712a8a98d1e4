"""Scan a table or a file for personal data: the leak gate for stewards and auditors.

:func:`scan_path` (``lakehouse scan-pii TABLE_OR_PATH``, which prints its findings) takes a
Delta table name such as ``gold.person_coverage`` or ``silver.moi.residents`` (resolved to
``<root>/<zone>/<name>``), or a path to a Delta table, a CSV file or folder (UTF-8, with a
header; every column read as text) or a Parquet file or folder. Every text column is scanned
with :func:`masking.leak.scan` (patterns, Presidio on the distinct prefiltered values). A
finding names dataset, column, entity and number of rows, never a value; a table or path that
cannot be found or read raises :class:`ScanInputError`.

Columns named ``*_key`` are pseudonym columns: they must hold only keyed pseudonyms (any other
value is a ``NOT_A_PSEUDONYM`` finding) and are not searched for patterns, as are text columns
holding only 64-digit hex digests (``_event_id``, ``_source_digest``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.layout import Layout, local_path, split_table
from masking.leak import PSEUDONYM, Finding, scan

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class ScanInputError(ValueError):
    """The table or path cannot be found or read."""


def resolve(path_or_table: str, root: str) -> tuple[str, str]:
    """``(format, location)`` of a table name (``gold.person_coverage``) or a path.

    A name ``<zone>.<name>`` with a known zone is the Delta table ``<root>/<zone>/<name>``; a path
    is a Delta table when it holds ``_delta_log``, else CSV or Parquet by its extension or by the
    files of the folder.
    """
    table = split_table(path_or_table)
    if table is not None:
        return "delta", Layout(root).table(*table)
    return _detect(path_or_table), path_or_table


def _detect(path: str) -> str:
    local = local_path(path)
    lower = path.lower().rstrip("/")
    if lower.endswith((".csv", ".csv.gz")):
        return "csv"
    if lower.endswith(".parquet"):
        return "parquet"
    if local is None:
        raise ScanInputError(f"{path}: give a Delta table folder, a .csv or a .parquet path")
    if not local.exists():
        raise ScanInputError(f"{path}: no such table, file or folder")
    if (local / "_delta_log").is_dir():
        return "delta"
    if local.is_dir():
        names = [p.name.lower() for p in local.rglob("*") if p.is_file()]
        if any(n.endswith(".parquet") for n in names):
            return "parquet"
        if any(n.endswith((".csv", ".csv.gz")) for n in names):
            return "csv"
    raise ScanInputError(f"{path}: not a Delta table, CSV or Parquet file or folder")


def read(spark: SparkSession, fmt: str, location: str) -> DataFrame:
    """The table at ``location`` in format ``fmt`` (CSV: header, UTF-8, every column text)."""
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true").option("encoding", "UTF-8")
        reader = reader.option("multiLine", "true").option("inferSchema", "false")
    try:
        return reader.load(location)
    except Exception as exc:  # AnalysisException (missing path), or a Delta error
        problem = f"{location}: cannot be read as {fmt} ({type(exc).__name__})"
        raise ScanInputError(problem) from None


def pseudonym_columns(df: DataFrame) -> tuple[str, ...]:
    """The pseudonym columns (``*_key``) and the text columns holding only hex digests."""
    from pyspark.sql import functions as F

    text = [f.name for f in df.schema.fields if f.dataType.simpleString() == "string"]
    named = [c for c in text if c.endswith("_key")]
    others = [c for c in text if c not in named]
    digests: list[str] = []
    if others:
        row = df.agg(
            *[F.count(F.col(c)).alias(f"n{i}") for i, c in enumerate(others)],
            *[F.count(F.when(F.col(c).rlike(PSEUDONYM), 1)).alias(f"h{i}")
              for i, c in enumerate(others)],
        ).first()  # fmt: skip
        if row is not None:
            digests = [c for i, c in enumerate(others) if row[f"n{i}"] and
                       row[f"n{i}"] == row[f"h{i}"]]  # fmt: skip
    return (*named, *digests)


def scan_path(
    spark: SparkSession, path_or_table: str, root: str, notes: list[str] | None = None
) -> list[Finding]:
    """The findings of the leak gate in every text column of a table or file (see the module
    docstring); the dataset of each finding is ``path_or_table`` as given."""
    fmt, location = resolve(path_or_table, root)
    df = read(spark, fmt, location)
    return scan(df, path_or_table, None, pseudonym_columns(df), notes=notes)
