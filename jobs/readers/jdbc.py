"""JDBC pulls: the JSON-lines extract a pull landed (see :mod:`pull.jdbc`).

``batch.path`` is the landed folder: the extract ``<table>.jsonl`` (one JSON object per row,
every column present, values as the database's text, SQL NULL as ``null``), ``SHA256SUMS`` and
the landing stage's ``manifest.json``. The wire names are the table's column names.

A line that is not a JSON object, or a row whose text holds a control character (tab and line
breaks excepted), keeps its text in ``_corrupt_record`` (quarantined later as
``record.malformed``); ``_source_row`` is the row's ordinal in the extract, 1-based, which is
the order of the pull (watermark, then key).
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.bronze import CORRUPT, Batch, has_control_characters
from jobs.readers.common import wire_schema
from kernel.contracts import FeedContract
from kernel.errors import DeliveryError
from kernel.storage import Storage

MANIFEST = "manifest.json"
EXTRACT_SUFFIX = ".jsonl"


def _manifest(storage: Storage, batch: Batch) -> dict[str, Any]:
    path = f"{batch.path}/{MANIFEST}"
    if not storage.file_exists(path):
        raise DeliveryError(f"the landed pull has no {MANIFEST}")
    try:
        doc = json.loads(storage.read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DeliveryError(f"{MANIFEST} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise DeliveryError(f"{MANIFEST} is not a JSON object")
    return doc


def extract_paths(storage: Storage, batch: Batch) -> list[str]:
    """The extract files of a landed pull, in the order the manifest lists them."""
    names = [f.get("name") for f in _manifest(storage, batch).get("files") or ()
             if isinstance(f, dict)]
    files = [n for n in names if isinstance(n, str) and n.endswith(EXTRACT_SUFFIX)]
    if not files:
        raise DeliveryError(f"the manifest lists no {EXTRACT_SUFFIX} extract")
    missing = [n for n in files if not storage.file_exists(f"{batch.path}/{n}")]
    if missing:
        raise DeliveryError(f"extract file(s) listed in the manifest are missing: "
                            f"{', '.join(missing)}")
    return [f"{batch.path}/{n}" for n in files]


def check(storage: Storage, batch: Batch, contract: FeedContract) -> None:
    """The extract's columns are exactly the contract's: every record (JSON object) carries
    every wire name and no other key."""
    spark = storage.spark
    keys = (spark.read.text(extract_paths(storage, batch))
            .select(F.json_object_keys("value").alias("k"))
            .where(F.col("k").isNotNull())
            .agg(F.array_distinct(F.flatten(F.collect_set("k"))).alias("union"),
                 F.collect_set("k").alias("sets"))
            .first())
    if keys is None or not keys["sets"]:
        return  # no JSON object at all: every line is quarantined as malformed
    expected = [f.wire for f in contract.fields]
    union = set(keys["union"])
    everywhere = set.intersection(*(set(s) for s in keys["sets"]))
    problems = []
    missing = [w for w in expected if w not in everywhere]
    if missing:
        names = ", ".join(f"{w} ({contract.wire_to_column[w]})" for w in missing)
        problems.append(f"missing column(s) {names}")
    unknown = sorted(union - set(expected))
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if problems:
        raise DeliveryError("; ".join(problems))


def read(spark: SparkSession, batch: Batch, contract: FeedContract) -> DataFrame:
    """Every row of the extract: wire-named strings, ``_corrupt_record``, ``_source_row``.

    The ordinal is counted in file order even when Spark splits a large extract: rows are
    numbered by (file, offset of the split, position within the split).
    """
    df = (spark.read.schema(wire_schema(contract))
          .option("mode", "PERMISSIVE")
          .option("columnNameOfCorruptRecord", CORRUPT)
          .option("encoding", "UTF-8")
          .json(f"{batch.path}/*{EXTRACT_SUFFIX}"))
    order = Window.orderBy("_file", "_block", "_id")
    wires = [F.col(f"`{f.wire}`") for f in contract.fields]
    text = F.to_json(F.struct(*wires), {"ignoreNullFields": "false"})
    corrupt = F.coalesce(F.col(CORRUPT), F.when(has_control_characters(wires), text))
    return (df.select("*", F.input_file_name().alias("_file"),
                      F.input_file_block_start().alias("_block"),
                      F.monotonically_increasing_id().alias("_id"))
            .select(*wires, corrupt.alias(CORRUPT),
                    F.row_number().over(order).cast("long").alias("_source_row")))


def declared(storage: Storage, batch: Batch, contract: FeedContract) -> int | None:
    """The number of rows the pull returned, as the landing stage's manifest records it."""
    records = _manifest(storage, batch).get("records")
    if not isinstance(records, int) or isinstance(records, bool) or records < 0:
        raise DeliveryError(f"{MANIFEST} does not state the number of records")
    return records
