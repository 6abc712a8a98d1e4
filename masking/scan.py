"""Scan a table or a file for personal data: the leak gate for stewards and auditors.

``lakehouse scan-pii TABLE_OR_PATH`` (:func:`main`) takes a Delta table name such as
``gold.person_coverage`` or ``silver.moi.residents`` (resolved to ``<root>/<zone>/<name>``), or
a path to a Delta table, a CSV file or folder (UTF-8, with a header; every column read as text)
or a Parquet file or folder. Every text column is scanned with :func:`masking.leak.scan`
(patterns, Presidio on the distinct prefiltered values). It prints one line per finding:
dataset, column, entity and number of rows, never a value; exit status 1 when anything is
found, 0 when clean, 2 when the input cannot be read.

Columns named ``*_key`` are pseudonym columns: they must hold only keyed pseudonyms (any other
value is a ``NOT_A_PSEUDONYM`` finding) and are not searched for patterns, as are text columns
holding only 64-digit hex digests (``_event_id``, ``_source_digest``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kernel.layout import ZONES
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
    zone, _, name = path_or_table.partition(".")
    if zone in ZONES and name and "/" not in path_or_table:
        return "delta", f"{root.rstrip('/')}/{zone}/{name}"
    return _detect(path_or_table), path_or_table


def _detect(path: str) -> str:
    from pathlib import Path

    local = Path(path.removeprefix("file:"))
    lower = path.lower().rstrip("/")
    if lower.endswith((".csv", ".csv.gz")):
        return "csv"
    if lower.endswith(".parquet"):
        return "parquet"
    if "://" in path and not path.startswith("file:"):
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


def main(argv: Sequence[str] | None = None) -> int:
    """``scan-pii TABLE_OR_PATH [--root ROOT]``: one line per finding; 1 if any, 0 if clean."""
    parser = argparse.ArgumentParser(
        prog="lakehouse scan-pii",
        description="Scan every text column of a table or file for personal data "
        "(prints dataset, column, entity and row count; never a value).",
    )
    parser.add_argument("target", help="a table (gold.person_coverage) or a Delta/CSV/Parquet path")
    parser.add_argument("--root", help="storage root (default: $LAKEHOUSE_ROOT)")
    args = parser.parse_args(argv)

    from kernel.config import Settings
    from kernel.spark import session

    settings = Settings.from_env()
    root = args.root or settings.root
    notes: list[str] = []
    try:
        spark = session(settings, app_name="scan-pii")
        findings = scan_path(spark, args.target, root, notes)
    except ScanInputError as exc:
        print(f"scan-pii: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for f in findings:
        print(f"{f.dataset}\t{f.column}\t{f.entity}\t{f.count}")
    if not findings:
        print(f"{args.target}: no personal data found", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
