"""Delivery to bronze: every delivered record, as strings, with where it came from.

The reader keeps the agency's bytes intact (the charset named by the contract, quoted line
breaks, CRLF) and numbers each record; ``to_bronze`` renames the wire fields to the lakehouse's
column names and adds the lineage columns. A record Spark cannot split into the contract's
fields keeps its text in ``_corrupt_record`` and is quarantined later, never dropped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from convergence.contracts import FeedContract

CORRUPT = "_corrupt_record"
_ROW_BITS = (1 << 33) - 1  # monotonically_increasing_id: partition index above bit 33


@dataclass(frozen=True)
class Batch:
    """One delivery being ingested: its id, file, digest and file date."""

    batch_id: str
    feed: str
    file_name: str
    path: str
    sha256: str
    file_date: date


class DeliveryError(ValueError):
    """A delivery that cannot be ingested; the message names the problem (never a value)."""


def python_codec(encoding: str) -> str:
    """The Python codec for a contract encoding (for the header line only)."""
    return {"cp950": "cp950", "big5": "cp950", "utf-8": "utf-8-sig"}.get(encoding.lower(), encoding)


def header_fields(head: bytes, contract: FeedContract) -> list[str]:
    """The field names of a CSV delivery's header line, decoded with the contract's charset."""
    d = contract.delivery
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        first = line.decode(python_codec(d.encoding))
    except UnicodeDecodeError as exc:
        raise DeliveryError(f"header is not valid {d.encoding} (byte {exc.start + 1})") from None
    if not first.strip():
        raise DeliveryError("empty file: no header row")
    return [h.strip() for h in next(csv.reader(io.StringIO(first), delimiter=d.delimiter))]


def check_header(fields: list[str], contract: FeedContract) -> None:
    """Refuse a header that misses a contract field or carries an unknown one."""
    expected = [f.wire for f in contract.fields]
    missing = [w for w in expected if w not in fields]
    unknown = [h for h in fields if h not in expected]
    problems = []
    if missing:
        names = ", ".join(f"{w} ({contract.wire_to_column[w]})" for w in missing)
        problems.append(f"missing column(s) {names}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if problems:
        raise DeliveryError("; ".join(problems))
    if fields != expected:
        raise DeliveryError(f"columns out of the contract's order: {', '.join(fields)}")


def read_csv(spark: SparkSession, path: str, contract: FeedContract) -> DataFrame:
    """Read one CSV delivery: wire-named string columns, ``_corrupt_record``, ``_source_row``.

    ``_source_row`` is the record's ordinal after the header (1-based). One file is one
    partition in multi-line mode, so the row id's low bits count records in file order.
    """
    d = contract.delivery
    schema = ", ".join(f"`{f.wire}` string" for f in contract.fields) + f", {CORRUPT} string"
    df = (
        spark.read.schema(schema)
        .option("header", str(d.header).lower())
        .option("encoding", d.java_charset)
        .option("multiLine", "true")
        .option("sep", d.delimiter)
        .option("quote", d.quote)
        .option("escape", d.quote)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("ignoreLeadingWhiteSpace", "false")
        .option("ignoreTrailingWhiteSpace", "false")
        .option("enforceSchema", "true")
        .csv(path)
    )
    row = (F.monotonically_increasing_id().bitwiseAND(F.lit(_ROW_BITS)) + 1).alias("_source_row")
    return df.select("*", row)


def to_bronze(raw: DataFrame, contract: FeedContract, batch: Batch) -> DataFrame:
    """Wire names to column names, plus the batch's lineage columns."""
    fields = [F.col(f"`{f.wire}`").alias(f.name) for f in contract.fields]
    return raw.select(
        *fields,
        F.col(CORRUPT),
        F.lit(batch.batch_id).alias("_batch_id"),
        F.lit(batch.file_name).alias("_source_file"),
        F.lit(batch.sha256).alias("_source_digest"),
        F.col("_source_row").cast("long").alias("_source_row"),
        F.lit(batch.file_date).cast("date").alias("_file_date"),
    )
