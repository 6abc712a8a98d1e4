"""Delivery to bronze: every delivered record, as strings, with where it came from.

The reader keeps the agency's bytes intact (the charset named by the contract, quoted line
breaks, CRLF) and numbers each record; ``to_bronze`` renames the wire fields to the lakehouse's
column names and adds the lineage columns. A record Spark cannot split into the contract's
fields, or one holding a control character, keeps its text in ``_corrupt_record`` and is
quarantined later, never dropped.

Schema drift (CSV): columns are matched by the header's names, in any order. A column the
contract does not know is kept in bronze's ``_extra`` map (wire name to text; silver ignores
it) and reported; an optional column the header lacks is read as no value and reported; a
missing required column refuses the delivery, naming it (:func:`check_header`).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from kernel.contracts import FeedContract
from kernel.errors import DeliveryError

CORRUPT = "_corrupt_record"
EXTRA = "_extra"
"""Bronze's map of the delivered fields the contract does not know (schema drift): name to
text. Present only once a delivery brought such a field; silver ignores it."""
CONTROL_CHARACTERS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]"
"""A Java regex: the C0 and C1 control characters but tab, line feed and carriage return. A
record holding one is damaged (binary bytes, a broken export), never text an agency means."""
HEAD_BYTES = 65536
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
        raise DeliveryError(f"line 1: the header is not valid {d.encoding} text (byte "
                            f"{exc.start + 1})") from None
    if not first.strip():
        raise DeliveryError("line 1: empty header: no column names (empty file?)")
    return [h.strip() for h in next(csv.reader(io.StringIO(first), delimiter=d.delimiter))]


@dataclass(frozen=True)
class Header:
    """A CSV header matched with the contract **by name** (the column order does not matter).

    ``fields`` are the names as delivered, in file order; ``missing`` the optional contract
    fields (wire names) the header lacks, read as no value; ``unknown`` the delivered columns
    the contract does not know, kept in bronze's ``_extra`` map and reported as schema drift.
    """

    fields: tuple[str, ...]
    missing: tuple[str, ...]
    unknown: tuple[str, ...]
    reordered: bool


def check_header(fields: list[str], contract: FeedContract) -> Header:
    """Match a header with the contract; refuse one that lacks a required field.

    A required field missing (or renamed: missing under its name, present under another) refuses
    the delivery naming the field; so do a column without a name (an extra delimiter) and a
    name given twice (the values could not be told apart). A new column is kept, a missing
    optional one is read as no value: both are schema drift, reported by :func:`drift_lines`.
    """
    for i, h in enumerate(fields, start=1):
        if not h:
            raise DeliveryError(f"line 1: header column {i} has no name (an extra delimiter?)")
    twice = sorted({h for h in fields if fields.count(h) > 1})
    if twice:
        raise DeliveryError(f"line 1: column(s) {', '.join(twice)} named more than once in "
                            "the header")
    expected = [f.wire for f in contract.fields]
    unknown = tuple(h for h in fields if h not in expected)
    required = [f.wire for f in contract.fields if f.required and f.wire not in fields]
    if required:
        names = ", ".join(f"{w} ({contract.wire_to_column[w]})" for w in required)
        why = f"line 1: missing required column(s) {names}"
        if unknown:
            why += f"; the header has unknown column(s) {', '.join(unknown)} (renamed?)"
        raise DeliveryError(why)
    missing = tuple(w for w in expected if w not in fields)
    known = [h for h in fields if h in expected]
    return Header(tuple(fields), missing, unknown,
                  reordered=known != [w for w in expected if w in fields])


def drift_lines(header: Header, contract: FeedContract) -> list[str]:
    """The schema drift of a CSV header: one line per new or missing column (names only)."""
    lines = [f"new column {h}: not in the contract, kept in bronze ({EXTRA})"
             for h in header.unknown]
    lines += [f"column {w} ({contract.wire_to_column[w]}) missing from the header: read as "
              "no value" for w in header.missing]
    if header.reordered:
        lines.append("columns in another order than the contract's: read by name")
    return lines


def has_control_characters(cols: Sequence[Column]) -> Column:
    """TRUE when any of ``cols`` holds a control character (tab and line breaks excepted)."""
    hits = [F.coalesce(c.rlike(CONTROL_CHARACTERS), F.lit(False)) for c in cols]
    return functools.reduce(lambda a, b: a | b, hits, F.lit(False))


def read_head(spark: SparkSession, path: str, limit: int = HEAD_BYTES) -> bytes:
    """The first ``limit`` bytes of a file (through Hadoop's file system)."""
    from kernel.storage import Storage

    return Storage(spark, "").read_bytes(path, limit)


def read_csv(spark: SparkSession, path: str, contract: FeedContract,
             header: list[str] | None = None) -> DataFrame:
    """Read one CSV delivery: wire-named string columns, ``_corrupt_record``, ``_source_row``,
    and ``_extra`` (map of the columns the contract does not know) when there are any.

    Columns are matched **by the header's names** (``header``, else the file's first line):
    the file is read positionally with one string column per header column, then each contract
    field takes its column by name (an optional field the header lacks is null). A record with
    more or fewer fields than the header, or holding a control character, keeps its text in
    ``_corrupt_record`` (quarantined as ``record.malformed``). ``_source_row`` is the record's
    ordinal after the header (1-based). One file is one partition in multi-line mode, so the
    row id's low bits count records in file order.
    """
    d = contract.delivery
    if header is not None:
        names = header
    elif d.header:
        names = header_fields(read_head(spark, path), contract)
    else:  # no header row: the contract's fields, in its order
        names = [f.wire for f in contract.fields]
    positional = [f"_c{i}" for i in range(len(names))]
    schema = ", ".join(f"{c} string" for c in positional) + f", {CORRUPT} string"
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
    df = df.select("*", row)
    where = {h: i for i, h in enumerate(names)}
    fields = [
        (F.col(positional[where[f.wire]]) if f.wire in where else F.lit(None).cast("string"))
        .alias(f.wire)
        for f in contract.fields
    ]
    delivered = [F.col(c) for c in positional]
    text = F.concat_ws(d.delimiter, *[F.coalesce(c, F.lit("")) for c in delivered])
    corrupt = F.coalesce(F.col(CORRUPT), F.when(has_control_characters(delivered), text))
    out = [*fields, corrupt.alias(CORRUPT), F.col("_source_row")]
    wires = {f.wire for f in contract.fields}
    extra = [(h if names.count(h) == 1 else f"{h}#{i + 1}", positional[i])
             for i, h in enumerate(names) if h not in wires]
    if extra:
        pairs = [x for h, c in extra for x in (F.lit(h), F.col(c))]
        out.append(F.create_map(*pairs).alias(EXTRA))
    return df.select(*out)


def to_bronze(raw: DataFrame, contract: FeedContract, batch: Batch) -> DataFrame:
    """Wire names to column names, plus ``_extra`` (a reader's columns the contract does not
    know, when there are any) and the batch's lineage columns."""
    fields = [F.col(f"`{f.wire}`").alias(f.name) for f in contract.fields]
    extra = [F.col(EXTRA)] if EXTRA in raw.columns else []
    return raw.select(
        *fields,
        *extra,
        F.col(CORRUPT),
        F.lit(batch.batch_id).alias("_batch_id"),
        F.lit(batch.file_name).alias("_source_file"),
        F.lit(batch.sha256).alias("_source_digest"),
        F.col("_source_row").cast("long").alias("_source_row"),
        F.lit(batch.file_date).cast("date").alias("_file_date"),
    )
