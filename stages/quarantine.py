"""Stewards' work on quarantined records: list, inspect, release corrected rows.

A release takes quarantined rows of one batch (optionally corrected from a CSV file), writes
them to bronze as a new batch ``release-<id>`` that keeps each row's original file, digest, row
number and file date, and records who released them, when and why (``system/releases`` and the
audit log). The next silver run validates the released rows like any delivery: rows that still
fail go back to quarantine under the release batch, the rest reach silver. Quarantined rows are
never edited or deleted: a released row is one with a release record.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.bronze import CORRUPT
from kernel.context import Context
from kernel.contracts import FeedContract
from stages.common import RELEASE_PREFIX


class ReleaseError(ValueError):
    """A release that cannot be done; the message says why (never a data value)."""


@dataclass(frozen=True)
class ReleaseResult:
    """What a release did."""

    release_id: str
    feed: str
    batch_id: str
    rows: int
    corrected_columns: tuple[str, ...]


def _released_rows(ctx: Context, feed: str) -> DataFrame:
    """(batch id, source row) of every quarantined row already released."""
    rel = ctx.records.read("releases").where(F.col("feed") == feed)
    return rel.select("batch_id", F.explode("source_rows").alias("_source_row")).withColumnRenamed(
        "batch_id", "_batch_id")


def open_rows(ctx: Context, contract: FeedContract) -> DataFrame:
    """The feed's quarantined rows not released yet (empty when nothing was quarantined)."""
    st = ctx.storage
    if not st.exists("quarantine", contract.name):
        return ctx.storage.spark.createDataFrame([], "_batch_id string, _source_row long")
    q = st.read("quarantine", contract.name)
    return q.join(_released_rows(ctx, contract.name), ["_batch_id", "_source_row"], "left_anti")


def summary(ctx: Context, contract: FeedContract) -> list[tuple[str, str, int, int]]:
    """(batch id, rule id, open rows, released rows) for the feed: counts only, no values."""
    st = ctx.storage
    if not st.exists("quarantine", contract.name):
        return []
    released = _released_rows(ctx, contract.name).withColumn("_released", F.lit(True))
    q = st.read("quarantine", contract.name).join(
        released, ["_batch_id", "_source_row"], "left")
    rows = (
        q.select("_batch_id", F.explode("_rule_ids").alias("rule"),
                 F.coalesce("_released", F.lit(False)).alias("released"))
        .groupBy("_batch_id", "rule")
        .agg(F.sum((~F.col("released")).cast("int")).alias("open"),
             F.sum(F.col("released").cast("int")).alias("released"))
        .orderBy("_batch_id", "rule")
        .collect()
    )
    return [(r["_batch_id"], r["rule"], int(r["open"]), int(r["released"])) for r in rows]


def show(
    ctx: Context, contract: FeedContract, batch_id: str | None = None, rule: str | None = None,
    limit: int = 20,
) -> list[dict[str, object]]:
    """Open quarantined rows (as delivered, with rule ids and reason) for a steward to inspect.

    Reading personal data is audited (action ``query``: feed, filters and row count).
    """
    df = open_rows(ctx, contract)
    if batch_id:
        df = df.where(F.col("_batch_id") == batch_id)
    if rule:
        df = df.where(F.array_contains("_rule_ids", rule))
    rows = [r.asDict() for r in df.orderBy("_batch_id", "_source_row").limit(limit).collect()]
    ctx.audit("query", {"feed": contract.name, "zone": "quarantine", "batch_id": batch_id,
                        "rule": rule, "rows": len(rows)})
    return rows


def _corrections(path: Path, contract: FeedContract) -> dict[int, dict[str, str]]:
    """Corrected values by source row from a UTF-8 CSV: ``_source_row`` plus field columns."""
    names = {f.name for f in contract.fields}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        if "_source_row" not in header:
            raise ReleaseError(f"{path.name}: the corrections need a _source_row column")
        unknown = [h for h in header if h != "_source_row" and h not in names]
        if unknown:
            raise ReleaseError(f"{path.name}: unknown column(s) {', '.join(unknown)}")
        out: dict[int, dict[str, str]] = {}
        for i, row in enumerate(reader, start=2):
            try:
                key = int(row["_source_row"])
            except (TypeError, ValueError):
                raise ReleaseError(f"{path.name} line {i}: _source_row is not a number") from None
            out[key] = {k: v for k, v in row.items() if k != "_source_row"}
    return out


def release(
    ctx: Context,
    contract: FeedContract,
    batch_id: str,
    rows: Sequence[int],
    reason: str,
    corrections: Path | None = None,
) -> ReleaseResult:
    """Release quarantined rows of a batch back through the pipeline (see the module doc)."""
    if not reason.strip():
        raise ReleaseError("a release needs a reason (--reason)")
    from audit.log import check_no_personal_values

    try:  # the reason is kept in the run records, the reports and the audit log
        check_no_personal_values(reason, "the reason")
    except ValueError as exc:
        raise ReleaseError(f"{exc}: write the reason without personal data") from None
    fixes = _corrections(corrections, contract) if corrections else {}
    wanted = sorted(set(rows) | set(fixes))
    if not wanted:
        raise ReleaseError("name the rows to release (--rows) or give corrections")
    candidates = open_rows(ctx, contract).where(
        (F.col("_batch_id") == batch_id) & F.col("_source_row").isin(wanted))
    found = {int(r["_source_row"]) for r in candidates.select("_source_row").collect()}
    missing = [r for r in wanted if r not in found]
    if missing:
        raise ReleaseError(
            f"batch {batch_id} has no open quarantined row(s) {', '.join(map(str, missing))}")
    release_id = f"{RELEASE_PREFIX}{uuid.uuid4().hex[:12]}"
    fields = [f.name for f in contract.fields]
    corrected_cols = sorted({c for fix in fixes.values() for c in fix})
    df = candidates
    for col in corrected_cols:
        mapping = {row: fix[col] for row, fix in fixes.items() if col in fix}
        expr = F.col(col)
        for row, value in mapping.items():
            expr = F.when(F.col("_source_row") == row, F.lit(value)).otherwise(expr)
        df = df.withColumn(col, expr)
    src = next(iter(ctx.records.rows("deliveries", batch_id=batch_id)), None)
    bronze = df.select(
        *fields,
        F.lit(None).cast("string").alias(CORRUPT),
        F.lit(release_id).alias("_batch_id"),
        F.col("_source_file"),
        F.lit(src["sha256"] if src else None).cast("string").alias("_source_digest"),
        F.col("_source_row").cast("long"),
        F.col("_file_date"),
    )
    st = ctx.storage
    st.append(bronze, "bronze", contract.name,
              {"run_id": ctx.run_id, "batch_id": release_id, "release_of": batch_id})
    n = len(found)
    ctx.records.append("deliveries", [{
        "feed": contract.name, "batch_id": release_id, "file_name": f"release of {batch_id}",
        "status": "landed", "reason": reason, "run_id": ctx.run_id, "at": ctx.now,
        "file_date": bronze.select("_file_date").first()[0],  # type: ignore[index]
    }])
    ctx.records.append("batches", [{
        "feed": contract.name, "batch_id": release_id, "stage": "bronze", "status": "ok",
        "rows_in": n, "rows_out": n, "contract_version": contract.version,
        "run_id": ctx.run_id, "at": ctx.now,
    }])
    ctx.records.append("releases", [{
        "release_id": release_id, "feed": contract.name, "batch_id": batch_id,
        "source_rows": sorted(found), "corrected_columns": corrected_cols,
        "released_by": ctx.actor, "reason": reason, "run_id": ctx.run_id, "at": ctx.now,
    }])
    ctx.audit("quarantine_release", {
        "feed": contract.name, "batch_id": batch_id, "release_id": release_id, "rows": n,
        "corrected_columns": corrected_cols, "reason": reason})
    return ReleaseResult(release_id, contract.name, batch_id, n, tuple(corrected_cols))
